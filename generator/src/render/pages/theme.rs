//! A theme's pages (paginated) and the themes' index.

use super::*;

pub(super) fn render(
    r: &Renderer,
    key: &PageKey,
    lang: Lang,
    slug: &str,
    page: usize,
) -> Result<File, RenderError> {
    let t = r.theme.strings(lang);
    let site = r.site;
    let Some(th) = site.themes.iter().find(|th| th.slug == slug) else {
        return Ok(missing(key, lang));
    };
    #[derive(Serialize)]
    struct ThemePage<'a> {
        name: &'a str,
        description: Option<&'a str>,
        projects: Vec<&'a Card>,
        pager: Option<Pager>,
    }
    let all = theme_cards(r, slug, lang);
    let pages = all.len().div_ceil(THEME_PAGE_SIZE).max(1);
    let page_number = page.clamp(1, pages);
    let projects = all
        .into_iter()
        .skip((page_number - 1) * THEME_PAGE_SIZE)
        .take(THEME_PAGE_SIZE)
        .collect();
    let name = th.name.get(lang.code());
    let pager = (pages > 1).then(|| Pager {
        position: t.fill(
            "pager.position",
            &[
                ("page", &page_number.to_string()),
                ("pages", &pages.to_string()),
            ],
        ),
        previous: (page_number > 1).then(|| urls::theme_page(lang, slug, page_number - 1)),
        next: (page_number < pages).then(|| urls::theme_page(lang, slug, page_number + 1)),
    });
    let page = ThemePage {
        name,
        description: th.description.as_deref(),
        projects,
        pager,
    };
    let description = th
        .description
        .clone()
        .unwrap_or_else(|| t.fill("theme.description", &[("name", name)]));
    let title = if page_number > 1 {
        t.fill(
            "pager.title",
            &[("title", name), ("page", &page_number.to_string())],
        )
    } else {
        name.to_string()
    };
    let common = common(r, key, lang, title, description);
    render_template(r, "theme.html", key, lang, common, page)
}

pub(super) fn render_index(r: &Renderer, key: &PageKey, lang: Lang) -> Result<File, RenderError> {
    let site = r.site;
    let published = || site.projects().filter(|p| is_published(p));
    #[derive(Serialize)]
    struct ThemeItem<'a> {
        url: String,
        name: &'a str,
        description: Option<&'a str>,
        count: usize,
    }
    let items: Vec<ThemeItem> = site
        .themes
        .iter()
        .map(|th| ThemeItem {
            url: urls::theme(lang, &th.slug),
            name: th.name.get(lang.code()),
            description: th.description.as_deref(),
            count: published()
                .filter(|p| p.doc.meta.themes.contains(&th.slug))
                .count(),
        })
        .collect();
    let common = translated_common(r, key, lang, "themes");
    render_template(r, "themes.html", key, lang, common, items)
}
