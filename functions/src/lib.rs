//! Pavé functions: the money side — pledges, payments (Stripe), matching,
//! the ledger (stores) and the HTTP API.

pub mod api;
pub mod catalog;
pub mod close;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod mail;
pub mod matching;
pub mod messages;
pub mod money;
pub mod payment;
pub mod pledge;
pub mod progress;
pub mod statements;
pub mod store;
pub mod stripe;
