//! The HTTP API on Lambda: the router of [`crate::api`] over the DynamoDB
//! store and Stripe, served by `lambda_http` (API Gateway HTTP API v2 and
//! function URLs, which share the payload format 2.0).
//!
//! Configuration, read once at cold start:
//!
//! | variable | what |
//! |---|---|
//! | `PAVE_TABLE`, `AWS_REGION`, credentials, `AWS_ENDPOINT_URL_DYNAMODB`? | the store ([`DynamoStore::from_env`]) |
//! | `PAVE_RELEASE_BUCKET` | the content releases: the catalog is the live release's (see below; [`super::setup`]) |
//! | `PAVE_CATALOG` | without releases, a catalog file (default `/var/task/catalog.json`) |
//! | `PAVE_SITE_URL` | the public site, `https://…` (the project pages the API's pages link to; the allowed origin); the API is under its `/api/` |
//! | `PAVE_EDGE_SECRET` | what CloudFront sends in `X-Pave-Edge`: only then is its `CloudFront-Viewer-Address` believed ([`client_of`]) |
//! | `PAVE_API_URL` | where browsers reach the API, when not under the site's `/api/`: the checkout's thank-you and cancel addresses (optional; the API's pages then lose the site's stylesheet, which is on another origin) |
//! | `PAVE_ALLOWED_ORIGINS` | other origins allowed to post forms, comma-separated (optional) |
//! | `STRIPE_SECRET_KEY` / `_PARAM` / `_SECRET_ID` | Stripe's secret key ([`super::secrets`], through [`super::setup`]) |
//! | `STRIPE_WEBHOOK_SECRET` / `_PARAM` / `_SECRET_ID` | the webhook signing secret |
//! | `STRIPE_API_BASE` | another Stripe API base (tests) |
//! | `PAVE_PLEDGES_PER_MINUTE`, `PAVE_OFFERS_PER_MINUTE` | per-client limits ([`crate::api::limits`]; per warm instance) |
//!
//! The client of a request (for its limits) is the viewer CloudFront saw,
//! behind the distribution's secret header, else API Gateway's `sourceIp`
//! ([`client_of`]).
//!
//! The catalog is the live content release's ([`super::release`]): before
//! each request, one conditional `GET` of `current.json` (a `304` while
//! nothing changed; a new release's `catalog.json` read once), so a pledge
//! is checked against the rules of the release the pages show. If the
//! release bucket cannot be read, the catalog in use stays (and it is logged).

use std::sync::{Arc, RwLock};

use crate::api::limits::ClientAddr;
use crate::api::{ApiConfig, AppState, router};
use crate::store::dynamo::DynamoStore;

use super::release::CatalogWatch;
use super::{env, secrets, setup};

/// The API's state, from the environment (cold start), and the watch on
/// the live release's catalog (AWS).
pub async fn state_from_env() -> Result<(Arc<AppState<DynamoStore>>, Option<CatalogWatch>), String>
{
    let store = DynamoStore::from_env().await.map_err(|e| e.to_string())?;
    let (live, watch) = setup::catalog_from_env().await?;
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
    let state = Arc::new(AppState {
        store,
        catalog: RwLock::new(Arc::new(live.catalog)),
        frames: RwLock::new(Arc::new(live.frames)),
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
        outbox: Default::default(),
        limits: crate::api::limits::Limits::from_env()?,
        fresh: Default::default(),
        clock: Default::default(),
    });
    Ok((state, watch))
}

/// The header CloudFront's origin adds with [`ENV_EDGE_SECRET`]'s value, so
/// that only a request through the distribution is believed about its viewer.
pub const EDGE_HEADER: &str = "x-pave-edge";
/// The secret the distribution sends in [`EDGE_HEADER`] (the template sets both).
pub const ENV_EDGE_SECRET: &str = "PAVE_EDGE_SECRET";

