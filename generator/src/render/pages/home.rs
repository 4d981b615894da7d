//! The home page: featured projects and calls, the latest projects, the platform's totals, the territories.

use super::*;

pub(super) fn render(r: &Renderer, key: &PageKey, lang: Lang) -> Result<File, RenderError> {
    let site = r.site;
    #[derive(Serialize)]
    struct Home<'a> {
        featured: Vec<&'a Card>,
        featured_calls: Vec<CallCard>,
        latest: Vec<&'a Card>,
        totals: Totals,
        territories: Vec<TerritoryCard>,
    }
    let live = || {
        r.published()
            .filter(|(p, _)| p.doc.meta.status == Status::Live)
    };
    let mut featured: Vec<&Card> = live()
        .filter(|(p, _)| p.doc.meta.featured)
        .filter_map(|(_, e)| e.card(lang))
        .collect();
    sort_live_first(&mut featured);
    let mut latest: Vec<&Card> = live().filter_map(|(_, e)| e.card(lang)).collect();
    let newest_first =
        |a: &&Card, b: &&Card| b.start_iso.cmp(&a.start_iso).then(a.title.cmp(&b.title));
    if latest.len() > 12 {
        latest.select_nth_unstable_by(11, newest_first);
        latest.truncate(12);
    }
    latest.sort_by(newest_first);
    let featured_calls = site
        .territories
        .iter()
        .flat_map(|t| t.calls.iter().map(move |c| (t, c)))
        .filter(|(_, c)| c.meta.featured && c.meta.deadline >= r.options.today)
        .map(|(tr, c)| call_card(r, tr, c, lang))
        .collect();
    let territories = site
        .territories
        .iter()
        .map(|tr| territory_card(r, tr, lang))
        .collect();
    let page = Home {
        featured,
        featured_calls,
        latest,
        totals: totals_of(lang, r.published().map(|(_, e)| e)),
        territories,
    };
    let common = common(
        r,
        key,
        lang,
        site.config.title.clone(),
        site.config.tagline.clone(),
    );
    render_template(r, "home.html", key, lang, common, page)
}
