//! Secrets at cold start. For a value `NAME` (e.g. `STRIPE_SECRET_KEY`):
//!
//! 1. `NAME` itself, when set (local runs, tests);
//! 2. else `NAME_PARAM`: the name (or ARN) of an SSM Parameter Store
//!    parameter, a `SecureString`, read decrypted;
//! 3. else `NAME_SECRET_ID`: the id (or ARN) of a Secrets Manager secret,
//!    its `SecretString`.
//!
//! 2 and 3 go through the AWS Parameters and Secrets Lambda extension (a
//! layer, see `deploy/template.yaml`), which answers on
//! `http://localhost:$PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` (default 2773)
//! to requests carrying the function's session token, and caches the values.
//! One plain HTTP GET instead of an SDK crate per service. The template
//! passes only the parameter *names*: no secret is in the template or in the
//! function's configuration.

use std::time::Duration;

use axum::body::Bytes;
use http_body_util::Full;
use serde::Deserialize;

use super::env;
use super::http::{Client, Request, StatusCode};

/// The extension's default port.
pub const EXTENSION_PORT: u16 = 2773;

/// Where a secret comes from, as the environment says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Plain(String),
    Parameter(String),
    Secret(String),
}

/// Where `name` comes from, read through `lookup` (pure).
pub fn source(name: &str, lookup: impl Fn(&str) -> Option<String>) -> Option<Source> {
    let get = |n: &str| lookup(n).filter(|v| !v.trim().is_empty());
    get(name)
        .map(|v| Source::Plain(v.trim().to_string()))
        .or_else(|| get(&format!("{name}_PARAM")).map(Source::Parameter))
        .or_else(|| get(&format!("{name}_SECRET_ID")).map(Source::Secret))
}

/// The extension's request path for a source (pure; `None` for a plain value).
pub fn extension_path(source: &Source) -> Option<String> {
    let encode = |s: &str| serde_urlencoded::to_string([("", s)]).unwrap_or_default();
    // `serde_urlencoded` gives "=<encoded>"; keep the encoded part.
    let value = |s: &str| encode(s).trim_start_matches('=').to_string();
    match source {
        Source::Plain(_) => None,
        Source::Parameter(name) => Some(format!(
            "/systemsmanager/parameters/get?name={}&withDecryption=true",
            value(name)
        )),
        Source::Secret(id) => Some(format!("/secretsmanager/get?secretId={}", value(id))),
    }
}

#[derive(Deserialize)]
struct ParameterAnswer {
    #[serde(rename = "Parameter")]
    parameter: ParameterValue,
}

#[derive(Deserialize)]
struct ParameterValue {
    #[serde(rename = "Value")]
    value: String,
}

#[derive(Deserialize)]
struct SecretAnswer {
    #[serde(rename = "SecretString")]
    secret_string: String,
}

/// The value out of the extension's answer (pure).
pub fn parse_answer(source: &Source, body: &[u8]) -> Result<String, String> {
    let value = match source {
        Source::Plain(v) => v.clone(),
        Source::Parameter(_) => {
            serde_json::from_slice::<ParameterAnswer>(body)
                .map_err(|e| format!("unexpected answer from the extension: {e}"))?
                .parameter
                .value
        }
        Source::Secret(_) => {
            serde_json::from_slice::<SecretAnswer>(body)
                .map_err(|e| format!("unexpected answer from the extension: {e}"))?
                .secret_string
        }
    };
    let value = value.trim().to_string();
    if value.is_empty() {
        return Err("the value is empty".into());
    }
    Ok(value)
}

/// Resolves `name` from the process environment (see the module docs).
/// `Ok(None)` when none of the three variables is set.
pub async fn resolve(name: &str) -> Result<Option<String>, String> {
    resolve_with(name, env).await
}

