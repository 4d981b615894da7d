//! How Pavé reaches AWS: one `Connection` (region, endpoint, credentials
//! from the standard variables) for the DynamoDB store's SDK client and for
//! the requests Pavé signs itself (S3 `PutObject`, CloudFront invalidations,
//! `lambda::http`). Built by hand rather than with `aws-config`, to keep the
//! dependency tree small: on Lambda the runtime provides all of it in the
//! environment.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

use crate::store::StoreError;

/// How to reach AWS: region, optional endpoint (moto, DynamoDB Local) and
/// static credentials.
#[derive(Clone)]
pub struct Connection {
    pub region: String,
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the credentials.
        f.debug_struct("Connection")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub(crate) fn required_env(name: &str, what: &str) -> Result<String, StoreError> {
    env(name).ok_or_else(|| StoreError::Backend(format!("{name} is not set ({what})")))
}

impl Connection {
    /// From the standard AWS variables: `AWS_REGION` (or
    /// `AWS_DEFAULT_REGION`), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN` (optional), and `AWS_ENDPOINT_URL_DYNAMODB` (or
    /// `AWS_ENDPOINT_URL`) for a local DynamoDB.
    pub fn from_env() -> Result<Connection, StoreError> {
        Ok(Connection {
            region: env("AWS_REGION")
                .or_else(|| env("AWS_DEFAULT_REGION"))
                .ok_or_else(|| StoreError::Backend("AWS_REGION is not set".into()))?,
            endpoint: env("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| env("AWS_ENDPOINT_URL")),
            access_key_id: required_env("AWS_ACCESS_KEY_ID", "DynamoDB credentials")?,
            secret_access_key: required_env("AWS_SECRET_ACCESS_KEY", "DynamoDB credentials")?,
            session_token: env("AWS_SESSION_TOKEN"),
        })
    }

    /// The credentials of this connection, for the SDK's clients and for
    /// requests Pavé signs itself (`lambda::http`).
    pub fn credentials(&self) -> Credentials {
        Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "pave-environment",
        )
    }

    /// A new DynamoDB client, with its own HTTP connection pool (rustls with ring).
    pub fn client(&self) -> Client {
        use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(self.credentials())
            .http_client(http);
        if let Some(endpoint) = &self.endpoint {
            config = config.endpoint_url(endpoint);
        }
        Client::from_conf(config.build())
    }
}
