//! What the store commands (`pave close`, `pave erase`, `pave statements`)
//! share: the catalog the site was built with, the embedded store opened
//! from an existing file, a runtime to drive its async methods, and the
//! progress snapshot written next to the store.

use std::path::Path;

use pave_functions::catalog::Catalog;
use pave_functions::progress::Snapshot;
use pave_functions::store::Store;
use pave_functions::store::sqlite::SqliteStore;

use crate::exit::Failure;

/// Reads and checks the catalog `pave build` wrote.
pub fn read_catalog(path: &Path) -> Result<Catalog, Failure> {
    Catalog::read(path).map_err(|e| {
        Failure::Usage(format!(
            "the catalog: {e} (run `pave build` first, or give --catalog)"
        ))
    })
}

/// Opens the SQLite store at `db`, which must exist (these commands never
/// create an empty one by mistake).
pub fn open_existing(db: &Path) -> Result<SqliteStore, Failure> {
    if !db.exists() {
        return Err(Failure::Usage(format!(
            "no store at {} (the database `pave serve` writes; give --db)",
            db.display()
        )));
    }
    SqliteStore::open(db)
        .map_err(|e| Failure::Usage(format!("cannot open the store {}: {e}", db.display())))
}

/// A current-thread runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the runtime: {e}")))
}

/// Writes the store's progress snapshot (what the build shows) to `path`,
/// and returns it.
pub async fn write_snapshot(store: &SqliteStore, path: &Path) -> Result<Snapshot, String> {
    let snapshot = store
        .snapshot()
        .await
        .map_err(|e| format!("cannot read the store: {e}"))?;
    let json = serde_json::to_vec_pretty(&snapshot).map_err(|e| e.to_string())?;
    std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(snapshot)
}
