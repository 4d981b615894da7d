//! `pave serve`: the site, the API and the embedded store on one port, in
//! one of two modes.
//!
//! The preview (`pave serve`) rebuilds the site when the content or the
//! theme change, with live reload in the browser (a tiny script listening to
//! server-sent events). Production (`pave serve --production`) is the site
//! as citizens get it: no watcher, no script; `Cache-Control` for each kind
//! of file (`pave_generator::headers::Caching`), gzip and brotli written at
//! build time and negotiated; the close every hour at :05 (a campaign
//! closes within the hour of its end, in its own zone; one server at a
//! time, through a lease in the store), a full build when the day changes; SIGHUP
//! reloads the content without dropping a request; SIGTERM stops
//! gracefully (requests in flight finish, the store is checkpointed).
//!
//! In both, the pages showing a project's figures are re-rendered after
//! each paid pledge. Payments go through Stripe when `STRIPE_SECRET_KEY`
//! and `STRIPE_WEBHOOK_SECRET` are set; otherwise through the local test
//! provider, whose checkout page, and every page of the site, say it is a
//! test. Production refuses the test provider unless `--test-payments`.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use notify::{RecursiveMode, Watcher};
use pave_contract::frame::Frames;
use pave_functions::api::limits::{self, ClientAddr, Limits};
use pave_functions::api::local::EnvPayments;
use pave_functions::api::{ApiConfig, AppState, Change};
use pave_functions::catalog::Catalog;
use pave_functions::clock::Clock;
use pave_functions::progress::Snapshot;
use pave_functions::store::Store;
use pave_functions::store::sqlite::SqliteStore;
use pave_generator::build::{self, BuildConfig};
use pave_generator::headers::Caching;
use pave_generator::live::LiveSite;
use tokio::sync::{broadcast, mpsc};
use tower_http::services::{ServeDir, ServeFile};

/// The script added to every page in the preview.
const LIVE_RELOAD_JS: &str =
    "new EventSource('/__pave/events').addEventListener('reload', () => location.reload());\n";

/// Which server `pave serve` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Rebuilds on changes, reloads the browser.
    Preview,
    /// The site as citizens get it; `test_payments` allows the local test
    /// checkout (without Stripe's keys).
    Production { test_payments: bool },
}

/// When the close runs: five minutes past every hour, so a campaign that
/// ended at midnight in its zone (23:59:59) closes within the hour.
const CLOSE_PAST_THE_HOUR: i64 = 300;

/// How long a server holds the close's lease (renewed by nobody: a run
/// takes seconds; a crashed holder's lease runs out).
const CLOSE_LEASE_SECONDS: i64 = 600;

type Api = AppState<SqliteStore>;

/// The site as last built, kept loaded for the re-render of figures.
type Live = Arc<std::sync::Mutex<Option<LiveSite>>>;

/// Loads the private `contacts.yaml` beside the database into the store,
/// when there is one (who is told of each offer of help).
async fn load_contacts(store: &SqliteStore, file: &Path) -> Result<(), String> {
    if !file.exists() {
        return Ok(());
    }
    let contacts = crate::contacts::read(file)?;
    store
        .set_contacts(&contacts)
        .await
        .map_err(|e| format!("cannot store the contacts: {e}"))?;
    tracing::info!(
        "pave serve: contacts: {} from {}",
        crate::contacts::summary(&contacts),
        file.display()
    );
    Ok(())
}

/// What the server's tasks share.
struct Server {
    /// The build's configuration (in production, `today` moves with the
    /// calendar: see [`Server::config_now`]).
    config: BuildConfig,
    production: bool,
    api: Arc<Api>,
    live: Live,
    /// The snapshot the builds read, next to the store.
    progress: PathBuf,
    /// The preview's reload events.
    reloads: broadcast::Sender<u64>,
    generation: AtomicU64,
    /// Held by whatever writes the site (a reload, a figures' refresh):
    /// one at a time, so a refresh is never overwritten by an older build.
    writing: tokio::sync::Mutex<()>,
}

