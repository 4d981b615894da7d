//! A small HTTP(S) client (hyper + rustls with ring and the webpki roots,
//! all already in the dependency tree) for the two plain requests the Lambda
//! adapters make besides the SDKs: the Parameters and Secrets extension on
//! localhost, and CloudFront's `CreateInvalidation`.

use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub use axum::http::{Request, StatusCode};

/// Answers above this are refused (both services answer a few kilobytes).
const RESPONSE_LIMIT: usize = 1024 * 1024;

/// The client (cheap to clone: one connection pool).
#[derive(Clone)]
pub struct Client {
    inner: HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `http://` and `https://` URLs, with a per-request timeout.
    pub fn new(timeout: Duration) -> Result<Client, String> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| format!("TLS setup: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Client {
            inner: HyperClient::builder(TokioExecutor::new()).build(https),
            timeout,
        })
    }

    /// Sends a request; the status and the body (at most 1 MiB).
    pub async fn send(&self, request: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes), String> {
        let uri = request.uri().clone();
        let exchange = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|e| format!("{uri}: {e}"))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), RESPONSE_LIMIT)
                .collect()
                .await
                .map_err(|e| format!("{uri}: reading the answer: {e}"))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("{uri}: no answer within {:?}", self.timeout))?
    }
}
