//! `GET /api/projects/{slug}/backers?page=N&lang=`: the project's wall of
//! backers from the store (names are personal data: they are never in the
//! snapshot nor the static pages), in the site's layout, never cached.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{ApiError, AppState, Query, accept_language, framed, project_url, shown_refused};
use crate::messages::{Lang, Message};
use crate::pages::wall::{Line, PER_PAGE, Wall};
use crate::store::Store;

/// The most pages a wall has (a 20 000-pledge project's newest).
const MAX_PAGE: usize = 1000;

pub(super) async fn backers<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = Query::parse(query.as_deref());
    let lang = query
        .lang()
        .unwrap_or_else(|| Lang::choose(None, accept_language(&headers)));
    let page = query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_PAGE);
    let catalog = state.catalog();
    let Some(project) = catalog.projects.get(&slug) else {
        return shown_refused(
            &state,
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_project",
                Message::UnknownProject { slug: slug.clone() },
            ),
            lang,
        );
    };
    let (entries, total) = match state
        .store
        .wall(&slug, (page - 1) * PER_PAGE, PER_PAGE)
        .await
    {
        Ok(found) => found,
        Err(e) => return shown_refused(&state, ApiError::store(e), lang),
    };
    let url = project_url(&state.config, lang, &slug);
    let page_url = format!("/api/projects/{slug}/backers?lang={}&page=", lang.code());
    let written = crate::pages::wall::page(&Wall {
        lang,
        project,
        project_url: &url,
        lines: entries
            .into_iter()
            .map(|e| Line {
                name: e.display_name,
                day: pave_contract::calendar::day_in(e.paid_at, &project.timezone),
                message: e.message,
            })
            .collect(),
        page,
        total,
        page_url: &page_url,
    });
    let urls = [lang, lang.other()].map(|l| {
        (
            l,
            format!(
                "{}/api/projects/{slug}/backers?lang={}&page={page}",
                state.config.site_url,
                l.code()
            ),
        )
    });
    framed(StatusCode::OK, &state.frames(), lang, &written, &urls)
}
