//! `pave serve`: serves the built site, rebuilds on content changes and tells
//! the browser to reload.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn serves_the_site_and_reloads_on_change() {
    let dir = sample_copy();
    let server = start_sample_server(dir.path(), &["--today", "2026-11-23"]);

    let (status, head, body) = http(&server.addr, "GET", "/projets/cafe-du-coin/", &[], b"");
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/html")
    );
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("<h1>Le Café du Coin — café, AMAP et ressourcerie</h1>"));
    assert!(
        page.contains("/__pave/live-reload.js"),
        "serve mode adds the live-reload script"
    );

    let (status, _, body) = http(&server.addr, "GET", "/nulle-part/", &[], b"");
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("Page introuvable"));

    // Listen to the reload events, then edit a project.
    let mut events = std::net::TcpStream::connect(&server.addr).unwrap();
    events
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        events,
        "GET /__pave/events HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.addr
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let f = dir
        .path()
        .join("content/territories/saint-etienne/projects/cafe-du-coin/index.md");
    edit(
        &f,
        "title: Le Café du Coin — café, AMAP et ressourcerie",
        "title: Le Café du Coin rénové",
    );

    let start = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&received).contains("event: reload") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no reload event: {}",
            String::from_utf8_lossy(&received)
        );
        match events.read(&mut buf) {
            Ok(0) => panic!("event stream closed"),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) => panic!("event stream: {e}"),
        }
    }
    let (_, _, body) = http(&server.addr, "GET", "/projets/cafe-du-coin/", &[], b"");
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("<h1>Le Café du Coin rénové</h1>"),
        "the page was rebuilt"
    );
}

/// `--today` moves the API's clock with the pages': the day after the
/// café's campaign ended, its pledges are refused as ended, and the next
/// campaign that has not begun is refused as not started.
#[test]
fn the_preview_s_day_is_the_api_s_day_too() {
    let dir = sample_copy();
    let server = start_sample_server(dir.path(), &["--today", "2026-12-21"]);
    let pledge = |project: &str| {
        let body = format!(r#"{{"project":"{project}","amount":"10","email":"a@example.org"}}"#);
        let (status, _, answer) = http(
            &server.addr,
            "POST",
            "/api/pledges",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        (
            status,
            answer["error"]["code"].as_str().unwrap_or("").to_string(),
        )
    };
    let (status, code) = pledge("cafe-du-coin");
    assert_eq!((status, code.as_str()), (409, "campaign_ended"));
    // Still open that day (until 2026-12-24).
    assert_eq!(pledge("toit-partage").0, 201);
    drop(server);

    // In production the clock is the real one: --today is refused.
    let out = pave(
        dir.path(),
        &[
            "serve",
            "--production",
            "--test-payments",
            "--today",
            "2026-11-23",
        ],
        Duration::from_secs(60),
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("production follows the real clock"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The README's first command on a new store: the sample's ledger
/// (`samples/ledger.yaml`) is written in through the payment path, the
/// ended campaign closed, so the sample is a platform in use, consistent
/// with its stories; a second start on the same store adds nothing.
#[test]
fn a_new_preview_store_gets_the_sample_s_ledger_once() {
    let dir = sample_copy();
    copy_tree(&repo_root().join("samples"), &dir.path().join("samples"));
    let figures = |addr: &str, slug: &str| {
        let (_, _, page) = http(addr, "GET", &format!("/projets/{slug}/"), &[], b"");
        let page = String::from_utf8(page).unwrap().replace('\u{202F}', " ");
        let at = page.find("<p class=\"amounts\">").expect("figures");
        page[at..].chars().take(700).collect::<String>()
    };
    let server = start_sample_server(dir.path(), &["--today", common::SAMPLE_DAY]);
    // "Merci aux 143 donateurs qui ont permis d'atteindre 3 480 €", and the
    // city's 1 320 € paid at the close, by the engine's rules.
    let picnic = figures(&server.addr, "tables-pique-nique-montaud");
    assert!(
        picnic.contains("<strong>4 800 €</strong> sur 3 200 €"),
        "{picnic}"
    );
    assert!(picnic.contains("143 contributeurs"), "{picnic}");
    assert!(picnic.contains("Financé"), "{picnic}");
    let cafe = figures(&server.addr, "cafe-du-coin");
    assert!(
        cafe.contains("<strong>2 760 €</strong> sur 6 000 €"),
        "{cafe}"
    );
    assert!(cafe.contains("96 contributeurs"), "{cafe}");
    // The wall of backers: newest first, 20 a page, names chosen or "Anonyme".
    let (_, _, page) = http(&server.addr, "GET", "/projets/cafe-du-coin/", &[], b"");
    assert!(String::from_utf8_lossy(&page).contains(
        "<a href=\"/api/projects/cafe-du-coin/backers?lang=fr\">Voir qui soutient ce projet</a>"
    ));
    let wall = |page: u32| {
        let (status, _, body) = http(
            &server.addr,
            "GET",
            &format!("/api/projects/cafe-du-coin/backers?lang=fr&page={page}"),
            &[],
            b"",
        );
        assert_eq!(status, 200);
        String::from_utf8(body).unwrap()
    };
    let first = wall(1);
    assert_eq!(first.matches("<li><strong>").count(), 20, "{first}");
    for expected in [
        "<h1>Ils soutiennent « Le Café du Coin",
        "96 contributions, les plus récentes d’abord.",
        "<li><strong>Anonyme</strong>",
        "Page 1 sur 5",
        "rel=\"next\" href=\"/api/projects/cafe-du-coin/backers?lang=fr&amp;page=2\"",
        "21 novembre 2026",
    ] {
        assert!(first.contains(expected), "{expected}: {first}");
    }
    assert!(
        first.matches("<li><strong>Anonyme</strong>").count() < 20,
        "some names shown"
    );
    let last = wall(5);
    assert_eq!(last.matches("<li><strong>").count(), 16, "{last}");
    assert!(
        last.contains("1 novembre 2026") || last.contains("1er novembre 2026"),
        "{last}"
    );
    assert!(!last.contains("rel=\"next\""));
    drop(server);
    let again = start_sample_server(dir.path(), &["--today", common::SAMPLE_DAY]);
    let cafe = figures(&again.addr, "cafe-du-coin");
    assert!(
        cafe.contains("<strong>2 760 €</strong>"),
        "seeded once: {cafe}"
    );
}
