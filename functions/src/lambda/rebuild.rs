//! The rebuild on AWS (`pave-rebuild`): a content release published
//! (`{"release": id}`, [`Rebuilder::publish`]; `{"republish": true}` every
//! night), and the progress figures re-rendered.
//!
//! Figures' trigger: the table's DynamoDB Stream, filtered to the project totals
//! items and batched (a burst of payments is one invocation; see
//! `deploy/template.yaml`). For a batch: the changed projects
//! ([`super::stream`]), the store's progress snapshot (one consistent query
//! of the totals), the pages that show those projects' figures re-rendered
//! through the generator's incremental path (`Renderer::render_affected`,
//! the same as `pave build --changed`), put on the site bucket with their
//! headers ([`super::publish`]), and their CDN paths invalidated
//! ([`super::cdn`]). The content and the theme are the live release's
//! ([`super::release`]), unpacked in `/tmp` once per instance and release.
//!
//! A failure of the store, S3 or CloudFront fails the invocation: Lambda
//! retries the batch (every step is idempotent). A record that cannot be
//! read is logged and skipped.
//!
//! | variable | what |
//! |---|---|
//! | `PAVE_TABLE`, `AWS_REGION`, credentials, `AWS_ENDPOINT_URL_DYNAMODB`? | the store |
//! | `PAVE_RELEASE_BUCKET` | the content releases |
//! | `PAVE_CONTENT_DIR`, `PAVE_THEME_DIR` | without releases, content and theme folders (default `/var/task/site/content`, `/var/task/site/theme`) |
//! | `SITE_BUCKET`, `SITE_PREFIX`? | the bucket the site is served from, and a key prefix |
//! | `AWS_ENDPOINT_URL_S3`? | another S3 (tests) |
//! | `CDN_DISTRIBUTION_ID`? | the CloudFront distribution; no invalidation when unset |
//! | `AWS_ENDPOINT_URL_CLOUDFRONT`? | another CloudFront (tests) |

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pave_generator::model::Site;
use pave_generator::render::output::File;
use pave_generator::render::progress::Snapshot;
use pave_generator::render::{Options, Renderer, Theme};
use serde::Serialize;

use super::cdn::Cdn;
use super::env;
use super::publish::{self, Upload};
use super::release::{Live, Pointer, Releases};
use super::s3::Bucket;
use super::stream::{self, StreamEvent};
use crate::release::{self, Manifest};
use crate::store::Store;
use crate::store::dynamo::{Connection, DynamoStore};

/// How many objects are put at once.
const PUT_CONCURRENCY: usize = 16;

/// The lease one publish holds (a publish runs at most 15 minutes).
const PUBLISH_LEASE: &str = "publish";
const PUBLISH_LEASE_SECONDS: i64 = 900;

/// What one invocation did (its answer, and its log line).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Report {
    /// The release published (a publish), or rendered from (a batch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    pub projects: Vec<String>,
    pub skipped: Vec<String>,
    pub rendered: usize,
    pub uploaded: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    pub invalidated: Vec<String>,
}

/// The content and theme the rebuild renders from.
struct Loaded {
    /// The release they come from (none: the folders of the package).
    release: Option<String>,
    site: Site,
    theme: Theme,
}

/// The rebuild's state, built at cold start and kept while the instance is warm.
pub struct Rebuilder {
    /// What pages are rendered from; `None` before the first release.
    loaded: Mutex<Option<Arc<Loaded>>>,
    /// `current.json` as last read (its `ETag`: re-read with `If-None-Match`).
    known: Mutex<Option<Live>>,
    /// The content releases (`PAVE_RELEASE_BUCKET`); without, the folders
    /// `PAVE_CONTENT_DIR` and `PAVE_THEME_DIR`.
    releases: Option<Releases>,
    /// Where releases are unpacked (`/tmp`, Lambda's writable disk).
    work: PathBuf,
    store: DynamoStore,
    bucket: Bucket,
    prefix: String,
    cdn: Option<Cdn>,
    /// Digest of what this instance last put under each key (and invalidated).
    uploaded: Mutex<HashMap<String, [u8; 32]>>,
}

