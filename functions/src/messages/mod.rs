//! The API's messages for people, in French and in English. A [`Message`]
//! says what happened, with its figures; the language is chosen when the
//! answer is written ([`Lang::choose`]), and [`Message::render`] writes it.

use jiff::civil::Date;
use rust_decimal::Decimal;

pub use pave_locale::{Lang, date, money};

/// One message per situation, with what it needs to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    UnknownProject {
        slug: String,
    },
    ProjectNotLive,
    CampaignNotStarted {
        start: Date,
    },
    CampaignEnded {
        end: Date,
    },
    AmountNotCents,
    AmountNotANumber,
    /// An amount the ledger cannot hold (negative, sub-cent, too large).
    AmountNotRecordable,
    AmountOutOfBounds {
        min: Decimal,
        max: Decimal,
    },
    UnknownReward,
    BelowRewardMinimum {
        min: Decimal,
    },
    AboveCap {
        left: Decimal,
    },
    InvalidEmail,
    InvalidName {
        max_chars: usize,
    },
    RewardSoldOut,
    /// One donor or client holds this many places with open checkouts.
    TooManyPlacesHeld {
        max: u32,
    },
    /// Too many requests from one client: try again after `seconds`.
    RateLimited {
        seconds: u64,
    },
    /// A request body above the limit.
    BodyTooLarge {
        max_kib: usize,
    },
    /// A form whose text is not UTF-8.
    InvalidEncoding,
    /// No such address under `/api/`.
    UnknownRoute,
    /// The address exists, not with this method.
    MethodNotAllowed,
    UnknownPledge,
    /// An unsubscribe link that is not one (altered, or from elsewhere).
    BadUnsubscribeLink,
    StoreUnavailable,
    OriginNotAllowed {
        origin: String,
    },
    /// `detail` is the parser's own (English) explanation.
    InvalidForm {
        detail: String,
    },
    /// `detail` is the parser's own (English) explanation.
    InvalidJson {
        detail: String,
    },
    /// `code` is the payment provider's error code.
    PaymentUnavailable {
        code: String,
    },
    InvalidOfferField {
        field: &'static str,
        max_chars: usize,
    },
    /// A form without a field it needs (named as the form labels it).
    MissingField {
        field: String,
    },
    /// An offer for a need the project does not list.
    UnknownNeed,
    /// An offer of help for a project that no longer takes them.
    OffersClosed,
    /// English only, the same in every language: for machine-to-machine
    /// answers (Stripe webhooks: missing or bad signature, unreadable event),
    /// which no person reads.
    Plain(String),
}

/// How the default theme's forms label a field (`name` → « Votre nom »,
/// its `pledge.*` and `offer.*` strings, short), for the messages.
pub fn field_label(field: &str, lang: Lang) -> String {
    let (fr, en) = match field {
        "name" => ("Votre nom", "Your name"),
        "email" => ("Courriel", "Email"),
        "amount" => ("Montant", "Amount"),
        "contact" => ("Courriel ou téléphone", "Email or phone"),
        "message" => ("Ce que vous proposez", "What you offer"),
        "need" => ("Je peux aider pour", "I can help with"),
        "reward" => ("Contrepartie", "Reward"),
        "share_contact" => (
            "Le porteur du projet peut recevoir mon nom et mon courriel",
            "The project holder may receive my name and email",
        ),
        "news" => (
            "M’envoyer les nouvelles du projet",
            "Send me the project's news",
        ),
        other => (other, other),
    };
    match lang {
        Lang::Fr => fr.to_string(),
        Lang::En => en.to_string(),
    }
}

