//! The Lambda binaries run as Lambda runs them: spawned under a local
//! Runtime API ([`runtime`]), fed real event payloads (API Gateway HTTP API
//! v2 requests, a signed Stripe webhook, DynamoDB Stream batches), against
//! moto's DynamoDB and S3, the Stripe test double and a stand-in for
//! CloudFront. Fails (never skips) without moto: `scripts/setup-moto`.
//!
//! Each test prints the process's start-up time (spawn → first answer) and
//! each invocation's duration; `PAVE_LAMBDA_BIN_DIR=target/release` runs the
//! release binaries instead (README, "Deploy on AWS").

mod moto;
mod runtime;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::AttributeValue;
use pave_functions::catalog::Catalog;
use pave_functions::payment::Payment;
use pave_functions::store::dynamo::{Connection, DynamoStore};
use pave_functions::store::{NewPledge, Store};
use pave_functions::stripe::double::{self, StripeDouble};
use runtime::{Function, http_answer, http_event};
use serde_json::{Value, json};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("functions/ is in the repository")
        .to_path_buf()
}

/// An S3 client on moto (the test's own: the rebuild puts its pages with
/// one signed request, `pave_functions::lambda::s3`), path-style.
fn s3_client(connection: &Connection, endpoint: Option<String>) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let credentials = Credentials::new(
        &connection.access_key_id,
        &connection.secret_access_key,
        connection.session_token.clone(),
        None,
        "pave-test",
    );
    let mut config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(connection.region.clone()))
        .credentials_provider(credentials)
        .http_client(http);
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint).force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

/// The catalog `pave build` writes, from the sample content.
fn catalog_json() -> Vec<u8> {
    let (site, _) = pave_generator::build::load_site(&repo().join("content"), None)
        .expect("the sample content loads");
    serde_json::to_vec(&pave_generator::render::catalog::build(&site)).expect("catalog JSON")
}

fn aws_env(table: &str) -> Vec<(&'static str, String)> {
    let connection = moto::connection();
    let endpoint = connection.endpoint.clone().expect("moto endpoint");
    vec![
        ("PAVE_TABLE", table.to_string()),
        ("AWS_ACCESS_KEY_ID", connection.access_key_id),
        ("AWS_SECRET_ACCESS_KEY", connection.secret_access_key),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.clone()),
        ("AWS_ENDPOINT_URL_S3", endpoint),
    ]
}

async fn item(
    table: &str,
    pk: &str,
    sk: &str,
) -> std::collections::HashMap<String, AttributeValue> {
    moto::connection()
        .client()
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem on moto")
        .item
        .unwrap_or_default()
}

fn s(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(v)) | Some(AttributeValue::N(v)) => v.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

/// DynamoDB requests seen by [`counting_proxy`]: operation, items.
type Requests = Arc<Mutex<Vec<(String, usize)>>>;

/// A proxy in front of moto's DynamoDB that records each request's
/// operation and item count, for the cost model's request units.
async fn counting_proxy(target: String) -> (String, Requests) {
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use pave_functions::lambda::http::Client;
    let seen: Requests = Arc::default();
    let client = Client::new(std::time::Duration::from_secs(30)).expect("client");
    let state = (seen.clone(), client, target);
    let app = axum::Router::new()
        .fallback(
            |axum::extract::State((seen, client, target)): axum::extract::State<(
                Requests,
                Client,
                String,
            )>,
             method: Method,
             uri: Uri,
             headers: HeaderMap,
             body: axum::body::Bytes| async move {
                let op = headers
                    .get("x-amz-target")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|t| t.rsplit('.').next())
                    .unwrap_or("?")
                    .to_string();
                let items = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["TransactItems"].as_array().map(Vec::len))
                    .unwrap_or(1);
                seen.lock().unwrap().push((op, items));
                let mut request = axum::http::Request::builder()
                    .method(method)
                    .uri(format!("{target}{uri}"));
                for (k, v) in &headers {
                    if k != "host" {
                        request = request.header(k, v);
                    }
                }
                let request = request
                    .body(http_body_util::Full::new(body))
                    .expect("request");
                match client.send(request).await {
                    Ok((status, body)) => (
                        status,
                        [("content-type", "application/x-amz-json-1.0")],
                        body,
                    ),
                    Err(e) => (
                        StatusCode::BAD_GATEWAY,
                        [("content-type", "text/plain")],
                        axum::body::Bytes::from(e),
                    ),
                }
            },
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("port");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

/// The request units of the recorded requests (on-demand pricing, items
/// under 1 KB written and 4 KB read): reads, writes.
fn request_units(requests: &[(String, usize)]) -> (usize, usize) {
    requests
        .iter()
        .fold((0, 0), |(r, w), (op, n)| match op.as_str() {
            // Strongly consistent reads: 1 RRU each; transactions: 2 per item.
            "GetItem" | "Query" => (r + n, w),
            "TransactGetItems" => (r + 2 * n, w),
            "PutItem" | "UpdateItem" | "DeleteItem" => (r, w + n),
            "TransactWriteItems" => (r, w + 2 * n),
            _ => (r, w),
        })
}

