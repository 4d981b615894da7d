//! The unsubscribe pages of a project's news emails: the question (a
//! button, so that a link scanner opening the address unsubscribes no
//! one), then the answer.

use pave_locale::Lang;

use super::{Written, content, e, tr};

/// "Stop the news of this project?", with the button posting `action`.
pub fn confirm(lang: Lang, project_title: &str, action: &str) -> Written {
    let title = tr(lang, "Ne plus recevoir les nouvelles", "Stop the news");
    let main = format!(
        "<h1>{title}</h1>\n<p class=\"lead\">{lead}</p>\n\
         <form method=\"post\" action=\"{action}\"><p><button type=\"submit\">{button}</button></p></form>\n",
        title = e(&title),
        lead = tr(
            lang,
            &format!(
                "Vous ne recevrez plus par courriel les nouvelles du projet « {} ».",
                e(project_title)
            ),
            &format!(
                "You will no longer get the news of “{}” by email.",
                content(project_title, lang)
            ),
        ),
        action = e(action),
        button = tr(lang, "Me désabonner", "Unsubscribe me"),
    );
    Written {
        title,
        main,
        head: String::new(),
    }
}

/// Done: what changed, and how to come back.
pub fn done(lang: Lang, project_title: &str, project_url: &str) -> Written {
    let title = tr(lang, "Vous êtes désabonné(e)", "You are unsubscribed");
    let main = format!(
        "<h1>{title}</h1>\n<p class=\"lead\" role=\"status\">{lead}</p>\n\
         <p><a class=\"button\" href=\"{url}\">{back}</a></p>\n",
        title = e(&title),
        lead = tr(
            lang,
            &format!(
                "Plus aucune nouvelle du projet « {} » ne vous sera envoyée. Votre soutien, lui, compte toujours. Pour les recevoir de nouveau, cochez la case en contribuant.",
                e(project_title)
            ),
            &format!(
                "No more news of “{}” will be sent to you. Your support still counts. To get them again, tick the box when you pledge.",
                content(project_title, lang)
            ),
        ),
        url = e(project_url),
        back = tr(lang, "Voir le projet", "See the project"),
    );
    Written {
        title,
        main,
        head: String::new(),
    }
}
