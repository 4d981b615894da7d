//! API errors: a stable code and a message for people, as JSON for programs
//! and as a page in the site's layout for people who posted a plain form. The message is
//! written in the language chosen for the answer ([`Lang::choose`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use pave_contract::frame::Frames;

use crate::messages::{Lang, Message};
use crate::pages::Written;
use crate::pledge::Refusal;
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Message,
    /// Seconds to wait before trying again (`Retry-After`), when limited.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: Message) -> ApiError {
        ApiError {
            status,
            code,
            message,
            retry_after: None,
        }
    }

    /// 429: too many requests from this client; try again after `wait`.
    pub fn rate_limited(wait: std::time::Duration) -> ApiError {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiError {
            retry_after: Some(seconds.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                Message::RateLimited {
                    seconds: seconds.max(1),
                },
            )
        }
    }

    pub fn bad_request(code: &'static str, message: Message) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn store(e: StoreError) -> ApiError {
        match e {
            StoreError::RewardSoldOut => ApiError::new(
                StatusCode::CONFLICT,
                "reward_sold_out",
                Message::RewardSoldOut,
            ),
            StoreError::TooManyPlacesHeld => ApiError::new(
                StatusCode::CONFLICT,
                "too_many_places_held",
                Message::TooManyPlacesHeld {
                    max: crate::store::MAX_PLACES_HELD,
                },
            ),
            StoreError::UnknownPledge(_) => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_pledge",
                Message::UnknownPledge,
            ),
            StoreError::UnknownProject(slug) => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_project",
                Message::UnknownProject { slug },
            ),
            StoreError::Money(_) => {
                ApiError::bad_request("invalid_amount", Message::AmountNotRecordable)
            }
            StoreError::Backend(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                Message::StoreUnavailable,
            ),
        }
    }

    /// JSON, in `lang`.
    pub fn json(&self, lang: Lang) -> Response {
        let body = serde_json::json!({
            "error": { "code": self.code, "message": self.message.render(lang) }
        });
        self.with_retry_after((self.status, axum::Json(body)).into_response())
    }

    /// The page for a person, in the site's layout (`frames`) and `lang`:
    /// titled for `kind`, what went wrong, and a link `back`.
    pub fn page(&self, lang: Lang, kind: FormKind, back: &Back, frames: &Frames) -> Response {
        // A post from another site gets no form to send it again from here.
        let kept;
        let back = if self.code == "origin_not_allowed" && !back.values.is_empty() {
            kept = Back {
                values: Vec::new(),
                ..back.clone()
            };
            &kept
        } else {
            back
        };
        let written = error_page(&self.message.render(lang), lang, kind, back);
        let urls = [(lang, back.url.clone())];
        self.with_retry_after(super::framed(self.status, frames, lang, &written, &urls))
    }

    /// JSON, or for a form of `kind` its page ([`ApiError::page`]).
    pub fn respond_to(
        &self,
        form: bool,
        lang: Lang,
        kind: FormKind,
        back: &Back,
        frames: &Frames,
    ) -> Response {
        if form {
            self.page(lang, kind, back, frames)
        } else {
            self.json(lang)
        }
    }

    fn with_retry_after(&self, mut response: Response) -> Response {
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// Where a failed form's page links back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Back {
    pub url: String,
    /// The project's page (else the site's home).
    pub project: bool,
    /// What the form sent (its known fields), for the page's form that
    /// sends it again once corrected: nothing typed is lost.
    pub values: Vec<(String, String)>,
}

impl Back {
    /// The site's home page in `lang`.
    pub fn home(site_url: &str, lang: Lang) -> Back {
        Back {
            url: format!("{site_url}{}", pave_contract::urls::home(lang)),
            project: false,
            values: Vec::new(),
        }
    }
}

/// What failed (the title of its page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    /// The pledge form, or its checkout.
    Pledge,
    /// The offer of help form.
    Offer,
    /// A pledge's own pages (its thank-you page, its cancel link).
    Shown,
}

