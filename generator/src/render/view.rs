//! Page data: what templates see. Built once per project and language, and
//! shared by every page that lists the project (lists carry metadata, never
//! the rendered story).

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use super::format::{self, Lang};
use super::i18n::Strings;
use super::progress::Figures;
use super::urls;
use crate::model::*;

/// A project as a card in a list, and the figures every page shows of it.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub slug: String,
    pub url: String,
    pub title: String,
    pub summary: String,
    pub territory: String,
    pub territory_name: String,
    pub territory_url: String,
    pub cover: Option<Image>,
    pub themes: Vec<Link>,
    pub status: &'static str,
    pub featured: bool,
    pub funding: &'static str,
    pub funding_label: String,
    pub raised: String,
    pub matched: String,
    pub total: String,
    pub goal: String,
    pub percent: u32,
    pub percent_label: String,
    /// The bar's width: the percentage, at most 100.
    pub bar: u32,
    pub backers: u32,
    pub backers_label: String,
    /// "Plus que 12 jours", "Dernier jour", "Commence le …", or the closing line.
    pub time_label: String,
    pub open: bool,
    pub closed: bool,
    /// For closed campaigns: "funded", "not_funded" or "refunded".
    pub outcome: Option<&'static str>,
    pub outcome_label: Option<String>,
    pub start_iso: String,
    pub end_iso: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Image {
    pub url: String,
    pub alt: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub url: String,
    pub label: String,
}

/// Where a campaign stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    NotStarted,
    Open { days_left: i64 },
    Ended,
}

pub fn phase(today: Date, start: Date, end: Date, status: Status) -> Phase {
    if status == Status::Closed || today > end {
        Phase::Ended
    } else if today < start {
        Phase::NotStarted
    } else {
        let days = today
            .until((jiff::Unit::Day, end))
            .map_or(0, |s| i64::from(s.get_days()));
        Phase::Open {
            days_left: days + 1,
        }
    }
}

pub struct CardInput<'a> {
    pub site: &'a Site,
    pub territory: &'a Territory,
    pub project: &'a Project,
    pub figures: &'a Figures,
    pub today: Date,
    pub lang: Lang,
    pub t: &'a Strings,
}

pub fn card(i: &CardInput) -> Card {
    let CardInput {
        site,
        territory,
        project,
        figures,
        today,
        lang,
        t,
    } = *i;
    let m = &project.doc.meta;
    let rules = &territory.doc.meta;
    let end = m.campaign_end(&rules.campaign);
    let percent = figures.percent(m.goal);
    let phase = phase(today, m.campaign.start, end, m.status);
    let closed = phase == Phase::Ended;
    // The one outcome rule (the close's record when it decided).
    let outcome =
        closed.then(
            || match pave_contract::outcome::outcome(m.funding, m.goal, figures) {
                pave_contract::Outcome::Funded => "funded",
                pave_contract::Outcome::NotFunded
                    if figures.refunded && m.funding == Funding::AllOrNothing =>
                {
                    "refunded"
                }
                pave_contract::Outcome::NotFunded => "not_funded",
            },
        );
    let time_label = match phase {
        Phase::NotStarted => t.fill(
            "campaign.starts_on",
            &[("date", &format::date(m.campaign.start, lang))],
        ),
        Phase::Open { days_left: 1 } => t.get("campaign.last_day").to_string(),
        Phase::Open { days_left } => t.fill("campaign.days_left", &[("n", &days_left.to_string())]),
        Phase::Ended => t.fill(
            "campaign.ended_on",
            &[
                ("date", &format::date(end, lang)),
                ("percent", &format::percent(percent, lang)),
            ],
        ),
    };
    let themes = theme_links(site, &m.themes, lang);
    Card {
        slug: project.doc.slug.clone(),
        url: urls::project(lang, &project.doc.slug),
        title: m.title.clone(),
        summary: m.summary.clone(),
        territory: territory.doc.slug.clone(),
        territory_name: rules.name.clone(),
        territory_url: urls::territory(lang, &territory.doc.slug),
        cover: m.cover.as_ref().map(|c| Image {
            url: site.asset_url(urls::project_asset(&project.doc.slug, &c.src)),
            alt: c.alt.clone(),
        }),
        themes,
        status: m.status.as_str(),
        featured: m.featured,
        funding: m.funding.as_str(),
        funding_label: t
            .get(&format!("funding.{}", m.funding.as_str()))
            .to_string(),
        raised: format::money(figures.raised, lang),
        matched: format::money(figures.matched_total(), lang),
        total: format::money(figures.total(), lang),
        goal: format::money(m.goal, lang),
        percent,
        percent_label: format::percent(percent, lang),
        bar: percent.min(100),
        backers: figures.backers,
        backers_label: plural(t, "backers", figures.backers, lang),
        time_label,
        open: matches!(phase, Phase::Open { .. }) && m.status == Status::Live,
        closed,
        outcome,
        outcome_label: outcome.map(|o| t.get(&format!("outcome.{o}")).to_string()),
        start_iso: m.campaign.start.to_string(),
        end_iso: end.to_string(),
    }
}

/// Links to the pages of the given themes, named in `lang`.
pub fn theme_links(site: &Site, slugs: &[String], lang: Lang) -> Vec<Link> {
    slugs
        .iter()
        .filter_map(|slug| site.themes.iter().find(|th| &th.slug == slug))
        .map(|th| Link {
            url: urls::theme(lang, &th.slug),
            label: th.name.get(lang.code()).to_string(),
        })
        .collect()
}

/// "1 contributeur", "12 contributeurs": `key.one` / `key.other` with `{n}`.
pub fn plural(t: &Strings, key: &str, n: u32, lang: Lang) -> String {
    let form = if n <= 1 && lang == Lang::Fr || n == 1 {
        "one"
    } else {
        "other"
    };
    t.fill(
        &format!("{key}.{form}"),
        &[("n", &format::number(u64::from(n), lang))],
    )
}

/// Totals over a set of projects, as shown on the home, territory and stats pages.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Totals {
    pub projects: usize,
    pub live: usize,
    pub closed: usize,
    pub funded: usize,
    pub raised: String,
    pub matched: String,
    pub backers: u32,
    pub success_rate: Option<String>,
    pub average_pledge: Option<String>,
}

pub fn totals<'a>(items: impl Iterator<Item = (&'a Card, &'a Figures)>, lang: Lang) -> Totals {
    let mut t = Totals::default();
    let (mut raised, mut matched, mut pledges) = (Decimal::ZERO, Decimal::ZERO, 0u32);
    for (card, figures) in items {
        t.projects += 1;
        if card.closed {
            t.closed += 1;
            if card.outcome == Some("funded") {
                t.funded += 1;
            }
        } else {
            t.live += 1;
        }
        raised += figures.raised;
        matched += figures.matched_total();
        pledges += figures.pledges;
        t.backers += figures.backers;
    }
    t.raised = format::money(raised, lang);
    t.matched = format::money(matched, lang);
    if let Some(rate) = (t.funded * 100).checked_div(t.closed) {
        t.success_rate = Some(format::percent(u32::try_from(rate).unwrap_or(100), lang));
    }
    if pledges > 0 {
        let avg = (raised / Decimal::from(pledges))
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero);
        t.average_pledge = Some(format::money(avg, lang));
    }
    t
}
