//! What the store commands (`pave close`, `pave erase`, `pave statements`)
//! share: the catalog the site was built with, the embedded store opened
//! from an existing file, and a runtime to drive its async methods. Errors are printed here; the caller returns the
//! exit status (2: usage, the store is missing or cannot be opened).

use std::path::Path;
use std::process::ExitCode;

use pave_functions::catalog::Catalog;
use pave_functions::store::sqlite::SqliteStore;

/// Reads and checks the catalog `pave build` wrote.
pub fn read_catalog(path: &Path) -> Result<Catalog, ExitCode> {
    Catalog::read(path).map_err(|e| {
        eprintln!("error: the catalog: {e} (run `pave build` first, or give --catalog)");
        ExitCode::from(2)
    })
}

/// Opens the SQLite store at `db`, which must exist (these commands never
/// create an empty one by mistake).
pub fn open_existing(db: &Path) -> Result<SqliteStore, ExitCode> {
    if !db.exists() {
        eprintln!(
            "error: no store at {} (the database `pave serve` writes; give --db)",
            db.display()
        );
        return Err(ExitCode::from(2));
    }
    SqliteStore::open(db).map_err(|e| {
        eprintln!("error: cannot open the store {}: {e}", db.display());
        ExitCode::from(2)
    })
}

/// A current-thread runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::from(2)
        })
}
