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
    let server = start_sample_server(dir.path(), &[]);
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
