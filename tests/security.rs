//! What an attacker meets at `pave serve`: every response carries the
//! strict Content-Security-Policy (no script but the preview's own live
//! reload, no framing but the widget's) and the other security headers.

mod common;

use common::*;

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const JSON: (&str, &str) = ("Content-Type", "application/json");

/// The value of a header in a response head (names are case-insensitive).
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A request: method, path, headers, body.
type Request<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, &'a [u8]);

fn location(head: &str) -> String {
    let url = header(head, "location").expect("a redirect");
    let rest = url.split("://").nth(1).unwrap_or(url);
    rest.find('/')
        .map_or("/".to_string(), |i| rest[i..].to_string())
}

#[test]
fn every_response_of_pave_serve_carries_the_security_headers() {
    let dir = sample_copy();
    let server = start_sample_server(dir.path(), &["--today", common::SAMPLE_DAY]);
    let addr = server.addr.clone();

    // A pledge, to reach the test checkout's page and its error pages.
    let (status, head, _) = http(
        &addr,
        "POST",
        "/api/pledges",
        &[FORM],
        b"project=cafe-du-coin&amount=10&email=a%40example.org",
    );
    assert_eq!(status, 303, "{head}");
    let checkout = location(&head);

    let requests: Vec<Request> = vec![
        ("GET", "/".into(), vec![], b""),
        ("GET", "/en/".into(), vec![], b""),
        ("GET", "/projets/cafe-du-coin/".into(), vec![], b""),
        ("GET", "/territoires/saint-etienne/".into(), vec![], b""),
        (
            "GET",
            "/partenaires/fondation-btp-plus/".into(),
            vec![],
            b"",
        ),
        ("GET", "/style.css".into(), vec![], b""),
        (
            "GET",
            "/territoires/saint-etienne/brand.css".into(),
            vec![],
            b"",
        ),
        ("GET", "/projets/cafe-du-coin/cover.svg".into(), vec![], b""),
        (
            "GET",
            "/partenaires/fondation-btp-plus.svg".into(),
            vec![],
            b"",
        ),
        ("GET", "/catalog.json".into(), vec![], b""),
        ("GET", "/atom.xml".into(), vec![], b""),
        ("GET", "/nulle-part/".into(), vec![], b""),
        ("GET", "/api/health".into(), vec![], b""),
        (
            "GET",
            "/api/projects/cafe-du-coin/progress".into(),
            vec![],
            b"",
        ),
        (
            "GET",
            "/api/projects/nulle-part/progress".into(),
            vec![],
            b"",
        ),
        ("GET", checkout.clone(), vec![], b""),
        (
            "POST",
            "/api/pledges".into(),
            vec![FORM],
            b"project=cafe-du-coin&amount=0&email=a%40example.org",
        ),
        ("POST", "/api/pledges".into(), vec![JSON], b"{"),
        ("POST", "/api/webhooks/stripe".into(), vec![], b"{}"),
        ("GET", "/__pave/live-reload.js".into(), vec![], b""),
    ];
    for (method, path, headers, body) in &requests {
        let (status, head, _) = http(&addr, method, path, headers, body);
        assert_ne!(status, 0, "{method} {path}");
        let csp = header(&head, "content-security-policy")
            .unwrap_or_else(|| panic!("no CSP on {method} {path} ({status}):\n{head}"));
        assert_eq!(
            csp,
            pave_generator::headers::content_security_policy(path, true),
            "{method} {path}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(
            header(&head, "x-content-type-options"),
            Some("nosniff"),
            "{method} {path}"
        );
        assert_eq!(
            header(&head, "referrer-policy"),
            Some("strict-origin-when-cross-origin"),
            "{method} {path}"
        );
    }

    // The widget alone may be framed, by any site.
    let (status, head, _) = http(&addr, "GET", "/projets/cafe-du-coin/widget/", &[], b"");
    assert_eq!(status, 200);
    let csp = header(&head, "content-security-policy").unwrap();
    assert!(csp.ends_with("frame-ancestors *"), "{csp}");

    // The preview's pages load no script but its own live reload.
    let (_, _, page) = http(&addr, "GET", "/projets/cafe-du-coin/", &[], b"");
    let page = String::from_utf8(page).unwrap();
    assert_eq!(page.matches("<script").count(), 1, "only the live reload");
    assert!(page.contains("<script src=\"/__pave/live-reload.js\" defer></script>"));
    assert!(
        !page.contains("<style"),
        "no inline style: brand colours are a stylesheet"
    );
}

/// An error answer's code (JSON).
fn code(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("a JSON error: {}", String::from_utf8_lossy(body)));
    v["error"]["code"].as_str().unwrap_or_default().to_string()
}

/// A pledge as JSON from the client `ip` (behind the trusted local proxy).
fn pledge_from(addr: &str, ip: &str, body: &str) -> (u16, String, Vec<u8>) {
    http(
        addr,
        "POST",
        "/api/pledges",
        &[JSON, ("X-Forwarded-For", ip)],
        body.as_bytes(),
    )
}

