//! A project's page and its embeddable widget.

use super::*;

pub(super) fn render(
    r: &Renderer,
    key: &PageKey,
    lang: Lang,
    shared: &Shared,
    slug: &str,
) -> Result<File, RenderError> {
    let site = r.site;
    let Some((tr, p, entry)) = r.project(slug) else {
        return Ok(missing(key, lang));
    };
    let Some(card) = entry.card(lang) else {
        return Ok(missing(key, lang));
    };
    let mut common = common(
        r,
        key,
        lang,
        p.doc.meta.title.clone(),
        p.doc.meta.summary.clone(),
    );
    common.brand = Some(brand_of(tr));
    common.og_type = "article";
    common.og_image = card
        .cover
        .as_ref()
        .map(|c| format!("{}{}", site.config.base_url, c.url));
    if matches!(key, PageKey::Widget(_)) {
        return render_template(r, "widget.html", key, lang, common, card);
    }
    let page = project_page(r, tr, p, card, lang, shared);
    render_template(r, "project.html", key, lang, common, page)
}

#[derive(Serialize)]
struct ProjectPage<'a> {
    card: &'a Card,
    body: String,
    holder: String,
    holder_kind: String,
    holder_website: Option<String>,
    cap: String,
    matched: Vec<MatchedLine>,
    pools: Vec<PoolLine>,
    /// Whether some pool matches each pledge (the form states it).
    per_pledge_pools: bool,
    rewards: Vec<RewardView>,
    needs: Vec<NeedView>,
    support: Vec<SupportView>,
    news: Vec<NewsView>,
    location: LocationView,
    share: Vec<Link>,
    pledge_action: String,
    offer_action: String,
    /// The API's wall of backers (names come from the store, never here).
    backers_url: String,
    /// Backers may leave a public message (the territory allows it).
    messages: bool,
    pledge_min: String,
    pledge_max: String,
    offers: u32,
    widget_url: String,
    widget_code: String,
    start: String,
    end: String,
    call: Option<Link>,
}

#[derive(Serialize)]
struct MatchedLine {
    text: String,
    sponsor_url: String,
}

/// A pool that can match the project: its sponsor, its rule in words, and
/// where it stands for this project (what is left, a pending promise and
/// how far the project is from it, or what it paid).
#[derive(Serialize)]
struct PoolLine {
    sponsor: String,
    sponsor_url: String,
    rule: String,
    status: Option<String>,
    /// Matches each pledge (the pledge form states its rule).
    per_pledge: bool,
}

#[derive(Serialize)]
struct RewardView {
    index: usize,
    min: String,
    min_value: String,
    title: String,
    description: Option<String>,
    left_label: Option<String>,
    sold_out: bool,
}

#[derive(Serialize)]
struct NeedView {
    kind: String,
    title: String,
    description: Option<String>,
}

#[derive(Serialize)]
struct SupportView {
    kind: String,
    actor: String,
    description: Option<String>,
    amount: Option<String>,
    website: Option<String>,
}

#[derive(Serialize)]
struct NewsView {
    title: String,
    date: String,
    date_iso: String,
    body: String,
}

#[derive(Serialize)]
struct LocationView {
    address: String,
    city: String,
    map_url: Option<String>,
}

