//! The statistics page.

use super::*;

pub(super) fn render(r: &Renderer, key: &PageKey, lang: Lang) -> Result<File, RenderError> {
    let site = r.site;
    #[derive(Serialize)]
    struct Row {
        name: String,
        url: String,
        totals: Totals,
    }
    #[derive(Serialize)]
    struct StatsPage {
        rows: Vec<Row>,
        platform: Totals,
    }
    let rows = site
        .territories
        .iter()
        .map(|tr| Row {
            name: tr.doc.meta.name.clone(),
            url: urls::territory(lang, &tr.doc.slug),
            totals: totals_of(lang, r.published_in(tr).map(|(_, e)| e)),
        })
        .collect();
    let page = StatsPage {
        rows,
        platform: totals_of(lang, r.published().map(|(_, e)| e)),
    };
    let common = translated_common(r, key, lang, "stats");
    render_template(r, "stats.html", key, lang, common, page)
}
