//! `pave erase --email X`: a donor's right to erasure, on the embedded
//! store. The work is `Store::erase_donor` (the same on DynamoDB).

use std::path::Path;

use pave_functions::store::Store;

use crate::exit::{Done, Failure};

/// Erases (done also when nothing matched).
pub fn erase(db: &Path, email: &str) -> Done {
    let email = email.trim();
    if !email.contains('@') {
        return Err(Failure::Usage(format!("`{email}` is not an email address")));
    }
    let store = crate::store_file::open_existing(db)?;
    let runtime = crate::store_file::runtime()?;
    let erased = runtime
        .block_on(store.erase_donor(email))
        .map_err(|e| Failure::Failed(e.to_string()))?;
    println!(
        "pave erase: {} record(s) anonymised ({} pledge(s), {} offer(s)); amounts and totals kept",
        erased.total(),
        erased.pledges,
        erased.offers
    );
    Ok(())
}
