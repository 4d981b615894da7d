//! `pave serve`: the site from the output folder, rebuilt when the content or
//! the theme change, with live reload in the browser (a tiny script listening
//! to server-sent events).

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use notify::{RecursiveMode, Watcher};
use pave_generator::build::{self, BuildConfig};
use tokio::sync::{broadcast, mpsc};
use tower_http::services::{ServeDir, ServeFile};

/// The script added to every page in serve mode.
const LIVE_RELOAD_JS: &str =
    "new EventSource('/__pave/events').addEventListener('reload', () => location.reload());\n";

#[derive(Clone)]
struct Shared {
    reloads: broadcast::Sender<u64>,
}

/// Builds once, then serves `config.out` on `addr` and rebuilds on changes.
pub async fn serve(config: BuildConfig, addr: std::net::SocketAddr) -> Result<(), String> {
    let config = Arc::new(config);
    rebuild(&config).await?;
    let (reloads, _) = broadcast::channel(16);
    let shared = Shared {
        reloads: reloads.clone(),
    };

    // File changes → a debounced rebuild → a reload event.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            let _ = tx.send(());
        }
    })
    .map_err(|e| format!("cannot watch files: {e}"))?;
    for dir in [&config.content, &config.theme] {
        watcher
            .watch(dir, RecursiveMode::Recursive)
            .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    }
    let rebuild_config = config.clone();
    tokio::spawn(async move {
        let _watcher = watcher;
        let mut generation = 0u64;
        while rx.recv().await.is_some() {
            // Coalesce a burst of events (an editor saves several files).
            tokio::time::sleep(Duration::from_millis(150)).await;
            while rx.try_recv().is_ok() {}
            match rebuild(&rebuild_config).await {
                Ok(()) => {
                    generation += 1;
                    let _ = reloads.send(generation);
                }
                Err(e) => eprintln!("{e}"),
            }
        }
    });

    let out: PathBuf = config.out.clone();
    let site = ServeDir::new(&out)
        .append_index_html_on_directories(true)
        .not_found_service(ServeFile::new(out.join("404.html")));
    let app = Router::new()
        .route("/__pave/live-reload.js", get(live_reload_js))
        .route("/__pave/events", get(events))
        .with_state(shared)
        .fallback_service(site);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("pave serve: http://{local}/ (Ctrl-C to stop)");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("server error: {e}"))
}

async fn rebuild(config: &Arc<BuildConfig>) -> Result<(), String> {
    let config = config.clone();
    let start = std::time::Instant::now();
    let result = tokio::task::spawn_blocking(move || build::build(&config))
        .await
        .map_err(|e| format!("build task failed: {e}"))?;
    match result {
        Ok(built) => {
            eprintln!(
                "pave serve: built {} pages ({} written) in {} ms",
                built.pages,
                built.stats.written,
                start.elapsed().as_millis()
            );
            Ok(())
        }
        Err(build::BuildError::Content(report)) => Err(format!(
            "{}pave serve: the content has errors; the site was not rebuilt",
            report.render(pave_generator::diagnostics::Format::Human)
        )),
        Err(e) => Err(format!("pave serve: {e}")),
    }
}

async fn live_reload_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        LIVE_RELOAD_JS,
    )
        .into_response()
}

async fn events(State(shared): State<Shared>) -> impl IntoResponse {
    let mut reloads = shared.reloads.subscribe();
    let (tx, rx) = mpsc::channel::<Event>(8);
    tokio::spawn(async move {
        while let Ok(generation) = reloads.recv().await {
            let event = Event::default()
                .event("reload")
                .data(generation.to_string());
            if tx.send(event).await.is_err() {
                break;
            }
        }
    });
    (
        StatusCode::OK,
        Sse::new(EventStream(rx)).keep_alive(KeepAlive::default()),
    )
}

/// Server-sent events from a channel.
struct EventStream(mpsc::Receiver<Event>);

impl futures_core::Stream for EventStream {
    type Item = Result<Event, Infallible>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|e| e.map(Ok))
    }
}
