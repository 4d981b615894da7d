//! `pave backup` and `pave restore`: the one file that holds every pledge,
//! copied consistently while the server runs, and put back on a fresh
//! machine. The copy is SQLite's `VACUUM INTO` in one read transaction
//! (`SqliteStore::backup_to`): every committed pledge, match, offer and
//! close up to that moment, in a file that needs no write-ahead log.

use std::path::{Path, PathBuf};

use pave_functions::store::sqlite::SqliteStore;

use crate::exit::{Done, Failure};

/// `pave backup --db FILE --out FILE`: refuses to overwrite a file.
pub fn backup(db: &Path, out: &Path) -> Done {
    if out.exists() {
        return Err(Failure::Usage(format!(
            "{} exists: a backup is never written over another (name each by its date)",
            out.display()
        )));
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::Failed(format!("cannot create {}: {e}", parent.display())))?;
    }
    let store = crate::store_file::open_existing(db)?;
    let runtime = crate::store_file::runtime()?;
    let partial = partial_path(out);
    let _ = std::fs::remove_file(&partial);
    runtime
        .block_on(store.backup_to(&partial))
        .map_err(|e| Failure::Failed(format!("cannot back up {}: {e}", db.display())))?;
    std::fs::rename(&partial, out)
        .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", out.display())))?;
    let summary = summarise(out)?;
    println!(
        "pave backup: {} → {} ({summary})",
        db.display(),
        out.display()
    );
    Ok(())
}

/// `pave restore --from FILE --db FILE [--force]`: the backup is checked
/// (a Pavé store, whole), then put in place atomically; an existing store
/// is replaced only with `--force` (and kept as `<db>.before-restore`), the
/// server stopped.
pub fn restore(from: &Path, db: &Path, force: bool) -> Done {
    if !from.is_file() {
        return Err(Failure::Usage(format!("no backup at {}", from.display())));
    }
    if db.exists() && !force {
        return Err(Failure::Usage(format!(
            "{} exists: stop the server and give --force to replace it",
            db.display()
        )));
    }
    let summary = summarise(from)?;
    let runtime = crate::store_file::runtime()?;
    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::Failed(format!("cannot create {}: {e}", parent.display())))?;
    }
    let partial = partial_path(db);
    std::fs::copy(from, &partial)
        .map_err(|e| Failure::Failed(format!("cannot copy {}: {e}", from.display())))?;
    // The old store is kept aside (`<db>.before-restore`, with its log), and
    // its log must not be replayed onto the restored file.
    for ext in ["", "-wal", "-shm"] {
        let mut side = db.as_os_str().to_owned();
        side.push(ext);
        let side = PathBuf::from(side);
        if side.exists() {
            let mut aside = side.as_os_str().to_owned();
            aside.push(".before-restore");
            std::fs::rename(&side, PathBuf::from(aside)).map_err(|e| {
                Failure::Failed(format!("cannot move {} aside: {e}", side.display()))
            })?;
        }
    }
    std::fs::rename(&partial, db)
        .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", db.display())))?;
    // The figures the next build shows, next to the store.
    let store = crate::store_file::open_existing(db)?;
    runtime
        .block_on(crate::store_file::write_snapshot(
            &store,
            &db.with_extension("progress.json"),
        ))
        .map_err(Failure::Failed)?;
    println!(
        "pave restore: {} → {} ({summary})",
        from.display(),
        db.display()
    );
    Ok(())
}

/// What a store file holds, in a line; fails when it is not a whole Pavé
/// store.
fn summarise(file: &Path) -> Result<String, Failure> {
    let s = SqliteStore::inspect(file)
        .map_err(|e| Failure::Failed(format!("{} is not a Pavé store: {e}", file.display())))?;
    let money = |d| pave_locale::money(d, pave_locale::Lang::En);
    Ok(format!(
        "{} paid pledge(s), {} from citizens, {} matched, {} offer(s)",
        s.paid_pledges,
        money(s.raised),
        money(s.matched),
        s.offers
    ))
}

/// Where a file is written before it is renamed into place.
fn partial_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}