/// Loads and checks a content folder and a theme folder.
fn load(content: &Path, theme: &Path, release: Option<String>) -> Result<Loaded, String> {
    use pave_generator::build::BuildError;
    let (site, _warnings) =
        pave_generator::build::load_site(content, None).map_err(|e| match e {
            // Each error with its file, line and fix (paths in the release).
            // Paths as in the content repository (`content/…`), not /tmp's.
            BuildError::Content(report) => format!(
                "the release's content has errors:\n{}",
                report
                    .render(pave_generator::diagnostics::Format::Human)
                    .replace(
                        &format!("{}/", content.parent().unwrap_or(content).display()),
                        ""
                    )
            ),
            other => format!("cannot load the content {}: {other}", content.display()),
        })?;
    let theme = Theme::load(theme)?;
    Ok(Loaded {
        release,
        site,
        theme,
    })
}

fn renderer<'a>(loaded: &'a Loaded, snapshot: &'a Snapshot) -> Renderer<'a> {
    Renderer::new(
        &loaded.site,
        &loaded.theme,
        snapshot,
        Options {
            today: pave_generator::build::today_in(&loaded.site.config.timezone),
            live_reload: false,
            test_payments: false,
        },
    )
}

/// Renders the whole site of a release in memory, and the paths of the
/// pages that show figures.
fn render_release(
    loaded: &Loaded,
    snapshot: &Snapshot,
    id: &str,
) -> Result<(Vec<File>, BTreeSet<String>), String> {
    let renderer = renderer(loaded, snapshot);
    let all = Mutex::new(Vec::new());
    renderer
        .render_all_into(&|file: File| {
            all.lock().unwrap_or_else(|p| p.into_inner()).push(file);
            Ok::<(), pave_generator::render::RenderError>(())
        })
        .map_err(|e| format!("cannot render release {id}: {e}"))?;
    // The pages showing figures: those on the bucket may show later
    // figures than the live release's manifest, so they are always put.
    let figured = renderer
        .render_affected(&snapshot.projects.keys().cloned().collect())
        .map_err(|e| format!("cannot render release {id}: {e}"))?
        .into_iter()
        .map(|f| f.path)
        .collect();
    Ok((all.into_inner().unwrap_or_else(|p| p.into_inner()), figured))
}

/// The projects whose figures differ between two snapshots.
fn moved(before: &Snapshot, after: &Snapshot) -> BTreeSet<String> {
    before
        .projects
        .keys()
        .chain(after.projects.keys())
        .filter(|slug| before.figures(slug) != after.figures(slug))
        .cloned()
        .collect()
}

impl Rebuilder {
    /// From the environment (cold start): the live release, or the bundled
    /// content, loaded and checked.
    pub async fn from_env() -> Result<Rebuilder, String> {
        let store = DynamoStore::from_env().await.map_err(|e| e.to_string())?;
        let connection = Connection::from_env().map_err(|e| e.to_string())?;
        let bucket = Bucket::new(
            env("SITE_BUCKET").ok_or("SITE_BUCKET is not set")?,
            env("AWS_ENDPOINT_URL_S3").or_else(|| env("AWS_ENDPOINT_URL")),
            connection.clone(),
        )?;
        let prefix = env("SITE_PREFIX")
            .map(|p| format!("{}/", p.trim_matches('/')))
            .unwrap_or_default();
        let cdn = match env("CDN_DISTRIBUTION_ID") {
            Some(id) => Some(Cdn::new(
                id,
                env("AWS_ENDPOINT_URL_CLOUDFRONT"),
                connection.clone(),
            )?),
            None => None,
        };
        let releases = Releases::from_env(&connection)?;
        let loaded = match &releases {
            // The live release is read at the first invocation.
            Some(_) => None,
            None => {
                let content = PathBuf::from(
                    env("PAVE_CONTENT_DIR").unwrap_or_else(|| "/var/task/site/content".into()),
                );
                let theme = PathBuf::from(
                    env("PAVE_THEME_DIR").unwrap_or_else(|| "/var/task/site/theme".into()),
                );
                Some(Arc::new(load(&content, &theme, None)?))
            }
        };
        Ok(Rebuilder {
            loaded: Mutex::new(loaded),
            known: Mutex::new(None),
            releases,
            work: std::env::temp_dir().join("pave-releases"),
            store,
            bucket,
            prefix,
            cdn,
            uploaded: Mutex::new(HashMap::new()),
        })
    }