/// The viewer's address in CloudFront's `CloudFront-Viewer-Address`
/// (`198.51.100.10:46532`, `2001:db8::8a2e:370:7334:46532`): the address
/// without its port.
pub fn viewer_address(header: &str) -> Option<std::net::IpAddr> {
    let (ip, port) = header.trim().rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// The client of a request: through the distribution (its [`EDGE_HEADER`]
/// carries `edge_secret`), the viewer CloudFront saw; otherwise API
/// Gateway's `sourceIp` (behind CloudFront that is an edge server, shared
/// by many citizens, so the viewer's address is what the limits key on).
pub fn client_of(
    headers: &axum::http::HeaderMap,
    source_ip: Option<&str>,
    edge_secret: Option<&str>,
) -> Option<std::net::IpAddr> {
    use subtle::ConstantTimeEq;
    let through_edge = match (edge_secret, headers.get(EDGE_HEADER)) {
        (Some(secret), Some(sent)) => bool::from(secret.as_bytes().ct_eq(sent.as_bytes())),
        _ => false,
    };
    let viewer = headers
        .get("cloudfront-viewer-address")
        .and_then(|v| v.to_str().ok())
        .and_then(viewer_address);
    match viewer {
        Some(viewer) if through_edge => Some(viewer),
        _ => source_ip.and_then(|ip| ip.parse().ok()),
    }
}

/// Gives the router the client's address ([`client_of`]).
async fn client_from_context(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    static EDGE_SECRET: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let secret = EDGE_SECRET.get_or_init(|| env(ENV_EDGE_SECRET));
    let source = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    if let Some(addr) = client_of(request.headers(), source.as_deref(), secret.as_deref()) {
        request.extensions_mut().insert(ClientAddr(addr));
    }
    next.run(request).await
}

/// Runs the API until the Lambda runtime stops the process.
pub async fn run() -> Result<(), lambda_http::Error> {
    crate::logs::init(true);
    let (state, watch) = state_from_env().await.map_err(|e| {
        tracing::error!("pave-api: cannot start: {e}");
        e
    })?;
    let app = router(state.clone()).layer(axum::middleware::from_fn(client_from_context));
    let Some(watch) = watch else {
        return lambda_http::run(app).await;
    };
    let watch = Arc::new(watch);
    let app = app.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let (state, watch) = (state.clone(), watch.clone());
            async move {
                if let Err(e) = watch.refresh(&state.catalog, Some(&state.frames)).await {
                    tracing::warn!(
                        "pave-api: the live release cannot be read, the catalog in use stays: {e}"
                    );
                }
                next.run(request).await
            }
        },
    ));
    lambda_http::run(app).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[test]
    fn the_viewer_is_believed_only_through_the_distribution() {
        assert_eq!(
            viewer_address("198.51.100.10:46532"),
            "198.51.100.10".parse().ok()
        );
        assert_eq!(
            viewer_address("2001:db8::8a2e:370:7334:46532"),
            "2001:db8::8a2e:370:7334".parse().ok()
        );
        assert_eq!(viewer_address("nonsense"), None);
        let mut headers = HeaderMap::new();
        headers.insert(
            "cloudfront-viewer-address",
            "198.51.100.10:443".parse().unwrap(),
        );
        let edge = "130.176.0.1";
        // Without the edge's secret, a forged header is not believed.
        assert_eq!(
            client_of(&headers, Some(edge), Some("s3cret")),
            edge.parse().ok()
        );
        headers.insert(EDGE_HEADER, "guess".parse().unwrap());
        assert_eq!(
            client_of(&headers, Some(edge), Some("s3cret")),
            edge.parse().ok()
        );
        assert_eq!(client_of(&headers, Some(edge), None), edge.parse().ok());
        headers.insert(EDGE_HEADER, "s3cret".parse().unwrap());
        assert_eq!(
            client_of(&headers, Some(edge), Some("s3cret")),
            "198.51.100.10".parse().ok()
        );
    }
}
