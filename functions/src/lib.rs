//! Pavé functions: the money side. Filled by the pledges issue.

pub mod catalog;
pub mod matching;
pub mod money;
pub mod stripe;
