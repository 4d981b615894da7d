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
    pub refunded: bool,
    pub updated_at: Option<String>,
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
