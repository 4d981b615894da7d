//! A local Lambda Runtime API (the `2018-06-01` interface a Lambda binary
//! polls), so that the tests run the real binaries as Lambda would: the
//! process is spawned with `AWS_LAMBDA_RUNTIME_API` pointing here, asks for
//! the next invocation (`GET …/invocation/next`, answered with the event and
//! the `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms` and
//! `-Invoked-Function-Arn` headers), and posts its answer to
//! `…/invocation/{id}/response` or `…/error`.
//!
//! Also measures what the cost model needs: the time from spawning the
//! process to the first answer (cold start + first event), and each
//! invocation's duration (event handed out → answer received).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// What a function answered.
#[derive(Debug)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

impl Outcome {
    pub fn response(self) -> Value {
        match self {
            Outcome::Response(v) => v,
            Outcome::Error(e) => panic!("the function answered an error: {e}"),
        }
    }
}

struct Pending {
    id: String,
    payload: Value,
    answer: Answer,
}

/// Where an invocation's answer goes, and when it was handed out.
type Answer = oneshot::Sender<(Outcome, Instant)>;

struct Inner {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    /// Handed-out invocations: when, and where to send the answer.
    waiting: Mutex<HashMap<String, (Instant, Answer)>>,
    init_error: Mutex<Option<String>>,
    /// When the process first asked for an invocation (its init is done).
    first_poll: Mutex<Option<Instant>>,
}

/// A function process under the emulated runtime.
pub struct Function {
    sender: mpsc::UnboundedSender<Pending>,
    inner: Arc<Inner>,
    child: Child,
    spawned_at: Instant,
    count: u64,
    /// Spawn → first answer received.
    pub first_answer: Option<Duration>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.server.abort();
    }
}

/// The binary: `PAVE_LAMBDA_BIN_DIR/<name>` when set (to measure release
/// builds), else the one cargo built for this test.
pub fn binary(name: &str, built: &str) -> PathBuf {
    match std::env::var_os("PAVE_LAMBDA_BIN_DIR") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => PathBuf::from(built),
    }
}

async fn next(State(inner): State<Arc<Inner>>) -> impl IntoResponse {
    inner
        .first_poll
        .lock()
        .unwrap()
        .get_or_insert_with(Instant::now);
    let pending = inner.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return (StatusCode::GONE, HeaderMap::new(), String::new());
    };
    let deadline = jiff::Timestamp::now().as_millisecond() + 30_000;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, value.parse().expect("header value"));
    };
    set("lambda-runtime-aws-request-id", pending.id.clone());
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-3:123456789012:function:pave-test".into(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0".into(),
    );
    set("content-type", "application/json".into());
    inner
        .waiting
        .lock()
        .unwrap()
        .insert(pending.id, (Instant::now(), pending.answer));
    (StatusCode::OK, headers, pending.payload.to_string())
}

fn answer(inner: &Inner, id: &str, outcome: Outcome) -> StatusCode {
    match inner.waiting.lock().unwrap().remove(id) {
        Some((started, tx)) => {
            let _ = tx.send((outcome, started));
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

fn json(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    answer(&inner, &id, Outcome::Response(json(&body)))
}

async fn error(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    answer(&inner, &id, Outcome::Error(json(&body)))
}

async fn init_error(State(inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    *inner.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

impl Function {
    /// Starts the runtime API on a free port and spawns `binary` with `env`.
    pub async fn spawn(binary: PathBuf, env: &[(&str, String)]) -> Function {
        let (sender, receiver) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            queue: tokio::sync::Mutex::new(receiver),
            waiting: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            first_poll: Mutex::new(None),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a local port");
        let addr = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        assert!(binary.exists(), "{} is not built", binary.display());
        let spawned_at = Instant::now();
        let child = Command::new(&binary)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "pave-test")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/pave-test")
            .env("AWS_REGION", "eu-west-3")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        Function {
            sender,
            inner,
            child,
            spawned_at,
            count: 0,
            first_answer: None,
            server,
        }
    }

    /// Invokes the function with `payload`; its answer and the invocation's
    /// duration.
    pub async fn invoke(&mut self, payload: Value) -> (Outcome, Duration) {
        self.count += 1;
        let id = format!("8476a536-e9f4-11e8-9739-{:012}", self.count);
        let (tx, rx) = oneshot::channel();
        self.sender
            .send(Pending {
                id,
                payload,
                answer: tx,
            })
            .expect("the runtime API is running");
        let wait = tokio::time::timeout(Duration::from_secs(60), rx);
        let result = tokio::select! {
            r = wait => r,
            _ = self.exited() => panic!("the function exited: {:?} (init error: {:?})",
                self.child.try_wait(), self.inner.init_error.lock().unwrap()),
        };
        let (outcome, started) = result
            .expect("the function answered within 60 s")
            .expect("an answer");
        let now = Instant::now();
        self.first_answer.get_or_insert(now - self.spawned_at);
        (outcome, now - started)
    }

    /// Spawn → the first `GET …/invocation/next` (the cold start's init).
    pub fn init_time(&self) -> Option<Duration> {
        let polled = *self.inner.first_poll.lock().unwrap();
        polled.map(|t| t - self.spawned_at)
    }

    /// Resolves when the process exits.
    async fn exited(&mut self) {
        loop {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// An API Gateway HTTP API (payload format 2.0) request event.
pub fn http_event(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Value {
    let mut h = serde_json::Map::new();
    h.insert(
        "host".into(),
        "pave.execute-api.eu-west-3.amazonaws.com".into(),
    );
    h.insert("user-agent".into(), "Mozilla/5.0".into());
    h.insert("x-forwarded-for".into(), "203.0.113.7".into());
    h.insert("x-forwarded-proto".into(), "https".into());
    for (k, v) in headers {
        h.insert(k.to_ascii_lowercase(), (*v).into());
    }
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": h,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "pave",
            "domainName": "pave.execute-api.eu-west-3.amazonaws.com",
            "domainPrefix": "pave",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "Mozilla/5.0"
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:17:00:00 +0000",
            "timeEpoch": 1_795_453_200_000_i64
        },
        "isBase64Encoded": false
    });
    if let Some(body) = body {
        event["body"] = body.into();
    }
    event
}

/// The status and body of an HTTP API answer (`statusCode`, `body`,
/// `isBase64Encoded`).
pub fn http_answer(answer: &Value) -> (u16, String) {
    let status = answer["statusCode"].as_u64().expect("statusCode") as u16;
    let body = answer["body"].as_str().unwrap_or_default();
    let body = if answer["isBase64Encoded"].as_bool() == Some(true) {
        panic!("unexpected base64 body: {body}")
    } else {
        body.to_string()
    };
    (status, body)
}