fn take(requests: &Requests) -> Vec<(String, usize)> {
    std::mem::take(&mut *requests.lock().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_lambda_takes_a_pledge_its_webhook_and_shows_the_figures() {
    let table = moto::fresh_table("lambda-api").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let catalog = dir.path().join("catalog.json");
    std::fs::write(&catalog, catalog_json()).expect("catalog written");
    let stripe = StripeDouble::start().await.expect("Stripe double");
    let mut env = aws_env(&table);
    let (proxy, requests) = counting_proxy(moto::connection().endpoint.expect("moto")).await;
    for (name, value) in &mut env {
        if *name == "AWS_ENDPOINT_URL_DYNAMODB" {
            *value = proxy.clone();
        }
    }
    env.extend([
        ("PAVE_CATALOG", catalog.display().to_string()),
        ("PAVE_SITE_URL", "https://pave.example".to_string()),
        ("STRIPE_SECRET_KEY", double::SECRET_KEY.to_string()),
        ("STRIPE_API_BASE", stripe.api_base().to_string()),
        ("STRIPE_WEBHOOK_SECRET", double::WEBHOOK_SECRET.to_string()),
    ]);
    let bin = runtime::binary("pave-api", env!("CARGO_BIN_EXE_pave-api"));
    let mut api = Function::spawn(bin, &env).await;
    let mut durations = Vec::new();
    take(&requests); // cold start reads nothing, but be sure

    // A pledge, as the site's script posts it.
    let body = json!({ "project": "cafe-du-coin", "amount": "20", "email": "ada@example.org", "name": "Ada" });
    let (outcome, took) = api
        .invoke(http_event(
            "POST",
            "/api/pledges",
            &[
                ("content-type", "application/json"),
                ("origin", "https://pave.example"),
            ],
            Some(&body.to_string()),
        ))
        .await;
    let startup = api.first_answer.expect("answered");
    durations.push(("POST /api/pledges", took, take(&requests)));
    let (status, body) = http_answer(&outcome.response());
    assert_eq!(status, 201, "{body}");
    let created: Value = serde_json::from_str(&body).expect("JSON answer");
    let pledge_id = created["pledge_id"]
        .as_str()
        .expect("pledge_id")
        .to_string();
    assert!(
        created["checkout_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://127.0.0.1"))
    );
    let pledge = item(&table, &format!("PLEDGE#{pledge_id}"), "PLEDGE").await;
    assert_eq!(s(&pledge, "status"), "pending");
    assert_eq!(s(&pledge, "amount"), "2000");
    let session = s(&pledge, "checkout_session");

    // Stripe's webhook, signed by the double.
    let now = jiff::Timestamp::now().as_second();
    let event = stripe
        .complete_checkout(&session, now)
        .expect("known session");
    let webhook = http_event(
        "POST",
        "/api/webhooks/stripe",
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("stripe-signature", &event.header),
        ],
        Some(&event.body),
    );
    let (outcome, took) = api.invoke(webhook.clone()).await;
    durations.push(("POST /api/webhooks/stripe", took, take(&requests)));
    let (status, body) = http_answer(&outcome.response());
    assert_eq!(
        (status, body.contains("\"applied\"")),
        (200, true),
        "{body}"
    );
    // Stripe retries: applied once.
    let (status, body) = http_answer(&api.invoke(webhook).await.0.response());
    assert_eq!(
        (status, body.contains("\"duplicate\"")),
        (200, true),
        "{body}"
    );
    let pledge = item(&table, &format!("PLEDGE#{pledge_id}"), "PLEDGE").await;
    assert_eq!(s(&pledge, "status"), "paid");
    let totals = item(&table, "TOTALS", "PROJECT#cafe-du-coin").await;
    assert_eq!(
        (s(&totals, "raised"), s(&totals, "backers")),
        ("2000".into(), "1".into())
    );

    durations.push((
        "POST /api/webhooks/stripe (a retry)",
        Default::default(),
        take(&requests),
    ));
    // A forged signature is refused, and changes nothing.
    let forged = http_event(
        "POST",
        "/api/webhooks/stripe",
        &[("stripe-signature", &format!("t={now},v1=00"))],
        Some(&event.body),
    );
    let (status, body) = http_answer(&api.invoke(forged).await.0.response());
    assert_eq!(
        (status, body.contains("bad_signature")),
        (400, true),
        "{body}"
    );

    assert!(
        take(&requests).is_empty(),
        "a forged webhook reached the store"
    );
    // The figures.
    let (outcome, took) = api
        .invoke(http_event(
            "GET",
            "/api/projects/cafe-du-coin/progress",
            &[],
            None,
        ))
        .await;
    durations.push(("GET /api/projects/{slug}/progress", took, take(&requests)));
    let (status, body) = http_answer(&outcome.response());
    assert_eq!(status, 200, "{body}");
    let progress: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(progress["figures"]["raised"], "20.00");
    assert_eq!(progress["figures"]["backers"], 1);

    // Not an HTTP API event: an invocation error, and the process goes on.
    let (outcome, _) = api.invoke(json!({ "Records": "nope" })).await;
    assert!(matches!(outcome, runtime::Outcome::Error(_)), "{outcome:?}");
    let (status, _) = http_answer(
        &api.invoke(http_event("GET", "/api/health", &[], None))
            .await
            .0
            .response(),
    );
    assert_eq!(status, 200);
    // An unknown project, a bad JSON body: error answers, not crashes.
    let (status, body) = http_answer(
        &api.invoke(http_event("GET", "/api/projects/nope/progress", &[], None))
            .await
            .0
            .response(),
    );
    assert_eq!(
        (status, body.contains("unknown_project")),
        (404, true),
        "{body}"
    );
    let (status, _) = http_answer(
        &api.invoke(http_event(
            "POST",
            "/api/pledges",
            &[("content-type", "application/json")],
            Some("{"),
        ))
        .await
        .0
        .response(),
    );
    assert_eq!(status, 400);

    eprintln!(
        "pave-api: spawn → init done {:?}, → first answer {startup:?}",
        api.init_time()
    );
    for (what, took, requests) in durations {
        let (reads, writes) = request_units(&requests);
        eprintln!("pave-api: {what}: {took:?}; DynamoDB {requests:?}: {reads} RRU, {writes} WRU");
    }
}

/// The `CreateInvalidation` requests received: distribution, `Authorization`, body.
type Invalidations = Arc<Mutex<Vec<(String, String, String)>>>;

