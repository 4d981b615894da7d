//! The release bucket on AWS ([`crate::release`]): which release is live,
//! its catalog, its bundle and its manifest, and the catalog the API and
//! the closer check pledges against, re-read when the release changes.
//!
//! | variable | what |
//! |---|---|
//! | `PAVE_RELEASE_BUCKET` | the private bucket of the content releases |
//! | `AWS_ENDPOINT_URL_S3`? | another S3 (tests) |

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use super::env;
use super::s3::{Bucket, Got};
use crate::aws::Connection;
use crate::catalog::Catalog;
use crate::release::{self, CURRENT, Current, Manifest, PENDING, Pending};
use pave_contract::frame::Frames;

/// The release bucket (cheap to clone).
#[derive(Debug, Clone)]
pub struct Releases {
    bucket: Bucket,
}

/// What `current.json` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pointer {
    /// Still the release known (its `ETag` unchanged).
    Unchanged,
    /// No release yet (the key is not there).
    Missing,
    Live(Live),
}

/// The live release, as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    pub release: String,
    pub etag: Option<String>,
}

impl Releases {
    /// `PAVE_RELEASE_BUCKET`, when set.
    pub fn from_env(connection: &Connection) -> Result<Option<Releases>, String> {
        let Some(name) = env("PAVE_RELEASE_BUCKET") else {
            return Ok(None);
        };
        let bucket = Bucket::new(
            name,
            env("AWS_ENDPOINT_URL_S3").or_else(|| env("AWS_ENDPOINT_URL")),
            connection.clone(),
        )?;
        Ok(Some(Releases { bucket }))
    }

    /// The live release, unless it is still `known`. Only a missing key
    /// means no release: any other failure is an error (and is retried).
    pub async fn live(&self, known: Option<&Live>) -> Result<Pointer, String> {
        match self
            .bucket
            .get(CURRENT, known.and_then(|k| k.etag.as_deref()))
            .await?
        {
            Got::Unchanged => Ok(Pointer::Unchanged),
            Got::Missing => Ok(Pointer::Missing),
            Got::Object { body, etag } => {
                let current: Current = serde_json::from_slice(&body)
                    .map_err(|e| format!("{CURRENT} is not a release pointer: {e}"))?;
                release::check_id(&current.release)?;
                Ok(Pointer::Live(Live {
                    release: current.release,
                    etag,
                }))
            }
        }
    }

    /// The live release's id, if there is one.
    pub async fn live_id(&self) -> Result<Option<String>, String> {
        Ok(match self.live(None).await? {
            Pointer::Live(live) => Some(live.release),
            _ => None,
        })
    }

    /// The publishes begun since the live release went live.
    pub async fn pending(&self) -> Result<Pending, String> {
        match self.bucket.get(PENDING, None).await? {
            Got::Object { body, .. } => {
                serde_json::from_slice(&body).map_err(|e| format!("{PENDING}: {e}"))
            }
            _ => Ok(Pending::default()),
        }
    }

    async fn object(&self, key: &str) -> Result<Vec<u8>, String> {
        match self.bucket.get(key, None).await? {
            Got::Object { body, .. } => Ok(body.to_vec()),
            _ => Err(format!("{key} is not in the release bucket")),
        }
    }

    /// The catalog of release `id`.
    pub async fn catalog(&self, id: &str) -> Result<Catalog, String> {
        let key = release::catalog_key(id);
        let bytes = self.object(&key).await?;
        Catalog::from_json(&bytes).map_err(|e| format!("{key}: {e}"))
    }

    /// The site's layout of release `id` (plain pages for a release
    /// activated before releases carried it).
    pub async fn frames(&self, id: &str) -> Result<Frames, String> {
        let key = release::frames_key(id);
        match self.bucket.get(&key, None).await? {
            Got::Object { body, .. } => Frames::from_json(&body).map_err(|e| format!("{key}: {e}")),
            _ => Ok(Frames::default()),
        }
    }

