//! The pages the API writes for people, pure: what they show, in French or
//! English, as the content of the site's own layout
//! ([`pave_contract::frame`], filled by [`in_frame`]).
//!
//! - [`thanks`]: the thank-you page after a checkout;
//! - [`offer`]: the confirmation of an offer of help.

pub mod news;
pub mod offer;
pub mod thanks;
pub mod wall;

use pave_contract::catalog::CatalogProject;
use pave_contract::frame::{Frames, Page};
use pave_locale::{Lang, money, number, percent};

use crate::progress::Figures;

/// A page's parts, put in the site's layout by [`in_frame`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Text.
    pub title: String,
    /// HTML, inside `<main>`.
    pub main: String,
    /// HTML, in `<head>`.
    pub head: String,
}

/// `page` in the site's layout for `lang`, never indexed; `urls` is its
/// address in each language, its own first.
pub fn in_frame(frames: &Frames, lang: Lang, page: &Written, urls: &[(Lang, String)]) -> String {
    let head = format!("<meta name=\"robots\" content=\"noindex\">\n{}", page.head);
    frames.page(
        lang,
        &Page {
            title: &page.title,
            main: &page.main,
            head: &head,
            urls,
        },
    )
}

fn tr(lang: Lang, fr: &str, en: &str) -> String {
    match lang {
        Lang::Fr => fr.to_string(),
        Lang::En => en.to_string(),
    }
}

fn e(text: &str) -> String {
    pave_contract::html::escape(text)
}

/// Content text (written in French), marked as such on a page in another
/// language.
fn content(text: &str, lang: Lang) -> String {
    match lang {
        Lang::Fr => e(text),
        _ => format!("<span lang=\"fr\">{}</span>", e(text)),
    }
}

/// A project's figures as its page shows them (the theme's progress
/// block's markup): the total, of the goal, the share, the bar, the backers.
fn progress(figures: &Figures, project: &CatalogProject, lang: Lang) -> String {
    let share = figures.percent(project.goal);
    let backers = match (lang, figures.backers) {
        (Lang::Fr, n @ (0 | 1)) => format!("{n} contributeur"),
        (Lang::Fr, n) => format!("{} contributeurs", number(n.into(), lang)),
        (Lang::En, 1) => "1 backer".to_string(),
        (Lang::En, n) => format!("{} backers", number(n.into(), lang)),
    };
    format!(
        "<div class=\"progress\">\n<p class=\"amounts\"><strong>{}</strong> {} {} — {}</p>\n<progress max=\"100\" value=\"{}\" aria-label=\"{}\">{}</progress>\n<p class=\"meta\"><span>{}</span></p>\n</div>\n",
        money(figures.total(), lang),
        tr(lang, "sur", "of"),
        money(project.goal, lang),
        percent(share, lang),
        share.min(100),
        e(&tr(
            lang,
            &format!("Avancement de la collecte — {}", project.title),
            &format!("Funding progress — {}", project.title)
        )),
        percent(share, lang),
        backers
    )
}