/// [`resolve`], with the environment read through `lookup`.
pub async fn resolve_with(
    name: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, String> {
    let get = |n: &str| lookup(n).filter(|v| !v.trim().is_empty());
    let Some(source) = source(name, get) else {
        return Ok(None);
    };
    let Some(path) = extension_path(&source) else {
        return parse_answer(&source, &[]).map(Some);
    };
    let port = get("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(EXTENSION_PORT);
    let token = get("AWS_SESSION_TOKEN").ok_or_else(|| {
        format!("{name}: AWS_SESSION_TOKEN is not set (needed by the secrets extension)")
    })?;
    let client = Client::new(Duration::from_secs(5))?;
    let url = format!("http://localhost:{port}{path}");
    // The extension may still be starting in the first milliseconds.
    let mut last = String::new();
    for attempt in 0..3u64 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
        }
        let request = Request::get(&url)
            .header("X-Aws-Parameters-Secrets-Token", &token)
            .body(Full::new(Bytes::new()))
            .map_err(|e| format!("{name}: {e}"))?;
        match client.send(request).await {
            Ok((StatusCode::OK, body)) => {
                return parse_answer(&source, &body)
                    .map(Some)
                    .map_err(|e| format!("{name}: {e}"));
            }
            Ok((status, body)) => {
                last = format!(
                    "the extension answered {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                );
                if status.is_client_error() {
                    break;
                }
            }
            Err(e) => last = e,
        }
    }
    Err(format!("{name}: {last}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_plain_value_wins_then_the_parameter_then_the_secret() {
        let vars = [
            ("K", "sk_test_1"),
            ("K_PARAM", "/pave/stripe"),
            ("K_SECRET_ID", "s"),
        ];
        assert_eq!(
            source("K", lookup(&vars)),
            Some(Source::Plain("sk_test_1".into()))
        );
        assert_eq!(
            source("K", lookup(&vars[1..])),
            Some(Source::Parameter("/pave/stripe".into()))
        );
        assert_eq!(
            source("K", lookup(&vars[2..])),
            Some(Source::Secret("s".into()))
        );
        assert_eq!(source("K", lookup(&[("K", "  ")])), None);
    }

    #[test]
    fn extension_paths_are_encoded() {
        assert_eq!(
            extension_path(&Source::Parameter("/pave/prod/stripe key".into())).as_deref(),
            Some(
                "/systemsmanager/parameters/get?name=%2Fpave%2Fprod%2Fstripe+key&withDecryption=true"
            )
        );
        assert_eq!(
            extension_path(&Source::Secret("arn:aws:secretsmanager:x".into())).as_deref(),
            Some("/secretsmanager/get?secretId=arn%3Aaws%3Asecretsmanager%3Ax")
        );
    }

    #[test]
    fn answers_are_read_and_checked() {
        let p = Source::Parameter("n".into());
        assert_eq!(
            parse_answer(
                &p,
                br#"{"Parameter":{"Name":"n","Value":"whsec_1","Type":"SecureString"}}"#
            ),
            Ok("whsec_1".into())
        );
        assert!(parse_answer(&p, br#"{"Parameter":{"Value":""}}"#).is_err());
        assert!(parse_answer(&p, b"<html>").is_err());
        let s = Source::Secret("n".into());
        assert_eq!(
            parse_answer(&s, br#"{"ARN":"a","SecretString":"sk_live_2"}"#),
            Ok("sk_live_2".into())
        );
    }

    /// The whole path against a stand-in for the extension on a free port.
    #[tokio::test]
    async fn resolves_through_the_extension() {
        use axum::extract::Query;
        use axum::http::HeaderMap;
        use std::collections::HashMap;
        let app = axum::Router::new().route(
            "/systemsmanager/parameters/get",
            axum::routing::get(
                |headers: HeaderMap, Query(q): Query<HashMap<String, String>>| async move {
                    let token = headers
                        .get("x-aws-parameters-secrets-token")
                        .and_then(|v| v.to_str().ok());
                    if token != Some("session-token")
                        || q.get("withDecryption").map(String::as_str) != Some("true")
                    {
                        return (axum::http::StatusCode::FORBIDDEN, String::new());
                    }
                    let value = format!("value-of-{}", q.get("name").cloned().unwrap_or_default());
                    (
                        axum::http::StatusCode::OK,
                        serde_json::json!({"Parameter": {"Value": value}}).to_string(),
                    )
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let port = port.to_string();
        let vars = [
            ("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", port.as_str()),
            ("AWS_SESSION_TOKEN", "session-token"),
            ("K_PARAM", "/pave/x"),
        ];
        assert_eq!(
            resolve_with("K", lookup(&vars)).await,
            Ok(Some("value-of-/pave/x".into()))
        );
        assert_eq!(resolve_with("UNSET", lookup(&vars)).await, Ok(None));
        // A wrong token: the extension refuses, and the error says so.
        let wrong = [vars[0], ("AWS_SESSION_TOKEN", "other"), vars[2]];
        let refused = resolve_with("K", lookup(&wrong)).await.unwrap_err();
        assert!(refused.contains("403"), "{refused}");
    }
}
