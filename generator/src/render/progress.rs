//! The progress snapshot (functions → generator): the figures of each
//! project, as recorded in the ledger (the contract, `pave_contract::progress`).

pub use pave_contract::progress::{Amount, Figures, SNAPSHOT_VERSION, Snapshot};
