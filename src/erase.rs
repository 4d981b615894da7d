//! `pave erase --email X`: a donor's right to erasure, on the embedded
//! store. The work is `Store::erase_donor` (the same on DynamoDB).

use std::path::Path;
use std::process::ExitCode;

use pave_functions::store::Store;

/// Erases; exit status 0 (also when nothing matched), 1 on a store error,
/// 2 on usage errors.
pub fn erase(db: &Path, email: &str) -> ExitCode {
    let email = email.trim();
    if !email.contains('@') {
        eprintln!("error: `{email}` is not an email address");
        return ExitCode::from(2);
    }
    let store = match crate::store_file::open_existing(db) {
        Ok(s) => s,
        Err(status) => return status,
    };
    let runtime = match crate::store_file::runtime() {
        Ok(r) => r,
        Err(status) => return status,
    };
    match runtime.block_on(store.erase_donor(email)) {
        Ok(erased) => {
            println!(
                "pave erase: {} record(s) anonymised ({} pledge(s), {} offer(s)); amounts and totals kept",
                erased.total(),
                erased.pledges,
                erased.offers
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