/// A stand-in for CloudFront: records `CreateInvalidation` requests (and
/// fails the first one for the distribution `EFAILONCE`).
async fn fake_cloudfront() -> (String, Invalidations) {
    use axum::extract::{Path, State};
    let seen: Invalidations = Arc::default();
    let app = axum::Router::new()
        .route(
            "/2020-05-31/distribution/{id}/invalidation",
            axum::routing::post(
                |State(seen): State<Invalidations>,
                 Path(id): Path<String>,
                 headers: axum::http::HeaderMap,
                 body: String| async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let mut seen = seen.lock().unwrap();
                    // A distribution named EFAILONCE refuses its first request.
                    let first = !seen.iter().any(|(seen_id, _, _)| *seen_id == id);
                    seen.push((id.clone(), auth, body));
                    if id == "EFAILONCE" && first {
                        return (
                            axum::http::StatusCode::SERVICE_UNAVAILABLE,
                            "<Error><Code>ServiceUnavailable</Code></Error>",
                        );
                    }
                    (
                        axum::http::StatusCode::CREATED,
                        "<Invalidation><Id>I2J0I21PCUYOIK</Id><Status>InProgress</Status></Invalidation>",
                    )
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("port");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

fn stream_record(name: &str, pk: &str, sk: &str) -> Value {
    json!({
        "eventID": "7de3041dd709b024af6f29e4fa13d34c",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-3",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_795_453_200,
            "Keys": { "pk": { "S": pk }, "sk": { "S": sk } },
            "NewImage": { "pk": { "S": pk }, "sk": { "S": sk }, "raised": { "N": "2000" }, "backers": { "N": "1" } },
            "SequenceNumber": "4421584500000000017450439091",
            "SizeBytes": 85,
            "StreamViewType": "NEW_IMAGE"
        },
        "eventSourceARN": "arn:aws:dynamodb:eu-west-3:123456789012:table/pave/stream/2026-11-23T17:00:00.000"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rebuild_lambda_puts_the_changed_pages_on_s3_and_invalidates_them() {
    let table = moto::fresh_table("lambda-rebuild").await;
    let connection = moto::connection();
    let store = DynamoStore::new(connection.client(), &table);
    let catalog = Catalog::from_json(&catalog_json()).expect("catalog");
    // A paid pledge on the café.
    moto::paid_cafe_pledge(&store, &catalog, "pl_rebuild").await;
    let s3 = s3_client(&connection, connection.endpoint.clone());
    let bucket = format!("pave-site-{}", table.to_lowercase());
    create_bucket(&s3, &bucket, &connection.region).await;
    let (cloudfront, invalidations) = fake_cloudfront().await;

    let env = rebuild_env(&table, &bucket, "E2QWRUHAPOMQZL", cloudfront);
    let bin = runtime::binary("pave-rebuild", env!("CARGO_BIN_EXE_pave-rebuild"));
    let mut rebuild = Function::spawn(bin, &env).await;
    let batch = json!({ "Records": [
        stream_record("MODIFY", "TOTALS", "PROJECT#cafe-du-coin"),
        stream_record("MODIFY", "POOL#ville-de-saint-etienne/projets-citoyens-2026", "POOL"),
        stream_record("MODIFY", "TOTALS", "PROJECT#cafe-du-coin"),
    ]});
    let (outcome, took) = rebuild.invoke(batch.clone()).await;
    let startup = rebuild.first_answer.expect("answered");
    let report = outcome.response();
    assert_eq!(report["projects"], json!(["cafe-du-coin"]));
    assert_eq!(report["skipped"].as_array().map(Vec::len), Some(1));
    let uploaded: BTreeSet<String> = report["uploaded"]
        .as_array()
        .expect("uploaded")
        .iter()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    for key in [
        "index.html",
        "projets/cafe-du-coin/index.html",
        "en/projets/cafe-du-coin/index.html",
    ] {
        assert!(uploaded.contains(key), "{key} not in {uploaded:?}");
    }
    // Only pages showing the café's figures: not another project's page.
    assert!(
        !uploaded
            .iter()
            .any(|k| k.contains("jardin-des-quatre-saisons")),
        "{uploaded:?}"
    );

    // On S3: the bytes a render of the store's figures gives, with their headers.
    let page = s3
        .get_object()
        .bucket(&bucket)
        .key("projets/cafe-du-coin/index.html")
        .send()
        .await
        .expect("the page is on S3");
    assert_eq!(page.content_type(), Some("text/html; charset=utf-8"));
    assert_eq!(
        page.cache_control(),
        Some("public, max-age=60, must-revalidate")
    );
    let bytes = page.body.collect().await.expect("body").into_bytes();
    let (site, _) = pave_generator::build::load_site(&repo().join("content"), None).expect("site");
    let theme = pave_generator::render::Theme::load(&repo().join("themes/default")).expect("theme");
    let snapshot: pave_generator::render::progress::Snapshot = serde_json::from_value(
        serde_json::to_value(store.snapshot().await.expect("snapshot")).expect("json"),
    )
    .expect("snapshot contract");
    let renderer = pave_generator::render::Renderer::new(
        &site,
        &theme,
        &snapshot,
        pave_generator::render::Options {
            today: pave_generator::build::today_in(&site.config.timezone),
            live_reload: false,
            test_payments: false,
        },
    );
    let expected = renderer
        .render_affected(&BTreeSet::from(["cafe-du-coin".to_string()]))
        .expect("render")
        .into_iter()
        .find(|f| f.path == "projets/cafe-du-coin/index.html")
        .expect("the café's page");
    assert!(
        bytes.as_ref() == expected.bytes.as_slice(),
        "the page on S3 is not the render of the store's figures"
    );

    // CloudFront: one signed CreateInvalidation with the pages' paths.
    {
        let seen = invalidations.lock().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        let (id, auth, body) = &seen[0];
        assert_eq!(id, "E2QWRUHAPOMQZL");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=testing/"),
            "{auth}"
        );
        assert!(
            auth.contains("/us-east-1/cloudfront/aws4_request"),
            "{auth}"
        );
        // About twenty pages show the café's figures: one wildcard (one
        // billed path) rather than forty paths (publish::MAX_PATHS).
        assert!(
            body.contains("<Quantity>1</Quantity><Items><Path>/*</Path></Items>"),
            "{body}"
        );
    }

    // The same batch again (Lambda retries): nothing changed, nothing put.
    let (outcome, took_again) = rebuild.invoke(batch).await;
    let report = outcome.response();
    assert_eq!(report["uploaded"], json!([]));
    assert_eq!(invalidations.lock().unwrap().len(), 1);

    // Garbage: an invocation error, and the process goes on.
    let (outcome, _) = rebuild.invoke(json!({ "Records": "nope" })).await;
    assert!(matches!(outcome, runtime::Outcome::Error(_)), "{outcome:?}");
    let (outcome, _) = rebuild.invoke(json!({ "Records": [] })).await;
    assert_eq!(outcome.response()["rendered"], 0);

    eprintln!(
        "pave-rebuild: spawn → init done {:?}, → first answer {startup:?}",
        rebuild.init_time()
    );
    eprintln!(
        "pave-rebuild: one batch (render + {} puts + invalidation): {took:?}; unchanged batch: {took_again:?}",
        uploaded.len()
    );
}

/// The project the close tests use: all-or-nothing, 12 000 € goal, ends on
/// 15 January 2027, its pledges matched by the Fondation BTP Plus's
/// `habitat-2026` pool (one euro per euro, at most 100 € a pledge).
const MISSED: &str = "chaud-dedans-beaubrun";

/// The morning after its end, as EventBridge's nightly rule sends it.
fn scheduled_event(time: &str) -> Value {
    json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time,
        "region": "eu-west-3",
        "resources": ["arn:aws:events:eu-west-3:123456789012:rule/pave-close-nightly"],
        "detail": {}
    })
}

/// A pledge paid through the Stripe double's checkout during the campaign:
/// its PaymentIntent.
async fn paid_pledge(
    store: &DynamoStore,
    catalog: &Catalog,
    stripe: &StripeDouble,
    id: &str,
    euros: u32,
) -> String {
    use pave_functions::stripe::client::{
        CheckoutRequest, Locale, Payments, StripePayments, checkout_expiry,
    };
    let paid_at = "2026-12-01T18:00:00Z"
        .parse::<jiff::Timestamp>()
        .expect("timestamp")
        .as_second();
    store
        .create_pledge(
            NewPledge {
                id: id.into(),
                project: MISSED.into(),
                amount: euros.into(),
                reward: None,
                display_name: None,
                email: format!("{id}@example.org"),
                donor: format!("donor-{id}"),
                lang: "fr".into(),
                share_contact: false,
                news: false,
                message: None,
                created_at: paid_at,
                expires_at: paid_at + 3600,
                client: None,
            },
            None,
        )
        .await
        .expect("pledge");
    let payments = StripePayments::new(&stripe.config()).expect("a client on the double");
    let now = jiff::Timestamp::now().as_second();
    let session = payments
        .create_checkout(&CheckoutRequest {
            pledge_id: id.into(),
            project_slug: MISSED.into(),
            project_title: "Chaud dedans".into(),
            amount_cents: i64::from(euros) * 100,
            currency: "eur".into(),
            customer_email: None,
            success_url: "https://pave.example/ok".into(),
            cancel_url: "https://pave.example/retour".into(),
            expires_at: checkout_expiry(now, 3600),
            locale: Locale::Fr,
        })
        .await
        .expect("a checkout");
    stripe
        .complete_checkout(&session.id, now)
        .expect("a known session");
    let intent = stripe.session(&session.id).expect("the session")["payment_intent"]
        .as_str()
        .expect("a PaymentIntent")
        .to_string();
    store
        .apply_paid(
            catalog,
            &format!("evt_{id}"),
            id,
            &Payment {
                intent: Some(&intent),
                amount_cents: i64::from(euros) * 100,
                currency: "eur",
            },
            paid_at,
        )
        .await
        .expect("paid");
    intent
}

/// A fresh table, the sample catalog (also written as the closer's bundled
/// file) and the Stripe double.
struct CloseFixture {
    table: String,
    store: DynamoStore,
    catalog: Catalog,
    stripe: StripeDouble,
    dir: tempfile::TempDir,
}

impl CloseFixture {
    async fn new(test: &str) -> CloseFixture {
        let table = moto::fresh_table(test).await;
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("catalog.json"), catalog_json()).expect("catalog written");
        CloseFixture {
            store: DynamoStore::new(moto::connection().client(), &table),
            catalog: Catalog::from_json(&catalog_json()).expect("catalog"),
            stripe: StripeDouble::start().await.expect("Stripe double"),
            table,
            dir,
        }
    }

    /// A paid pledge on [`MISSED`]: its PaymentIntent.
    async fn paid(&self, id: &str, euros: u32) -> String {
        paid_pledge(&self.store, &self.catalog, &self.stripe, id, euros).await
    }

    /// The close's state of [`MISSED`] in the store.
    async fn close_state(&self) -> Option<pave_functions::store::CloseState> {
        self.store
            .close_record(MISSED)
            .await
            .expect("close record")
            .map(|r| r.state)
    }

    /// `pave-close` under the local runtime, on moto and the double.
    async fn spawn_closer(&self) -> Function {
        let mut env = aws_env(&self.table);
        env.extend([
            (
                "PAVE_CATALOG",
                self.dir.path().join("catalog.json").display().to_string(),
            ),
            ("STRIPE_SECRET_KEY", double::SECRET_KEY.to_string()),
            ("STRIPE_API_BASE", self.stripe.api_base().to_string()),
        ]);
        let bin = runtime::binary("pave-close", env!("CARGO_BIN_EXE_pave-close"));
        Function::spawn(bin, &env).await
    }
}

/// The SMTP sink of the end-to-end tests (`scripts/smtp_sink.py`, aiosmtpd
/// from `.venv`), on a free port, stopped when dropped.
struct Sink {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Sink {
    fn start() -> Sink {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = std::process::Command::new(repo().join(".venv/bin/python"))
            .arg(repo().join("scripts/smtp_sink.py"))
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the SMTP sink starts (scripts/setup-moto installs aiosmtpd)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the sink's port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the sink said {line:?}"));
        Sink { child, port, dir }
    }

    /// The recipient of each message received.
    fn received(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.path())
            .expect("the sink's folder")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .map(|e| {
                let message: Value =
                    serde_json::from_slice(&std::fs::read(e.path()).expect("a message"))
                        .expect("JSON");
                message["rcpt_tos"][0].as_str().unwrap_or("").to_string()
            })
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The refund requests the double received for a PaymentIntent.
fn refund_calls(stripe: &StripeDouble, intent: &str) -> usize {
    stripe
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/refunds" && r.field("payment_intent") == Some(intent))
        .count()
}

/// The refunds Stripe holds on the charge of a PaymentIntent, and the
/// amount refunded (cents).
fn refunds_held(stripe: &StripeDouble, intent: &str) -> (usize, i64) {
    let event = stripe
        .charge_refunded(intent, jiff::Timestamp::now().as_second())
        .expect("a charge");
    let body: Value = serde_json::from_str(&event.body).expect("JSON");
    let charge = &body["data"]["object"];
    (
        charge["refunds"]["data"].as_array().map_or(0, Vec::len),
        charge["amount_refunded"].as_i64().unwrap_or(-1),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_close_lambda_refunds_a_missed_all_or_nothing_campaign_once() {
    use pave_functions::store::{CloseState, Outcome, PledgeStatus};
    let fixture = CloseFixture::new("lambda-close").await;
    let (store, stripe) = (&fixture.store, &fixture.stripe);
    let ada = fixture.paid("pl_close_ada", 100).await;
    let bob = fixture.paid("pl_close_bob", 40).await;
    let before = store.figures(MISSED).await.expect("figures");
    assert_eq!(before.raised, 140.into());
    assert_eq!(before.matched_total(), 140.into(), "{before:?}");

    let mut closer = fixture.spawn_closer().await;

    // Not a scheduled event: `BadEvent`, nothing done, and the process goes on.
    let (outcome, _) = closer
        .invoke(json!({ "detail-type": "Scheduled Event", "detail": {} }))
        .await;
    let runtime::Outcome::Error(error) = outcome else {
        panic!("a bad event was answered: {outcome:?}")
    };
    assert_eq!(error["errorType"], "BadEvent", "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("`time`")),
        "{error}"
    );
    let startup = closer.first_answer.expect("answered");
    assert_eq!(refund_calls(stripe, &ada) + refund_calls(stripe, &bob), 0);

    // The nightly run after the campaign's end (15 January 2027, Paris).
    let (outcome, took) = closer.invoke(scheduled_event("2027-01-16T03:00:00Z")).await;
    let summary = outcome.response();
    assert_eq!(summary["now"], "2027-01-16T03:00:00Z");
    assert!(
        summary["not_funded"]
            .as_array()
            .is_some_and(|p| p.contains(&json!(MISSED))),
        "{summary}"
    );
    assert_eq!(summary["refunds_issued"], 2, "{summary}");
    assert_eq!(summary["refunds_failed"], json!([]), "{summary}");
    // Each pledge refunded once, in full, at Stripe.
    assert_eq!(
        (refund_calls(stripe, &ada), refunds_held(stripe, &ada)),
        (1, (1, 10_000))
    );
    assert_eq!(
        (refund_calls(stripe, &bob), refunds_held(stripe, &bob)),
        (1, (1, 4_000))
    );
    // In the store: refunded, matches back to the pool, closed not funded.
    let ledger = store.ledger_pledges(MISSED).await.expect("ledger");
    assert_eq!(ledger.len(), 2);
    assert!(
        ledger
            .iter()
            .all(|p| p.status == PledgeStatus::Refunded && p.refund_id.is_some()),
        "{ledger:?}"
    );
    let after = store.figures(MISSED).await.expect("figures");
    assert_eq!(
        (after.raised, after.matched_total(), after.refunds),
        (0.into(), 0.into(), 2),
        "{after:?}"
    );
    assert_eq!(after.outcome.as_deref(), Some("not_funded"));
    let record = store
        .close_record(MISSED)
        .await
        .expect("close record")
        .expect("closed");
    assert_eq!(
        (record.state, record.outcome),
        (CloseState::Closed, Some(Outcome::NotFunded))
    );

    // The two refund notices wait in the outbox; `pave-mail`, woken by the
    // stream's record of a new email, sends them to the SMTP server.
    let sink = Sink::start();
    let mut env = aws_env(&fixture.table);
    env.extend([
        ("SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port)),
        ("MAIL_FROM", "Pavé <dons@pave.example>".to_string()),
    ]);
    let bin = runtime::binary("pave-mail", env!("CARGO_BIN_EXE_pave-mail"));
    let mut mailer = Function::spawn(bin, &env).await;
    let woken =
        json!({ "Records": [stream_record("INSERT", "OUTBOX", "pledge/pl_close_ada/refunded")] });
    let (outcome, _) = mailer.invoke(woken.clone()).await;
    assert_eq!(
        outcome.response(),
        json!({ "sent": 2, "retried": 0, "failed": 0 })
    );
    let mut received = sink.received();
    received.sort();
    assert_eq!(
        received,
        ["pl_close_ada@example.org", "pl_close_bob@example.org"]
    );
    // Woken again (the schedule's event): nothing is sent twice.
    let (outcome, _) = mailer
        .invoke(json!({ "detail-type": "Scheduled Event", "detail": {} }))
        .await;
    assert_eq!(outcome.response()["sent"], 0);
    assert_eq!(sink.received().len(), 2);

    // The next night (here as a manual `{"now": …}`): nothing left to do.
    let (outcome, took_again) = closer.invoke(json!({ "now": "2027-01-17" })).await;
    let summary = outcome.response();
    assert_eq!(
        (
            summary["projects"].clone(),
            summary["refunds_issued"].clone()
        ),
        (json!([]), json!(0)),
        "{summary}"
    );
    assert_eq!(
        (refund_calls(stripe, &ada), refund_calls(stripe, &bob)),
        (1, 1)
    );
    assert_eq!(store.figures(MISSED).await.expect("figures"), after);

    eprintln!(
        "pave-close: spawn → init done {:?}, → first answer {startup:?}",
        closer.init_time()
    );
    eprintln!(
        "pave-close: the close run (every ended project, 2 refunds): {took:?}; nothing to do: {took_again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_close_lambda_fails_when_stripe_refuses_a_refund_and_retries_it() {
    use pave_functions::store::{CloseState, PledgeStatus};
    use pave_functions::stripe::double::StripeFailure;
    let fixture = CloseFixture::new("lambda-close-refused").await;
    let (store, stripe) = (&fixture.store, &fixture.stripe);
    let intent = fixture.paid("pl_close_disputed", 60).await;
    stripe.fail_refunds(Some(StripeFailure::invalid_request(
        "charge_disputed",
        "The charge is disputed.",
        None,
    )));

    let mut closer = fixture.spawn_closer().await;
    let event = scheduled_event("2027-01-16T03:00:00Z");

    // The invocation fails, and its error names the pledge and Stripe's code.
    let (outcome, _) = closer.invoke(event.clone()).await;
    let runtime::Outcome::Error(error) = outcome else {
        panic!("a refused refund was answered as a success: {outcome:?}")
    };
    assert_eq!(error["errorType"], "CloseFailed", "{error}");
    let summary: Value = serde_json::from_str(error["errorMessage"].as_str().expect("a message"))
        .expect("the summary's JSON");
    assert_eq!(
        summary["refunds_failed"],
        json!([{ "project": MISSED, "pledge_id": "pl_close_disputed",
                 "reason": "goal_missed", "code": "charge_disputed" }]),
        "{summary}"
    );
    let ledger = store.ledger_pledges(MISSED).await.expect("ledger");
    assert_eq!(ledger[0].status, PledgeStatus::Refunding);
    assert_eq!(refunds_held(stripe, &intent), (0, 0));
    assert_eq!(fixture.close_state().await, Some(CloseState::Refunding));

    // EventBridge's retry, once Stripe accepts: refunded once, closed.
    stripe.fail_refunds(None);
    let summary = closer.invoke(event).await.0.response();
    assert_eq!(summary["refunds_issued"], 1, "{summary}");
    assert_eq!(refunds_held(stripe, &intent), (1, 6_000));
    assert_eq!(fixture.close_state().await, Some(CloseState::Closed));
}

/// `pave-rebuild`'s environment without releases: the sample content and
/// theme as folders, the site bucket, and the CloudFront stand-in.
fn rebuild_env(
    table: &str,
    bucket: &str,
    distribution: &str,
    cloudfront: String,
) -> Vec<(&'static str, String)> {
    let mut env = aws_env(table);
    env.extend([
        (
            "PAVE_CONTENT_DIR",
            repo().join("content").display().to_string(),
        ),
        (
            "PAVE_THEME_DIR",
            repo().join("themes/default").display().to_string(),
        ),
        ("SITE_BUCKET", bucket.to_string()),
        ("CDN_DISTRIBUTION_ID", distribution.to_string()),
        ("AWS_ENDPOINT_URL_CLOUDFRONT", cloudfront),
    ]);
    env
}

/// Creates a bucket on moto, as the template's stack does.
async fn create_bucket(s3: &aws_sdk_s3::Client, name: &str, region: &str) {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    s3.create_bucket()
        .bucket(name)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("bucket {name}: {e}"));
}

async fn object_text(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key} is not in {bucket}: {e}"));
    let bytes = object.body.collect().await.expect("body").into_bytes();
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

/// `pave release` (the library function it runs): the content and the
/// theme packed; uploaded to the release bucket as `aws s3 sync release/`
/// does; the id.
async fn upload_release(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    content: &std::path::Path,
) -> String {
    use pave_functions::release;
    let bundle = release::pack(content, &repo().join("themes/default")).expect("pave release");
    let id = release::id_of(&bundle);
    s3.put_object()
        .bucket(bucket)
        .key(release::bundle_key(&id))
        .body(bundle.into())
        .send()
        .await
        .expect("the release is uploaded");
    id
}

/// The pledge form of a built page, as a browser posts it: its action and
/// its fields (the hidden ones, then the amount and email given).
fn pledge_form(page: &str, amount: &str, email: &str) -> (String, String) {
    let start = page
        .find("<form class=\"pledge\"")
        .expect("the page has a pledge form");
    let form = &page[start..start + page[start..].find("</form>").expect("form end")];
    let action = form
        .split("action=\"")
        .nth(1)
        .and_then(|a| a.split('"').next())
        .expect("the form's action")
        .to_string();
    let mut fields: Vec<(String, String)> = form
        .split("<input type=\"hidden\" ")
        .skip(1)
        .map(|input| {
            let attr = |name: &str| {
                input
                    .split(&format!("{name}=\""))
                    .nth(1)
                    .and_then(|v| v.split('"').next())
                    .unwrap_or_default()
                    .to_string()
            };
            (attr("name"), attr("value"))
        })
        .collect();
    fields.push(("amount".into(), amount.into()));
    fields.push(("email".into(), email.into()));
    (
        action,
        serde_urlencoded::to_string(&fields).expect("form encoding"),
    )
}

/// README, "Deploy on AWS", followed in order on moto (S3 and DynamoDB)
/// with the Lambda binaries under the local Runtime API: the stack's
/// resources; a first content release published; a pledge posted by the
/// built form to the route that answers, paid, its webhook, the stream
/// batch; the page on the bucket shows it; a second release lowers the
/// café's goal and cap; the page shows the new goal with the money already
/// raised, and a pledge is checked against the new cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deploy_walkthrough_ships_content_as_releases_and_keeps_the_figures() {
    const SITE: &str = "https://d111111abcdef8.cloudfront.net";
    const PAGE: &str = "projets/cafe-du-coin/index.html";
    // 1. The first deploy: the table, the site and release buckets, the functions.
    let table = moto::fresh_table("walkthrough").await;
    let connection = moto::connection();
    let s3 = s3_client(&connection, connection.endpoint.clone());
    let site_bucket = format!("pave-site-{}", table.to_lowercase());
    let release_bucket = format!("pave-releases-{}", table.to_lowercase());
    create_bucket(&s3, &site_bucket, &connection.region).await;
    create_bucket(&s3, &release_bucket, &connection.region).await;
    let (cloudfront, invalidations) = fake_cloudfront().await;
    let stripe = StripeDouble::start().await.expect("Stripe double");
    let mut env = aws_env(&table);
    env.push(("PAVE_RELEASE_BUCKET", release_bucket.clone()));
    let mut api_env = env.clone();
    api_env.extend([
        ("PAVE_SITE_URL", SITE.to_string()),
        ("STRIPE_SECRET_KEY", double::SECRET_KEY.to_string()),
        ("STRIPE_API_BASE", stripe.api_base().to_string()),
        ("STRIPE_WEBHOOK_SECRET", double::WEBHOOK_SECRET.to_string()),
    ]);
    let mut rebuild_env = env.clone();
    rebuild_env.extend([
        ("SITE_BUCKET", site_bucket.clone()),
        ("CDN_DISTRIBUTION_ID", "E2QWRUHAPOMQZL".to_string()),
        ("AWS_ENDPOINT_URL_CLOUDFRONT", cloudfront),
    ]);
    let mut api = Function::spawn(
        runtime::binary("pave-api", env!("CARGO_BIN_EXE_pave-api")),
        &api_env,
    )
    .await;
    let mut rebuild = Function::spawn(
        runtime::binary("pave-rebuild", env!("CARGO_BIN_EXE_pave-rebuild")),
        &rebuild_env,
    )
    .await;

    // 2. The first content release: uploaded, then published.
    let content = tempfile::tempdir().expect("temp dir");
    copy_tree(&repo().join("content"), content.path());
    let first = upload_release(&s3, &release_bucket, content.path()).await;
    let (outcome, took) = rebuild.invoke(json!({ "release": first })).await;
    let report = outcome.response();
    assert_eq!(report["release"], json!(first), "{report}");
    let put = report["uploaded"].as_array().expect("uploaded").len();
    assert!(put > 100, "a first release puts the whole site: {put}");
    assert_eq!(
        object_text(&s3, &release_bucket, "current.json").await,
        format!("{{\"release\":\"{first}\"}}")
    );
    let page = object_text(&s3, &site_bucket, PAGE).await;
    assert_eq!(
        amounts(&page),
        "<strong>0\u{202f}€</strong> sur 6\u{202f}000\u{202f}€ — 0\u{202f}%",
        "the first release's goal"
    );
    eprintln!("walkthrough: first release {first}: {put} files in {took:?}");

    // 3. A pledge, as the built form posts it, to the route that answers.
    let (action, body) = pledge_form(&page, "20", "ada@example.org");
    assert_eq!(
        action, "/api/pledges",
        "the form posts under the site's /api/"
    );
    let post = |body: &str| {
        http_event(
            "POST",
            &action,
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", SITE),
            ],
            Some(body),
        )
    };
    let answer = api.invoke(post(&body)).await.0.response();
    let (status, text) = http_answer(&answer);
    assert_eq!(status, 303, "the form is sent to Stripe: {text}");
    let checkout = answer["headers"]["location"]
        .as_str()
        .expect("a Location")
        .to_string();
    let session = checkout
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .expect("the session id")
        .to_string();

    // 4. Stripe's webhook, signed.
    let event = stripe
        .complete_checkout(&session, jiff::Timestamp::now().as_second())
        .expect("known session");
    let (status, text) = http_answer(
        &api.invoke(http_event(
            "POST",
            "/api/webhooks/stripe",
            &[
                ("content-type", "application/json; charset=utf-8"),
                ("stripe-signature", &event.header),
            ],
            Some(&event.body),
        ))
        .await
        .0
        .response(),
    );
    assert_eq!(
        (status, text.contains("\"applied\"")),
        (200, true),
        "{text}"
    );

    // 5. The table's stream → the rebuild → the page on the bucket.
    let batch = json!({ "Records": [stream_record("MODIFY", "TOTALS", "PROJECT#cafe-du-coin")] });
    let report = rebuild.invoke(batch).await.0.response();
    assert_eq!(report["release"], json!(first), "{report}");
    assert!(report["uploaded"].to_string().contains(PAGE), "{report}");
    let page = object_text(&s3, &site_bucket, PAGE).await;
    assert!(
        amounts(&page).starts_with("<strong>20\u{202f}€</strong> sur 6\u{202f}000\u{202f}€"),
        "the page shows the pledge: {}",
        amounts(&page)
    );

    // 6. A second release lowers the café's goal to 25 € and its cap to 30 €.
    let project = content
        .path()
        .join("territories/saint-etienne/projects/cafe-du-coin/index.md");
    let text = std::fs::read_to_string(&project).expect("the café");
    std::fs::write(
        &project,
        text.replacen("goal: 6000", "goal: 25", 1)
            .replacen("cap: 7500", "cap: 30", 1),
    )
    .expect("edited");
    let second = upload_release(&s3, &release_bucket, content.path()).await;
    assert_ne!(second, first);
    let before = invalidations.lock().unwrap().len();
    let report = rebuild
        .invoke(json!({ "release": second }))
        .await
        .0
        .response();
    assert_eq!(report["release"], json!(second), "{report}");
    let put: Vec<&str> = report["uploaded"]
        .as_array()
        .expect("uploaded")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(put.contains(&PAGE), "{put:?}");
    assert!(
        !put.iter().any(|k| k.contains("jardin-des-quatre-saisons")),
        "only what changed is put: {put:?}"
    );
    assert_eq!(
        invalidations.lock().unwrap().len(),
        before + 2,
        "what changed, then the pages with figures once live"
    );

    // 7. The page: the new goal, and the money already raised.
    let page = object_text(&s3, &site_bucket, PAGE).await;
    assert!(
        amounts(&page) == "<strong>20\u{202f}€</strong> sur 25\u{202f}€ — 80\u{202f}%",
        "the new goal, and the money raised: {}",
        amounts(&page)
    );

    // 8. A pledge checked against the new cap: 20 € more is above 30 €, 10 € is not.
    let (_, body) = pledge_form(&page, "20", "grace@example.org");
    let (status, text) = http_answer(&api.invoke(post(&body)).await.0.response());
    assert_eq!(status, 409, "a pledge above the new cap is refused: {text}");
    assert!(text.contains("il reste 10\u{202f}€"), "{text}");
    let (_, body) = pledge_form(&page, "10", "grace@example.org");
    let (status, text) = http_answer(&api.invoke(post(&body)).await.0.response());
    assert_eq!(
        status, 303,
        "a pledge within the new cap goes to Stripe: {text}"
    );

    // The nightly republish: the live release again, nothing else changed.
    let report = rebuild
        .invoke(json!({ "republish": true }))
        .await
        .0
        .response();
    assert_eq!(report["release"], json!(second), "{report}");
    assert_eq!(report["removed"], Value::Null, "{report}");

    // A release with a content error is refused with the check's message
    // (file and line), and the live release stays.
    std::fs::write(
        &project,
        std::fs::read_to_string(&project)
            .expect("the café")
            .replacen("goal: 25", "goal: -5", 1),
    )
    .expect("edited");
    let broken = upload_release(&s3, &release_bucket, content.path()).await;
    match rebuild.invoke(json!({ "release": broken })).await.0 {
        runtime::Outcome::Error(error) => {
            let message = error["errorMessage"].as_str().unwrap_or_default();
            assert!(
                message.contains(
                    " --> content/territories/saint-etienne/projects/cafe-du-coin/index.md:9:7"
                ) && message.contains("goal"),
                "{message}"
            );
        }
        other => panic!("a broken release was published: {other:?}"),
    }
    assert_eq!(
        object_text(&s3, &release_bucket, "current.json").await,
        format!("{{\"release\":\"{second}\"}}")
    );
    let page = object_text(&s3, &site_bucket, PAGE).await;
    assert!(
        amounts(&page).ends_with("sur 25\u{202f}€ — 80\u{202f}%"),
        "{}",
        amounts(&page)
    );
}

/// The figures' line of a project page: "<strong>raised</strong> sur goal — percent".
fn amounts(page: &str) -> &str {
    page.split("<p class=\"amounts\">")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .expect("the page shows its amounts")
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let target = to.join(entry.path().strip_prefix(from).expect("inside"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("dir");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A batch whose invalidation failed is retried by Lambda: the retry puts
/// its pages and sends the invalidation again (what it put is only recorded
/// once CloudFront took the invalidation).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_invalidation_failed_sends_it_again_on_retry() {
    let table = moto::fresh_table("lambda-retry").await;
    let connection = moto::connection();
    let s3 = s3_client(&connection, connection.endpoint.clone());
    let bucket = format!("pave-site-{}", table.to_lowercase());
    create_bucket(&s3, &bucket, &connection.region).await;
    let (cloudfront, invalidations) = fake_cloudfront().await;
    let env = rebuild_env(&table, &bucket, "EFAILONCE", cloudfront);
    let bin = runtime::binary("pave-rebuild", env!("CARGO_BIN_EXE_pave-rebuild"));
    let mut rebuild = Function::spawn(bin, &env).await;
    let batch = json!({ "Records": [stream_record("MODIFY", "TOTALS", "PROJECT#cafe-du-coin")] });
    let (outcome, _) = rebuild.invoke(batch.clone()).await;
    match outcome {
        runtime::Outcome::Error(error) => assert!(
            error.to_string().contains("503"),
            "the invalidation's failure fails the batch: {error}"
        ),
        other => panic!("the batch succeeded without its invalidation: {other:?}"),
    }
    let report = rebuild.invoke(batch).await.0.response();
    assert!(
        report["uploaded"]
            .to_string()
            .contains("projets/cafe-du-coin/index.html"),
        "the retry puts the pages again: {report}"
    );
    assert_eq!(report["invalidated"], json!(["/*"]), "{report}");
    assert_eq!(invalidations.lock().unwrap().len(), 2, "sent again");
}
