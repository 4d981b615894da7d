//! The AWS Lambda adapters (feature `lambda`): what the four Lambda binaries
//! run, kept here so that the binaries are a few lines each.
//!
//! - [`api`]: the HTTP API (`pave-api`): the same axum router as `pave
//!   serve`, on the DynamoDB store and Stripe, behind API Gateway HTTP API v2
//!   or a function URL (`lambda_http`).
//! - [`rebuild`]: the rebuild (`pave-rebuild`): a content release
//!   published (the whole site with the live figures), and a DynamoDB Stream
//!   batch of project totals → the pages showing those projects' figures
//!   re-rendered, put on the site bucket, and invalidated on the CDN.
//! - [`release`]: the release bucket (the live release, its catalog, bundle
//!   and manifest) and the catalog the API and the closer keep current.
//! - [`closer`]: the campaign closer (`pave-close`): a nightly EventBridge
//!   schedule → [`crate::close::run`] on the DynamoDB store with Stripe; a
//!   refused refund fails the invocation (`CloseFailed`).
//! - [`mail`]: the outbox's drainer (`pave-mail`): the table's stream (new
//!   emails) and a schedule (retries) → [`crate::mail::outbox::drain`].
//! - [`setup`]: the cold start the API and the closer share (the catalog,
//!   the Stripe client).
//! - [`stream`], [`publish`]: the pure parts of the rebuild (which projects
//!   changed; which keys to upload, with which headers; which CDN paths to
//!   invalidate).
//! - [`secrets`]: Stripe's keys at cold start, from the environment or from
//!   SSM Parameter Store / Secrets Manager through the Lambda Parameters and
//!   Secrets extension.
//! - [`cdn`]: CloudFront `CreateInvalidation`, one SigV4-signed request.
//! - [`s3`]: S3 `GetObject`, `PutObject`, `DeleteObject`, each one
//!   SigV4-signed request.
//! - [`http`]: the small HTTPS client the last three share.

pub mod api;
pub mod cdn;
pub mod closer;
pub mod http;
pub mod mail;
pub mod publish;
pub mod rebuild;
pub mod release;
pub mod s3;
pub mod secrets;
pub mod setup;
pub mod stream;

/// A non-empty environment variable.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
