//! The progress snapshot (functions → generator), version 1: the figures of
//! each project as the ledger holds them. The functions write it
//! (`Store::snapshot`), the generator renders it; see ARCHITECTURE.md.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::kinds::Outcome;

/// The version of the snapshot this build writes and reads.
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

/// One project's figures, computed from its paid pledges and active matches.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Figures {
    /// Paid by citizens (refunds deducted), in euros.
    #[serde(with = "rust_decimal::serde::str")]
    pub raised: Decimal,
    /// Matched by each pool (`sponsor/pool`), in euros.
    #[serde(default)]
    pub matched: BTreeMap<String, Amount>,
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
    /// A closed all-or-nothing campaign below its goal: its pledges are
    /// refunded (`outcome` is `not_funded`).
    #[serde(default)]
    pub refunded: bool,
    /// When these figures last changed (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Once the campaign's close decided it: `funded` or `not_funded`.
    /// Optional in the contract (absent while the campaign runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Paid pledges refunded or being refunded by Pavé or Stripe (not
    /// counted in `raised`). Optional in the contract (absent when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refunds: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// An amount written as a decimal string ("1770.00"), exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(#[serde(with = "rust_decimal::serde::str")] pub Decimal);

impl Figures {
    pub fn matched_total(&self) -> Decimal {
        self.matched.values().map(|a| a.0).sum()
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

    /// The outcome the close recorded, if it did.
    pub fn recorded_outcome(&self) -> Option<Outcome> {
        self.outcome.as_deref().and_then(Outcome::parse)
    }
}

/// Why a snapshot could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a valid progress snapshot: {0}")]
    Json(#[from] serde_json::Error),
    #[error("snapshot version {0}, this build reads version {SNAPSHOT_VERSION}")]
    Version(u32),
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

    /// Reads a snapshot file ([`Snapshot::from_json`]); the error names the file.
    pub fn read(path: &std::path::Path) -> Result<Snapshot, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Snapshot::from_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads a snapshot, refusing other versions and unknown fields.
    pub fn from_json(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        let snapshot: Snapshot = serde_json::from_slice(bytes)?;
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(SnapshotError::Version(snapshot.version));
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
        f.matched
            .insert("a/b".into(), Amount(Decimal::from_str("1180.99").unwrap()));
        assert_eq!(f.percent(Decimal::from(6000)), 118);
        assert_eq!(f.percent(Decimal::ZERO), 0);
    }

    #[test]
    fn snapshot_round_trips_exactly() {
        let json = r#"{"version":1,"projects":{"cafe-du-coin":{"raised":"1770.10","matched":{"ville/reussite":"0.01"},"backers":3,"pledges":4,"rewards":{"0":2},"offers":1,"refunded":false,"updated_at":"2026-11-23T10:00:00Z"}}}"#;
        let s = Snapshot::from_json(json.as_bytes()).unwrap();
        assert_eq!(
            s.figures("cafe-du-coin").total(),
            Decimal::from_str("1770.11").unwrap()
        );
        assert_eq!(serde_json::to_string(&s).unwrap(), json);
        let v2 = json.replace("\"version\":1", "\"version\":2");
        assert!(matches!(
            Snapshot::from_json(v2.as_bytes()),
            Err(SnapshotError::Version(2))
        ));
    }
}
