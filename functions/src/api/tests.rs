//! The API's answers in French and in English, through the handlers.

use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{ApiConfig, AppState, create_offer, create_pledge, local::LocalPayments, progress};
use crate::catalog::Catalog;
use crate::store::sqlite::SqliteStore;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// The sample catalog, with the café's campaign open around today.
fn state() -> Arc<AppState<SqliteStore>> {
    let mut catalog =
        Catalog::from_json(pave_contract::catalog::fixtures::SAMPLE.as_bytes()).unwrap();
    let today = crate::pledge::today_in("Europe/Paris", jiff::Timestamp::now().as_second());
    let cafe = catalog.projects.get_mut("cafe-du-coin").unwrap();
    cafe.start = today.checked_sub(jiff::Span::new().days(10)).unwrap();
    cafe.end = today.checked_add(jiff::Span::new().days(10)).unwrap();
    cafe.needs = vec!["Des bras".into(), "Des conseils".into()];
    Arc::new(AppState {
        store: SqliteStore::in_memory().unwrap(),
        catalog: RwLock::new(Arc::new(catalog)),
        frames: Default::default(),
        payments: Arc::new(
            LocalPayments::new("http://localhost:0", "whsec_test", Default::default()).unwrap(),
        ),
        config: ApiConfig {
            site_url: "https://pave.example".into(),
            allowed_origins: vec!["https://pave.example".into()],
            webhook_secret: "whsec_test".into(),
            api_url: None,
        },
        changes: None,
        local: None,
        outbox: Default::default(),
        limits: super::limits::Limits::none(),
        fresh: Default::default(),
        clock: Default::default(),
    })
}

fn headers(content_type: &str, accept_language: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap(),
    );
    if let Some(al) = accept_language {
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(al).unwrap());
    }
    h
}

