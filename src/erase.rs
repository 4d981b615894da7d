//! `pave erase --email X`: a donor's right to erasure, on the embedded
//! store. The work is `Store::erase_donor` (the same on DynamoDB).

use std::path::Path;
use std::process::ExitCode;

use pave_functions::store::Store;
use pave_functions::store::sqlite::SqliteStore;

/// Erases; exit status 0 (also when nothing matched), 1 on a store error,
/// 2 on usage errors.
pub fn erase(db: &Path, email: &str) -> ExitCode {
    let email = email.trim();
    if !email.contains('@') {
        eprintln!("error: `{email}` is not an email address");
        return ExitCode::from(2);
    }
    if !db.exists() {
        eprintln!(
            "error: no store at {} (the database `pave serve` writes; give --db)",
            db.display()
        );
        return ExitCode::from(2);
    }
    let store = match SqliteStore::open(db) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot open the store {}: {e}", db.display());
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
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
