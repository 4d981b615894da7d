//! The outbox on SQLite: one row per email key (`outbox`), kept after the
//! email is sent (without its address and text) so that a key is enqueued
//! once, ever.

use super::*;
use crate::mail::outbox::{Claimed, Outgoing, Settle};

pub(super) fn enqueue(tx: &Connection, mail: &Outgoing, at: i64) -> Result<bool, StoreError> {
    let n = exec(
        tx,
        "INSERT INTO outbox (key, state, to_addr, subject, body, unsubscribe, next_at, created_at) \
         VALUES (?1, 'pending', ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (key) DO NOTHING",
        params![
            mail.key,
            mail.to,
            mail.subject,
            mail.text,
            mail.unsubscribe,
            at
        ],
    )?;
    Ok(n == 1)
}

pub(super) fn claim(
    tx: &Connection,
    now: i64,
    lease: i64,
    limit: usize,
) -> Result<Vec<Claimed>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    // Given up a month ago: the address and text go (the key stays).
    exec(
        tx,
        "UPDATE outbox SET to_addr = NULL, subject = NULL, body = NULL, unsubscribe = NULL \
         WHERE state = 'failed' AND body IS NOT NULL AND settled_at < ?1",
        params![now.saturating_sub(30 * 86_400)],
    )?;
    let due: Vec<(Outgoing, u32, i64)> = tx
        .prepare_cached(
            "SELECT key, to_addr, subject, body, unsubscribe, attempts, created_at FROM outbox \
             WHERE state = 'pending' AND next_at <= ?1 AND lease_until <= ?1 \
             ORDER BY next_at, key LIMIT ?2",
        )
        .map_err(backend)?
        .query_map(params![now, limit], |r| {
            Ok((
                Outgoing {
                    key: r.get(0)?,
                    to: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    subject: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    text: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    unsubscribe: r.get(4)?,
                },
                r.get::<_, u32>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    let mut claimed = Vec::with_capacity(due.len());
    for (mail, attempts, created_at) in due {
        let attempt = attempts.saturating_add(1);
        exec(
            tx,
            "UPDATE outbox SET attempts = ?2, lease_until = ?3 WHERE key = ?1",
            params![mail.key, attempt, now.saturating_add(lease)],
        )?;
        claimed.push(Claimed {
            mail,
            attempt,
            created_at,
        });
    }
    Ok(claimed)
}

pub(super) fn settle(
    tx: &Connection,
    key: &str,
    attempt: u32,
    outcome: &Settle,
    now: i64,
) -> Result<(), StoreError> {
    // Only the live claim: the row is still pending at this attempt.
    let claim = "WHERE key = ?1 AND attempts = ?2 AND state = 'pending'";
    match outcome {
        Settle::Sent => exec(
            tx,
            &format!(
                "UPDATE outbox SET state = 'sent', to_addr = NULL, subject = NULL, body = NULL, \
                 unsubscribe = NULL, lease_until = 0, settled_at = ?3, error = NULL {claim}"
            ),
            params![key, attempt, now],
        )?,
        Settle::Retry { at, error } => exec(
            tx,
            &format!("UPDATE outbox SET next_at = ?3, lease_until = 0, error = ?4 {claim}"),
            params![key, attempt, at, error],
        )?,
        Settle::GiveUp { error } => exec(
            tx,
            &format!(
                "UPDATE outbox SET state = 'failed', lease_until = 0, settled_at = ?3, error = ?4 {claim}"
            ),
            params![key, attempt, now, error],
        )?,
    };
    Ok(())
}

/// Drops every unsent email to `email` (trimmed, lowercase), or whose
/// text names it (an offer of help told to a holder): its address and
/// text go, its key stays (so it is never enqueued again). How many.
pub(super) fn erase(tx: &Connection, email: &str) -> Result<u32, StoreError> {
    let n = exec(
        tx,
        "UPDATE outbox SET state = 'erased', to_addr = NULL, subject = NULL, body = NULL, \
         unsubscribe = NULL WHERE state IN ('pending', 'failed') \
         AND (lower(trim(to_addr)) = ?1 OR instr(lower(body), ?1) > 0)",
        params![email],
    )?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}
