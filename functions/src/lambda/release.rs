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

    /// Makes release `id` the live one: its catalog, then the pointer,
    /// then nothing pending.
    pub async fn activate(&self, id: &str, catalog: &[u8]) -> Result<(), String> {
        self.bucket
            .put(
                &release::catalog_key(id),
                catalog.to_vec(),
                "application/json",
                "no-store",
            )
            .await?;
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

    /// The live release's catalog, when it is not the one in `known`.
    pub async fn changed(&self) -> Result<Option<(String, Catalog)>, String> {
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
        let id = live.release.clone();
        *self.live.lock().unwrap_or_else(|p| p.into_inner()) = Some(live);
        Ok(Some((id, catalog)))
    }

    /// Brings `target` to the live release's catalog.
    pub async fn refresh(&self, target: &RwLock<Arc<Catalog>>) -> Result<(), String> {
        if let Some((id, catalog)) = self.changed().await? {
            tracing::info!("pave: release {id} is live, its catalog in use");
            *target.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(catalog);
        }
        Ok(())
    }
}
