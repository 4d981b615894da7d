//! A project's wall of backers: its paid pledges, newest first, each under
//! the name its donor chose to show, or "Anonyme"; paginated.

use jiff::civil::Date;
use pave_contract::catalog::CatalogProject;
use pave_locale::{Lang, date};

use super::{Written, e, tr};

/// Pledges on a page of the wall.
pub const PER_PAGE: usize = 20;

/// One line: a name (none: anonymous), a day, and the donor's public
/// message where the project's territory shows them.
pub struct Line {
    pub name: Option<String>,
    pub day: Date,
    pub message: Option<String>,
}

pub struct Wall<'a> {
    pub lang: Lang,
    pub project: &'a CatalogProject,
    pub project_url: &'a str,
    pub lines: Vec<Line>,
    /// 1-based.
    pub page: usize,
    pub total: u32,
    /// This page's address with `?page=` to come (`…/backers?lang=fr&page=`).
    pub page_url: &'a str,
}

pub fn page(w: &Wall) -> Written {
    let lang = w.lang;
    let title = tr(
        lang,
        &format!("Ils soutiennent « {} »", w.project.title),
        &format!("Backers of “{}”", w.project.title),
    );
    let pages = (w.total as usize).div_ceil(PER_PAGE).max(1);
    let mut main = format!(
        "<h1>{}</h1>\n<p class=\"lead\">{}</p>\n",
        e(&title),
        tr(
            lang,
            &format!(
                "{} contributions, les plus récentes d’abord. Chacun choisit le nom affiché ; sans nom, « Anonyme ».",
                w.total
            ),
            &format!(
                "{} pledges, newest first. Each backer chooses the name shown; without one, “Anonymous”.",
                w.total
            ),
        )
    );
    if w.lines.is_empty() {
        main.push_str(&format!(
            "<p>{}</p>\n",
            tr(
                lang,
                "Aucune contribution sur cette page.",
                "No pledge on this page."
            )
        ));
    } else {
        main.push_str("<ol class=\"wall\">\n");
        for line in &w.lines {
            let name = match &line.name {
                Some(n) if !n.trim().is_empty() => e(n.trim()),
                _ => tr(lang, "Anonyme", "Anonymous"),
            };
            let said = match (&line.message, w.project.messages) {
                (Some(m), true) if !m.trim().is_empty() => {
                    format!("<br><q lang=\"fr\">{}</q>", e(m.trim()))
                }
                _ => String::new(),
            };
            main.push_str(&format!(
                "<li><strong>{name}</strong> <span class=\"meta\">{}</span>{said}</li>\n",
                e(&date(line.day, lang))
            ));
        }
        main.push_str("</ol>\n");
    }
    if pages > 1 {
        main.push_str(&format!(
            "<nav aria-label=\"{}\"><p>",
            tr(lang, "Pages des contributeurs", "Pages of backers")
        ));
        if w.page > 1 {
            main.push_str(&format!(
                "<a rel=\"prev\" href=\"{}{}\">{}</a> ",
                e(w.page_url),
                w.page - 1,
                tr(lang, "← Plus récentes", "← Newer")
            ));
        }
        main.push_str(&format!(
            "<span>{}</span>",
            tr(
                lang,
                &format!("Page {} sur {pages}", w.page),
                &format!("Page {} of {pages}", w.page)
            )
        ));
        if w.page < pages {
            main.push_str(&format!(
                " <a rel=\"next\" href=\"{}{}\">{}</a>",
                e(w.page_url),
                w.page + 1,
                tr(lang, "Plus anciennes →", "Older →")
            ));
        }
        main.push_str("</p></nav>\n");
    }
    main.push_str(&format!(
        "<p><a class=\"button\" href=\"{}\">{}</a></p>\n",
        e(w.project_url),
        tr(lang, "Retour au projet", "Back to the project")
    ));
    Written {
        title,
        main,
        head: String::new(),
    }
}
