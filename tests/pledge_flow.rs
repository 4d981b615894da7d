//! The citizen's path end to end on the embedded default: `pave serve` on the
//! sample site, a pledge posted through the page's plain form, the local test
//! checkout, the signed webhook through the verified path, and the new total
//! on the re-rendered project page.

mod common;

use common::*;

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn location(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .expect("a redirect")
        .trim()
        .to_string()
}

/// `http://host:port/path` → `/path`.
fn path_of(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or(url);
    rest.find('/')
        .map_or("/".to_string(), |i| rest[i..].to_string())
}

#[test]
fn a_citizen_gives_and_sees_the_new_total() {
    let dir = sample_copy();
    let server = start_sample_server(dir.path(), &["--today", common::SAMPLE_DAY]);
    let addr = server.addr.clone();

    // The project page carries the form; post it as a browser would.
    let (status, _, page) = http(&addr, "GET", "/projets/cafe-du-coin/", &[], b"");
    assert_eq!(status, 200);
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("action=\"/api/pledges\""));
    assert!(page.contains("<strong>0\u{202F}€</strong> sur 6\u{202F}000\u{202F}€"));

    let form = b"project=cafe-du-coin&lang=fr&amount=25%2C50&reward=1&name=Camille&email=camille%40example.org";
    let (status, head, _) = http(&addr, "POST", "/api/pledges", &[FORM], form);
    assert_eq!(status, 303, "{head}");
    let checkout = location(&head);
    assert!(
        checkout.contains("/api/test-checkout/cs_test_local_"),
        "{checkout}"
    );

    // The local checkout is clearly a test.
    let (status, _, body) = http(&addr, "GET", &path_of(&checkout), &[], b"");
    assert_eq!(status, 200);
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains("PAIEMENT DE TEST"));
    assert!(body.contains("25,50\u{202F}€"));
    // An English pledge's test checkout speaks English.
    let english = b"project=cafe-du-coin&lang=en&amount=12&name=Ann&email=ann%40example.org";
    let (status, head, _) = http(&addr, "POST", "/api/pledges", &[FORM], english);
    assert_eq!(status, 303, "{head}");
    let (_, _, english) = http(&addr, "GET", &path_of(&location(&head)), &[], b"");
    let english = String::from_utf8(english).unwrap();
    for expected in [
        "<html lang=\"en\">",
        "TEST PAYMENT",
        "Amount: <strong>€12</strong>",
        "Pay (test)",
    ] {
        assert!(english.contains(expected), "{expected}: {english}");
    }

    // Paying sends the signed webhook, then returns to the thank-you page.
    let (status, head, _) = http(
        &addr,
        "POST",
        &format!("{}/pay", path_of(&checkout)),
        &[],
        b"",
    );
    assert_eq!(status, 303, "{head}");
    let back = location(&head);
    assert!(back.contains("/api/pledges/pl_"), "{back}");
    assert!(back.ends_with("/merci"), "{back}");

    // It thanks the donor by the name they gave, in the site's layout, for
    // what they gave and the reward it earned, with the new total and what
    // all-or-nothing means for their money; never indexed, never cached.
    let (status, head, thanks) = http(&addr, "GET", &path_of(&back), &[], b"");
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "{head}"
    );
    let thanks = String::from_utf8(thanks).unwrap();
    for expected in [
        "<h1>Merci, Camille !</h1>",
        "Votre contribution de <strong>25,50\u{202F}€</strong>",
        "Un repas à la soirée de lancement",
        "<strong>25,50\u{202F}€</strong> sur 6\u{202F}000\u{202F}€",
        "1 contributeur",
        "si l’objectif de 6\u{202F}000\u{202F}€ n’est pas atteint le 20 décembre 2026",
        "<meta name=\"robots\" content=\"noindex\">",
        "<a class=\"brand\" href=\"/\">Pavé</a>",
        "href=\"/style.css?v=",
        "href=\"http://",
    ] {
        assert!(
            thanks.to_lowercase().contains(&expected.to_lowercase()),
            "the thank-you page lacks {expected}: {thanks}"
        );
    }
    assert!(!thanks.contains("camille@example.org"));
    // Its English version, through the language link.
    let (_, _, english) = http(
        &addr,
        "GET",
        &format!("{}?lang=en", path_of(&back)),
        &[],
        b"",
    );
    let english = String::from_utf8(english).unwrap();
    assert!(
        english.contains("<h1>Thank you, Camille!</h1>"),
        "{english}"
    );
    assert!(
        english.contains("<strong>€25.50</strong> of €6,000"),
        "{english}"
    );

    // The figures: the API, and the project page already re-rendered when
    // the thank-you page was shown.
    let (status, _, json) = http(
        &addr,
        "GET",
        "/api/projects/cafe-du-coin/progress",
        &[],
        b"",
    );
    assert_eq!(status, 200);
    let progress: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(progress["figures"]["raised"], "25.50");
    assert_eq!(progress["figures"]["backers"], 1);
    assert_eq!(progress["figures"]["rewards"]["1"], 1);
    let (_, _, page) = http(&addr, "GET", "/projets/cafe-du-coin/", &[], b"");
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.contains("<strong>25,50\u{202F}€</strong> sur 6\u{202F}000\u{202F}€"),
        "the project page does not show the pledge its thank-you page confirmed"
    );
    assert!(page.contains("1 contributeur"));
    assert!(
        !page.contains("camille@example.org"),
        "the donor's email never reaches a page"
    );
}