/// Builds once, then serves `config.out`, the API and the store on `addr`.
pub async fn serve(
    mut config: BuildConfig,
    mode: Mode,
    addr: std::net::SocketAddr,
    db: PathBuf,
    day: Option<jiff::civil::Date>,
) -> Result<(), String> {
    let production = matches!(mode, Mode::Production { .. });
    if production && day.is_some() {
        return Err(
            "pave serve --production --today: production follows the real clock; drop --today"
                .into(),
        );
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let origin = format!("http://{local}");
    let site_config = pave_generator::content::load::read_site_config(&config.content);
    // Where citizens reach the site: in production the site's `base_url`
    // (behind the HTTPS proxy), so that Stripe's return addresses and the
    // test checkout are there; in the preview, this server.
    let public = match (&site_config, production) {
        (Some(site), true) => site.base_url.trim_end_matches('/').to_string(),
        _ => origin.clone(),
    };

    // SIGHUP's default is to end the process: listen for it before the first
    // build, so that a `systemctl reload` while starting only reloads.
    #[cfg(unix)]
    let hangups = if production {
        Some(
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                .map_err(|e| format!("cannot listen for SIGHUP: {e}"))?,
        )
    } else {
        None
    };
    // The API's and the store's time: the system's, or the preview's
    // `--today` (the same time of day, that day, in the site's zone).
    let clock = match (day, &site_config) {
        (Some(day), Some(site)) => Clock::on_day(day, &site.timezone),
        (Some(day), None) => Clock::on_day(day, "Europe/Paris"),
        (None, _) => Clock::system(),
    };
    let chosen = EnvPayments::from_env(
        &public,
        &format!("whsec_local_{}", local.port()),
        clock.clone(),
    )?;
    if day.is_some() && !chosen.is_test() {
        return Err(
            "pave serve --today moves the API's clock, which Stripe would refuse:              unset STRIPE_SECRET_KEY to try it on the local test checkout, or drop --today"
                .into(),
        );
    }
    if mode
        == (Mode::Production {
            test_payments: true,
        })
        && !chosen.is_test()
    {
        return Err(
            "pave serve --production --test-payments: STRIPE_SECRET_KEY is set, so \
             real payments would be taken; unset it for a test run, or drop --test-payments"
                .into(),
        );
    }
    if chosen.is_test() {
        if mode
            == (Mode::Production {
                test_payments: false,
            })
        {
            return Err(
                "pave serve --production: no Stripe keys (STRIPE_SECRET_KEY and \
                 STRIPE_WEBHOOK_SECRET); set them, or pass --test-payments to run on the local \
                 test checkout (no money moves, every page says so)"
                    .into(),
            );
        }
        tracing::warn!(
            "pave serve: no Stripe key: payments use the local TEST checkout (no money moves)"
        );
    }
    config.test_payments = chosen.is_test();
    config.live_reload = !production;
    config.precompress = production;

    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let new_store = !db.exists();
    let store = SqliteStore::open(&db)
        .map_err(|e| format!("cannot open the store {}: {e}", db.display()))?
        .with_clock(clock.clone());
    load_contacts(&store, &crate::contacts::beside(&db)).await?;
    // The figures shown by the build come from the store.
    let progress = db.with_extension("progress.json");
    config.progress = Some(progress.clone());
    crate::store_file::write_snapshot(&store, &progress).await?;
    let live: Live = Arc::default();
    rebuild(&config, &live).await?;
    let catalog = read_catalog(&config.out)?;
    // A preview on a new store with the sample's ledger beside the content
    // (the README's first command), on the test checkout: the sample as a
    // platform in use.
    let sample = crate::seed::file_for(&config.content);
    if new_store && !production && chosen.is_test() && sample.exists() {
        let pledges = crate::seed::seed(&store, &catalog, &sample).await?;
        let now = jiff::Timestamp::from_second(clock.now()).map_err(|e| e.to_string())?;
        let closed = pave_functions::close::run(
            &store,
            chosen.payments.as_ref(),
            &catalog,
            now,
            pave_functions::close::RefundPolicy::default(),
        )
        .await;
        crate::store_file::write_snapshot(&store, &progress).await?;
        rebuild(&config, &live).await?;
        tracing::info!(
            "pave serve: the sample's ledger ({}): {pledges} paid pledges, {} ended campaign(s) closed",
            sample.display(),
            closed.projects.len()
        );
    }

    let webhook_secret = chosen
        .webhook_secret
        .ok_or("STRIPE_WEBHOOK_SECRET must be set with STRIPE_SECRET_KEY")?;
    let (payments, local_payments) = (chosen.payments, chosen.local);
    let (changes_tx, changes_rx) = mpsc::unbounded_channel::<Change>();
    let site_url = public.clone();
    let mut allowed_origins = vec![origin.clone()];
    if let Some(site) = &site_config {
        allowed_origins.push(site.base_url.trim_end_matches('/').to_string());
    }
    let api = Arc::new(Api {
        store: store.clone(),
        catalog: std::sync::RwLock::new(Arc::new(catalog)),
        frames: std::sync::RwLock::new(Arc::new(read_frames(&config.out)?)),
        payments,
        config: ApiConfig {
            site_url,
            allowed_origins,
            webhook_secret,
            api_url: None,
        },
        changes: Some(changes_tx),
        local: local_payments,
        outbox: Default::default(),
        // PAVE_PLEDGES_PER_MINUTE, PAVE_OFFERS_PER_MINUTE.
        limits: Limits::from_env()?,
        fresh: Default::default(),
        clock,
    });
    let trusted = trusted_proxies()?;
    let (reloads, _) = broadcast::channel(16);
    let server = Arc::new(Server {
        config: config.clone(),
        production,
        api: api.clone(),
        live,
        progress,
        reloads,
        generation: AtomicU64::new(0),
        writing: tokio::sync::Mutex::new(()),
    });

    // Paid pledges → the pages showing those projects' figures, re-rendered
    // at once; the pledges paid meanwhile are taken together by the next one.
    tokio::spawn(server.clone().refresh_on_payments(changes_rx));
    // The news items this content brings (none the first time: each item
    // is announced once, when first seen, to the readers of that moment).
    server.announce_news().await;
    // Every email goes through the store's outbox; this sends them. SMTP_URL
    // and MAIL_FROM; without them the emails are only logged.
    // PAVE_MAIL_LEASE_SECONDS: how long a claimed email waits for another
    // server after a crash.
    tokio::spawn(pave_functions::mail::outbox::run_drainer(
        store.clone(),
        pave_functions::mail::Mailer::from_env(),
        pave_functions::mail::outbox::Policy::from_env(),
        api.outbox.clone(),
        api.clock.clone(),
    ));
    let watcher = if production {
        #[cfg(unix)]
        if let Some(hangups) = hangups {
            tokio::spawn(server.clone().reload_on_hangup(hangups));
        }
        tokio::spawn(server.clone().close_daily());
        None
    } else {
        Some(server.clone().watch()?)
    };

    let out: PathBuf = config.out.clone();
    let mut files = ServeDir::new(&out).append_index_html_on_directories(true);
    if production {
        files = files.precompressed_br().precompressed_gzip();
    }
    let site = files.not_found_service(ServeFile::new(out.join("404.html")));
    let mut app = Router::new();
    if !production {
        app = app.merge(
            Router::new()
                .route("/__pave/live-reload.js", get(live_reload_js))
                .route("/__pave/events", get(events))
                .with_state(server.clone()),
        );
    }
    let mut app = app
        .merge(pave_functions::api::router(api))
        .fallback_service(site)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(trusted),
            client_addr,
        ));
    if production {
        app = app.layer(axum::middleware::from_fn(cache_headers));
    }
    let app = app.layer(axum::middleware::from_fn_with_state(
        config.live_reload,
        security_headers,
    ));
    tracing::info!(
        "pave serve: http://{local}/ ({}; store: {}; {} to stop)",
        if production { "production" } else { "preview" },
        db.display(),
        if production { "SIGTERM" } else { "Ctrl-C" },
    );
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| format!("server error: {e}"));
    drop(watcher);
    // Every request in flight has finished: the store is folded into its
    // file before the process ends.
    if let Err(e) = store.checkpoint().await {
        tracing::error!("pave serve: cannot checkpoint the store: {e}");
    }
    tracing::info!("pave serve: stopped");
    served
}

