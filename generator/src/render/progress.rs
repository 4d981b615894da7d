//! The progress snapshot (functions → generator): the figures of each
//! project, as recorded in the ledger. Versioned JSON; see ARCHITECTURE.md.

use std::collections::BTreeMap;
use std::path::Path;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{FundingModel, ProjectMeta};

/// The version of the snapshot schema this build reads and writes.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The figures of every project that has any.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub version: u32,
    /// Figures by project slug; a project absent here has zero everywhere.
    #[serde(default)]
    pub projects: BTreeMap<String, Figures>,
}

/// One project's figures.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Figures {
    /// Paid by citizens (refunds deducted), in euros.
    #[serde(with = "rust_decimal::serde::str")]
    pub raised: Decimal,
    /// Matched by each pool (`sponsor/pool`), in euros.
    #[serde(default)]
    pub matched: BTreeMap<String, DecimalStr>,
    /// Distinct paying donors.
    #[serde(default)]
    pub backers: u32,
    /// Paid pledges.
    #[serde(default)]
    pub pledges: u32,
    /// Rewards taken (paid or reserved by an open checkout), by reward index.
    #[serde(default)]
    pub rewards: BTreeMap<usize, u32>,
    /// In-kind offers received (their content is private).
    #[serde(default)]
    pub offers: u32,
    /// Set when a closed all-or-nothing campaign missed its goal and was refunded.
    #[serde(default)]
    pub refunded: bool,
    /// When these figures last changed (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Once the campaign's close decided it: `funded` or `not_funded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Paid pledges refunded or being refunded (not counted in `raised`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refunds: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A decimal written as a JSON string ("1770.00"), exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct DecimalStr(#[serde(with = "rust_decimal::serde::str")] pub Decimal);

impl Figures {
    pub fn matched_total(&self) -> Decimal {
        self.matched.values().map(|d| d.0).sum()
    }

    /// Citizens' money plus matching.
    pub fn total(&self) -> Decimal {
        self.raised + self.matched_total()
    }

    /// Percent of the goal reached (citizens + matching), rounded down.
    pub fn percent(&self, goal: Decimal) -> u32 {
        if goal <= Decimal::ZERO {
            return 0;
        }
        let p = (self.total() * Decimal::from(100) / goal).trunc();
        u32::try_from(p.mantissa() / 10i128.pow(p.scale())).unwrap_or(u32::MAX)
    }

    /// Whether a closed campaign is a success: the goal was reached for
    /// all-or-nothing, anything was raised for keep-it-all.
    pub fn succeeded(&self, project: &ProjectMeta) -> bool {
        match project.funding {
            FundingModel::AllOrNothing => !self.refunded && self.total() >= project.goal,
            FundingModel::KeepItAll => self.raised > Decimal::ZERO,
        }
    }
}

impl Snapshot {
    /// An empty snapshot: every figure is zero.
    pub fn empty() -> Snapshot {
        Snapshot {
            version: SNAPSHOT_VERSION,
            projects: BTreeMap::new(),
        }
    }

    /// The figures of a project (zero when it has none).
    pub fn figures(&self, slug: &str) -> Figures {
        self.projects.get(slug).cloned().unwrap_or_default()
    }

    /// Reads a snapshot file, refusing other schema versions.
    pub fn read(path: &Path) -> Result<Snapshot, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let snapshot: Snapshot = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is not a valid progress snapshot: {e}", path.display()))?;
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(format!(
                "{} has snapshot version {}, this build reads version {SNAPSHOT_VERSION}",
                path.display(),
                snapshot.version
            ));
        }
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn percent_counts_matching_and_rounds_down() {
        let mut f = Figures {
            raised: Decimal::from_str("5900").unwrap(),
            ..Figures::default()
        };
        f.matched.insert(
            "a/b".into(),
            DecimalStr(Decimal::from_str("1180.99").unwrap()),
        );
        assert_eq!(f.percent(Decimal::from(6000)), 118);
        assert_eq!(f.percent(Decimal::ZERO), 0);
    }

    #[test]
    fn snapshot_round_trips_exactly() {
        let json = r#"{"version":1,"projects":{"cafe-du-coin":{"raised":"1770.10","matched":{"ville/reussite":"0.01"},"backers":3,"pledges":4,"rewards":{"0":2},"offers":1,"refunded":false,"updated_at":"2026-11-23T10:00:00Z"}}}"#;
        let s: Snapshot = serde_json::from_str(json).unwrap();
        assert_eq!(
            s.figures("cafe-du-coin").total(),
            Decimal::from_str("1770.11").unwrap()
        );
        assert_eq!(serde_json::to_string(&s).unwrap(), json);
    }
}
