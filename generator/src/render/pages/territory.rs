//! A territory's page (its window): its projects live, funded and ended, its calls, its sponsors.

use super::*;

pub(super) fn render(
    r: &Renderer,
    key: &PageKey,
    lang: Lang,
    shared: &Shared,
    slug: &str,
) -> Result<File, RenderError> {
    let t = r.theme.strings(lang);
    let site = r.site;
    let Some(tr) = site.territories.iter().find(|tr| tr.doc.slug == slug) else {
        return Ok(missing(key, lang));
    };
    #[derive(Serialize)]
    struct TerritoryPage<'a> {
        name: &'a str,
        region: &'a str,
        body: String,
        logo: Option<Image>,
        live: Vec<&'a Card>,
        funded: Vec<&'a Card>,
        ended: Vec<&'a Card>,
        calls: Vec<CallCard>,
        sponsors: Vec<Link>,
        totals: Totals,
        feed: String,
    }
    let all: Vec<&Card> = r
        .published_in(tr)
        .filter_map(|(_, e)| e.card(lang))
        .collect();
    let mut live: Vec<&Card> = all.iter().copied().filter(|c| !c.closed).collect();
    sort_live_first(&mut live);
    let funded = all
        .iter()
        .copied()
        .filter(|c| c.outcome == Some("funded"))
        .collect();
    let ended = all
        .iter()
        .copied()
        .filter(|c| c.closed && c.outcome != Some("funded"))
        .collect();
    let mut sponsors: Vec<&Sponsor> = tr
        .projects
        .iter()
        .flat_map(|p| pools_for(site, tr, p).into_iter().map(|(_, s, _)| s))
        .collect();
    sponsors.sort_by(|a, b| a.slug.cmp(&b.slug));
    sponsors.dedup_by(|a, b| a.slug == b.slug);
    let m = &tr.doc.meta;
    let page = TerritoryPage {
        name: &m.name,
        region: &m.region,
        body: shared.body(&tr.doc.body),
        logo: m.branding.logo.as_ref().map(|l| Image {
            url: r.site.asset_url(urls::territory_asset(slug, l)),
            alt: t.fill("territory.logo_alt", &[("name", &m.name)]),
        }),
        live,
        funded,
        ended,
        calls: tr.calls.iter().map(|c| call_card(r, tr, c, lang)).collect(),
        sponsors: sponsors
            .iter()
            .map(|s| Link {
                url: urls::sponsor(lang, &s.slug),
                label: s.meta.name.clone(),
            })
            .collect(),
        totals: totals_of(lang, r.published_in(tr).map(|(_, e)| e)),
        feed: urls::territory_feed(lang, slug),
    };
    let mut common = common(
        r,
        key,
        lang,
        m.name.clone(),
        t.fill("territory.description", &[("name", &m.name)]),
    );
    common.brand = Some(brand_of(tr));
    common.feed = urls::territory_feed(lang, slug);
    render_template(r, "territory.html", key, lang, common, page)
}

#[derive(Serialize)]
pub(super) struct TerritoryCard {
    url: String,
    name: String,
    region: String,
    live: usize,
    logo: Option<Image>,
}

pub(super) fn territory_card(r: &Renderer, tr: &Territory, lang: Lang) -> TerritoryCard {
    let t = r.theme.strings(lang);
    TerritoryCard {
        url: urls::territory(lang, &tr.doc.slug),
        name: tr.doc.meta.name.clone(),
        region: tr.doc.meta.region.clone(),
        live: r
            .published_in(tr)
            .filter(|(_, e)| e.card(lang).is_some_and(|c| c.open))
            .count(),
        logo: tr.doc.meta.branding.logo.as_ref().map(|l| Image {
            url: r.site.asset_url(urls::territory_asset(&tr.doc.slug, l)),
            alt: t.fill("territory.logo_alt", &[("name", &tr.doc.meta.name)]),
        }),
    }
}
