//! A small HTTP(S) client (hyper + rustls with ring and the webpki roots,
//! all already in the dependency tree) for the plain requests the Lambda
//! adapters make besides the SDKs: the Parameters and Secrets extension on
//! localhost, and SigV4-signed calls to S3 (`PutObject`) and CloudFront
//! (`CreateInvalidation`) through [`Client::send_signed`].

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::body::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub use axum::http::{Request, StatusCode};

use crate::aws::Connection;

/// Where and how a request is signed (SigV4).
pub struct Signing<'a> {
    pub region: &'a str,
    pub service: &'a str,
    pub settings: SigningSettings,
}

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
        let answer = self.exchange(request, RESPONSE_LIMIT).await?;
        Ok((answer.status, answer.body))
    }

    /// Sends a request; its answer, whose body is refused above `limit` bytes.
    pub async fn exchange(
        &self,
        request: Request<Full<Bytes>>,
        limit: usize,
    ) -> Result<Answer, String> {
        let uri = request.uri().clone();
        let exchange = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|e| format!("{uri}: {e}"))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = Limited::new(response.into_body(), limit)
                .collect()
                .await
                .map_err(|e| format!("{uri}: reading the answer: {e}"))?
                .to_bytes();
            Ok(Answer {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("{uri}: no answer within {:?}", self.timeout))?
    }

    /// Signs `request` (whose body is `body`) with SigV4 as `signing` says,
    /// with the connection's credentials, sends it, and fails with the start
    /// of the answer unless it is a success; `what` names the call in errors.
    pub async fn send_signed(
        &self,
        mut request: Request<Full<Bytes>>,
        body: &[u8],
        connection: &Connection,
        signing: Signing<'_>,
        what: &str,
    ) -> Result<(), String> {
        sign_request(&mut request, body, connection, signing, what)?;
        let answer = self.exchange(request, RESPONSE_LIMIT).await?;
        if !answer.status.is_success() {
            return Err(answer.failure(what));
        }
        Ok(())
    }

    /// Signs a request without a body (a `GET`), sends it, and gives its
    /// answer whatever the status; the body is refused above `limit` bytes.
    pub async fn fetch_signed(
        &self,
        mut request: Request<Full<Bytes>>,
        connection: &Connection,
        signing: Signing<'_>,
        what: &str,
        limit: usize,
    ) -> Result<Answer, String> {
        sign_request(&mut request, &[], connection, signing, what)?;
        self.exchange(request, limit).await
    }
}

/// An answer: status, headers and body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The error of a call that did not succeed: the status and the start of the body.
    pub fn failure(&self, what: &str) -> String {
        format!(
            "{what} answered {}: {}",
            self.status,
            String::from_utf8_lossy(&self.body[..self.body.len().min(500)])
        )
    }

    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Signs `request`, whose body is `body`, with SigV4.
fn sign_request(
    request: &mut Request<Full<Bytes>>,
    body: &[u8],
    connection: &Connection,
    signing: Signing<'_>,
    what: &str,
) -> Result<(), String> {
    let identity = connection.credentials().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(signing.region)
        .name(signing.service)
        .time(SystemTime::now())
        .settings(signing.settings)
        .build()
        .map_err(|e| format!("{what}: signing: {e}"))?
        .into();
    let method = request.method().as_str().to_string();
    let url = request.uri().to_string();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    let signable = SignableRequest::new(
        &method,
        &url,
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("{what}: signing: {e}"))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| format!("{what}: signing: {e}"))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}
