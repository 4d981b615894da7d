//! `/api/news/unsubscribe?t=<token>`: the link of every news email. `GET`
//! asks (a page with a button); `POST` unsubscribes, from that button or
//! from a mail client's one-click (RFC 8058: the same address, the body
//! `List-Unsubscribe=One-Click`). The token is signed with the store's
//! secret (`crate::mail::news::verify`); a bad one gets a page saying so.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{
    ApiError, AppState, Query, accept_language, framed, project_links, project_url, shown_refused,
};
use crate::mail::news;
use crate::messages::{Lang, Message};
use crate::store::Store;

/// The pledge a token names, its project, its language and the token
/// itself, or the page refusing it.
async fn checked<S: Store>(
    state: &AppState<S>,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<(String, String, Lang, String), Response> {
    let query = Query::parse(query);
    let (token, asked) = (query.get("t").map(str::to_string), query.lang());
    let fallback = asked.unwrap_or_else(|| Lang::choose(None, accept_language(headers)));
    let bad = |lang| {
        shown_refused(
            state,
            ApiError::new(
                StatusCode::NOT_FOUND,
                "bad_unsubscribe_link",
                Message::BadUnsubscribeLink,
            ),
            lang,
        )
    };
    let secret = state
        .store
        .mail_secret()
        .await
        .map_err(|e| shown_refused(state, ApiError::store(e), fallback))?;
    let Some(pledge_id) = token.as_deref().and_then(|t| news::verify(&secret, t)) else {
        return Err(bad(fallback));
    };
    let pledge = match state.store.pledge_contact(pledge_id).await {
        Ok(Some(pledge)) => pledge,
        Ok(None) => return Err(bad(fallback)),
        Err(e) => return Err(shown_refused(state, ApiError::store(e), fallback)),
    };
    let lang = asked.unwrap_or_else(|| Lang::choose(Some(&pledge.lang), None));
    let token = token.clone().unwrap_or_default();
    Ok((pledge_id.to_string(), pledge.project, lang, token))
}

fn title_of<S: Store>(state: &AppState<S>, project: &str) -> String {
    state
        .catalog()
        .projects
        .get(project)
        .map_or_else(|| project.to_string(), |p| p.title.clone())
}

pub(super) async fn ask<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (_, project, lang, token) = match checked(&state, query.as_deref(), &headers).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    // The token as it came (it verified); the form posts it back.
    let action = format!(
        "/api/news/unsubscribe?t={}&lang={}",
        percent_encoding::utf8_percent_encode(&token, percent_encoding::NON_ALPHANUMERIC),
        lang.code()
    );
    let written = crate::pages::news::confirm(lang, &title_of(&state, &project), &action);
    let urls = project_links(&state.config, lang, &project);
    framed(StatusCode::OK, &state.frames(), lang, &written, &urls)
}

pub(super) async fn stop<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (pledge_id, project, lang, _) = match checked(&state, query.as_deref(), &headers).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    if let Err(e) = state.store.stop_news(&pledge_id).await {
        return shown_refused(&state, ApiError::store(e), lang);
    }
    let url = project_url(&state.config, lang, &project);
    let written = crate::pages::news::done(lang, &title_of(&state, &project), &url);
    let urls = project_links(&state.config, lang, &project);
    framed(StatusCode::OK, &state.frames(), lang, &written, &urls)
}