    /// Handles one invocation: `{"release": "<id>"}` publishes that
    /// release; `{"republish": true}` (the nightly schedule) publishes the
    /// live one again, so that what depends on the day ("12 days left", a
    /// campaign that ended) is right every morning; anything else is a
    /// stream batch.
    pub async fn handle_event(
        &self,
        payload: serde_json::Value,
        request_id: &str,
    ) -> Result<Report, String> {
        if payload.get("republish") == Some(&serde_json::Value::Bool(true)) {
            let releases = self
                .releases
                .as_ref()
                .ok_or("PAVE_RELEASE_BUCKET is not set: nothing to republish")?;
            let Some(id) = releases.live_id().await? else {
                tracing::info!("pave-rebuild: no release yet, nothing to republish");
                return Ok(Report::default());
            };
            return Box::pin(self.publish(&id, request_id)).await;
        }
        if let Some(id) = payload.get("release") {
            let id = id.as_str().ok_or("`release` is not a string")?;
            // Boxed: the publish's future is deep (the compiler's layout limit).
            return Box::pin(self.publish(id, request_id)).await;
        }
        let event: StreamEvent = serde_json::from_value(payload)
            .map_err(|e| format!("not a DynamoDB stream event nor a release: {e}"))?;
        Box::pin(self.handle(event, request_id)).await
    }