async fn read(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn pledge(
    body: &str,
    content_type: &str,
    accept_language: Option<&str>,
) -> (StatusCode, String) {
    let response = create_pledge(
        State(state()),
        None,
        headers(content_type, accept_language),
        Ok(Bytes::from(body.to_string())),
    )
    .await;
    read(response).await
}

/// The JSON error's code and message.
fn error(body: &str) -> (String, String) {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    (
        v["error"]["code"].as_str().unwrap().to_string(),
        v["error"]["message"].as_str().unwrap().to_string(),
    )
}

const TOO_MUCH: &str = r#""project": "cafe-du-coin", "amount": "1000", "email": "a@example.org""#;

#[tokio::test]
async fn the_same_refusal_in_french_and_english() {
    let (status, fr) = pledge(&format!(r#"{{{TOO_MUCH}, "lang": "fr"}}"#), JSON, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error(&fr),
        (
            "amount_out_of_bounds".into(),
            "Le montant doit être compris entre 1\u{202F}€ et 500\u{202F}€.".into()
        )
    );
    let (status, en) = pledge(&format!(r#"{{{TOO_MUCH}, "lang": "en"}}"#), JSON, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error(&en),
        (
            "amount_out_of_bounds".into(),
            "The amount must be between €1 and €500.".into()
        )
    );
    // Without a language: French.
    let (_, default) = pledge(&format!("{{{TOO_MUCH}}}"), JSON, None).await;
    assert_eq!(error(&default), error(&fr));
}

#[tokio::test]
async fn accept_language_chooses_when_the_body_does_not() {
    let english = Some("en-GB,en;q=0.9");
    let (_, en) = pledge(&format!("{{{TOO_MUCH}}}"), JSON, english).await;
    assert_eq!(error(&en).1, "The amount must be between €1 and €500.");
    // The body's `lang` wins over the header.
    let (_, fr) = pledge(&format!(r#"{{{TOO_MUCH}, "lang": "fr"}}"#), JSON, english).await;
    assert_eq!(error(&fr).0, "amount_out_of_bounds");
    assert!(error(&fr).1.starts_with("Le montant"), "{fr}");
    // An unsupported `lang` leaves the choice to the header.
    let (_, en) = pledge(&format!(r#"{{{TOO_MUCH}, "lang": "de"}}"#), JSON, english).await;
    assert!(error(&en).1.starts_with("The amount"), "{en}");
    // Even a body that cannot be read is answered in the header's language.
    let (status, en) = pledge("{not json", JSON, english).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (code, message) = error(&en);
    assert_eq!(code, "invalid_json");
    assert!(message.starts_with("Invalid JSON body: "), "{message}");
}

#[tokio::test]
async fn a_refused_form_gets_a_page_in_its_language() {
    let form = "project=cafe-du-coin&amount=0%2C5&email=a%40example.org";
    let (status, page) = pledge(&format!("{form}&lang=en"), FORM, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("<html lang=\"en\">"), "{page}");
    assert!(page.contains("<title>Your pledge could not be recorded</title>"));
    assert!(
        page.contains("The amount must be between €1 and €500."),
        "{page}"
    );
    // Back to the project the form is on, in the form's language.
    assert!(
        page.contains(
            "<a class=\"button\" href=\"https://pave.example/en/projets/cafe-du-coin/\">Back to the project</a>"
        ),
        "{page}"
    );

    let (_, page) = pledge(form, FORM, Some("en;q=0.4, fr-CA;q=0.8")).await;
    assert!(page.contains("<html lang=\"fr\">"), "{page}");
    assert!(page.contains("<title>Votre contribution n’a pas pu être enregistrée</title>"));
    assert!(page.contains("entre 1\u{202F}€ et 500\u{202F}€"), "{page}");
}

#[tokio::test]
async fn other_refusals_follow_the_language() {
    // Unknown reward, a closed project, an unknown project: codes unchanged.
    let cases = [
        (
            r#"{"project": "cafe-du-coin", "amount": "20", "reward": "9", "email": "a@example.org", "lang": "en"}"#,
            "unknown_reward",
            "This reward does not exist.",
        ),
        (
            r#"{"project": "cafe-du-coin", "amount": "5", "reward": "1", "email": "a@example.org", "lang": "en"}"#,
            "below_reward_minimum",
            "This reward requires at least €10.",
        ),
        (
            r#"{"project": "cafe-du-coin", "amount": "5", "reward": "1", "email": "a@example.org", "lang": "fr"}"#,
            "below_reward_minimum",
            "Cette contrepartie demande au moins 10\u{202F}€.",
        ),
        (
            r#"{"project": "atelier-velo-le-puy", "amount": "20", "email": "a@example.org", "lang": "en"}"#,
            "project_not_live",
            "This project is not taking pledges at the moment.",
        ),
        (
            r#"{"project": "nulle-part", "amount": "20", "email": "a@example.org", "lang": "en"}"#,
            "unknown_project",
            "The project “nulle-part” does not exist.",
        ),
        (
            r#"{"project": "cafe-du-coin", "amount": "douze", "email": "a@example.org", "lang": "en"}"#,
            "invalid_amount",
            "The amount is not a number (for example 20 or 12.50).",
        ),
    ];
    for (body, code, message) in cases {
        let (_, answer) = pledge(body, JSON, None).await;
        assert_eq!(error(&answer), (code.to_string(), message.to_string()));
    }
}

#[tokio::test]
async fn origin_and_offer_errors_follow_the_language() {
    let mut h = headers(JSON, Some("en"));
    h.insert(
        header::ORIGIN,
        HeaderValue::from_static("https://evil.example"),
    );
    let (status, answer) =
        read(create_pledge(State(state()), None, h, Ok(Bytes::from_static(b"{}"))).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        error(&answer),
        (
            "origin_not_allowed".into(),
            "Submissions from https://evil.example are not accepted.".into()
        )
    );

    let offer =
        r#"{"project": "cafe-du-coin", "name": "", "contact": "x", "message": "y", "lang": "en"}"#;
    let (status, answer) = read(
        create_offer(
            State(state()),
            None,
            headers(JSON, None),
            Ok(Bytes::from_static(offer.as_bytes())),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error(&answer),
        (
            "invalid_offer".into(),
            "The field “Your name” is empty or too long (at most 100 characters).".into()
        )
    );
}

#[tokio::test]
async fn progress_of_an_unknown_project_in_english() {
    let mut h = HeaderMap::new();
    h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("en-US"));
    let (status, answer) = read(progress(State(state()), Path("nulle-part".into()), h).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        error(&answer),
        (
            "unknown_project".into(),
            "The project “nulle-part” does not exist.".into()
        )
    );
}

/// The consent checkbox: ticked in a form (`on`), a JSON boolean, false when
/// absent or unticked, refused when it is something else.
#[test]
fn share_contact_is_read_from_forms_and_json() {
    let form = |body: &str| serde_urlencoded::from_str::<super::PledgeInput>(body);
    let json = |body: &str| serde_json::from_str::<super::PledgeInput>(body);
    let base = "project=cafe-du-coin&amount=10&email=a%40example.org";
    assert!(
        form(&format!("{base}&share_contact=on"))
            .unwrap()
            .share_contact
    );
    assert!(!form(base).unwrap().share_contact);
    assert!(
        !form(&format!("{base}&share_contact="))
            .unwrap()
            .share_contact
    );
    assert!(form(&format!("{base}&share_contact=peut-etre")).is_err());
    let base = r#""project": "cafe-du-coin", "amount": "10", "email": "a@example.org""#;
    assert!(
        json(&format!("{{{base}, \"share_contact\": true}}"))
            .unwrap()
            .share_contact
    );
    assert!(
        !json(&format!("{{{base}, \"share_contact\": false}}"))
            .unwrap()
            .share_contact
    );
    assert!(!json(&format!("{{{base}}}")).unwrap().share_contact);
    assert!(json(&format!("{{{base}, \"share_contact\": 3}}")).is_err());
}

async fn offer(body: &'static str, state: Arc<AppState<SqliteStore>>) -> (StatusCode, String) {
    read(
        create_offer(
            State(state),
            None,
            headers(FORM, None),
            Ok(Bytes::from_static(body.as_bytes())),
        )
        .await,
    )
    .await
}

/// An offer names one of the project's needs, on a project whose campaign
/// is open; its refusal is a page titled for offers, linking to the project.
#[tokio::test]
async fn offers_for_a_need_that_does_not_exist_or_a_closed_project_are_refused() {
    let ok = offer(
        "project=cafe-du-coin&need=1&name=Sam&contact=sam%40example.org&message=Je+peux+peindre",
        state(),
    )
    .await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
    // The confirmation says it is recorded, for whom, and what was sent.
    for expected in [
        "<h1>Merci pour votre proposition d’aide</h1>",
        "est transmise à l’équipe du projet",
        "<dd>Sam</dd>",
        "<dd>sam@example.org</dd>",
        "<dd class=\"message\">Je peux peindre</dd>",
        "href=\"https://pave.example/projets/cafe-du-coin/\"",
    ] {
        assert!(ok.1.contains(expected), "{expected}: {}", ok.1);
    }
    for need in ["2", "99", "-1", "peinture"] {
        let body: &'static str = Box::leak(
            format!("project=cafe-du-coin&need={need}&name=Sam&contact=s%40e.org&message=Oui")
                .into_boxed_str(),
        );
        let (status, page) = offer(body, state()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "need {need}: {page}"
        );
        assert!(
            page.contains("Ce besoin n’est pas (ou plus) dans la liste du projet"),
            "{page}"
        );
        assert!(
            page.contains("<title>Votre proposition d’aide n’a pas pu être enregistrée</title>"),
            "{page}"
        );
        assert!(
            page.contains(
                "<a class=\"button\" href=\"https://pave.example/projets/cafe-du-coin/\">Retour au projet</a>"
            ),
            "{page}"
        );
    }
    let closed = state();
    {
        let mut catalog = (**closed.catalog.read().unwrap()).clone();
        let cafe = catalog.projects.get_mut("cafe-du-coin").unwrap();
        cafe.end = cafe.start;
        cafe.start = cafe.start.checked_sub(jiff::Span::new().days(30)).unwrap();
        *closed.catalog.write().unwrap() = Arc::new(catalog);
    }
    let (status, page) = offer(
        "project=cafe-du-coin&name=Sam&contact=s%40e.org&message=Oui&lang=en",
        closed,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(
        page.contains("This project no longer takes offers of help"),
        "{page}"
    );
}

/// A form without a field it needs says which, as the form labels it, not
/// in the parser's words.
#[tokio::test]
async fn a_missing_field_is_named_as_the_form_labels_it() {
    let (status, page) = pledge("project=cafe-du-coin&amount=20", FORM, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("Le champ « Courriel » est à remplir."),
        "{page}"
    );
    assert!(!page.contains("missing field"), "{page}");
    let (_, page) = pledge("project=cafe-du-coin&amount=20&lang=en", FORM, None).await;
    assert!(page.contains("Please fill in “Email”."), "{page}");
}

/// A paid pledge's thank-you page re-renders its project's pages on its
/// first visit only; the oldest visits are forgotten past the bound.
#[test]
fn only_the_first_visit_of_a_thank_you_page_waits_for_a_render() {
    let visits = super::FirstVisits::default();
    assert!(visits.first_visit("pl_1"));
    assert!(!visits.first_visit("pl_1"));
    for n in 0..super::FirstVisits::KEPT {
        assert!(visits.first_visit(&format!("pl_other_{n}")));
    }
    assert!(visits.first_visit("pl_1"), "forgotten past the bound");
}

#[tokio::test]
async fn a_public_message_is_taken_only_where_the_territory_allows_it() {
    let long = "é".repeat(crate::store::MAX_MESSAGE_CHARS + 1);
    let body = serde_json::json!({
        "project": "cafe-du-coin", "amount": "10", "email": "a@example.org", "message": long
    })
    .to_string();
    let post = |state: Arc<AppState<SqliteStore>>, body: String| async move {
        read(
            create_pledge(
                State(state),
                None,
                headers(JSON, None),
                Ok(Bytes::from(body)),
            )
            .await,
        )
        .await
    };
    // Off (the default): a message sent anyway is not kept, nor refused.
    let (status, answer) = post(state(), body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // On: one too long is refused with its own code.
    let on = state();
    {
        let mut catalog = (*on.catalog()).clone();
        catalog.projects.get_mut("cafe-du-coin").unwrap().messages = true;
        *on.catalog.write().unwrap() = Arc::new(catalog);
    }
    let (status, answer) = post(on.clone(), body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error(&answer).0, "invalid_message", "{answer}");
    let fine = serde_json::json!({
        "project": "cafe-du-coin", "amount": "10", "email": "a@example.org", "message": "Bravo !"
    })
    .to_string();
    assert_eq!(post(on, fine).await.0, StatusCode::CREATED);
}