impl Message {
    /// The message in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        match lang {
            Lang::Fr => self.french(),
            Lang::En => self.english(),
        }
    }

    fn french(&self) -> String {
        let lang = Lang::Fr;
        match self {
            Message::UnknownProject { slug } => format!("Le projet « {slug} » n'existe pas."),
            Message::ProjectNotLive => {
                "Ce projet ne collecte pas de contributions en ce moment.".into()
            }
            Message::CampaignNotStarted { start } => {
                format!("La collecte commence le {}.", date(*start, lang))
            }
            Message::CampaignEnded { end } => {
                format!("La collecte s'est terminée le {}.", date(*end, lang))
            }
            Message::AmountNotCents => {
                "Le montant doit être en euros et centimes (par exemple 12,50).".into()
            }
            Message::AmountNotANumber => {
                "Le montant n'est pas un nombre (par exemple 20 ou 12,50).".into()
            }
            Message::AmountNotRecordable => "Ce montant ne peut pas être enregistré.".into(),
            Message::AmountOutOfBounds { min, max } => format!(
                "Le montant doit être compris entre {} et {}.",
                money(*min, lang),
                money(*max, lang)
            ),
            Message::UnknownReward => "Cette contrepartie n'existe pas.".into(),
            Message::BelowRewardMinimum { min } => {
                format!("Cette contrepartie demande au moins {}.", money(*min, lang))
            }
            Message::AboveCap { left } => format!(
                "Ce projet a presque atteint son plafond : il reste {} à collecter.",
                money(*left, lang)
            ),
            Message::InvalidEmail => "L'adresse de courriel n'est pas valide.".into(),
            Message::InvalidName { max_chars } => {
                format!("Le nom affiché doit faire au plus {max_chars} caractères.")
            }
            Message::RewardSoldOut => {
                "Cette contrepartie est épuisée : choisissez-en une autre.".into()
            }
            Message::TooManyPlacesHeld { max } => format!(
                "Vous avez déjà {max} contreparties limitées en attente de paiement sur ce projet : \
                 terminez ou annulez ces paiements avant d'en réserver une autre."
            ),
            Message::RateLimited { seconds } => format!(
                "Trop de demandes en peu de temps depuis votre connexion : réessayez dans {seconds} s."
            ),
            Message::BodyTooLarge { max_kib } => {
                format!("La demande est trop volumineuse (au plus {max_kib} Kio).")
            }
            Message::InvalidEncoding => {
                "Le formulaire contient des caractères illisibles (il n'est pas en UTF-8).".into()
            }
            Message::UnknownRoute => "Cette adresse de l'API n'existe pas.".into(),
            Message::MethodNotAllowed => {
                "Cette adresse de l'API n'accepte pas cette méthode.".into()
            }
            Message::UnknownPledge => "Cette contribution est introuvable.".into(),
            Message::BadUnsubscribeLink => {
                "Ce lien de désabonnement n’est pas valable : utilisez celui du dernier courriel reçu.".into()
            }
            Message::StoreUnavailable => {
                "Le service est momentanément indisponible. Réessayez dans un instant.".into()
            }
            Message::OriginNotAllowed { origin } => {
                format!("Les envois depuis {origin} ne sont pas acceptés.")
            }
            Message::InvalidForm { detail } => {
                format!("Formulaire incomplet ou invalide : {detail}.")
            }
            Message::InvalidJson { detail } => format!("Corps JSON invalide : {detail}."),
            Message::PaymentUnavailable { code } => {
                format!("Le paiement n'a pas pu être ouvert ({code}). Réessayez dans un instant.")
            }
            Message::InvalidOfferField { field, max_chars } => format!(
                "Le champ « {} » est vide ou trop long ({max_chars} caractères au plus).",
                field_label(field, lang)
            ),
            Message::MissingField { field } => {
                format!("Le champ « {} » est à remplir.", field_label(field, lang))
            }
            Message::UnknownNeed => {
                "Ce besoin n’est pas (ou plus) dans la liste du projet : choisissez-en un sur sa page.".into()
            }
            Message::OffersClosed => {
                "Ce projet ne reçoit plus de propositions d’aide : sa campagne n’est pas ouverte.".into()
            }
            Message::Plain(text) => text.clone(),
        }
    }

    fn english(&self) -> String {
        let lang = Lang::En;
        match self {
            Message::UnknownProject { slug } => format!("The project “{slug}” does not exist."),
            Message::ProjectNotLive => "This project is not taking pledges at the moment.".into(),
            Message::CampaignNotStarted { start } => {
                format!("The campaign starts on {}.", date(*start, lang))
            }
            Message::CampaignEnded { end } => {
                format!("The campaign ended on {}.", date(*end, lang))
            }
            Message::AmountNotCents => {
                "The amount must be in euros and cents (for example 12.50).".into()
            }
            Message::AmountNotANumber => {
                "The amount is not a number (for example 20 or 12.50).".into()
            }
            Message::AmountNotRecordable => "This amount cannot be recorded.".into(),
            Message::AmountOutOfBounds { min, max } => format!(
                "The amount must be between {} and {}.",
                money(*min, lang),
                money(*max, lang)
            ),
            Message::UnknownReward => "This reward does not exist.".into(),
            Message::BelowRewardMinimum { min } => {
                format!("This reward requires at least {}.", money(*min, lang))
            }
            Message::AboveCap { left } => format!(
                "This project has almost reached its cap: {} left to raise.",
                money(*left, lang)
            ),
            Message::InvalidEmail => "The email address is not valid.".into(),
            Message::InvalidName { max_chars } => {
                format!("The display name must be at most {max_chars} characters long.")
            }
            Message::RewardSoldOut => "This reward is sold out: please choose another one.".into(),
            Message::TooManyPlacesHeld { max } => format!(
                "You already hold {max} limited rewards waiting for payment on this project: \
                 finish or cancel those payments before reserving another one."
            ),
            Message::RateLimited { seconds } => format!(
                "Too many requests in a short time from your connection: please try again in {seconds} s."
            ),
            Message::BodyTooLarge { max_kib } => {
                format!("The request is too large (at most {max_kib} KiB).")
            }
            Message::InvalidEncoding => {
                "The form contains unreadable characters (it is not UTF-8).".into()
            }
            Message::UnknownRoute => "This API address does not exist.".into(),
            Message::MethodNotAllowed => "This API address does not accept this method.".into(),
            Message::UnknownPledge => "This pledge cannot be found.".into(),
            Message::BadUnsubscribeLink => {
                "This unsubscribe link is not valid: use the one in the latest email.".into()
            }
            Message::StoreUnavailable => {
                "The service is temporarily unavailable. Please try again in a moment.".into()
            }
            Message::OriginNotAllowed { origin } => {
                format!("Submissions from {origin} are not accepted.")
            }
            Message::InvalidForm { detail } => format!("Incomplete or invalid form: {detail}."),
            Message::InvalidJson { detail } => format!("Invalid JSON body: {detail}."),
            Message::PaymentUnavailable { code } => {
                format!("The payment could not be opened ({code}). Please try again in a moment.")
            }
            Message::InvalidOfferField { field, max_chars } => format!(
                "The field “{}” is empty or too long (at most {max_chars} characters).",
                field_label(field, lang)
            ),
            Message::MissingField { field } => {
                format!("Please fill in “{}”.", field_label(field, lang))
            }
            Message::UnknownNeed => {
                "This need is not (or no longer) on the project's list: choose one on its page."
                    .into()
            }
            Message::OffersClosed => {
                "This project no longer takes offers of help: its campaign is not open.".into()
            }
            Message::Plain(text) => text.clone(),
        }
    }
}

