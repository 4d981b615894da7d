//! API errors: a stable code and a message for people, as JSON for programs
//! and as a small page for people who posted a plain form. The message is
//! written in the language chosen for the answer ([`Lang::choose`]).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::messages::{Lang, Message};
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

    /// JSON, or a page with a link back to the site for form posts, in `lang`.
    pub fn respond(&self, form: bool, lang: Lang, site_url: &str) -> Response {
        let back = Back {
            url: format!("{site_url}/"),
            project: false,
        };
        self.respond_to(form, lang, FormKind::Pledge, &back)
    }

    /// JSON, or for a form of `kind` a page titled for it that links `back`
    /// (the project's page), in `lang`.
    pub fn respond_to(&self, form: bool, lang: Lang, kind: FormKind, back: &Back) -> Response {
        let message = self.message.render(lang);
        let mut response = if form {
            (self.status, Html(error_page(&message, lang, kind, back))).into_response()
        } else {
            (
                self.status,
                axum::Json(
                    serde_json::json!({ "error": { "code": self.code, "message": message } }),
                ),
            )
                .into_response()
        };
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
}

/// Which form failed (the title of its page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    Pledge,
    Offer,
}

/// The page answering a form post that failed: what went wrong, and a link
/// back to the project's page (`back`), where the form is.
fn error_page(message: &str, lang: Lang, kind: FormKind, back_to: &Back) -> String {
    let title = match (lang, kind) {
        (Lang::En, FormKind::Pledge) => "Your pledge could not be recorded",
        (Lang::En, FormKind::Offer) => "Your offer of help could not be recorded",
        (Lang::Fr, FormKind::Pledge) => "Votre contribution n'a pas pu être enregistrée",
        (Lang::Fr, FormKind::Offer) => "Votre proposition d'aide n'a pas pu être enregistrée",
    };
    let back = match (lang, back_to.project) {
        (Lang::En, true) => "Back to the project",
        (Lang::En, false) => "Back to the site",
        (Lang::Fr, true) => "Retour au projet",
        (Lang::Fr, false) => "Retour au site",
    };
    let back_url = &back_to.url;
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n<p>{}</p>\n<p><a href=\"{}\">{back}</a></p>\n</main>\n</body>\n</html>\n",
        lang.code(),
        escape(message),
        escape(back_url)
    )
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
