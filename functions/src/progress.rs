//! The progress snapshot (functions → generator), version 1: the figures of
//! each project as the ledger holds them. Same JSON contract as the
//! generator reads (ARCHITECTURE.md); this crate writes it.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub const SNAPSHOT_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    pub projects: BTreeMap<String, Figures>,
}

/// One project's figures, computed from its paid pledges and active matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    #[serde(with = "rust_decimal::serde::str")]
    pub raised: Decimal,
    pub matched: BTreeMap<String, Amount>,
    pub backers: u32,
    pub pledges: u32,
    pub rewards: BTreeMap<usize, u32>,
    pub offers: u32,
    /// A closed all-or-nothing campaign below its goal: its pledges are
    /// refunded (`outcome` is `not_funded`).
    pub refunded: bool,
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

/// An amount written as a decimal string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(#[serde(with = "rust_decimal::serde::str")] pub Decimal);

impl Figures {
    pub fn matched_total(&self) -> Decimal {
        self.matched.values().map(|a| a.0).sum()
    }
}