/// The page answering what failed: its title, what went wrong, and a link
/// back to the project's page (`back`), where the form is.
fn error_page(message: &str, lang: Lang, kind: FormKind, back_to: &Back) -> Written {
    let title = match (lang, kind) {
        (Lang::En, FormKind::Pledge) => "Your pledge could not be recorded",
        (Lang::En, FormKind::Offer) => "Your offer of help could not be recorded",
        (Lang::En, FormKind::Shown) => "This pledge cannot be shown",
        (Lang::Fr, FormKind::Pledge) => "Votre contribution n’a pas pu être enregistrée",
        (Lang::Fr, FormKind::Offer) => "Votre proposition d’aide n’a pas pu être enregistrée",
        (Lang::Fr, FormKind::Shown) => "Cette contribution ne peut pas être affichée",
    };
    let back = match (lang, back_to.project) {
        (Lang::En, true) => "Back to the project",
        (Lang::En, false) => "Back to the site",
        (Lang::Fr, true) => "Retour au projet",
        (Lang::Fr, false) => "Retour au site",
    };
    Written {
        title: title.to_string(),
        main: format!(
            "<h1>{title}</h1>\n<p class=\"lead\" role=\"alert\">{}</p>\n{}<p><a class=\"button\" href=\"{}\">{back}</a></p>\n",
            escape(message),
            retry_form(kind, &back_to.values, lang),
            escape(&back_to.url)
        ),
        head: String::new(),
    }
}

/// The fields a form's retry keeps: hidden ones, then what the person typed
/// or ticked, in the form's order.
const PLEDGE_FIELDS: [&str; 9] = [
    "project",
    "lang",
    "reward",
    "amount",
    "name",
    "email",
    "message",
    "share_contact",
    "news",
];
const OFFER_FIELDS: [&str; 6] = ["project", "lang", "need", "name", "contact", "message"];

/// What the person sent, in a form that sends it again once corrected
/// (empty when nothing was sent, or for a pledge's own pages).
fn retry_form(kind: FormKind, values: &[(String, String)], lang: Lang) -> String {
    let (action, fields): (&str, &[&str]) = match kind {
        FormKind::Pledge => ("/api/pledges", &PLEDGE_FIELDS),
        FormKind::Offer => ("/api/offers", &OFFER_FIELDS),
        FormKind::Shown => return String::new(),
    };
    if values.is_empty() {
        return String::new();
    }
    let value = |name: &str| {
        values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.chars().take(2000).collect::<String>())
    };
    let mut form = format!(
        "<section aria-labelledby=\"retry-title\">\n<h2 id=\"retry-title\">{}</h2>\n<form method=\"post\" action=\"{action}\">\n",
        if lang == Lang::Fr {
            "Ce que vous aviez saisi"
        } else {
            "What you entered"
        }
    );
    for &name in fields {
        let label = escape(&crate::messages::field_label(
            if kind == FormKind::Pledge && name == "message" {
                "public_message"
            } else {
                name
            },
            lang,
        ));
        let id = format!("retry-{name}");
        match name {
            "project" | "lang" | "reward" | "need" => {
                if let Some(v) = value(name) {
                    form.push_str(&format!(
                        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n",
                        escape(&v)
                    ));
                }
            }
            "share_contact" | "news" => {
                let checked = value(name).is_some_and(|v| !v.is_empty() && v != "off");
                form.push_str(&format!(
                    "<p><input type=\"checkbox\" id=\"{id}\" name=\"{name}\" value=\"on\"{}> <label for=\"{id}\">{label}</label></p>\n",
                    if checked { " checked" } else { "" }
                ));
            }
            // A pledge's message only when one was sent (the project
            // takes them).
            "message" if kind == FormKind::Pledge && value(name).is_none() => {}
            "message" => form.push_str(&format!(
                "<p><label for=\"{id}\">{label}</label>\n<textarea id=\"{id}\" name=\"{name}\" rows=\"5\" maxlength=\"2000\">{}</textarea></p>\n",
                escape(&value(name).unwrap_or_default())
            )),
            _ => form.push_str(&format!(
                "<p><label for=\"{id}\">{label}</label>\n<input id=\"{id}\" name=\"{name}\" value=\"{}\"{}></p>\n",
                escape(&value(name).unwrap_or_default()),
                if name == "email" { " type=\"email\"" } else { "" }
            )),
        }
    }
    form.push_str(&format!(
        "<p><button type=\"submit\">{}</button></p>\n</form>\n</section>\n",
        if lang == Lang::Fr {
            "Envoyer de nouveau"
        } else {
            "Send again"
        }
    ));
    form
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        ApiError::new(
            StatusCode::from_u16(r.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            r.code,
            r.message,
        )
    }
}

pub(crate) use pave_contract::html::escape;
