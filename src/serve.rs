//! `pave serve`: the site, the API and the embedded store on one port. The
//! site is rebuilt when the content or the theme change (with live reload in
//! the browser, a tiny script listening to server-sent events), and the
//! pages showing a project's figures are re-rendered after each paid pledge.
//!
//! Payments go through Stripe when `STRIPE_SECRET_KEY` and
//! `STRIPE_WEBHOOK_SECRET` are set; otherwise through the local test
//! provider, whose checkout page is clearly labelled as a test.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use notify::{RecursiveMode, Watcher};
use pave_functions::api::limits::{self, ClientAddr, Limits};
use pave_functions::api::local::EnvPayments;
use pave_functions::api::{ApiConfig, AppState};
use pave_functions::catalog::Catalog;
use pave_functions::progress::Snapshot;
use pave_functions::store::Store;
use pave_functions::store::sqlite::SqliteStore;
use pave_generator::build::{self, BuildConfig};
use pave_generator::live::LiveSite;
use tokio::sync::{broadcast, mpsc};
use tower_http::services::{ServeDir, ServeFile};

/// The script added to every page in serve mode.
const LIVE_RELOAD_JS: &str =
    "new EventSource('/__pave/events').addEventListener('reload', () => location.reload());\n";

#[derive(Clone)]
struct Shared {
    reloads: broadcast::Sender<u64>,
}

type Api = AppState<SqliteStore>;

/// The site as last built, kept loaded for the re-render of figures.
type Live = Arc<std::sync::Mutex<Option<LiveSite>>>;

/// Builds once, then serves `config.out`, the API and the store on `addr`,
/// and rebuilds on changes.
pub async fn serve(
    mut config: BuildConfig,
    addr: std::net::SocketAddr,
    db: PathBuf,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let origin = format!("http://{local}");

    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let store = SqliteStore::open(&db)
        .map_err(|e| format!("cannot open the store {}: {e}", db.display()))?;
    // The figures shown by the build come from the store.
    let progress = db.with_extension("progress.json");
    config.progress = Some(progress.clone());
    crate::store_file::write_snapshot(&store, &progress).await?;
    let config = Arc::new(config);
    let live: Live = Arc::default();
    rebuild(&config, &live).await?;
    let catalog = read_catalog(&config.out)?;

    let chosen = EnvPayments::from_env(&origin, &format!("whsec_local_{}", local.port()))?;
    if chosen.is_test() {
        eprintln!(
            "pave serve: no Stripe key: payments use the local TEST checkout (no money moves)"
        );
    }
    let webhook_secret = chosen
        .webhook_secret
        .ok_or("STRIPE_WEBHOOK_SECRET must be set with STRIPE_SECRET_KEY")?;
    let (payments, local_payments) = (chosen.payments, chosen.local);
    let (changes_tx, mut changes_rx) = mpsc::unbounded_channel::<String>();
    let site_url = origin.clone();
    let mut allowed_origins = vec![origin.clone()];
    if let Some(site) = pave_generator::content::load::read_site_config(&config.content) {
        allowed_origins.push(site.base_url.trim_end_matches('/').to_string());
    }
    let api = Arc::new(Api {
        store: store.clone(),
        catalog: std::sync::RwLock::new(Arc::new(catalog)),
        payments,
        config: ApiConfig {
            site_url,
            allowed_origins,
            webhook_secret,
            api_url: None,
        },
        changes: Some(changes_tx),
        local: local_payments,
        // SMTP_URL and MAIL_FROM; without them the emails are only logged.
        mailer: pave_functions::mail::Mailer::from_env(),
        // PAVE_PLEDGES_PER_MINUTE, PAVE_OFFERS_PER_MINUTE.
        limits: Limits::from_env()?,
    });
    let trusted = trusted_proxies()?;

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
    let generation = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (rebuild_config, rebuild_api, rebuild_reloads, rebuild_generation, rebuild_live) = (
        config.clone(),
        api.clone(),
        reloads.clone(),
        generation.clone(),
        live.clone(),
    );
    tokio::spawn(async move {
        let _watcher = watcher;
        while rx.recv().await.is_some() {
            // Coalesce a burst of events (an editor saves several files).
            tokio::time::sleep(Duration::from_millis(150)).await;
            while rx.try_recv().is_ok() {}
            let result = async {
                let before = crate::store_file::write_snapshot(
                    &rebuild_api.store,
                    rebuild_config.progress.as_deref().unwrap_or(&progress),
                )
                .await?;
                rebuild(&rebuild_config, &rebuild_live).await?;
                rebuild_api.set_catalog(read_catalog(&rebuild_config.out)?);
                // Pledges paid while it built went to the previous site and
                // were then overwritten with the figures read before: show
                // them again on the new one.
                let after = rebuild_api
                    .store
                    .snapshot()
                    .await
                    .map_err(|e| format!("cannot read the store: {e}"))?;
                let paid_meanwhile = changed_projects(&before, &after);
                if !paid_meanwhile.is_empty() {
                    refresh_figures(&rebuild_api.store, &rebuild_live, paid_meanwhile).await?;
                }
                Ok::<(), String>(())
            }
            .await;
            match result {
                Ok(()) => {
                    let n =
                        rebuild_generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    let _ = rebuild_reloads.send(n);
                }
                Err(e) => eprintln!("{e}"),
            }
        }
    });

    // Paid pledges → the pages showing those projects' figures, re-rendered
    // at once; the pledges paid meanwhile are taken together by the next one.
    let (figures_api, figures_reloads) = (api.clone(), reloads.clone());
    tokio::spawn(async move {
        while let Some(first) = changes_rx.recv().await {
            let mut projects = std::collections::BTreeSet::from([first]);
            while let Ok(p) = changes_rx.try_recv() {
                projects.insert(p);
            }
            if let Err(e) = refresh_figures(&figures_api.store, &live, projects).await {
                eprintln!("pave serve: {e}");
                continue;
            }
            let n = generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let _ = figures_reloads.send(n);
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
        .merge(pave_functions::api::router(api))
        .fallback_service(site)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(trusted),
            client_addr,
        ))
        .layer(axum::middleware::from_fn_with_state(
            config.live_reload,
            security_headers,
        ));
    eprintln!(
        "pave serve: http://{local}/ (store: {}; Ctrl-C to stop)",
        db.display()
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| format!("server error: {e}"))
}

/// The proxies whose `X-Forwarded-For` names the client
/// (`PAVE_TRUSTED_PROXIES`, comma-separated addresses, e.g. `127.0.0.1,::1`
/// behind a local Caddy): none by default, the connection's peer is the client.
fn trusted_proxies() -> Result<Vec<std::net::IpAddr>, String> {
    std::env::var("PAVE_TRUSTED_PROXIES")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse::<std::net::IpAddr>()
                .map(|ip| ip.to_canonical())
                .map_err(|_| format!("PAVE_TRUSTED_PROXIES: `{a}` is not an IP address"))
        })
        .collect()
}