/// Ctrl-C, or SIGTERM (what systemd sends).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("pave serve: stopping: finishing the requests in flight");
}

impl Server {
    /// The build's configuration now: in production, shown for today (a
    /// server runs for days).
    fn config_now(&self) -> BuildConfig {
        let mut config = self.config.clone();
        if self.production {
            let site = pave_generator::content::load::read_site_config(&config.content)
                .unwrap_or_else(pave_generator::model::SiteConfig::fallback);
            config.today = build::today_in(&site.timezone);
        }
        config
    }

    /// The content again: a full build from the store's figures, the new
    /// catalog for the API, then the pledges paid while it built.
    async fn reload(&self) -> Result<(), String> {
        let _writing = self.writing.lock().await;
        // A broken contacts file keeps the ones loaded before.
        if let Err(e) =
            load_contacts(&self.api.store, &crate::contacts::beside(&self.progress)).await
        {
            tracing::error!("pave serve: {e}");
        }
        let before = crate::store_file::write_snapshot(&self.api.store, &self.progress).await?;
        rebuild(&self.config_now(), &self.live).await?;
        self.api.set_catalog(read_catalog(&self.config.out)?);
        self.api.set_frames(read_frames(&self.config.out)?);
        // Pledges paid while it built went to the previous site and were
        // then overwritten with the figures read before: show them again.
        let after = self
            .api
            .store
            .snapshot()
            .await
            .map_err(|e| format!("cannot read the store: {e}"))?;
        let paid_meanwhile = changed_projects(&before, &after);
        if !paid_meanwhile.is_empty() {
            refresh_figures(&self.api.store, &self.live, paid_meanwhile).await?;
        }
        self.reloaded();
        self.announce_news().await;
        Ok(())
    }

