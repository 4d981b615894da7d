//! Pavé functions: the money side — pledges, payments (Stripe), matching,
//! the ledger (stores) and the HTTP API.

pub mod api;
pub mod aws;
pub mod clock;
pub mod close;
pub mod contacts;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod logs;
pub mod mail;
pub mod messages;
pub mod money;
pub mod pages;
pub mod payment;
pub mod pledge;
pub mod release;
pub mod statements;
pub mod store;
pub mod stripe;

/// The two contracts with the generator (`pave-contract`): this crate reads
/// the catalog and writes the snapshot with the generator's own types.
pub use pave_contract::{catalog, matching, progress};