/// In English, for logs.
impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn figures_are_written_in_each_language() {
        let bounds = Message::AmountOutOfBounds {
            min: d("1"),
            max: d("1500"),
        };
        assert_eq!(
            bounds.render(Lang::Fr),
            "Le montant doit être compris entre 1\u{202F}€ et 1\u{202F}500\u{202F}€."
        );
        assert_eq!(
            bounds.render(Lang::En),
            "The amount must be between €1 and €1,500."
        );
        let cap = Message::AboveCap { left: d("12.5") };
        assert_eq!(
            cap.render(Lang::Fr),
            "Ce projet a presque atteint son plafond : il reste 12,50\u{202F}€ à collecter."
        );
        assert_eq!(
            cap.render(Lang::En),
            "This project has almost reached its cap: €12.50 left to raise."
        );
        let ended = Message::CampaignEnded {
            end: Date::new(2026, 8, 1).unwrap(),
        };
        assert_eq!(
            ended.render(Lang::Fr),
            "La collecte s'est terminée le 1er août 2026."
        );
        assert_eq!(
            ended.render(Lang::En),
            "The campaign ended on 1 August 2026."
        );
        let starts = Message::CampaignNotStarted {
            start: Date::new(2026, 5, 16).unwrap(),
        };
        assert_eq!(
            starts.render(Lang::Fr),
            "La collecte commence le 16 mai 2026."
        );
        assert_eq!(
            starts.render(Lang::En),
            "The campaign starts on 16 May 2026."
        );
    }

    #[test]
    fn plain_messages_are_the_same_everywhere() {
        let m = Message::Plain("Stripe-Signature header missing".into());
        assert_eq!(m.render(Lang::Fr), m.render(Lang::En));
        assert_eq!(m.to_string(), "Stripe-Signature header missing");
    }
}