/// Tells the API who the client is ([`ClientAddr`], for its limits).
async fn client_addr(
    State(trusted): State<Arc<Vec<std::net::IpAddr>>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let client = limits::client_behind(peer.ip(), forwarded, &trusted);
    request.extensions_mut().insert(ClientAddr(client));
    next.run(request).await
}

/// The security headers of every response, pages, files and API alike
/// (`pave_generator::headers`): the live-reload script is allowed only
/// while live reload is on.
async fn security_headers(
    State(live_reload): State<bool>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let csp = pave_generator::headers::content_security_policy(&path, live_reload);
    if let Ok(value) = header::HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    for (name, value) in pave_generator::headers::OTHER_HEADERS {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    response
}

/// The projects whose figures differ between two snapshots (including
/// those present in only one).
fn changed_projects(before: &Snapshot, after: &Snapshot) -> std::collections::BTreeSet<String> {
    let mut changed: std::collections::BTreeSet<String> = after
        .projects
        .iter()
        .filter(|(slug, figures)| before.projects.get(*slug) != Some(figures))
        .map(|(slug, _)| slug.clone())
        .collect();
    changed.extend(
        before
            .projects
            .keys()
            .filter(|slug| !after.projects.contains_key(*slug))
            .cloned(),
    );
    changed
}

fn read_catalog(out: &std::path::Path) -> Result<Catalog, String> {
    Catalog::read(&out.join("catalog.json"))
}

/// The incremental path: the store's figures of these projects, and the
/// pages showing them re-rendered on the site kept loaded.
async fn refresh_figures(
    store: &SqliteStore,
    live: &Live,
    projects: std::collections::BTreeSet<String>,
) -> Result<(), String> {
    let start = std::time::Instant::now();
    // Their figures in one transaction (a project the store does not know
    // yet has zero everywhere).
    let mut figures = store
        .snapshot_of(projects.iter().cloned())
        .await
        .map_err(|e| format!("cannot read the store: {e}"))?
        .projects;
    for project in &projects {
        figures.entry(project.clone()).or_default();
    }
    let live = live.clone();
    let refreshed = tokio::task::spawn_blocking(move || {
        let mut live = live.lock().unwrap_or_else(|p| p.into_inner());
        live.as_mut().map(|site| site.refresh(figures)).transpose()
    })
    .await
    .map_err(|e| format!("refresh task failed: {e}"))?
    .map_err(|e| format!("cannot refresh the figures: {e}"))?;
    if let Some(refreshed) = refreshed {
        eprintln!(
            "pave serve: figures of {} project(s) re-rendered: {} pages ({} written) in {:.1} ms",
            projects.len(),
            refreshed.pages,
            refreshed.stats.written,
            start.elapsed().as_secs_f64() * 1000.0
        );
    }
    Ok(())
}

/// A full build, kept loaded in `live` (which keeps the last good one while
/// the content has errors: paid pledges still update its pages).
async fn rebuild(config: &Arc<BuildConfig>, live: &Live) -> Result<(), String> {
    let config = config.clone();
    let start = std::time::Instant::now();
    let result = tokio::task::spawn_blocking(move || LiveSite::build((*config).clone()))
        .await
        .map_err(|e| format!("build task failed: {e}"))?;
    let built = result.map(|(site, built)| {
        *live.lock().unwrap_or_else(|p| p.into_inner()) = Some(site);
        built
    });
    match built {
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

#[cfg(test)]
mod tests {
    use super::*;
    use pave_functions::progress::Figures;

    fn snapshot(projects: &[(&str, u32)]) -> Snapshot {
        Snapshot {
            version: 1,
            projects: projects
                .iter()
                .map(|(slug, backers)| {
                    let figures = Figures {
                        backers: *backers,
                        ..Figures::default()
                    };
                    (slug.to_string(), figures)
                })
                .collect(),
        }
    }

    #[test]
    fn the_projects_paid_during_a_rebuild_are_those_whose_figures_changed() {
        let before = snapshot(&[("cafe", 3), ("jardin", 1), ("four", 2)]);
        let after = snapshot(&[("cafe", 4), ("jardin", 1), ("velo", 1)]);
        let changed: Vec<String> = changed_projects(&before, &after).into_iter().collect();
        assert_eq!(changed, ["cafe", "four", "velo"]);
        assert!(changed_projects(&after, &after).is_empty());
    }
}
