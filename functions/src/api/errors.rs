//! API errors: a stable code and a human message, as JSON for programs and
//! as a small page for people who posted a plain form.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::pledge::Refusal;
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn store(e: StoreError) -> ApiError {
        match e {
            StoreError::RewardSoldOut => ApiError::new(
                StatusCode::CONFLICT,
                "reward_sold_out",
                "Cette contrepartie est épuisée : choisissez-en une autre.",
            ),
            StoreError::UnknownPledge(_) => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_pledge",
                "Cette contribution est introuvable.",
            ),
            StoreError::UnknownProject(_) => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_project",
                "Ce projet est introuvable.",
            ),
            StoreError::Money(e) => ApiError::bad_request("invalid_amount", e.to_string()),
            StoreError::Backend(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "Le service est momentanément indisponible. Réessayez dans un instant.",
            ),
        }
    }

    /// JSON, or a page with a link back to the site for form posts.
    pub fn respond(&self, form: bool, lang: &str, site_url: &str) -> Response {
        if form {
            let (title, back) = if lang == "en" {
                ("Your pledge could not be recorded", "Back to the site")
            } else {
                (
                    "Votre contribution n'a pas pu être enregistrée",
                    "Retour au site",
                )
            };
            let page = format!(
                "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n<p>{}</p>\n<p><a href=\"{}/\">{back}</a></p>\n</main>\n</body>\n</html>\n",
                escape(&self.message),
                escape(site_url)
            );
            (self.status, Html(page)).into_response()
        } else {
            (
                self.status,
                axum::Json(
                    serde_json::json!({ "error": { "code": self.code, "message": self.message } }),
                ),
            )
                .into_response()
        }
    }
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

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