#[test]
fn the_api_answers_errors_with_stable_codes() {
    let dir = sample_copy();
    let server = start_sample_server(dir.path(), &["--today", common::SAMPLE_DAY]);
    let addr = server.addr.clone();
    let json = ("Content-Type", "application/json");
    let error_code = |body: &[u8]| -> String {
        let v: serde_json::Value = serde_json::from_slice(body)
            .unwrap_or_else(|_| panic!("JSON error: {}", String::from_utf8_lossy(body)));
        v["error"]["code"].as_str().unwrap().to_string()
    };

    let cases: [(&str, u16, &str); 6] = [
        (
            r#"{"project":"cafe-du-coin","amount":"0.50","email":"a@example.org"}"#,
            422,
            "amount_out_of_bounds",
        ),
        (
            r#"{"project":"cafe-du-coin","amount":"10.001","email":"a@example.org"}"#,
            422,
            "amount_not_cents",
        ),
        (
            r#"{"project":"nulle-part","amount":"10","email":"a@example.org"}"#,
            404,
            "unknown_project",
        ),
        (
            r#"{"project":"chorale-du-panier","amount":"10","email":"a@example.org"}"#,
            409,
            "project_not_live",
        ),
        (
            r#"{"project":"cafe-du-coin","amount":"10","reward":"2","email":"a@example.org"}"#,
            422,
            "below_reward_minimum",
        ),
        (
            r#"{"project":"cafe-du-coin","amount":"10","email":"pas-un-courriel"}"#,
            422,
            "invalid_email",
        ),
    ];
    for (body, status, code) in cases {
        let (got, _, answer) = http(&addr, "POST", "/api/pledges", &[json], body.as_bytes());
        assert_eq!(
            (got, error_code(&answer)),
            (status, code.to_string()),
            "{body}"
        );
    }
    let (status, _, answer) = http(&addr, "POST", "/api/pledges", &[json], b"{not json");
    assert_eq!(
        (status, error_code(&answer).as_str()),
        (400, "invalid_json")
    );

    // A form post gets a page, not JSON.
    let (status, head, page) = http(
        &addr,
        "POST",
        "/api/pledges",
        &[FORM],
        b"project=cafe-du-coin&lang=fr&amount=0&name=Jos%C3%A9+%3Cb%3E&email=a%40example.org&news=on",
    );
    assert_eq!(status, 422);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/html")
    );
    let page = String::from_utf8_lossy(&page);
    assert!(page.contains("Le montant doit être compris entre"));
    // In the site's own layout, linking back to the project's form.
    assert!(
        page.contains("<a class=\"brand\" href=\"/\">Pavé</a>"),
        "{page}"
    );
    assert!(
        page.contains("<title>Votre contribution n’a pas pu être enregistrée — Pavé</title>"),
        "{page}"
    );
    assert!(
        page.contains("/projets/cafe-du-coin/\">Retour au projet</a>"),
        "{page}"
    );
    // Nothing typed is lost: the page's form sends it again, corrected.
    for kept in [
        "<form method=\"post\" action=\"/api/pledges\">",
        "<input type=\"hidden\" name=\"project\" value=\"cafe-du-coin\">",
        "name=\"amount\" value=\"0\"",
        "name=\"name\" value=\"José &lt;b&gt;\"",
        "name=\"email\" value=\"a@example.org\" type=\"email\"",
        "name=\"news\" value=\"on\" checked>",
        "name=\"share_contact\" value=\"on\">",
    ] {
        assert!(page.contains(kept), "{kept}: {page}");
    }

    // Another site's page cannot post here.
    let (status, _, answer) = http(
        &addr,
        "POST",
        "/api/pledges",
        &[json, ("Origin", "https://evil.example")],
        br#"{"project":"cafe-du-coin","amount":"10","email":"a@example.org"}"#,
    );
    assert_eq!(
        (status, error_code(&answer).as_str()),
        (403, "origin_not_allowed")
    );

    // Oversized bodies are refused.
    let big = vec![b'a'; 200 * 1024];
    let (status, _, _) = http(&addr, "POST", "/api/pledges", &[json], &big);
    assert_eq!(status, 413);

    // A webhook with a bad signature changes nothing and gets 400.
    let event = br#"{"id":"evt_1","object":"event","type":"checkout.session.completed","data":{"object":{}}}"#;
    let (status, _, answer) = http(
        &addr,
        "POST",
        "/api/webhooks/stripe",
        &[("Stripe-Signature", "t=1700000000,v1=00ff")],
        event,
    );
    assert_eq!(
        (status, error_code(&answer).as_str()),
        (400, "bad_signature")
    );
    let (status, _, answer) = http(&addr, "POST", "/api/webhooks/stripe", &[], event);
    assert_eq!(
        (status, error_code(&answer).as_str()),
        (400, "missing_signature")
    );

    // In-kind offers: stored privately, counted publicly.
    let (status, head, confirmation) = http(
        &addr,
        "POST",
        "/api/offers",
        &[FORM],
        b"project=cafe-du-coin&need=0&name=Sam&contact=sam%40example.org&message=Je+peux+peindre",
    );
    assert_eq!(status, 200, "{head}");
    let confirmation = String::from_utf8(confirmation).unwrap();
    assert!(
        confirmation.contains("<dd class=\"message\">Je peux peindre</dd>")
            && confirmation.contains("<a class=\"brand\""),
        "the confirmation, in the site's layout, shows what was sent: {confirmation}"
    );
    let (_, _, json_progress) = http(
        &addr,
        "GET",
        "/api/projects/cafe-du-coin/progress",
        &[],
        b"",
    );
    let progress: serde_json::Value = serde_json::from_slice(&json_progress).unwrap();
    assert_eq!(progress["figures"]["offers"], 1);
    assert!(!String::from_utf8_lossy(&json_progress).contains("Sam"));

    let (status, _, body) = http(&addr, "GET", "/api/health", &[], b"");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("ok"));
}
