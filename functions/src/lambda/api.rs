//! The HTTP API on Lambda: the router of [`crate::api`] over the DynamoDB
//! store and Stripe, served by `lambda_http` (API Gateway HTTP API v2 and
//! function URLs, which share the payload format 2.0).
//!
//! Configuration, read once at cold start:
//!
//! | variable | what |
//! |---|---|
//! | `PAVE_TABLE`, `AWS_REGION`, credentials, `AWS_ENDPOINT_URL_DYNAMODB`? | the store ([`DynamoStore::from_env`]) |
//! | `PAVE_CATALOG` | the catalog file, default `/var/task/catalog.json`: **bundled** with the function (see below; read by [`super::setup`]) |
//! | `PAVE_SITE_URL` | the public site, `https://…` (checkout return pages; an allowed origin) |
//! | `PAVE_API_URL` | where browsers reach the API, when not under the site's `/api/` (the HTTP API's URL): the checkout's cancel address |
//! | `PAVE_ALLOWED_ORIGINS` | other origins allowed to post forms, comma-separated (optional) |
//! | `STRIPE_SECRET_KEY` / `_PARAM` / `_SECRET_ID` | Stripe's secret key ([`super::secrets`], through [`super::setup`]) |
//! | `STRIPE_WEBHOOK_SECRET` / `_PARAM` / `_SECRET_ID` | the webhook signing secret |
//! | `STRIPE_API_BASE` | another Stripe API base (tests) |
//! | `PAVE_PLEDGES_PER_MINUTE`, `PAVE_OFFERS_PER_MINUTE` | per-client limits ([`crate::api::limits`]; per warm instance) |
//!
//! The client of a request (for its limits) is API Gateway's `sourceIp`.
//!
//! The catalog is bundled in the deployment package rather than read from
//! the site bucket: it is the reviewed rules of the money (goals, caps,
//! pools), so it changes only with a deploy of reviewed content, the same
//! deploy that ships the site; bundling it costs no S3 read at cold start,
//! needs no `s3:GetObject` on the function's role, and a half-uploaded site
//! can never change the rules a pledge is checked against.

use std::sync::{Arc, RwLock};

use crate::api::limits::ClientAddr;
use crate::api::{ApiConfig, AppState, router};
use crate::store::dynamo::DynamoStore;

use super::{env, secrets, setup};

/// The API's state, from the environment (cold start).
pub async fn state_from_env() -> Result<Arc<AppState<DynamoStore>>, String> {
    let store = DynamoStore::from_env().await.map_err(|e| e.to_string())?;
    let catalog = setup::catalog_from_env()?;
    let site_url = env("PAVE_SITE_URL")
        .ok_or("PAVE_SITE_URL is not set")?
        .trim_end_matches('/')
        .to_string();
    let mut allowed_origins = vec![site_url.clone()];
    allowed_origins.extend(
        env("PAVE_ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty()),
    );
    let payments = setup::payments_from_env().await?;
    let webhook_secret = secrets::resolve("STRIPE_WEBHOOK_SECRET")
        .await?
        .ok_or("STRIPE_WEBHOOK_SECRET (or STRIPE_WEBHOOK_SECRET_PARAM) is not set")?;
    Ok(Arc::new(AppState {
        store,
        catalog: RwLock::new(Arc::new(catalog)),
        payments: Arc::new(payments),
        config: ApiConfig {
            site_url,
            allowed_origins,
            webhook_secret,
            api_url: env("PAVE_API_URL").map(|u| u.trim_end_matches('/').to_string()),
        },
        // The figures are rebuilt from the table's stream (`pave-rebuild`).
        changes: None,
        // Never the local test checkout on AWS.
        local: None,
        mailer: setup::mailer_from_env().await,
        limits: crate::api::limits::Limits::from_env()?,
    }))
}

/// Gives the router the client's address from API Gateway's request
/// context (`requestContext.http.sourceIp`).
async fn client_from_context(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    let source = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    if let Some(addr) = source.and_then(|ip| ip.parse().ok()) {
        request.extensions_mut().insert(ClientAddr(addr));
    }
    next.run(request).await
}

/// Runs the API until the Lambda runtime stops the process.
pub async fn run() -> Result<(), lambda_http::Error> {
    crate::logs::init(true);
    let state = state_from_env().await.map_err(|e| {
        tracing::error!("pave-api: cannot start: {e}");
        e
    })?;
    lambda_http::run(router(state).layer(axum::middleware::from_fn(client_from_context))).await
}
