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
        let message = self.message.render(lang);
        let mut response = if form {
            (self.status, Html(error_page(&message, lang, site_url))).into_response()
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

/// The page answering a form post that failed.
fn error_page(message: &str, lang: Lang, site_url: &str) -> String {
    let (title, back) = match lang {
        Lang::En => ("Your pledge could not be recorded", "Back to the site"),
        Lang::Fr => (
            "Votre contribution n'a pas pu être enregistrée",
            "Retour au site",
        ),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n<p>{}</p>\n<p><a href=\"{}/\">{back}</a></p>\n</main>\n</body>\n</html>\n",
        lang.code(),
        escape(message),
        escape(site_url)
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
