//! A sponsor's page with its pools, and the sponsors' index.

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
    let Some(s) = site.sponsors.iter().find(|s| s.slug == slug) else {
        return Ok(missing(key, lang));
    };
    #[derive(Serialize)]
    struct SponsorPage {
        name: String,
        kind: String,
        website: Option<String>,
        logo: Option<Image>,
        body: String,
        pools: Vec<PoolView>,
    }
    let page = SponsorPage {
        name: s.meta.name.clone(),
        kind: t
            .get(&format!("sponsor.kind.{}", sponsor_kind(s.meta.kind)))
            .to_string(),
        website: s.meta.website.as_ref().and_then(crate::link::Link::href),
        logo: s.meta.logo.as_ref().map(|l| Image {
            url: r.site.asset_url(urls::sponsor_asset(l)),
            alt: t.fill("sponsor.logo_alt", &[("name", &s.meta.name)]),
        }),
        body: shared.body(&s.body),
        pools: s
            .meta
            .pools
            .iter()
            .map(|pool| pool_view(r, s, pool, lang, true))
            .collect(),
    };
    let common = common(
        r,
        key,
        lang,
        s.meta.name.clone(),
        t.fill("sponsor.description", &[("name", &s.meta.name)]),
    );
    render_template(r, "sponsor.html", key, lang, common, page)
}

pub(super) fn render_index(r: &Renderer, key: &PageKey, lang: Lang) -> Result<File, RenderError> {
    let t = r.theme.strings(lang);
    let site = r.site;
    #[derive(Serialize)]
    struct SponsorItem {
        url: String,
        name: String,
        kind: String,
        pools: Vec<PoolView>,
    }
    let items: Vec<SponsorItem> = site
        .sponsors
        .iter()
        .map(|s| SponsorItem {
            url: urls::sponsor(lang, &s.slug),
            name: s.meta.name.clone(),
            kind: t
                .get(&format!("sponsor.kind.{}", sponsor_kind(s.meta.kind)))
                .to_string(),
            pools: s
                .meta
                .pools
                .iter()
                .map(|pool| pool_view(r, s, pool, lang, false))
                .collect(),
        })
        .collect();
    let common = translated_common(r, key, lang, "sponsors");
    render_template(r, "sponsors.html", key, lang, common, items)
}

pub(super) fn sponsor_kind(kind: SponsorKind) -> &'static str {
    match kind {
        SponsorKind::Foundation => "foundation",
        SponsorKind::Company => "company",
        SponsorKind::Public => "public",
    }
}

#[derive(Serialize)]
pub(super) struct PoolView {
    title: String,
    mode: &'static str,
    rule: String,
    budget: String,
    used: String,
    left: String,
    used_percent: u32,
    dates: String,
    projects: Vec<PoolProject>,
    /// "… and 9,950 other eligible projects" when the list is cut.
    more: Option<String>,
}

/// How many of a pool's eligible projects its sponsor's page lists (the most
/// matched first when there are more).
pub const POOL_PROJECTS_SHOWN: usize = 50;

#[derive(Serialize)]
pub(super) struct PoolProject {
    url: String,
    title: String,
    matched: String,
}

/// A pool's figures and rules; with its eligible projects when `with_projects`
/// (its sponsor's page, not the list of sponsors).
pub(super) fn pool_view(
    r: &Renderer,
    s: &Sponsor,
    pool: &Pool,
    lang: Lang,
    with_projects: bool,
) -> PoolView {
    let t = r.theme.strings(lang);
    let id = pool_id(s, pool);
    let money = |d: Decimal| format::money(d, lang);
    let used = r.pool_used(&id);
    let (projects, more) = if with_projects {
        pool_projects(r, &id, lang)
    } else {
        (Vec::new(), None)
    };
    let rule = pool_rule(pool, lang, t);
    let used_percent = if pool.budget > Decimal::ZERO {
        u32::try_from((used * Decimal::from(100) / pool.budget).trunc().mantissa())
            .unwrap_or(100)
            .min(100)
    } else {
        0
    };
    PoolView {
        title: pool.title.clone(),
        mode: match pool.mode {
            PoolMode::PerPledge => "per_pledge",
            PoolMode::OnSuccess => "on_success",
            PoolMode::LumpSum => "lump_sum",
        },
        rule,
        budget: money(pool.budget),
        used: money(used),
        left: money((pool.budget - used).max(Decimal::ZERO)),
        used_percent,
        dates: t.fill(
            "pool.dates",
            &[
                ("start", &format::date(pool.start, lang)),
                ("end", &format::date(pool.end, lang)),
            ],
        ),
        projects,
        more,
    }
}