    fn current(&self) -> Option<Arc<Loaded>> {
        self.loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_current(&self, loaded: Arc<Loaded>) {
        *self.loaded.lock().unwrap_or_else(|p| p.into_inner()) = Some(loaded);
        // What was put for another release says nothing about this one.
        self.uploaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Unpacks (once per instance) and loads release `id`.
    async fn load_release(&self, releases: &Releases, id: &str) -> Result<Loaded, String> {
        let dir = self.work.join(release::check_id(id)?);
        if !dir.exists() {
            // Unpacked aside, then renamed: a folder named by a release is whole.
            let partial = self
                .work
                .join(format!("{id}.partial-{}", std::process::id()));
            std::fs::remove_dir_all(&partial).ok();
            std::fs::create_dir_all(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
            releases.unpack(id, &partial).await?;
            if let Err(e) = std::fs::rename(&partial, &dir) {
                std::fs::remove_dir_all(&partial).ok();
                if !dir.exists() {
                    return Err(format!("{}: {e}", dir.display()));
                }
            }
        }
        load(
            &dir.join("content"),
            &dir.join("theme"),
            Some(id.to_string()),
        )
    }

    /// What pages are rendered from now: the live release (re-read when it
    /// changed), or the bundled content; `None` before the first release.
    async fn live(&self) -> Result<Option<Arc<Loaded>>, String> {
        let current = self.current();
        let Some(releases) = &self.releases else {
            return Ok(current);
        };
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let live = match releases.live(known.as_ref()).await? {
            Pointer::Unchanged => return Ok(current),
            // No release yet (or its pointer gone): what is loaded stays.
            Pointer::Missing => return Ok(current),
            Pointer::Live(live) => live,
        };
        let same = current
            .as_ref()
            .is_some_and(|c| c.release.as_deref() == Some(live.release.as_str()));
        let loaded = match current {
            // The same release (its pointer rewritten): kept.
            Some(current) if same => current,
            _ => {
                let loaded = Arc::new(self.load_release(releases, &live.release).await?);
                self.set_current(loaded.clone());
                self.forget_other_releases(&live.release);
                loaded
            }
        };
        *self.known.lock().unwrap_or_else(|p| p.into_inner()) = Some(live);
        Ok(Some(loaded))
    }

    /// Handles one stream batch: the changed projects' pages, rendered from
    /// the live release. When a new release went live meanwhile, they are
    /// rendered again from it, so that a batch never leaves pages of the
    /// old content behind a publish.
    pub async fn handle(&self, event: StreamEvent, request_id: &str) -> Result<Report, String> {
        let changes = stream::changed_projects(&event);
        let mut report = Report {
            projects: changes.projects.iter().cloned().collect(),
            skipped: changes.skipped,
            ..Report::default()
        };
        if changes.projects.is_empty() {
            return Ok(report);
        }
        let mut plan = Vec::new();
        let mut rendered_from = None;
        for _ in 0..3 {
            let Some(loaded) = self.live().await? else {
                tracing::warn!("pave-rebuild: no content release yet, nothing to render");
                return Ok(report);
            };
            let release = loaded.release.clone();
            if rendered_from.is_some() && rendered_from == Some(release.clone()) {
                break;
            }
            let snapshot = self.snapshot().await?;
            let files = renderer(&loaded, &snapshot)
                .render_affected(&changes.projects)
                .map_err(|e| format!("cannot render: {e}"))?;
            report.rendered = files.len();
            let batch = {
                let uploaded = self.uploaded.lock().unwrap_or_else(|p| p.into_inner());
                publish::plan_uploads(
                    files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())),
                    &uploaded,
                )
            };
            self.put_all(&batch, &files).await?;
            plan.extend(batch);
            report.release = release.clone();
            rendered_from = Some(release);
            if self.releases.is_none() {
                break;
            }
        }
        report.uploaded = plan.iter().map(|u| u.key.clone()).collect();
        report.uploaded.sort();
        report.uploaded.dedup();
        report.invalidated = self.invalidate(&report.uploaded, request_id).await?;
        // Only now: a batch whose invalidation failed is retried whole.
        let mut uploaded = self.uploaded.lock().unwrap_or_else(|p| p.into_inner());
        for upload in plan {
            uploaded.insert(upload.key, upload.digest);
        }
        Ok(report)
    }

    /// Publishes release `id`, one publish at a time (a lease in the
    /// store): see [`Rebuilder::publish_leased`].
    pub async fn publish(&self, id: &str, request_id: &str) -> Result<Report, String> {
        let releases = self
            .releases
            .as_ref()
            .ok_or("PAVE_RELEASE_BUCKET is not set: this rebuild renders its bundled content")?;
        release::check_id(id)?;
        let holder = format!("publish-{request_id}");
        let store_error = |e: crate::store::StoreError| format!("the publish lease: {e}");
        if !self
            .store
            .take_lease(PUBLISH_LEASE, &holder, PUBLISH_LEASE_SECONDS)
            .await
            .map_err(store_error)?
        {
            return Err("another publish is running: try again when it is done".into());
        }
        let published = self.publish_leased(releases, id, request_id).await;
        // A lease not given back runs out by itself: the publish's own
        // outcome is what the caller needs.
        if let Err(e) = self.store.release_lease(PUBLISH_LEASE, &holder).await {
            tracing::warn!("pave-rebuild: {}", store_error(e));
        }
        published
    }

    /// The whole site built from release `id`'s content with the store's
    /// live figures; its manifest and its place among the pending publishes
    /// written; what differs from what the bucket may hold put (files
    /// first, pages last), what no release has any more removed, and
    /// invalidated; then its catalog and the pointer (the release is live);
    /// then every page showing figures rendered again from it with the
    /// figures of that moment, so that neither a pledge paid meanwhile nor a
    /// batch that rendered from the old release is left behind. A publish
    /// that fails leaves the live release live (some of its files may be on
    /// the bucket already); the next publish, or the same again, finishes
    /// the work.
    async fn publish_leased(
        &self,
        releases: &Releases,
        id: &str,
        request_id: &str,
    ) -> Result<Report, String> {
        let live = releases.live_id().await?;
        let pending = releases.pending().await?;
        let loaded = Arc::new(self.load_release(releases, id).await?);
        let snapshot = self.snapshot().await?;
        let (files, figured) = render_release(&loaded, &snapshot, id)?;
        let manifest = Manifest::of(files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())));
        let mut priors = Vec::new();
        // `id` itself too: a republish, or a publish of it that failed
        // halfway, left its files on the bucket (its manifest is read before
        // `begin` writes the new one).
        for prior in live.iter().chain(&pending.releases) {
            if let Some(manifest) = releases.manifest(prior).await? {
                priors.push(manifest);
            }
        }
        let changes = manifest.changes_over(&priors.iter().collect::<Vec<_>>());
        releases.begin(id, &manifest, pending).await?;
        let put: BTreeSet<&str> = changes
            .put
            .iter()
            .chain(&figured)
            .map(String::as_str)
            .collect();
        let plan = publish::plan_uploads(
            files
                .iter()
                .filter(|f| put.contains(f.path.as_str()))
                .map(|f| (f.path.as_str(), f.bytes.as_slice())),
            &HashMap::new(),
        );
        // Styles and images before the pages that use them.
        let (pages, assets): (Vec<Upload>, Vec<Upload>) = plan
            .into_iter()
            .partition(|u| u.content_type.starts_with("text/html"));
        self.put_all(&assets, &files).await?;
        self.put_all(&pages, &files).await?;
        for path in changes.removed.iter().filter(|p| publish::is_safe_key(p)) {
            self.bucket
                .delete(&format!("{}{path}", self.prefix))
                .await?;
        }
        let mut keys: Vec<String> = assets.into_iter().chain(pages).map(|u| u.key).collect();
        keys.extend(changes.removed.iter().cloned());
        keys.sort();
        let mut invalidated = self.invalidate(&keys, request_id).await?;
        let written = |name: &str| {
            files
                .iter()
                .find(|f| f.path == name)
                .map(|f| f.bytes.as_slice())
                .ok_or(format!("the build wrote no {name}"))
        };
        releases
            .activate(
                id,
                written("catalog.json")?,
                written(pave_contract::frame::FILE)?,
            )
            .await?;
        self.set_current(loaded.clone());
        self.forget_other_releases(id);
        // The release's news items never announced: their emails to the
        // readers who asked (`pave-mail` sends them). A failure is logged:
        // the next publish announces them.
        match crate::catalog::Catalog::from_json(written("catalog.json")?) {
            Ok(catalog) => {
                let announced = crate::mail::news::announce(
                    &self.store,
                    &catalog,
                    &loaded.site.announcements(),
                    &loaded.site.config.base_url,
                    jiff::Timestamp::now().as_second(),
                )
                .await;
                match announced {
                    Ok(n) if n > 0 => tracing::info!("pave-rebuild: news: {n} email(s) enqueued"),
                    Ok(_) => {}
                    Err(e) => tracing::error!("pave-rebuild: news not announced: {e}"),
                }
            }
            Err(e) => tracing::error!("pave-rebuild: news not announced: {e}"),
        }
        // Every page with figures again, from this release, with the figures of now.
        let after = self.snapshot().await?;
        let moved = moved(&snapshot, &after);
        let again: BTreeSet<String> = after.projects.keys().chain(&moved).cloned().collect();
        if !again.is_empty() {
            let files = renderer(&loaded, &after)
                .render_affected(&again)
                .map_err(|e| format!("cannot render: {e}"))?;
            let plan = publish::plan_uploads(
                files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())),
                &HashMap::new(),
            );
            self.put_all(&plan, &files).await?;
            let keys: Vec<String> = plan.into_iter().map(|u| u.key).collect();
            invalidated.extend(
                self.invalidate(&keys, &format!("{request_id}-live"))
                    .await?,
            );
        }
        invalidated.sort();
        invalidated.dedup();
        tracing::info!(
            "pave-rebuild: release {id} is live ({} file(s) put, {} removed)",
            keys.len() - changes.removed.len(),
            changes.removed.len()
        );
        Ok(Report {
            release: Some(id.to_string()),
            projects: moved.into_iter().collect(),
            skipped: Vec::new(),
            rendered: files.len(),
            uploaded: keys
                .into_iter()
                .filter(|k| !changes.removed.contains(k))
                .collect(),
            removed: changes.removed,
            invalidated,
        })
    }

    /// Removes the unpacked folders of every release but `id` (`/tmp` is small).
    fn forget_other_releases(&self, id: &str) {
        let Ok(entries) = std::fs::read_dir(&self.work) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy() != id {
                std::fs::remove_dir_all(entry.path()).ok();
            }
        }
    }

    /// Invalidates the CDN paths of `keys` (none without a CDN).
    async fn invalidate(&self, keys: &[String], request_id: &str) -> Result<Vec<String>, String> {
        let Some(cdn) = &self.cdn else {
            return Ok(Vec::new());
        };
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let prefixed: Vec<String> = keys.iter().map(|k| format!("{}{k}", self.prefix)).collect();
        let paths = publish::invalidation_paths(prefixed.iter().map(String::as_str));
        // A retry of the same invocation keeps its request id: the attempt's
        // time makes each invalidation its own (CloudFront refuses a
        // caller reference used again with other paths, and ignores one
        // used again with the same).
        let reference = format!(
            "pave-rebuild-{request_id}-{}",
            jiff::Timestamp::now().as_nanosecond()
        );
        cdn.invalidate(&paths, &reference).await?;
        Ok(paths)
    }

    /// The store's figures (the snapshot contract's own type).
    async fn snapshot(&self) -> Result<Snapshot, String> {
        self.store
            .snapshot()
            .await
            .map_err(|e| format!("cannot read the store: {e}"))
    }

    async fn put_all(&self, plan: &[Upload], files: &[File]) -> Result<(), String> {
        let bytes: HashMap<&str, &[u8]> = files
            .iter()
            .map(|f| (f.path.as_str(), f.bytes.as_slice()))
            .collect();
        for chunk in plan.chunks(PUT_CONCURRENCY) {
            let mut puts = tokio::task::JoinSet::new();
            for upload in chunk {
                let body = bytes.get(upload.key.as_str()).copied().unwrap_or_default();
                let bucket = self.bucket.clone();
                let key = format!("{}{}", self.prefix, upload.key);
                let body = body.to_vec();
                let content_type = upload.content_type;
                let cache_control = upload.cache_control.clone();
                puts.spawn(
                    async move { bucket.put(&key, body, content_type, &cache_control).await },
                );
            }
            while let Some(done) = puts.join_next().await {
                done.map_err(|e| format!("upload task: {e}"))??;
            }
        }
        Ok(())
    }
}

/// Runs the rebuild until the Lambda runtime stops the process.
pub async fn run() -> Result<(), lambda_http::Error> {
    crate::logs::init(true);
    use lambda_http::{LambdaEvent, service_fn};
    let rebuilder = Rebuilder::from_env().await.map_err(|e| {
        tracing::error!("pave-rebuild: cannot start: {e}");
        e
    })?;
    let rebuilder = &rebuilder;
    lambda_http::lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let (payload, context) = event.into_parts();
            let report = rebuilder.handle_event(payload, &context.request_id).await.map_err(|e| {
                tracing::error!("pave-rebuild: {e}");
                e
            })?;
            tracing::info!(
                "pave-rebuild: {} project(s), {} page(s) rendered, {} uploaded, {} path(s) invalidated, {} record(s) skipped",
                report.projects.len(),
                report.rendered,
                report.uploaded.len(),
                report.invalidated.len(),
                report.skipped.len()
            );
            Ok::<_, lambda_http::Error>(report)
        },
    ))
    .await
}