#[test]
fn a_flood_from_one_client_is_refused_while_another_still_pledges() {
    let dir = sample_copy();
    let server = start_sample_server_with(
        dir.path(),
        &["--today", common::SAMPLE_DAY],
        &[
            ("PAVE_TRUSTED_PROXIES", "127.0.0.1,::1"),
            ("PAVE_PLEDGES_PER_MINUTE", "5"),
            ("PAVE_OFFERS_PER_MINUTE", "2"),
        ],
    );
    let addr = server.addr.clone();
    let body = r#"{"project":"cafe-du-coin","amount":"5","email":"flood@example.org"}"#;
    let mut answers = Vec::new();
    for _ in 0..12 {
        let (status, head, answer) = pledge_from(&addr, "203.0.113.7", body);
        answers.push((status, head, answer));
    }
    let accepted = answers.iter().filter(|(s, _, _)| *s == 201).count();
    assert_eq!(accepted, 5, "the client's burst, no more");
    for (status, head, answer) in answers.iter().filter(|(s, _, _)| *s != 201) {
        assert_eq!(*status, 429);
        assert_eq!(code(answer), "rate_limited");
        let wait: u64 = header(head, "retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
    }
    // A client's own X-Forwarded-For is believed only from the trusted
    // proxy: here it is, so another client (another address) still pledges.
    let (status, _, answer) = pledge_from(&addr, "198.51.100.2", body);
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    // A plain form gets the small page, in French, with the same code.
    let (status, _, page) = http(
        &addr,
        "POST",
        "/api/pledges",
        &[FORM, ("X-Forwarded-For", "203.0.113.7")],
        b"project=cafe-du-coin&amount=5&email=flood%40example.org",
    );
    assert_eq!(status, 429);
    assert!(String::from_utf8_lossy(&page).contains("Trop de demandes"));
    // Offers are limited apart.
    let offer = br#"{"project":"cafe-du-coin","need":"0","name":"Sam","contact":"sam@example.org","message":"Je peux aider"}"#;
    let offers: Vec<u16> = (0..4)
        .map(|_| {
            http(
                &addr,
                "POST",
                "/api/offers",
                &[JSON, ("X-Forwarded-For", "192.0.2.44")],
                offer,
            )
            .0
        })
        .collect();
    assert_eq!(offers, [201, 201, 429, 429]);
}

#[test]
fn no_donor_or_client_hoards_a_rewards_places_and_cancel_releases_one() {
    let dir = sample_copy();
    let server = start_sample_server_with(
        dir.path(),
        &["--today", common::SAMPLE_DAY],
        &[
            ("PAVE_TRUSTED_PROXIES", "127.0.0.1"),
            ("PAVE_PLEDGES_PER_MINUTE", "30"),
        ],
    );
    let addr = server.addr.clone();
    let reserved = || -> u64 {
        let (_, _, json) = http(
            &addr,
            "GET",
            "/api/projects/cafe-du-coin/progress",
            &[],
            b"",
        );
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        v["figures"]["rewards"]["1"].as_u64().unwrap_or(0)
    };
    // Reward 1 of the café (a meal at the launch) is limited.
    let limited = |email: &str| {
        format!(r#"{{"project":"cafe-du-coin","amount":"10","reward":"1","email":"{email}"}}"#)
    };
    // One donor: three places at most with open checkouts.
    for _ in 0..3 {
        let (status, _, answer) = pledge_from(&addr, "203.0.113.1", &limited("hoard@example.org"));
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    }
    let (status, _, answer) = pledge_from(&addr, "198.51.100.1", &limited("hoard@example.org"));
    assert_eq!(
        (status, code(&answer).as_str()),
        (409, "too_many_places_held")
    );
    // One client, whatever the emails.
    for i in 0..3 {
        let (status, _, _) =
            pledge_from(&addr, "192.0.2.9", &limited(&format!("n{i}@example.org")));
        assert_eq!(status, 201);
    }
    let (status, _, answer) = pledge_from(&addr, "192.0.2.9", &limited("n9@example.org"));
    assert_eq!(
        (status, code(&answer).as_str()),
        (409, "too_many_places_held")
    );
    assert_eq!(reserved(), 6);

    // A donor who cancels at the checkout releases the place at once.
    let (status, head, _) = http(
        &addr,
        "POST",
        "/api/pledges",
        &[FORM, ("X-Forwarded-For", "192.0.2.200")],
        b"project=cafe-du-coin&amount=10&reward=1&email=cancel%40example.org&lang=fr",
    );
    assert_eq!(status, 303, "{head}");
    let checkout = location(&head);
    assert_eq!(reserved(), 7);
    let (status, head, _) = http(&addr, "POST", &format!("{checkout}/cancel"), &[], b"");
    assert_eq!(status, 303, "{head}");
    let cancel = location(&head);
    assert!(
        cancel.starts_with("/api/pledges/pl_") && cancel.ends_with("/cancel"),
        "{cancel}"
    );
    let (status, head, _) = http(&addr, "GET", &cancel, &[], b"");
    assert_eq!(status, 303, "{head}");
    assert!(location(&head).starts_with("/projets/cafe-du-coin/?annule=pl_"));
    assert_eq!(reserved(), 6, "the place is free again");
    let (status, _, _) = http(&addr, "GET", &checkout, &[], b"");
    assert_eq!(status, 404, "the cancelled checkout can no longer be paid");
    // Cancelling twice changes nothing.
    let (status, _, _) = http(&addr, "GET", &cancel, &[], b"");
    assert_eq!(status, 303);
    assert_eq!(reserved(), 6);
}

#[test]
fn every_refusal_of_the_api_is_its_error_with_a_stable_code() {
    let dir = sample_copy();
    let server = start_sample_server_with(
        dir.path(),
        &["--today", common::SAMPLE_DAY],
        &[("PAVE_PLEDGES_PER_MINUTE", "100")],
    );
    let addr = server.addr.clone();
    let post =
        |headers: &[(&str, &str)], body: &[u8]| http(&addr, "POST", "/api/pledges", headers, body);
    let cases: [(&[u8], u16, &str); 8] = [
        (
            br#"{"project":"cafe-du-coin","amount":-1,"email":"a@example.org"}"#,
            422,
            "amount_out_of_bounds",
        ),
        (
            br#"{"project":"cafe-du-coin","amount":"-1","email":"a@example.org"}"#,
            422,
            "amount_out_of_bounds",
        ),
        (
            br#"{"project":"cafe-du-coin","amount":12.5,"email":"a@example.org"}"#,
            201,
            "",
        ),
        (
            br#"{"project":"cafe-du-coin","amount":"10","email":"a@b"}"#,
            422,
            "invalid_email",
        ),
        (
            br#"{"project":"cafe-du-coin","amount":"10","email":"Zoe <z@example.org>"}"#,
            422,
            "invalid_email",
        ),
        (
            br#"{"project":"cafe-du-coin","amount":"10","email":"a..b@example.org"}"#,
            422,
            "invalid_email",
        ),
        (
            br#"{"project":"cafe-du-coin","amount":"10","email":"@example.org"}"#,
            422,
            "invalid_email",
        ),
        (
            br#"{"project":"cafe-du-coin","amount":"10"}"#,
            400,
            "invalid_json",
        ),
    ];
    for (body, status, expected) in cases {
        let (got, _, answer) = post(&[JSON], body);
        assert_eq!(
            got,
            status,
            "{}: {}",
            String::from_utf8_lossy(body),
            String::from_utf8_lossy(&answer)
        );
        if !expected.is_empty() {
            assert_eq!(code(&answer), expected, "{}", String::from_utf8_lossy(body));
        }
    }
    // Invalid UTF-8 in a form is refused, never read as U+FFFD.
    for body in [
        &b"project=cafe-du-coin&amount=10&email=a%40example.org&name=Zo%E9"[..],
        &b"project=cafe-du-coin&amount=10&email=a%40example.org&name=Zo\xe9"[..],
    ] {
        let (status, head, page) = post(&[FORM], body);
        assert_eq!(status, 400, "{head}");
        assert!(String::from_utf8_lossy(&page).contains("UTF-8"));
        let (status, _, answer) = post(&[JSON], br#"{"project":"#);
        assert_eq!((status, code(&answer).as_str()), (400, "invalid_json"));
    }
    // Too large: 413, as JSON or as the small page.
    let big = vec![b'a'; 200 * 1024];
    let (status, _, answer) = post(&[JSON], &big);
    assert_eq!((status, code(&answer).as_str()), (413, "body_too_large"));
    let (status, head, page) = post(&[FORM], &big);
    assert_eq!(status, 413);
    assert!(
        header(&head, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(String::from_utf8_lossy(&page).contains("trop volumineuse"));
    let (status, _, answer) = http(
        &addr,
        "POST",
        "/api/webhooks/stripe",
        &[],
        &vec![b'{'; 600 * 1024],
    );
    assert_eq!((status, code(&answer).as_str()), (413, "body_too_large"));
    // A method or an address the API does not have.
    let (status, _, answer) = http(&addr, "GET", "/api/pledges", &[], b"");
    assert_eq!(
        (status, code(&answer).as_str()),
        (405, "method_not_allowed")
    );
    let (status, _, answer) = http(&addr, "DELETE", "/api/offers", &[], b"");
    assert_eq!(
        (status, code(&answer).as_str()),
        (405, "method_not_allowed")
    );
    let (status, _, answer) = http(&addr, "GET", "/api/nowhere", &[], b"");
    assert_eq!((status, code(&answer).as_str()), (404, "unknown_route"));
    let (status, _, answer) = http(&addr, "GET", "/api/pledges/pl_nope/cancel", &[], b"");
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&answer).contains("introuvable"));
}
