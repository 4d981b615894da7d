//! The rebuild of the progress figures on AWS (`pave-rebuild`).
//!
//! Trigger: the table's DynamoDB Stream, filtered to the project totals
//! items and batched (a burst of payments is one invocation; see
//! `deploy/template.yaml`). For a batch: the changed projects
//! ([`super::stream`]), the store's progress snapshot (one consistent query
//! of the totals), the pages that show those projects' figures re-rendered
//! through the generator's incremental path (`Renderer::render_affected`,
//! the same as `pave build --changed`), put on the site bucket with their
//! headers ([`super::publish`]), and their CDN paths invalidated
//! ([`super::cdn`]). The content and the theme are bundled in the
//! deployment package and loaded once per cold start.
//!
//! A failure of the store, S3 or CloudFront fails the invocation: Lambda
//! retries the batch (every step is idempotent). A record that cannot be
//! read is logged and skipped.
//!
//! | variable | what |
//! |---|---|
//! | `PAVE_TABLE`, `AWS_REGION`, credentials, `AWS_ENDPOINT_URL_DYNAMODB`? | the store |
//! | `PAVE_CONTENT_DIR`, `PAVE_THEME_DIR` | default `/var/task/site/content`, `/var/task/site/theme` |
//! | `SITE_BUCKET`, `SITE_PREFIX`? | the bucket the site is served from, and a key prefix |
//! | `AWS_ENDPOINT_URL_S3`? | another S3 (tests) |
//! | `CDN_DISTRIBUTION_ID`? | the CloudFront distribution; no invalidation when unset |
//! | `AWS_ENDPOINT_URL_CLOUDFRONT`? | another CloudFront (tests) |

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;

use pave_generator::model::Site;
use pave_generator::render::progress::Snapshot;
use pave_generator::render::{Options, Renderer, Theme};
use serde::Serialize;

use super::cdn::Cdn;
use super::env;
use super::publish::{self, Upload};
use super::s3::Bucket;
use super::stream::{self, StreamEvent};
use crate::store::Store;
use crate::store::dynamo::{Connection, DynamoStore};

/// How many objects are put at once.
const PUT_CONCURRENCY: usize = 16;

/// What one invocation did (its answer, and its log line).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Report {
    pub projects: Vec<String>,
    pub skipped: Vec<String>,
    pub rendered: usize,
    pub uploaded: Vec<String>,
    pub invalidated: Vec<String>,
}

/// The rebuild's state, built at cold start and kept while the instance is warm.
pub struct Rebuilder {
    site: Site,
    theme: Theme,
    store: DynamoStore,
    bucket: Bucket,
    prefix: String,
    cdn: Option<Cdn>,
    /// Digest of what this instance last put under each key.
    uploaded: Mutex<HashMap<String, [u8; 32]>>,
}

impl Rebuilder {
    /// From the environment (cold start): loads and checks the bundled content.
    pub async fn from_env() -> Result<Rebuilder, String> {
        let content = PathBuf::from(
            env("PAVE_CONTENT_DIR").unwrap_or_else(|| "/var/task/site/content".into()),
        );
        let theme_dir =
            PathBuf::from(env("PAVE_THEME_DIR").unwrap_or_else(|| "/var/task/site/theme".into()));
        let (site, _warnings) = pave_generator::build::load_site(&content, None)
            .map_err(|e| format!("cannot load the content {}: {e}", content.display()))?;
        let theme = Theme::load(&theme_dir)?;
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
                connection,
            )?),
            None => None,
        };
        Ok(Rebuilder {
            site,
            theme,
            store,
            bucket,
            prefix,
            cdn,
            uploaded: Mutex::new(HashMap::new()),
        })
    }

    /// Handles one stream batch.
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
        let snapshot = self.snapshot().await?;
        let files = self.render(&snapshot, &changes.projects)?;
        report.rendered = files.len();
        let plan = {
            let uploaded = self.uploaded.lock().unwrap_or_else(|p| p.into_inner());
            publish::plan_uploads(
                files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())),
                &uploaded,
            )
        };
        let bytes: HashMap<&str, &[u8]> = files
            .iter()
            .map(|f| (f.path.as_str(), f.bytes.as_slice()))
            .collect();
        self.put_all(&plan, &bytes).await?;
        report.uploaded = plan.iter().map(|u| u.key.clone()).collect();
        if let Some(cdn) = &self.cdn {
            let paths = publish::invalidation_paths(
                plan.iter()
                    .map(|u| format!("{}{}", self.prefix, u.key))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            );
            cdn.invalidate(&paths, &format!("pave-rebuild-{request_id}"))
                .await?;
            report.invalidated = paths;
        }
        Ok(report)
    }

    /// The store's figures (the snapshot contract's own type).
    async fn snapshot(&self) -> Result<Snapshot, String> {
        self.store
            .snapshot()
            .await
            .map_err(|e| format!("cannot read the store: {e}"))
    }

    fn render(
        &self,
        snapshot: &Snapshot,
        projects: &BTreeSet<String>,
    ) -> Result<Vec<pave_generator::render::output::File>, String> {
        let today = pave_generator::build::today_in(&self.site.config.timezone);
        let renderer = Renderer::new(
            &self.site,
            &self.theme,
            snapshot,
            Options {
                today,
                live_reload: false,
                test_payments: false,
            },
        );
        renderer
            .render_affected(projects)
            .map_err(|e| format!("cannot render: {e}"))
    }

    async fn put_all(&self, plan: &[Upload], bytes: &HashMap<&str, &[u8]>) -> Result<(), String> {
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
            let mut uploaded = self.uploaded.lock().unwrap_or_else(|p| p.into_inner());
            for upload in chunk {
                uploaded.insert(upload.key.clone(), upload.digest);
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
            let event: StreamEvent = serde_json::from_value(payload)
                .map_err(|e| format!("not a DynamoDB stream event: {e}"))?;
            let report = rebuilder.handle(event, &context.request_id).await.map_err(|e| {
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
