//! A project's close, as recorded.

use super::*;

pub(super) fn close_tx(tx: &Connection, project: &str) -> Result<Option<CloseRecord>, StoreError> {
    let row = maybe(
        tx,
        "SELECT state, outcome, started_at, closed_at FROM closes WHERE project = ?1",
        params![project],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        },
    )?;
    row.map(|(state, outcome, started_at, closed_at)| {
        Ok(CloseRecord {
            state: CloseState::parse(&state)
                .ok_or_else(|| backend(format!("bad close state {state:?} of {project}")))?,
            outcome: match outcome {
                Some(o) => Some(
                    Outcome::parse(&o)
                        .ok_or_else(|| backend(format!("bad outcome {o:?} of {project}")))?,
                ),
                None => None,
            },
            started_at,
            closed_at,
        })
    })
    .transpose()
}
