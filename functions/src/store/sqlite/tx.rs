//! Transaction plumbing: one immediate transaction per operation, and the
//! small typed reads and writes every operation uses.

use super::*;

pub(super) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Runs `f` in an immediate transaction on `conn` (`BEGIN IMMEDIATE` and
/// `COMMIT` prepared once): committed when `f` succeeds, rolled back
/// otherwise.
pub(super) fn in_tx<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    exec(conn, "BEGIN IMMEDIATE", [])?;
    let result = f(conn).and_then(|value| {
        exec(conn, "COMMIT", [])?;
        Ok(value)
    });
    if result.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

pub(super) fn cents(
    tx: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<Decimal, StoreError> {
    let c: i64 = one(tx, sql, p, |r| r.get(0))?;
    Ok(from_cents(c)?)
}

/// The one row of a query (a statement prepared once per connection).
pub(super) fn one<T>(
    tx: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<T, StoreError> {
    tx.prepare_cached(sql)
        .map_err(backend)?
        .query_row(p, f)
        .map_err(backend)
}

/// The row of a query, if any (a statement prepared once per connection).
pub(super) fn maybe<T>(
    tx: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>, StoreError> {
    tx.prepare_cached(sql)
        .map_err(backend)?
        .query_row(p, f)
        .optional()
        .map_err(backend)
}

/// Runs a write (a statement prepared once per connection); rows changed.
pub(super) fn exec(
    tx: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<usize, StoreError> {
    tx.prepare_cached(sql)
        .map_err(backend)?
        .execute(p)
        .map_err(backend)
}

pub(super) fn record_event(
    tx: &Connection,
    event_id: &str,
    kind: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let inserted = exec(
        tx,
        "INSERT OR IGNORE INTO events (id, kind, applied_at) VALUES (?1, ?2, ?3)",
        params![event_id, kind, now],
    )?;
    Ok(inserted == 1)
}