fn project_page<'a>(
    r: &Renderer,
    tr: &Territory,
    p: &Project,
    card: &'a Card,
    lang: Lang,
    shared: &Shared,
) -> ProjectPage<'a> {
    let t = r.theme.strings(lang);
    let m = &p.doc.meta;
    let figures = r.figures(&p.doc.slug);
    let money = |d: Decimal| format::money(d, lang);
    let canonical = format!(
        "{}{}",
        r.site.config.base_url,
        urls::project(lang, &p.doc.slug)
    );
    let widget_url = format!(
        "{}{}",
        r.site.config.base_url,
        urls::widget(lang, &p.doc.slug)
    );
    let api = r.site.config.api_url.trim_end_matches('/');
    let pools = pool_lines(r, tr, p, figures, lang);
    ProjectPage {
        card,
        body: shared.body(&p.doc.body),
        holder: m.holder.name.clone(),
        holder_kind: t
            .get(&format!("holder.{}", m.holder.kind.as_str()))
            .to_string(),
        holder_website: m.holder.website.as_ref().and_then(crate::link::Link::href),
        cap: money(m.effective_cap(tr.doc.meta.overfunding_cap)),
        matched: matched_lines(r, tr, p, figures, lang),
        per_pledge_pools: pools.iter().any(|l| l.per_pledge),
        pools,
        rewards: reward_views(m, figures, lang, t),
        needs: m
            .needs
            .iter()
            .map(|n| NeedView {
                kind: t.get(&format!("need.{}", need_kind(n.kind))).to_string(),
                title: n.title.clone(),
                description: n.description.clone(),
            })
            .collect(),
        support: m
            .support
            .iter()
            .map(|s| SupportView {
                kind: t
                    .get(&format!("support.{}", support_kind(s.kind)))
                    .to_string(),
                actor: s.actor.clone(),
                description: s.description.clone(),
                amount: s.amount.map(money),
                website: s.website.as_ref().and_then(crate::link::Link::href),
            })
            .collect(),
        news: news_views(p, lang, shared),
        location: LocationView {
            address: m.location.address.clone(),
            city: m.location.city.clone(),
            map_url: m.location.lat.zip(m.location.lon).map(|(lat, lon)| {
                format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}")
            }),
        },
        share: share_links(&m.title, &m.summary, &canonical, t),
        pledge_action: format!("{api}/pledges"),
        backers_url: format!("{api}/projects/{}/backers?lang={}", p.doc.slug, lang.code()),
        messages: tr.doc.meta.backer_messages,
        offer_action: format!("{api}/offers"),
        pledge_min: r.site.config.pledge.min.normalize().to_string(),
        pledge_max: r.site.config.pledge.max.normalize().to_string(),
        offers: figures.offers,
        widget_code: format!(
            "<iframe src=\"{widget_url}\" title=\"{}\" width=\"320\" height=\"180\" loading=\"lazy\"></iframe>",
            m.title.replace('"', "&quot;")
        ),
        widget_url,
        start: format::date(m.campaign.start, lang),
        end: format::date(m.campaign_end(&tr.doc.meta.campaign), lang),
        call: m.call.as_ref().and_then(|c| {
            tr.calls.iter().find(|cl| &cl.slug == c).map(|cl| Link {
                url: urls::call(lang, &tr.doc.slug, &cl.slug),
                label: cl.meta.title.clone(),
            })
        }),
    }
}

/// "1 200 € from the Fondation": each pool that matched the project.
fn matched_lines(
    r: &Renderer,
    tr: &Territory,
    p: &Project,
    figures: &crate::render::progress::Figures,
    lang: Lang,
) -> Vec<MatchedLine> {
    let t = r.theme.strings(lang);
    pools_for(r.site, tr, p)
        .into_iter()
        .filter_map(|(id, s, _)| {
            let amount = figures.matched.get(&id)?.0;
            (amount > Decimal::ZERO).then(|| MatchedLine {
                text: t.fill(
                    "project.matched_by",
                    &[
                        ("amount", &format::money(amount, lang)),
                        ("sponsor", &s.meta.name),
                    ],
                ),
                sponsor_url: urls::sponsor(lang, &s.slug),
            })
        })
        .collect()
}

