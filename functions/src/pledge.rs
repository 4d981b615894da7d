//! Pledge intake: what a citizen asks for, checked against the catalog
//! before any money moves. Pure: the caller gives the day and the figures.

use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::catalog::{Catalog, CatalogProject, Status};
use crate::messages::Message;
use crate::money;

/// A pledge as submitted by the form or the JSON API.
#[derive(Debug, Clone)]
pub struct PledgeRequest {
    pub project: String,
    pub amount: Decimal,
    pub reward: Option<usize>,
    pub display_name: Option<String>,
    pub email: String,
    pub lang: String,
}

/// Why a pledge is refused: a stable code for the API and a message for
/// people, written in their language when the answer is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    pub code: &'static str,
    pub message: Message,
    pub status: u16,
}

fn refuse(code: &'static str, status: u16, message: Message) -> Refusal {
    Refusal {
        code,
        message,
        status,
    }
}

pub const MAX_NAME_CHARS: usize = 60;
pub const MAX_EMAIL_CHARS: usize = 254;

/// A donor's email address: valid by the standard (RFC 5322 address
/// syntax, checked by the `email_address` crate), at most
/// [`MAX_EMAIL_CHARS`] long, a bare address (no display name, no comment),
/// on a public domain (with a dot: `root@localhost` reaches no donor).
pub fn is_email(email: &str) -> bool {
    let email = email.trim();
    email.len() <= MAX_EMAIL_CHARS
        && !email.contains(|c: char| c.is_whitespace() || c.is_control() || c == '<' || c == '(')
        && email_address::EmailAddress::parse_with_options(email, email_address::Options::default())
            .is_ok_and(|a| {
                let domain = a.domain();
                domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.starts_with('[')
            })
}

/// Today in a project's time zone, at `now` (seconds).
pub fn today_in(timezone: &str, now: i64) -> Date {
    let at = jiff::Timestamp::from_second(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    pave_contract::calendar::day_of(at, timezone)
}

/// Whether a project takes pledges and offers on `today`: live, and within
/// its campaign's dates (the one rule for both).
fn check_open(project: &CatalogProject, today: Date) -> Result<(), Refusal> {
    if project.status != Status::Live {
        return Err(refuse("project_not_live", 409, Message::ProjectNotLive));
    }
    if today < project.start {
        return Err(refuse(
            "campaign_not_started",
            409,
            Message::CampaignNotStarted {
                start: project.start,
            },
        ));
    }
    if today > project.end {
        return Err(refuse(
            "campaign_ended",
            409,
            Message::CampaignEnded { end: project.end },
        ));
    }
    Ok(())
}

/// Checks an offer of help for `project` on `today`: the project takes
/// them (the pledges' rule: live and within its campaign), and the need
/// given, if any, is one of its needs (its index on the page). The need's
/// index, or none for a general offer.
pub fn check_offer(
    project: &CatalogProject,
    need: Option<&str>,
    today: Date,
) -> Result<Option<usize>, Refusal> {
    check_open(project, today).map_err(|_| refuse("offers_closed", 409, Message::OffersClosed))?;
    match need.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(text) => match text.parse::<usize>() {
            Ok(index) if index < project.needs.len() => Ok(Some(index)),
            _ => Err(refuse("unknown_need", 422, Message::UnknownNeed)),
        },
    }
}

/// Checks a pledge request. `today` is the project's current calendar day in
/// its time zone; `collected` what the project holds (citizens + matching).
pub fn check<'c>(
    catalog: &'c Catalog,
    req: &PledgeRequest,
    today: Date,
    collected: Decimal,
) -> Result<&'c CatalogProject, Refusal> {
    let project = catalog.projects.get(&req.project).ok_or_else(|| {
        refuse(
            "unknown_project",
            404,
            Message::UnknownProject {
                slug: req.project.clone(),
            },
        )
    })?;
    check_open(project, today)?;
    // Bounds first: a negative or zero amount is out of bounds, whatever
    // its digits.
    if req.amount < catalog.pledge_min || req.amount > catalog.pledge_max {
        return Err(refuse(
            "amount_out_of_bounds",
            422,
            Message::AmountOutOfBounds {
                min: catalog.pledge_min,
                max: catalog.pledge_max,
            },
        ));
    }
    if !money::is_cents(req.amount) {
        return Err(refuse("amount_not_cents", 422, Message::AmountNotCents));
    }
    if let Some(index) = req.reward {
        let reward = project
            .rewards
            .iter()
            .find(|r| r.index == index)
            .ok_or_else(|| refuse("unknown_reward", 422, Message::UnknownReward))?;
        if req.amount < reward.min {
            return Err(refuse(
                "below_reward_minimum",
                422,
                Message::BelowRewardMinimum { min: reward.min },
            ));
        }
    }
    if collected + req.amount > project.cap {
        return Err(refuse(
            "above_cap",
            409,
            Message::AboveCap {
                left: (project.cap - collected).max(Decimal::ZERO),
            },
        ));
    }
    if !is_email(&req.email) {
        return Err(refuse("invalid_email", 422, Message::InvalidEmail));
    }
    if req
        .display_name
        .as_deref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control))
    {
        return Err(refuse(
            "invalid_name",
            422,
            Message::InvalidName {
                max_chars: MAX_NAME_CHARS,
            },
        ));
    }
    Ok(project)
}

#[cfg(test)]
mod tests {
    use super::is_email;

    #[test]
    fn an_email_is_a_bare_address_on_a_public_domain() {
        for ok in [
            "camille@example.org",
            "a.b+dons@sous.domaine.fr",
            " zoe@example.org ",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "pas-un-courriel",
            "a@b",
            "@example.org",
            "a@",
            "a..b@example.org",
            "Zoé <z@example.org>",
            "z@example.org (Zoé)",
            "a b@example.org",
            "a@example.org.",
            "a@[127.0.0.1]",
            "a@exa\nmple.org",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert!(!is_email(&long));
    }
}
