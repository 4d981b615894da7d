//! S3 `PutObject`, `GetObject` and `DeleteObject`, each one SigV4-signed
//! REST request (`PUT`, `GET`, `DELETE /{key}`) with `aws-sigv4` and the
//! small client of [`super::http`], instead of `aws-sdk-s3`: these three
//! calls do not justify the SDK, which made `pave-rebuild` 1.4 MB bigger
//! (its operations, checksums and XML; see README, "Deploy on AWS", for the
//! sizes).
//!
//! Addressing: virtual-hosted on AWS (`https://{bucket}.s3.{region}.amazonaws.com/{key}`,
//! path-style for a bucket name with a dot, which a wildcard certificate does
//! not cover); path-style on another endpoint (`AWS_ENDPOINT_URL_S3`: moto,
//! MinIO), as the SDK did with `force_path_style`.

use std::time::Duration;

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SigningSettings, UriPathNormalizationMode,
};
use axum::body::Bytes;
use http_body_util::Full;

use super::http::{Client, Request, Signing, StatusCode};
use crate::aws::Connection;

/// A bucket the rebuild puts objects in (cheap to clone: one connection pool).
#[derive(Debug, Clone)]
pub struct Bucket {
    pub name: String,
    /// Another S3 (path-style), or AWS's (virtual-hosted).
    pub endpoint: Option<String>,
    connection: Connection,
    client: Client,
}

/// What a `GET` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Got {
    /// The object, and its `ETag`.
    Object { body: Bytes, etag: Option<String> },
    /// Unchanged since the `ETag` given (`304 Not Modified`).
    Unchanged,
    /// No such key.
    Missing,
}

/// The largest object read (a content release of 10,000 projects is a few MB).
pub const GET_LIMIT: usize = 256 * 1024 * 1024;

/// RFC 3986 percent-encoding of an object key, `/` kept (S3's canonical URI:
/// each segment encoded once).
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URL of `key` in `bucket` (pure).
pub fn object_url(endpoint: Option<&str>, region: &str, bucket: &str, key: &str) -> String {
    let key = encode_key(key.trim_start_matches('/'));
    match endpoint {
        Some(endpoint) => format!("{}/{bucket}/{key}", endpoint.trim_end_matches('/')),
        None if bucket.contains('.') => format!("https://s3.{region}.amazonaws.com/{bucket}/{key}"),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
    }
}

impl Bucket {
    pub fn new(
        name: String,
        endpoint: Option<String>,
        connection: Connection,
    ) -> Result<Bucket, String> {
        Ok(Bucket {
            name,
            endpoint,
            connection,
            client: Client::new(Duration::from_secs(30))?,
        })
    }

    /// Puts `body` under `key` with its headers; an error with S3's answer
    /// when it is not a success.
    pub async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        cache_control: &str,
    ) -> Result<(), String> {
        let body = Bytes::from(body);
        let request = Request::put(self.url(key))
            .header("content-type", content_type)
            .header("cache-control", cache_control)
            .body(Full::new(body.clone()))
            .map_err(|e| format!("S3 PutObject {key}: {e}"))?;
        self.client
            .send_signed(
                request,
                &body,
                &self.connection,
                self.signing(),
                &format!("S3 PutObject {key}"),
            )
            .await
    }

    /// Gets `key`; [`Got::Unchanged`] when its `ETag` is still `if_none_match`.
    pub async fn get(&self, key: &str, if_none_match: Option<&str>) -> Result<Got, String> {
        let what = format!("S3 GetObject {key}");
        let mut request = Request::get(self.url(key));
        if let Some(etag) = if_none_match {
            request = request.header("if-none-match", etag);
        }
        let request = request
            .body(Full::new(Bytes::new()))
            .map_err(|e| format!("{what}: {e}"))?;
        let answer = self
            .client
            .fetch_signed(request, &self.connection, self.signing(), &what, GET_LIMIT)
            .await?;
        match answer.status {
            StatusCode::NOT_MODIFIED => Ok(Got::Unchanged),
            StatusCode::NOT_FOUND => Ok(Got::Missing),
            status if status.is_success() => Ok(Got::Object {
                etag: answer.header("etag").map(str::to_string),
                body: answer.body,
            }),
            _ => Err(answer.failure(&what)),
        }
    }

    /// Deletes `key` (a missing key is no error: S3 answers 204 too).
    pub async fn delete(&self, key: &str) -> Result<(), String> {
        let request = Request::delete(self.url(key))
            .body(Full::new(Bytes::new()))
            .map_err(|e| format!("S3 DeleteObject {key}: {e}"))?;
        self.client
            .send_signed(
                request,
                &[],
                &self.connection,
                self.signing(),
                &format!("S3 DeleteObject {key}"),
            )
            .await
    }

    fn url(&self, key: &str) -> String {
        object_url(
            self.endpoint.as_deref(),
            &self.connection.region,
            &self.name,
            key,
        )
    }

    /// S3's flavour of SigV4: the key encoded once, never normalised, and
    /// the payload's SHA-256 sent as `x-amz-content-sha256`.
    fn signing(&self) -> Signing<'_> {
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        Signing {
            region: &self.connection.region,
            service: "s3",
            settings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_urls() {
        assert_eq!(
            encode_key("en/projets/a b+c/é.html"),
            "en/projets/a%20b%2Bc/%C3%A9.html"
        );
        assert_eq!(
            object_url(None, "eu-west-3", "pave-site", "projets/x/index.html"),
            "https://pave-site.s3.eu-west-3.amazonaws.com/projets/x/index.html"
        );
        assert_eq!(
            object_url(None, "eu-west-3", "www.example.org", "index.html"),
            "https://s3.eu-west-3.amazonaws.com/www.example.org/index.html"
        );
        assert_eq!(
            object_url(
                Some("http://127.0.0.1:5000/"),
                "eu-west-3",
                "b",
                "/a/index.html"
            ),
            "http://127.0.0.1:5000/b/a/index.html"
        );
    }
}
