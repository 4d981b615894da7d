//! The page answering an offer of help sent from the project's form: it
//! is recorded, who sees it, and what the person wrote.

use pave_contract::catalog::CatalogProject;
use pave_locale::Lang;

use super::{Written, content, e, tr};

/// What the person sent, as recorded.
pub struct Received<'a> {
    pub lang: Lang,
    pub project: &'a CatalogProject,
    /// The project's page (absolute).
    pub project_url: &'a str,
    pub name: &'a str,
    pub contact: &'a str,
    pub message: &'a str,
}

pub fn page(r: &Received) -> Written {
    let lang = r.lang;
    let title = tr(
        lang,
        "Merci pour votre proposition d’aide",
        "Thank you for your offer of help",
    );
    let main = format!(
        "<h1>{title}</h1>\n<p class=\"lead\" role=\"status\">{lead}</p>\n\
         <section aria-labelledby=\"sent-title\">\n<h2 id=\"sent-title\">{sent}</h2>\n<dl>\n\
         <dt>{name_label}</dt><dd>{name}</dd>\n<dt>{contact_label}</dt><dd>{contact}</dd>\n\
         <dt>{message_label}</dt><dd class=\"message\">{message}</dd>\n</dl>\n</section>\n\
         <p><a class=\"button\" href=\"{url}\">{back}</a></p>\n",
        title = e(&title),
        lead = tr(
            lang,
            &format!(
                "Votre proposition pour « {} » est transmise à l’équipe du projet, {}. Elle seule la voit, et vous répondra directement au contact que vous avez donné.",
                e(&r.project.title),
                e(&r.project.holder.name)
            ),
            &format!(
                "Your offer for “{}” is passed on to the project team, {}. Only they can see it, and they will answer you directly at the contact you gave.",
                content(&r.project.title, lang),
                content(&r.project.holder.name, lang)
            ),
        ),
        sent = tr(lang, "Ce que vous avez envoyé", "What you sent"),
        name_label = crate::messages::field_label("name", lang),
        contact_label = crate::messages::field_label("contact", lang),
        message_label = crate::messages::field_label("message", lang),
        name = e(r.name),
        contact = e(r.contact),
        message = e(r.message).replace('\n', "<br>\n"),
        url = e(r.project_url),
        back = tr(lang, "Retour au projet", "Back to the project"),
    );
    Written {
        title,
        main,
        head: String::new(),
    }
}
