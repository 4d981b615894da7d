//! One small server in production: `pave serve --production` behind a real
//! Caddy (Debian's, its internal CA for a local name, on loopback), its
//! graceful stop, its backups, its daily close, and the shipped systemd
//! units. HTTPS requests go through curl with Caddy's root certificate.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use pave_functions::store::sqlite::SqliteStore;

/// A free port on loopback (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Caddy with a Caddyfile for `https://pave.localhost:<port>` in front of
/// `upstream`, its data (internal CA) under `dir`; stopped when dropped.
struct Caddy {
    child: std::process::Child,
    port: u16,
    root: PathBuf,
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Caddy {
    fn start(dir: &Path, port: u16, upstream: &str) -> Caddy {
        let http_port = free_port();
        let config = dir.join("Caddyfile");
        // The shipped Caddyfile's site block, for a local name and port.
        let shipped = std::fs::read_to_string(repo_root().join("deploy/server/Caddyfile")).unwrap();
        let block = &shipped[shipped.find("pave.example.org {").expect("a site block")..];
        let block = block
            .replace("pave.example.org", &format!("pave.localhost:{port}"))
            .replace("127.0.0.1:8080", upstream)
            .replace("{\n", "{\n\tbind 127.0.0.1\n\ttls internal\n");
        std::fs::write(
            &config,
            format!(
                "{{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\thttp_port {http_port}\n\thttps_port {port}\n}}\n{block}"
            ),
        )
        .unwrap();
        let data = dir.join("caddy-data");
        let child = Command::new("caddy")
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&config)
            .env("XDG_DATA_HOME", &data)
            .env("XDG_CONFIG_HOME", dir.join("caddy-config"))
            .env("HOME", dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("caddy starts (scripts/setup-web installs Debian's caddy)");
        let caddy = Caddy {
            child,
            port,
            root: data.join("caddy/pki/authorities/local/root.crt"),
        };
        let start = Instant::now();
        loop {
            if caddy.root.exists() && caddy.get("/", &[]).0 == 200 {
                return caddy;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "caddy answers over HTTPS"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn origin(&self) -> String {
        format!("https://pave.localhost:{}", self.port)
    }

    /// A request over HTTPS (verified against Caddy's root): status,
    /// headers (lower case), body as sent (not decompressed).
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[&str],
        body: &str,
    ) -> (u16, String, Vec<u8>) {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-X", method, "-D", "-", "--cacert"])
            .arg(&self.root)
            .arg("--resolve")
            .arg(format!("pave.localhost:{}:127.0.0.1", self.port))
            .arg(format!("{}{path}", self.origin()));
        for h in headers {
            cmd.args(["-H", h]);
        }
        if !body.is_empty() {
            cmd.args(["--data-binary", body]);
        }
        let out = cmd.output().expect("curl runs");
        if !out.status.success() {
            return (
                0,
                String::from_utf8_lossy(&out.stderr).into_owned(),
                Vec::new(),
            );
        }
        let raw = out.stdout;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an HTTP answer");
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head, raw[split + 4..].to_vec())
    }

    fn get(&self, path: &str, headers: &[&str]) -> (u16, String, Vec<u8>) {
        self.request("GET", path, headers, "")
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

/// The sample content, with `base_url` set to where Caddy serves it.
fn sample_at(origin: &str) -> tempfile::TempDir {
    let dir = sample_copy();
    keep_the_cafe_open(dir.path());
    edit(
        &dir.path().join("content/site.yaml"),
        "base_url: https://pave.example.org",
        &format!("base_url: {origin}"),
    );
    dir
}

fn production(dir: &Path) -> Server {
    start_sample_server_with(
        dir,
        &["--production", "--test-payments"],
        &[
            ("PAVE_TRUSTED_PROXIES", "127.0.0.1"),
            ("PAVE_PLEDGES_PER_MINUTE", "0"),
        ],
    )
}

fn sigterm(server: &mut Server) -> std::process::ExitStatus {
    let pid = server.child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let start = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the server stops on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A pending pledge of 10 € on the café, through the API (JSON).
fn pledge(addr: &str, i: usize) -> String {
    let body = serde_json::json!({
        "project": "cafe-du-coin", "amount": "10", "lang": "fr",
        "email": format!("burst{i}@example.org"),
    });
    let (status, head, answer) = http(
        addr,
        "POST",
        "/api/pledges",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 201, "{head}");
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    answer["pledge_id"].as_str().unwrap().to_string()
}

/// Stripe's `checkout.session.completed` for a pledge of 10 €, signed with
/// the server's local webhook secret (its port's).
fn completed(pledge_id: &str, i: usize, addr: &str) -> (String, String) {
    use pave_functions::stripe::double;
    let mut session = double::fixture_checkout_session();
    session["id"] = format!("cs_burst_{i}").into();
    session["client_reference_id"] = pledge_id.into();
    session["metadata"] = serde_json::json!({ "pledge_id": pledge_id });
    session["amount_total"] = 1000.into();
    session["currency"] = "eur".into();
    session["payment_status"] = "paid".into();
    session["status"] = "complete".into();
    session["payment_intent"] = format!("pi_burst_{i}").into();
    let t = jiff::Timestamp::now().as_second();
    let event = double::event_envelope(
        &format!("evt_burst_{i}"),
        "checkout.session.completed",
        t,
        None,
        session,
    );
    let port = addr.rsplit(':').next().unwrap();
    let signed = double::sign_event(&event, &format!("whsec_local_{port}"), t);
    (signed.body, signed.header)
}

fn deliver(addr: &str, body: &str, signature: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let request = format!(
        "POST /api/webhooks/stripe HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nStripe-Signature: {signature}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
}

fn cafe_figures(addr: &str) -> serde_json::Value {
    let (status, _, json) = http(addr, "GET", "/api/projects/cafe-du-coin/progress", &[], b"");
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_slice(&json).unwrap();
    answer["figures"].clone()
}

#[test]
fn production_behind_caddy_serves_https_fresh_figures_and_stops_losing_nothing() {
    let port = free_port();
    let origin = format!("https://pave.localhost:{port}");
    let dir = sample_at(&origin);
    let mut server = production(dir.path());
    let caddy = Caddy::start(dir.path(), port, &server.addr);

    // HTTPS answers, with HSTS from Caddy and Pavé's own policy; no script.
    let (status, head, body) = caddy.get("/projets/cafe-du-coin/", &[]);
    assert_eq!(status, 200, "{head}");
    assert!(
        header(&head, "strict-transport-security").is_some(),
        "{head}"
    );
    assert!(
        header(&head, "content-security-policy").is_some_and(|p| p.contains("script-src 'none'"))
    );
    let page = String::from_utf8(body).unwrap();
    assert!(
        !page.contains("<script"),
        "a production page carries no script"
    );
    assert!(!page.contains("__pave"), "no live reload");
    assert!(
        page.contains("class=\"test-banner\""),
        "test payments are said"
    );
    // HTML is revalidated every time; the fingerprinted stylesheet is kept a year.
    assert_eq!(header(&head, "cache-control"), Some("no-cache"));
    assert!(header(&head, "last-modified").is_none(), "{head}");
    let css = page
        .split("href=\"")
        .find_map(|s| {
            s.split('"')
                .next()
                .filter(|u| u.starts_with("/style.css?v="))
        })
        .expect("a fingerprinted stylesheet")
        .to_string();
    // So are the covers, named with their fingerprint too.
    let cover = page
        .split("src=\"")
        .find_map(|s| {
            s.split('"')
                .next()
                .filter(|u| u.contains("/cover.") && u.contains("?v="))
        })
        .expect("a fingerprinted cover")
        .to_string();
    for asset in [&css, &cover] {
        let (status, head, _) = caddy.get(asset, &[]);
        assert_eq!(status, 200, "{asset}");
        assert_eq!(
            header(&head, "cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{asset}"
        );
    }
    // Brotli and gzip, written at build time, are negotiated.
    for (accept, encoding) in [("br, gzip", "br"), ("gzip", "gzip")] {
        let (status, head, body) = caddy.get("/", &[&format!("Accept-Encoding: {accept}")]);
        assert_eq!(status, 200);
        assert_eq!(header(&head, "content-encoding"), Some(encoding), "{head}");
        assert!(!body.starts_with(b"<!DOCTYPE"), "compressed bytes");
    }
    let (_, head, body) = caddy.get("/", &[]);
    assert!(header(&head, "content-encoding").is_none());
    assert!(body.starts_with(b"<!DOCTYPE html>"));

    // A pledge through the test payments, as a browser without script: the
    // very next GET of the page shows the new total.
    let (status, head, _) = caddy.request(
        "POST",
        "/api/pledges",
        &[
            "Content-Type: application/x-www-form-urlencoded",
            &format!("Origin: {origin}"),
        ],
        "project=cafe-du-coin&lang=fr&amount=25%2C50&email=camille%40example.org",
    );
    assert_eq!(status, 303, "{head}");
    let checkout = header(&head, "location").unwrap().to_string();
    let checkout = checkout
        .strip_prefix(&origin)
        .expect("the checkout is on the site");
    let (status, head, _) = caddy.request("POST", &format!("{checkout}/pay"), &[], "");
    assert_eq!(status, 303, "{head}");
    let back = header(&head, "location").unwrap().to_string();
    let back = back
        .strip_prefix(&origin)
        .expect("back on the site")
        .to_string();
    let (status, _, page) = caddy.get(&back, &[]);
    assert_eq!(status, 200);
    assert!(
        String::from_utf8(page)
            .unwrap()
            .contains("<strong>25,50\u{202F}€</strong>"),
        "the new total on the very next GET"
    );

    // SIGTERM during a burst of signed webhooks: the requests in flight
    // finish, the rest are redelivered after the restart; each counts once.
    let n = 40;
    let pledges: Vec<String> = (0..n).map(|i| pledge(&server.addr, i)).collect();
    let addr = server.addr.clone();
    let burst = {
        let pledges = pledges.clone();
        std::thread::spawn(move || {
            pledges
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    let (body, signature) = completed(id, i, &addr);
                    deliver(&addr, &body, &signature)
                })
                .collect::<Vec<_>>()
        })
    };
    std::thread::sleep(Duration::from_millis(30));
    let status = sigterm(&mut server);
    assert!(status.success(), "a clean stop: {status}");
    let answered = burst.join().unwrap();
    assert!(
        answered.iter().all(|a| a.is_none() || *a == Some(200)),
        "every webhook answered was applied: {answered:?}"
    );
    let server = production(dir.path());
    for (i, id) in pledges.iter().enumerate() {
        // Stripe redelivers every event until it gets a 200.
        let (body, signature) = completed(id, i, &server.addr);
        assert_eq!(deliver(&server.addr, &body, &signature), Some(200));
    }
    let figures = cafe_figures(&server.addr);
    assert_eq!(figures["pledges"], 1 + n as u64, "{figures}");
    assert_eq!(figures["raised"], "425.50", "{figures}");
    drop(caddy);
}

#[test]
fn a_backup_during_payments_restores_the_same_ledger_and_figures() {
    let dir = sample_copy();
    keep_the_cafe_open(dir.path());
    // JSON logs; an SMTP password that must never be logged.
    let mut server = start_sample_server_with(
        dir.path(),
        &["--production", "--test-payments"],
        &[
            ("PAVE_PLEDGES_PER_MINUTE", "0"),
            ("PAVE_LOG_FORMAT", "json"),
            ("SMTP_URL", "smtp://pave:s3cret-Passw0rd@127.0.0.1:9"),
        ],
    );
    let n = 30;
    let pledges: Vec<String> = (0..n).map(|i| pledge(&server.addr, i)).collect();
    let addr = server.addr.clone();
    let burst = {
        let pledges = pledges.clone();
        std::thread::spawn(move || {
            for (i, id) in pledges.iter().enumerate() {
                let (body, signature) = completed(id, i, &addr);
                assert_eq!(deliver(&addr, &body, &signature), Some(200));
            }
        })
    };
    // Taken while payments arrive: consistent (its running totals equal its
    // ledger), whatever it caught.
    let take_backup = |out: &Path| {
        pave(
            dir.path(),
            &[
                "backup",
                "--db",
                "data/pave.sqlite",
                "--out",
                out.to_str().unwrap(),
            ],
            Duration::from_secs(60),
        )
    };
    let during = dir.path().join("backups/during.sqlite");
    let out = take_backup(&during);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    burst.join().unwrap();
    let after = dir.path().join("backups/after.sqlite");
    let out = take_backup(&after);
    assert!(out.status.success());
    // Never over an existing backup.
    let again = take_backup(&after);
    assert_eq!(again.status.code(), Some(2));
    let live_figures = cafe_figures(&server.addr);
    assert_eq!(sigterm(&mut server).code(), Some(0));
    let log = server.log.lock().unwrap().clone();
    assert!(log.len() > 3, "{log:?}");
    for line in &log {
        let event: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(
            event["level"].is_string() && event["message"].is_string(),
            "{line}"
        );
        assert!(
            !line.contains("s3cret-Passw0rd"),
            "a secret in the logs: {line}"
        );
        assert!(
            !line.contains("@example.org"),
            "a donor's email in the logs: {line}"
        );
    }

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let original = SqliteStore::open(&dir.path().join("data/pave.sqlite")).unwrap();
    let live = runtime.block_on(async {
        use pave_functions::store::Store;
        (
            original.snapshot().await.unwrap(),
            original.project_ledger("cafe-du-coin").await.unwrap(),
        )
    });
    for (backup, whole) in [(&during, false), (&after, true)] {
        // Restored onto a fresh machine: a new folder.
        let fresh = tempfile::tempdir().unwrap();
        let db = fresh.path().join("data/pave.sqlite");
        let restore = || {
            pave(
                fresh.path(),
                &[
                    "restore",
                    "--from",
                    backup.to_str().unwrap(),
                    "--db",
                    db.to_str().unwrap(),
                ],
                Duration::from_secs(60),
            )
        };
        let out = restore();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(fresh.path().join("data/pave.progress.json").exists());
        let restored = SqliteStore::open(&db).unwrap();
        runtime.block_on(async {
            use pave_functions::store::Store;
            assert_eq!(restored.audit_totals().await.unwrap(), Vec::<String>::new());
            let snapshot = restored.snapshot().await.unwrap();
            let ledger = restored.project_ledger("cafe-du-coin").await.unwrap();
            if whole {
                assert_eq!(snapshot, live.0, "the same figures");
                assert_eq!(ledger, live.1, "the same ledger");
            } else {
                let pledges = snapshot
                    .projects
                    .get("cafe-du-coin")
                    .map_or(0, |f| f.pledges);
                assert!(pledges as usize <= n, "{pledges}");
            }
        });
        // A second restore over it needs --force.
        let refused = restore();
        assert_eq!(refused.status.code(), Some(2));
    }
    assert_eq!(live_figures["pledges"], n as u64);
}

#[test]
fn two_servers_on_one_database_close_an_ended_campaign_once() {
    let dir = sample_copy();
    // The sample's picnic tables and bicycle workshop campaigns ended
    // before today: each server closes what is due as it starts.
    // Started together, each with its own output folder, one database.
    let theme = repo_root().join("themes/default");
    let servers: Vec<_> = ["public", "public-2"]
        .into_iter()
        .map(|out| {
            let (dir, theme) = (dir.path().to_path_buf(), theme.clone());
            std::thread::spawn(move || {
                start_server_with(
                    &dir,
                    &[
                        "--content",
                        "content",
                        "--theme",
                        theme.to_str().unwrap(),
                        "--out",
                        out,
                        "--db",
                        "data/pave.sqlite",
                        "--production",
                        "--test-payments",
                    ],
                    &[],
                )
            })
        })
        .collect();
    let servers: Vec<Server> = servers.into_iter().map(|s| s.join().unwrap()).collect();
    std::thread::sleep(Duration::from_secs(2));
    let (first, second) = (&servers[0], &servers[1]);
    let _ = (first, second);
    drop(servers);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = SqliteStore::open(&dir.path().join("data/pave.sqlite")).unwrap();
    runtime.block_on(async {
        use pave_functions::store::{CloseState, Store};
        for project in ["tables-pique-nique-montaud", "atelier-velo-le-puy"] {
            let record = store.close_record(project).await.unwrap();
            assert_eq!(
                record.map(|r| r.state),
                Some(CloseState::Closed),
                "{project}"
            );
        }
    });
    // `pave close` by hand afterwards finds nothing left to do.
    let out = pave(
        dir.path(),
        &[
            "close",
            "--db",
            "data/pave.sqlite",
            "--catalog",
            "public/catalog.json",
        ],
        Duration::from_secs(60),
    );
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        !printed.contains("tables-pique-nique-montaud:"),
        "{printed}"
    );
}

#[test]
fn the_shipped_systemd_units_verify() {
    let dir = tempfile::tempdir().unwrap();
    let units = repo_root().join("deploy/server");
    let mut names = Vec::new();
    for name in ["pave.service", "pave-backup.service", "pave-backup.timer"] {
        let text = std::fs::read_to_string(units.join(name))
            .unwrap()
            .replace("/usr/local/bin/pave", env!("CARGO_BIN_EXE_pave"));
        std::fs::write(dir.path().join(name), text).unwrap();
        names.push(dir.path().join(name));
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(&names)
        .output()
        .expect("systemd-analyze (Debian's systemd)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn production_never_runs_the_test_checkout_by_mistake() {
    let dir = sample_copy();
    let theme = repo_root().join("themes/default");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let out = Command::new(env!("CARGO_BIN_EXE_pave"))
            .arg("serve")
            .args(["--content", "content", "--theme", theme.to_str().unwrap()])
            .args(["--out", "public", "--db", "data/pave.sqlite", "--port", "0"])
            .args(args)
            .env_remove("STRIPE_SECRET_KEY")
            .env_remove("STRIPE_WEBHOOK_SECRET")
            .envs(env.iter().copied())
            .current_dir(dir.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // No Stripe keys: production refuses, unless told it is a test.
    let (code, stderr) = run(&["--production"], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("--test-payments"), "{stderr}");
    // Told it is a test while Stripe's keys are set: refused too (real
    // money would move behind a test banner).
    let (code, stderr) = run(
        &["--production", "--test-payments"],
        &[
            ("STRIPE_SECRET_KEY", "sk_test_not_a_key"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_not_a_secret"),
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("STRIPE_SECRET_KEY is set"), "{stderr}");
    assert!(
        !stderr.contains("sk_test_not_a_key"),
        "the key is never printed"
    );
}

/// The outbox survives a crash while sending: the server is killed (SIGKILL,
/// no goodbye) while the SMTP server is still receiving an email; after the
/// restart every email arrives, each exactly once.
#[test]
fn an_outbox_killed_while_sending_delivers_each_email_exactly_once() {
    const EMAILS: usize = 8;
    // Each message takes 400 ms to be accepted: the kill lands in one.
    let sink = SmtpSink::start_delaying(400);
    let dir = sample_copy();
    keep_the_cafe_open(dir.path());
    let smtp = sink.url();
    let env = [
        ("PAVE_TRUSTED_PROXIES", "127.0.0.1"),
        ("PAVE_PLEDGES_PER_MINUTE", "0"),
        ("SMTP_URL", smtp.as_str()),
        ("MAIL_FROM", "Pavé <dons@pave.example>"),
        // A claim left by the killed server lapses in 3 s.
        ("PAVE_MAIL_LEASE_SECONDS", "3"),
    ];
    let start =
        |dir: &Path| start_sample_server_with(dir, &["--production", "--test-payments"], &env);
    let mut server = start(dir.path());
    let mut pledges = Vec::new();
    for i in 0..EMAILS {
        let id = pledge(&server.addr, i);
        let (body, signature) = completed(&id, i, &server.addr);
        assert_eq!(deliver(&server.addr, &body, &signature), Some(200));
        pledges.push(id);
    }
    // The fourth email is being received (three were accepted): kill.
    let begun = Instant::now();
    while sink.receiving() < 4 {
        assert!(
            begun.elapsed() < Duration::from_secs(60),
            "the emails are not being sent"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let before = sink.messages().len();
    assert!(
        (3..EMAILS).contains(&before),
        "{before} accepted when the server died"
    );

    // Restarted on the same store: the rest goes, the cut one again.
    let _server = start(dir.path());
    let messages = sink.wait_for(EMAILS, Duration::from_secs(60));
    // Long enough for a second copy to arrive (its claim would have lapsed).
    std::thread::sleep(Duration::from_secs(5));
    let messages = if sink.messages().len() > messages.len() {
        sink.messages()
    } else {
        messages
    };
    assert_eq!(messages.len(), EMAILS, "one email per payment, no more");
    for id in &pledges {
        let copies = messages
            .iter()
            .filter(|m| m["text"].as_str().unwrap_or("").contains(id.as_str()))
            .count();
        assert_eq!(copies, 1, "pledge {id}: {copies} confirmations");
    }
    let ids: std::collections::BTreeSet<&str> = messages
        .iter()
        .filter_map(|m| {
            m["raw"]
                .as_str()?
                .lines()
                .find_map(|l| l.strip_prefix("Message-ID: "))
        })
        .collect();
    assert_eq!(ids.len(), EMAILS, "each email its own stable Message-ID");
}
