//! The logs of the server (`pave serve`) and the Lambdas: `tracing` events,
//! one line each on standard error, as text (the default of the `pave`
//! command) or JSON lines (the Lambdas' default, what CloudWatch Logs
//! Insights reads; `PAVE_LOG_FORMAT=json` for the server behind journald).
//! `PAVE_LOG` sets the level (`error`, `warn`, `info` — the default —,
//! `debug`). Nothing secret is ever logged: keys, passwords and donors'
//! email addresses are not given to any event.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the subscriber (once; later calls do nothing).
pub fn init(json_by_default: bool) {
    let level = match std::env::var("PAVE_LOG").as_deref() {
        Ok("error") => tracing::Level::ERROR,
        Ok("warn") => tracing::Level::WARN,
        Ok("debug") => tracing::Level::DEBUG,
        Ok("trace") => tracing::Level::TRACE,
        _ => tracing::Level::INFO,
    };
    let json = match std::env::var("PAVE_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => json_by_default,
    };
    // The level is Pavé's own; the libraries' (HTTP, TLS, AWS signing,
    // whose debug output could hold credentials) stay at warnings.
    let targets = Targets::new()
        .with_target("pave", level)
        .with_target("pave_functions", level)
        .with_target("pave_generator", level)
        .with_default(tracing::Level::WARN);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_span_events(FmtSpan::NONE)
        .with_ansi(false)
        .with_target(false);
    let registry = tracing_subscriber::registry().with(targets);
    let _ = if json {
        registry.with(layer.json().flatten_event(true)).try_init()
    } else {
        registry.with(layer).try_init()
    };
}
