//! `pave close`: the campaign close for a self-hosted cron, on the embedded
//! store. Closes every project whose campaign ended (funded, or refunded
//! through Stripe), retries the refunds still pending, prints a summary.
//! The work is `pave_functions::close::run`, which the AWS Lambda calls too
//! (refunded donors are told why: the emails go through the store's outbox;
//! on the embedded store this command then drains it, over SMTP when
//! `SMTP_URL` is set; on the table, `pave-mail` does).

use std::path::Path;

use crate::exit::{Done, Failure};
use crate::store_file::StoreChoice;
use pave_functions::api::local::EnvPayments;
use pave_functions::close::{self, CloseReport, RefundPolicy};
use pave_functions::store::{CloseState, Outcome};

/// Runs the close: failed (status 1) when a refund failed or a project
/// could not be closed (retried on the next run).
pub fn close(store: StoreChoice, catalog: &Path, now: Option<jiff::Timestamp>) -> Done {
    let catalog = crate::store_file::read_catalog(catalog)?;
    let chosen = EnvPayments::from_env(
        "http://127.0.0.1",
        "whsec_local_close",
        pave_functions::clock::Clock::system(),
    )
    .map_err(Failure::Usage)?;
    if chosen.is_test() {
        eprintln!(
            "pave close: no Stripe key: refunds use the local TEST payments (no money moves)"
        );
    }
    let payments = chosen.payments;
    let now = now.unwrap_or_else(jiff::Timestamp::now);
    let runtime = crate::store_file::runtime()?;
    let policy = RefundPolicy::default();
    let db = match store {
        StoreChoice::Sqlite(db) => db,
        StoreChoice::Dynamo(table) => {
            let report = runtime.block_on(async {
                let store = crate::store_file::dynamo_store(&table).await?;
                let payments = payments.as_ref();
                // The refund notices go in the table's outbox: the
                // `pave-mail` Lambda sends them (never this operator's SMTP).
                Ok::<_, Failure>(close::run(&store, payments, &catalog, now, policy).await)
            })?;
            print!("{}", summary(&report, now));
            // The table's stream re-renders the pages whose figures moved.
            return if report.failed() {
                Err(Failure::Reported)
            } else {
                Ok(())
            };
        }
    };
    let store = crate::store_file::open_existing(&db)?;
    let report = runtime.block_on(async {
        let report = close::run(&store, payments.as_ref(), &catalog, now, policy).await;
        // Each refunded donor is told why (SMTP_URL, MAIL_FROM; without
        // them the emails wait in the outbox).
        let mailer = pave_functions::mail::Mailer::from_env();
        let mail_policy = pave_functions::mail::outbox::Policy::from_env();
        send_mail(&store, &mailer, &mail_policy).await;
        report
    });
    print!("{}", summary(&report, now));
    if !report.projects.is_empty() || report.late_refunds_issued > 0 {
        // The figures changed: the snapshot `pave serve` and `pave build
        // --progress` read, next to the store.
        let progress = db.with_extension("progress.json");
        runtime
            .block_on(crate::store_file::write_snapshot(&store, &progress))
            .map_err(Failure::Failed)?;
        let slugs: Vec<&str> = report.projects.iter().map(|p| p.project.as_str()).collect();
        eprintln!(
            "pave close: figures written to {}; refresh the site with `pave build --progress {} --changed {}`",
            progress.display(),
            progress.display(),
            if slugs.is_empty() {
                "<slugs>".to_string()
            } else {
                slugs.join(",")
            }
        );
    }
    if report.failed() {
        Err(Failure::Reported)
    } else {
        Ok(())
    }
}

/// Sends what the embedded store's outbox holds, on the real clock (the
/// emails were enqueued on it, whatever `--now` says). A failure is
/// reported and left to the next run or the server's drainer.
async fn send_mail<S: pave_functions::store::Store>(
    store: &S,
    mailer: &pave_functions::mail::Mailer,
    policy: &pave_functions::mail::outbox::Policy,
) {
    let now = || jiff::Timestamp::now().as_second();
    match pave_functions::mail::outbox::drain(store, mailer, policy, now).await {
        Ok(d) if d.total() > 0 => eprintln!(
            "pave close: emails: {} sent, {} to retry, {} given up",
            d.sent, d.retried, d.failed
        ),
        Ok(_) => {}
        Err(e) => eprintln!("pave close: the outbox could not be read: {e}"),
    }
}

/// The summary printed after a run: one line per project closed (or
/// resumed), then the refunds of refused payments, then every failure.
pub fn summary(report: &CloseReport, now: jiff::Timestamp) -> String {
    let mut out = String::new();
    for p in &report.projects {
        let outcome = match p.outcome {
            Outcome::Funded => "funded",
            Outcome::NotFunded => "not funded",
        };
        let state = match p.state {
            CloseState::Closed => "closed",
            CloseState::Refunding => "refunds pending",
            CloseState::Closing => "closing",
        };
        let mut line = format!("{}: {outcome}, {state}", p.project);
        for m in &p.on_success {
            line.push_str(&format!(
                ", on-success matching {} € from {}",
                m.amount, m.pool_id
            ));
        }
        line.push_str(&format!(
            ", {} refund(s) issued, {} failed\n",
            p.refunds_issued,
            p.refunds_failed.len()
        ));
        out.push_str(&line);
    }
    if report.late_refunds_issued > 0 || !report.late_refunds_failed.is_empty() {
        out.push_str(&format!(
            "refused payments (late, over the cap): {} refund(s) issued, {} failed\n",
            report.late_refunds_issued,
            report.late_refunds_failed.len()
        ));
    }
    for f in report.failed_refunds() {
        out.push_str(&format!(
            "refund failed: project {}, pledge {} ({}): {} — retried on the next run\n",
            f.project,
            f.pledge_id,
            f.reason.as_str(),
            f.code
        ));
    }
    for (project, error) in &report.errors {
        out.push_str(&format!(
            "error: {project}: {error} — retried on the next run\n"
        ));
    }
    out.push_str(&format!(
        "pave close: {} project(s) closed or resumed at {now}{}\n",
        report.projects.len(),
        if report.failed() {
            "; some refunds failed"
        } else {
            ""
        }
    ));
    out
}