/// The eligible projects a pool's page lists (the most matched first when
/// there are more than [`POOL_PROJECTS_SHOWN`]), and how many more there are.
fn pool_projects(r: &Renderer, id: &str, lang: Lang) -> (Vec<PoolProject>, Option<String>) {
    let t = r.theme.strings(lang);
    let mut more = None;
    let mut eligible: Vec<(Decimal, &Project)> = r
        .published()
        .filter(|(_, e)| e.pools.iter().any(|p| p == id))
        .map(|(p, e)| (e.figures.matched.get(id).map_or(Decimal::ZERO, |d| d.0), p))
        .collect();
    if eligible.len() > POOL_PROJECTS_SHOWN {
        more = Some(t.fill(
            "pool.more",
            &[(
                "n",
                &format::number((eligible.len() - POOL_PROJECTS_SHOWN) as u64, lang),
            )],
        ));
        // Stable: equal amounts keep the content's order.
        eligible.sort_by_key(|e| std::cmp::Reverse(e.0));
        eligible.truncate(POOL_PROJECTS_SHOWN);
    }
    let projects = eligible
        .into_iter()
        .map(|(matched, p)| PoolProject {
            url: urls::project(lang, &p.doc.slug),
            title: p.doc.meta.title.clone(),
            matched: format::money(matched, lang),
        })
        .collect();
    (projects, more)
}

/// A pool's rule in words: its ratio and limits, its share of the goal,
/// or its lump sum and conditions.
pub(super) fn pool_rule(pool: &Pool, lang: Lang, t: &crate::render::i18n::Strings) -> String {
    let money = |d: Decimal| format::money(d, lang);
    let pct = |share: Decimal| {
        format::percent(
            u32::try_from((share * Decimal::from(100)).trunc().mantissa()).unwrap_or(0),
            lang,
        )
    };
    match pool.mode {
        PoolMode::PerPledge => {
            let mut rule = t.fill(
                "pool.rule.per_pledge",
                &[("ratio", &money(pool.ratio.unwrap_or_default()))],
            );
            if let Some(m) = pool.max_per_pledge {
                rule.push_str(&t.fill("pool.rule.max_per_pledge", &[("amount", &money(m))]));
            }
            if let Some(m) = pool.max_per_project {
                rule.push_str(&t.fill("pool.rule.max_per_project", &[("amount", &money(m))]));
            }
            if let Some(m) = pool.max_per_donor {
                rule.push_str(&t.fill("pool.rule.max_per_donor", &[("amount", &money(m))]));
            }
            if let Some(th) = pool.threshold {
                rule.push_str(&t.fill("pool.rule.threshold", &[("percent", &pct(th))]));
            }
            rule
        }
        PoolMode::OnSuccess => {
            let mut rule = t.get("pool.rule.on_success").to_string();
            if let Some(sh) = pool.share_of_goal {
                rule.push_str(&t.fill("pool.rule.share_of_goal", &[("percent", &pct(sh))]));
            }
            if let Some(m) = pool.max_per_project {
                rule.push_str(&t.fill("pool.rule.max_per_project", &[("amount", &money(m))]));
            }
            rule
        }
        PoolMode::LumpSum => t.fill(
            "pool.rule.lump_sum",
            &[
                ("amount", &money(pool.amount.unwrap_or_default())),
                ("percent", &pct(pool.min_progress.unwrap_or_default())),
                ("backers", &pool.min_backers.unwrap_or_default().to_string()),
            ],
        ),
    }
}