/// Each pool that can match the project, in the order matching applies
/// them: the rule ([`super::sponsor::pool_rule`]), and what stands for this
/// project, from its figures only (a project's page never depends on
/// another project's pledges). An on_success promise is the engine's own
/// [`pave_contract::matching::settle_on_success`] on the figures the goal
/// would give, so the page promises what the close would pay.
fn pool_lines(
    r: &Renderer,
    tr: &Territory,
    p: &Project,
    figures: &crate::render::progress::Figures,
    lang: Lang,
) -> Vec<PoolLine> {
    use pave_contract::PoolMode;
    use pave_contract::matching::{PoolView, ProjectState, settle_on_success};
    let t = r.theme.strings(lang);
    let money = |d: Decimal| format::money(d, lang);
    // The project's catalog rules, built only for an on_success promise.
    let rules = std::cell::OnceCell::new();
    let citizens = figures.raised;
    let matched_total: Decimal = figures.matched.values().map(|a| a.0).sum();
    let total = citizens + matched_total;
    let goal = p.doc.meta.goal;
    pools_for(r.site, tr, p)
        .into_iter()
        .map(|(id, s, pool)| {
            let matched = figures.matched.get(&id).map_or(Decimal::ZERO, |a| a.0);
            let name = s.meta.name.as_str();
            let paid = (matched > Decimal::ZERO).then(|| {
                t.fill(
                    "pool.status.paid",
                    &[("sponsor", name), ("amount", &money(matched))],
                )
            });
            let status = match pool.mode {
                PoolMode::PerPledge => {
                    let threshold = pool.threshold.unwrap_or_default() * goal;
                    if citizens < threshold {
                        Some(t.fill(
                            "pool.status.threshold",
                            &[
                                ("threshold", &money(threshold)),
                                ("missing", &money(threshold - citizens)),
                            ],
                        ))
                    } else {
                        pool.max_per_project.map(|max| {
                            t.fill(
                                "pool.status.left_for_project",
                                &[(
                                    "amount",
                                    &money(max.saturating_sub(matched).max(Decimal::ZERO)),
                                )],
                            )
                        })
                    }
                }
                PoolMode::OnSuccess if matched > Decimal::ZERO => paid,
                PoolMode::OnSuccess => {
                    let catalog_pool = crate::render::catalog::pool_rules(s, pool);
                    let view = PoolView {
                        spent: matched,
                        matched_for_project: matched,
                        ..PoolView::fresh(&id, &catalog_pool)
                    };
                    let missing = goal.saturating_sub(citizens).max(Decimal::ZERO);
                    let at_goal = ProjectState {
                        citizens_raised: citizens.max(goal),
                        total: total + missing,
                        backers: figures.backers,
                    };
                    let rules =
                        rules.get_or_init(|| crate::render::catalog::project_rules(r.site, tr, p));
                    settle_on_success(rules, &view, &at_goal).map(|amount| {
                        if missing > Decimal::ZERO {
                            t.fill(
                                "pool.status.on_success_pending",
                                &[
                                    ("sponsor", name),
                                    ("amount", &money(amount)),
                                    ("missing", &money(missing)),
                                ],
                            )
                        } else {
                            t.fill(
                                "pool.status.on_success_reached",
                                &[("sponsor", name), ("amount", &money(amount))],
                            )
                        }
                    })
                }
                PoolMode::LumpSum if matched > Decimal::ZERO => paid,
                PoolMode::LumpSum => {
                    let needed = pool.min_progress.unwrap_or_default() * goal;
                    let missing = needed.saturating_sub(total).max(Decimal::ZERO);
                    let backers = pool
                        .min_backers
                        .unwrap_or(0)
                        .saturating_sub(figures.backers);
                    let mut parts = Vec::new();
                    if missing > Decimal::ZERO {
                        parts.push(money(missing));
                    }
                    if backers > 0 {
                        parts.push(crate::render::view::plural(t, "backers", backers, lang));
                    }
                    Some(t.fill(
                        "pool.status.lump_sum_pending",
                        &[
                            ("sponsor", name),
                            ("amount", &money(pool.amount.unwrap_or_default())),
                            ("missing", &parts.join(t.get("pool.status.and"))),
                        ],
                    ))
                }
            };
            PoolLine {
                sponsor: name.to_string(),
                sponsor_url: urls::sponsor(lang, &s.slug),
                rule: super::sponsor::pool_rule(pool, lang, t),
                status,
                per_pledge: pool.mode == PoolMode::PerPledge,
            }
        })
        .collect()
}

/// Each reward with its minimum and, when limited, the places left.
fn reward_views(
    m: &ProjectMeta,
    figures: &crate::render::progress::Figures,
    lang: Lang,
    t: &crate::render::i18n::Strings,
) -> Vec<RewardView> {
    m.rewards
        .iter()
        .enumerate()
        .map(|(i, rw)| {
            let taken = figures.rewards.get(&i).copied().unwrap_or(0);
            let left = rw.limit.map(|l| l.saturating_sub(taken));
            RewardView {
                index: i,
                min: format::money(rw.min, lang),
                min_value: rw.min.normalize().to_string(),
                title: rw.title.clone(),
                description: rw.description.clone(),
                left_label: left.map(|n| match n {
                    0 => t.get("reward.sold_out").to_string(),
                    n => view::plural(t, "reward.left", n, lang),
                }),
                sold_out: left == Some(0),
            }
        })
        .collect()
}

/// The project's news, newest first, their Markdown rendered once for
/// both languages.
fn news_views(p: &Project, lang: Lang, shared: &Shared) -> Vec<NewsView> {
    let bodies = shared
        .news
        .get_or_init(|| p.news.iter().map(|n| markdown::to_html(&n.body)).collect());
    p.news
        .iter()
        .zip(bodies)
        .map(|(n, body)| NewsView {
            title: n.meta.title.clone(),
            date: format::date(n.meta.date, lang),
            date_iso: n.meta.date.to_string(),
            body: body.clone(),
        })
        .collect()
}

/// Links that share the page by email and on social networks
/// ([`pave_contract::share`]).
fn share_links(
    title: &str,
    summary: &str,
    canonical: &str,
    t: &crate::render::i18n::Strings,
) -> Vec<Link> {
    pave_contract::share::links(title, summary, canonical)
        .into_iter()
        .map(|(network, url)| Link {
            url,
            label: match network {
                pave_contract::share::Network::Email => t.get("share.email").to_string(),
                other => other.name().to_string(),
            },
        })
        .collect()
}

fn need_kind(k: NeedKind) -> &'static str {
    match k {
        NeedKind::Volunteers => "volunteers",
        NeedKind::Equipment => "equipment",
        NeedKind::Skills => "skills",
        NeedKind::Space => "space",
        NeedKind::Hosting => "hosting",
    }
}

fn support_kind(k: SupportKind) -> &'static str {
    match k {
        SupportKind::Label => "label",
        SupportKind::Loan => "loan",
        SupportKind::Accompaniment => "accompaniment",
        SupportKind::Funding => "funding",
    }
}
