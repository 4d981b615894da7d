//! `pave close`: the campaign close for a self-hosted cron, on the embedded
//! store. Closes every project whose campaign ended (funded, or refunded
//! through Stripe), retries the refunds still pending, prints a summary.
//! The work is `pave_functions::close::run`, which the AWS Lambda calls too
//! (refunded donors are told why, over SMTP when `SMTP_URL` is set).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use pave_functions::api::local::LocalPayments;
use pave_functions::close::{self, CloseReport, RefundPolicy};
use pave_functions::store::{CloseState, Outcome};
use pave_functions::stripe::client::{ENV_SECRET_KEY, Payments, StripeConfig, StripePayments};

/// Runs the close; exit status 0 when every refund went through, 1 when a
/// refund failed (or a project could not be closed), 2 on usage errors.
pub fn close(db: &Path, catalog: &Path, now: Option<jiff::Timestamp>) -> ExitCode {
    let catalog = match crate::store_file::read_catalog(catalog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let store = match crate::store_file::open_existing(db) {
        Ok(s) => s,
        Err(status) => return status,
    };
    let payments: Arc<dyn Payments> = match std::env::var(ENV_SECRET_KEY)
        .ok()
        .filter(|k| !k.is_empty())
    {
        Some(_) => match StripeConfig::from_lookup(|n| std::env::var(n).ok())
            .and_then(|c| StripePayments::new(&c))
        {
            Ok(p) => Arc::new(p),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => match LocalPayments::new("http://127.0.0.1", "whsec_local_close") {
            Ok(p) => {
                eprintln!(
                    "pave close: no Stripe key: refunds use the local TEST payments (no money moves)"
                );
                Arc::new(p)
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let now = now.unwrap_or_else(jiff::Timestamp::now);
    let runtime = match crate::store_file::runtime() {
        Ok(r) => r,
        Err(status) => return status,
    };
    // Each refunded donor is told why (SMTP_URL, MAIL_FROM; logged only without).
    let mailer = pave_functions::mail::Mailer::from_env();
    let report = runtime.block_on(close::run(
        &store,
        payments.as_ref(),
        &catalog,
        now,
        RefundPolicy::default(),
        &mailer,
    ));
    print!("{}", summary(&report, now));
    if !report.projects.is_empty() || report.late_refunds_issued > 0 {
        // The figures changed: the snapshot `pave serve` and `pave build
        // --progress` read, next to the store.
        let progress = db.with_extension("progress.json");
        match runtime.block_on(crate::serve::write_snapshot(&store, &progress)) {
            Ok(_) => {
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
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
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
