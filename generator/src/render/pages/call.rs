//! A call for projects's page, and the card of a call other pages list.

use super::*;

pub(super) fn render(
    r: &Renderer,
    key: &PageKey,
    lang: Lang,
    shared: &Shared,
    territory: &str,
    call: &str,
) -> Result<File, RenderError> {
    let site = r.site;
    let Some(tr) = site.territories.iter().find(|tr| tr.doc.slug == territory) else {
        return Ok(missing(key, lang));
    };
    let Some(c) = tr.calls.iter().find(|c| c.slug == call) else {
        return Ok(missing(key, lang));
    };
    #[derive(Serialize)]
    struct CallPage<'a> {
        call: CallCard,
        body: String,
        projects: Vec<&'a Card>,
    }
    let mut projects = cards(
        r,
        lang,
        tr.projects
            .iter()
            .filter(|p| is_published(p) && p.doc.meta.call.as_deref() == Some(call)),
    );
    sort_live_first(&mut projects);
    let page = CallPage {
        call: call_card(r, tr, c, lang),
        body: shared.body(&c.body),
        projects,
    };
    let mut common = common(r, key, lang, c.meta.title.clone(), c.meta.summary.clone());
    common.brand = Some(brand_of(tr));
    render_template(r, "call.html", key, lang, common, page)
}

#[derive(Serialize)]
pub(super) struct CallCard {
    url: String,
    title: String,
    summary: String,
    territory_name: String,
    opens: String,
    deadline: String,
    deadline_iso: String,
    open: bool,
    themes: Vec<Link>,
    sponsor: Option<Link>,
}

pub(super) fn call_card(r: &Renderer, tr: &Territory, c: &Call, lang: Lang) -> CallCard {
    CallCard {
        url: urls::call(lang, &tr.doc.slug, &c.slug),
        title: c.meta.title.clone(),
        summary: c.meta.summary.clone(),
        territory_name: tr.doc.meta.name.clone(),
        opens: format::date(c.meta.opens, lang),
        deadline: format::date(c.meta.deadline, lang),
        deadline_iso: c.meta.deadline.to_string(),
        open: c.meta.opens <= r.options.today && r.options.today <= c.meta.deadline,
        themes: view::theme_links(r.site, &c.meta.themes, lang),
        sponsor: c.meta.sponsor.as_ref().and_then(|s| {
            r.site
                .sponsors
                .iter()
                .find(|sp| &sp.slug == s)
                .map(|sp| Link {
                    url: urls::sponsor(lang, &sp.slug),
                    label: sp.meta.name.clone(),
                })
        }),
    }
}
