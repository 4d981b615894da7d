//! CloudFront `CreateInvalidation`, as one SigV4-signed REST request
//! (`POST /2020-05-31/distribution/{id}/invalidation`, an XML body) with
//! `aws-sigv4` and the small client of [`super::http`], instead of
//! `aws-sdk-cloudfront`: the one call Pavé makes does not justify a crate
//! that doubles the functions' build time on a 2-core CI.
//!
//! CloudFront is a global service: requests are signed for `us-east-1`,
//! service `cloudfront`. `AWS_ENDPOINT_URL_CLOUDFRONT` points it elsewhere
//! (tests).

use std::time::Duration;

use aws_sigv4::http_request::SigningSettings;
use axum::body::Bytes;
use http_body_util::Full;

use super::http::{Client, Request, Signing};
use crate::aws::Connection;

pub const DEFAULT_ENDPOINT: &str = "https://cloudfront.amazonaws.com";
const SIGNING_REGION: &str = "us-east-1";

/// A distribution to invalidate.
#[derive(Debug, Clone)]
pub struct Cdn {
    pub distribution_id: String,
    pub endpoint: String,
    connection: Connection,
    client: Client,
}

use pave_contract::html::escape_xml as xml_escape;

/// The body of `CreateInvalidation` (pure).
pub fn invalidation_batch(paths: &[String], caller_reference: &str) -> String {
    let items: String = paths
        .iter()
        .map(|p| format!("<Path>{}</Path>", xml_escape(p)))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<InvalidationBatch xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\">\
<Paths><Quantity>{}</Quantity><Items>{items}</Items></Paths>\
<CallerReference>{}</CallerReference></InvalidationBatch>",
        paths.len(),
        xml_escape(caller_reference)
    )
}

/// A distribution id is upper-case letters and digits.
pub fn is_distribution_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Cdn {
    pub fn new(
        distribution_id: String,
        endpoint: Option<String>,
        connection: Connection,
    ) -> Result<Cdn, String> {
        if !is_distribution_id(&distribution_id) {
            return Err(format!(
                "{distribution_id:?} is not a CloudFront distribution id"
            ));
        }
        Ok(Cdn {
            distribution_id,
            endpoint: endpoint
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
                .trim_end_matches('/')
                .to_string(),
            connection,
            client: Client::new(Duration::from_secs(10))?,
        })
    }

    /// Invalidates `paths` (at most 3,000, CloudFront's limit; the caller
    /// keeps far fewer, see `publish::MAX_PATHS`); an error with CloudFront's
    /// answer when it is not a success.
    pub async fn invalidate(&self, paths: &[String], caller_reference: &str) -> Result<(), String> {
        if paths.is_empty() {
            return Ok(());
        }
        let url = format!(
            "{}/2020-05-31/distribution/{}/invalidation",
            self.endpoint, self.distribution_id
        );
        let body = invalidation_batch(paths, caller_reference);
        let request = Request::post(&url)
            .header("content-type", "application/xml")
            .body(Full::new(Bytes::from(body.clone())))
            .map_err(|e| e.to_string())?;
        self.client
            .send_signed(
                request,
                body.as_bytes(),
                &self.connection,
                Signing {
                    region: SIGNING_REGION,
                    service: "cloudfront",
                    settings: SigningSettings::default(),
                },
                "CloudFront CreateInvalidation",
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_is_cloudfront_xml() {
        let body = invalidation_batch(&["/".into(), "/a&b/".into()], "pave-1");
        assert!(body.contains("<Quantity>2</Quantity>"));
        assert!(body.contains("<Items><Path>/</Path><Path>/a&amp;b/</Path></Items>"));
        assert!(body.contains("<CallerReference>pave-1</CallerReference>"));
        assert!(is_distribution_id("E2QWRUHAPOMQZL"));
        assert!(!is_distribution_id("../x"));
    }
}