    /// The news items the content has now that were never announced: their
    /// emails to the readers who asked (`mail::news::announce`). A failure
    /// is logged and tried again at the next build.
    async fn announce_news(&self) {
        let news = match self.live.lock() {
            Ok(live) => live.as_ref().map(|l| l.announcements()).unwrap_or_default(),
            Err(_) => return,
        };
        let catalog = self.api.catalog();
        match pave_functions::mail::news::announce(
            &self.api.store,
            &catalog,
            &news,
            &self.api.config.site_url,
            self.api.clock.now(),
        )
        .await
        {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!("pave serve: news: {n} email(s) to the readers who asked");
                self.api.outbox.ring();
            }
            Err(e) => tracing::error!("pave serve: news not announced: {e}"),
        }
    }

    /// Tells the preview's browsers to reload.
    fn reloaded(&self) {
        let n = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.reloads.send(n);
    }

    /// Each change's pages re-rendered (those of changes that came
    /// meanwhile together), then each waiting webhook told.
    async fn refresh_on_payments(self: Arc<Self>, mut changes: mpsc::UnboundedReceiver<Change>) {
        while let Some(first) = changes.recv().await {
            let mut batch = vec![first];
            while let Ok(more) = changes.try_recv() {
                batch.push(more);
            }
            let projects = batch.iter().map(|c| c.project.clone()).collect();
            let writing = self.writing.lock().await;
            let refreshed = refresh_figures(&self.api.store, &self.live, projects).await;
            drop(writing);
            match refreshed {
                Ok(()) => self.reloaded(),
                Err(e) => tracing::error!("pave serve: {e}"),
            }
            for change in batch {
                if let Some(rendered) = change.rendered {
                    let _ = rendered.send(());
                }
            }
        }
    }

    /// The preview's watcher: file changes → a debounced reload.
    fn watch(self: Arc<Self>) -> Result<notify::RecommendedWatcher, String> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if event.is_ok_and(|e| !e.kind.is_access()) {
                    let _ = tx.send(());
                }
            })
            .map_err(|e| format!("cannot watch files: {e}"))?;
        for dir in [&self.config.content, &self.config.theme] {
            watcher
                .watch(dir, RecursiveMode::Recursive)
                .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
        }
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                // Coalesce a burst of events (an editor saves several files).
                tokio::time::sleep(Duration::from_millis(150)).await;
                while rx.try_recv().is_ok() {}
                if let Err(e) = self.reload().await {
                    tracing::error!("{e}");
                }
            }
        });
        Ok(watcher)
    }

    /// Production: SIGHUP reloads the content (new files are written in
    /// place, each by a rename: no request is dropped or sees half a page).
    #[cfg(unix)]
    async fn reload_on_hangup(self: Arc<Self>, mut hangups: tokio::signal::unix::Signal) {
        while hangups.recv().await.is_some() {
            tracing::info!("pave serve: SIGHUP: reloading the content");
            match self.reload().await {
                Ok(()) => tracing::info!("pave serve: content reloaded"),
                Err(e) => tracing::error!("{e}"),
            }
        }
    }

    /// Production: the close at start (a day may have been missed), then
    /// every hour at :05 (a campaign ends at midnight in its own zone, which
    /// may not be the site's; the close is idempotent and cheap when nothing
    /// ended), and a full build when the site's day changes ("3 days left").
    async fn close_daily(self: Arc<Self>) {
        let holder = format!("{}-{}", std::process::id(), random_hex());
        let mut day = self.config_now().today;
        loop {
            let ran = self.close_due(&holder).await;
            let wait = if ran {
                until_next_hour(jiff::Timestamp::now())
            } else {
                // Another server has the lease (or a crashed one had it):
                // try again once it may have run out.
                Duration::from_secs(60)
            };
            tokio::time::sleep(wait).await;
            let today = self.config_now().today;
            if today != day {
                day = today;
                if let Err(e) = self.reload().await {
                    tracing::error!("{e}");
                }
            }
        }
    }

    /// One close run, if this server takes the lease: of several servers on
    /// one database, one closes (and the close is idempotent besides).
    async fn close_due(&self, holder: &str) -> bool {
        match self
            .api
            .store
            .take_lease("close", holder, CLOSE_LEASE_SECONDS)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!("pave serve: close: another server is running it");
                return false;
            }
            Err(e) => {
                tracing::error!("pave serve: close: cannot take the lease: {e}");
                return false;
            }
        }
        let now = jiff::Timestamp::now();
        let catalog = self.api.catalog();
        let report = pave_functions::close::run(
            &self.api.store,
            self.api.payments.as_ref(),
            &catalog,
            now,
            pave_functions::close::RefundPolicy::default(),
        )
        .await;
        // The refund notices the close put in the outbox.
        self.api.outbox.ring();
        for line in crate::close_command::summary(&report, now).lines() {
            if report.failed() {
                // A refund Stripe refused is money owed to donors: retried
                // at the next run, within the hour.
                tracing::error!("pave serve: close: {line}");
            } else {
                tracing::info!("pave serve: close: {line}");
            }
        }
        let changed: std::collections::BTreeSet<String> =
            report.projects.iter().map(|p| p.project.clone()).collect();
        if (!changed.is_empty() || report.late_refunds_issued > 0)
            && let Err(e) = self.reload().await
        {
            tracing::error!("{e}");
        }
        if let Err(e) = self.api.store.release_lease("close", holder).await {
            tracing::error!("pave serve: close: cannot release the lease: {e}");
        }
        true
    }
}

