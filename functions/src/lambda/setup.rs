//! The cold-start set-up the Lambdas share: the catalog (the live
//! release's, or a bundled file) and the Stripe client, read once from the
//! environment.
//!
//! | variable | what |
//! |---|---|
//! | `PAVE_RELEASE_BUCKET` | the content releases: the catalog is the live release's, re-read when it changes ([`super::release`]) |
//! | `PAVE_CATALOG` | without releases, a catalog file, default [`DEFAULT_CATALOG`] (the API's pages take the `frames.json` beside it) |
//! | `STRIPE_SECRET_KEY` / `_PARAM` / `_SECRET_ID` | Stripe's secret key ([`super::secrets`]) |
//! | `STRIPE_API_BASE` | another Stripe API base (tests) |
//! | `SMTP_URL` / `_PARAM` / `_SECRET_ID`, `MAIL_FROM` | the donors' emails ([`mailer_from_env`]; it holds a password, so on AWS it comes from SSM like Stripe's keys) |

use crate::catalog::Catalog;
use crate::mail::Mailer;
use crate::mail::smtp::{ENV_MAIL_FROM, ENV_SMTP_URL};
use crate::stripe::client::{ENV_API_BASE, StripeConfig, StripePayments};

use pave_contract::frame::Frames;

use super::release::{CatalogWatch, LiveRelease, Releases};
use super::{env, secrets};

/// Where the catalog is when neither `PAVE_RELEASE_BUCKET` nor
/// `PAVE_CATALOG` is set.
pub const DEFAULT_CATALOG: &str = "/var/task/catalog.json";

/// The live release at cold start (its catalog and layout), and the watch
/// that keeps it the live one (`PAVE_RELEASE_BUCKET`); without releases,
/// `PAVE_CATALOG` (or [`DEFAULT_CATALOG`]), read and checked, with the
/// `frames.json` beside it if there is one, and no watch.
pub async fn catalog_from_env() -> Result<(LiveRelease, Option<CatalogWatch>), String> {
    let connection = crate::aws::Connection::from_env().map_err(|e| e.to_string())?;
    if let Some(releases) = Releases::from_env(&connection)? {
        let watch = CatalogWatch::new(releases);
        let live = match watch.changed().await {
            Ok(Some(live)) => live,
            Ok(None) => LiveRelease::none_yet(),
            Err(e) => {
                tracing::warn!("pave: {e}");
                LiveRelease::none_yet()
            }
        };
        return Ok((live, Some(watch)));
    }
    let path = env("PAVE_CATALOG").unwrap_or_else(|| DEFAULT_CATALOG.to_string());
    let path = std::path::Path::new(&path);
    let frames = path.with_file_name(pave_contract::frame::FILE);
    Ok((
        LiveRelease {
            id: String::new(),
            catalog: Catalog::read(path)?,
            frames: Frames::read(&frames)?,
        },
        None,
    ))
}

/// The Stripe client: the secret key resolved through [`secrets::resolve`]
/// (the environment, SSM Parameter Store or Secrets Manager), and
/// `STRIPE_API_BASE` when set.
pub async fn payments_from_env() -> Result<StripePayments, String> {
    let secret_key = secrets::resolve("STRIPE_SECRET_KEY")
        .await?
        .ok_or("STRIPE_SECRET_KEY (or STRIPE_SECRET_KEY_PARAM) is not set")?;
    let api_base = env(ENV_API_BASE);
    let stripe = StripeConfig::from_lookup(|name| match name {
        n if n == ENV_API_BASE => api_base.clone(),
        _ => Some(secret_key.clone()),
    })
    .map_err(|e| e.to_string())?;
    StripePayments::new(&stripe).map_err(|e| e.to_string())
}

/// The donors' mailer: `SMTP_URL` resolved through [`secrets::resolve`]
/// (the environment, SSM Parameter Store or Secrets Manager) and
/// `MAIL_FROM`. Like [`Mailer::from_env`], an email never stops the function:
/// an unset or unusable configuration is logged and the mailer disabled.
pub async fn mailer_from_env() -> Mailer {
    let url = match secrets::resolve(ENV_SMTP_URL).await {
        Ok(url) => url,
        Err(e) => {
            tracing::error!("pave mail: {e}: no email is sent to donors");
            return Mailer::disabled();
        }
    };
    let from = env(ENV_MAIL_FROM);
    let lookup = |name: &str| match name {
        n if n == ENV_SMTP_URL => url.clone(),
        n if n == ENV_MAIL_FROM => from.clone(),
        _ => None,
    };
    Mailer::from_lookup_or_log(lookup)
}