    /// The manifest of release `id`, if it was published.
    pub async fn manifest(&self, id: &str) -> Result<Option<Manifest>, String> {
        let key = release::manifest_key(id);
        match self.bucket.get(&key, None).await? {
            Got::Object { body, .. } => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| format!("{key}: {e}")),
            _ => Ok(None),
        }
    }

    /// Unpacks release `id` into `dir` (`dir/content`, `dir/theme`).
    pub async fn unpack(&self, id: &str, dir: &Path) -> Result<(), String> {
        let key = release::bundle_key(id);
        let bundle = self.object(&key).await?;
        // A release is named by its bundle's digest: nothing else is published.
        if release::id_of(&bundle) != id {
            return Err(format!(
                "{key} is not release {id} (its digest names release {}): upload what `pave release` wrote",
                release::id_of(&bundle)
            ));
        }
        release::unpack(&bundle, dir).map_err(|e| format!("{key}: {e}"))
    }

    async fn put_json(&self, key: &str, value: &impl serde::Serialize) -> Result<(), String> {
        let json = serde_json::to_vec(value).map_err(|e| e.to_string())?;
        self.bucket
            .put(key, json, "application/json", "no-store")
            .await
    }

    /// Before a publish's first put: its manifest, and its place in
    /// [`PENDING`] (`pending` as read at its start).
    pub async fn begin(
        &self,
        id: &str,
        manifest: &Manifest,
        mut pending: Pending,
    ) -> Result<(), String> {
        self.put_json(&release::manifest_key(id), manifest).await?;
        if !pending.releases.iter().any(|r| r == id) {
            pending.releases.push(id.to_string());
        }
        self.put_json(PENDING, &pending).await
    }

    /// Makes release `id` the live one: its catalog and its layout, then
    /// the pointer, then nothing pending.
    pub async fn activate(&self, id: &str, catalog: &[u8], frames: &[u8]) -> Result<(), String> {
        for (key, bytes) in [
            (release::catalog_key(id), catalog),
            (release::frames_key(id), frames),
        ] {
            self.bucket
                .put(&key, bytes.to_vec(), "application/json", "no-store")
                .await?;
        }
        self.put_json(
            CURRENT,
            &Current {
                release: id.to_string(),
            },
        )
        .await?;
        self.put_json(PENDING, &Pending::default()).await
    }
}

/// The catalog of the live release, for the API and the closer: checked
/// (one conditional `GET` of `current.json`, a `304` while nothing changed)
/// before each request, and the new catalog read when the release changed.
pub struct CatalogWatch {
    releases: Releases,
    live: Mutex<Option<Live>>,
}

impl CatalogWatch {
    pub fn new(releases: Releases) -> CatalogWatch {
        CatalogWatch {
            releases,
            live: Mutex::new(None),
        }
    }

    /// The live release's catalog and layout, when it is not the one known.
    pub async fn changed(&self) -> Result<Option<LiveRelease>, String> {
        let known = self.live.lock().unwrap_or_else(|p| p.into_inner()).clone();
        // Before the first release the catalog stays empty: nothing to check.
        let Pointer::Live(live) = self.releases.live(known.as_ref()).await? else {
            return Ok(None);
        };
        if known.as_ref().is_some_and(|k| k.release == live.release) {
            *self.live.lock().unwrap_or_else(|p| p.into_inner()) = Some(live);
            return Ok(None);
        }
        let catalog = self.releases.catalog(&live.release).await?;
        // The layout only dresses the API's pages: a release's rules are
        // never held back for it.
        let frames = self
            .releases
            .frames(&live.release)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!("pave: the API's pages are plain: {e}");
                Frames::default()
            });
        let id = live.release.clone();
        *self.live.lock().unwrap_or_else(|p| p.into_inner()) = Some(live);
        Ok(Some(LiveRelease {
            id,
            catalog,
            frames,
        }))
    }

    /// Brings `catalog` (and `frames`, when given) to the live release's.
    pub async fn refresh(
        &self,
        catalog: &RwLock<Arc<Catalog>>,
        frames: Option<&RwLock<Arc<Frames>>>,
    ) -> Result<(), String> {
        if let Some(release) = self.changed().await? {
            tracing::info!("pave: release {} is live, its catalog in use", release.id);
            *catalog.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(release.catalog);
            if let Some(frames) = frames {
                *frames.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(release.frames);
            }
        }
        Ok(())
    }
}

/// What the API and the closer use of the live release.
pub struct LiveRelease {
    pub id: String,
    pub catalog: Catalog,
    pub frames: Frames,
}

impl LiveRelease {
    /// Before the first release: no project (every pledge is refused as
    /// `unknown_project`), plain pages.
    pub fn none_yet() -> LiveRelease {
        LiveRelease {
            id: String::new(),
            catalog: Catalog {
                version: crate::catalog::CATALOG_VERSION,
                currency: "EUR".into(),
                pledge_min: rust_decimal::Decimal::ONE,
                pledge_max: rust_decimal::Decimal::ONE,
                projects: Default::default(),
                pools: Default::default(),
            },
            frames: Frames::default(),
        }
    }
}