/// How long from `now` to five minutes past the next hour.
fn until_next_hour(now: jiff::Timestamp) -> Duration {
    let second = now.as_second().rem_euclid(3600);
    let wait = (CLOSE_PAST_THE_HOUR - second).rem_euclid(3600);
    Duration::from_secs(u64::try_from(wait).unwrap_or(0).max(1))
}

/// A random suffix, so that two servers never share a lease holder's name.
fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Production caching (`pave_generator::headers::Caching`). A page is
/// revalidated by its ETag (its file's modification time to the
/// nanosecond, and its length), never by `Last-Modified`: that is to the
/// second, and a page can be re-rendered twice in a second (two payments),
/// so `If-Modified-Since` could keep the old figures.
async fn cache_headers(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let caching = Caching::of(request.uri().path(), request.uri().query());
    if caching == Caching::Revalidate {
        request.headers_mut().remove(header::IF_MODIFIED_SINCE);
    }
    let mut response = next.run(request).await;
    // Only a found file is kept: a 404 (a file not written yet) is not.
    let status = response.status();
    let caching = if status.is_success() || status == StatusCode::NOT_MODIFIED {
        caching
    } else {
        Caching::NoStore
    };
    let headers = response.headers_mut();
    if caching == Caching::Revalidate {
        headers.remove(header::LAST_MODIFIED);
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static(caching.header()),
        );
    }
    response
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

/// The site's layout for the API's pages, written by the build beside the catalog.
fn read_frames(out: &std::path::Path) -> Result<Frames, String> {
    Frames::read(&out.join(pave_contract::frame::FILE))
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
        tracing::info!(
            projects = ?projects,
            pages = refreshed.pages,
            written = refreshed.stats.written,
            ms = start.elapsed().as_secs_f64() * 1000.0,
            "pave serve: figures re-rendered"
        );
    }
    Ok(())
}

/// A full build, kept loaded in `live` (which keeps the last good one while
/// the content has errors: paid pledges still update its pages).
async fn rebuild(config: &BuildConfig, live: &Live) -> Result<(), String> {
    let config = config.clone();
    let start = std::time::Instant::now();
    let result = tokio::task::spawn_blocking(move || LiveSite::build(config))
        .await
        .map_err(|e| format!("build task failed: {e}"))?;
    let built = result.map(|(site, built)| {
        *live.lock().unwrap_or_else(|p| p.into_inner()) = Some(site);
        built
    });
    match built {
        Ok(built) => {
            tracing::info!(
                pages = built.pages,
                written = built.stats.written,
                ms = start.elapsed().as_millis() as u64,
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

async fn events(State(server): State<Arc<Server>>) -> impl IntoResponse {
    let mut reloads = server.reloads.subscribe();
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
