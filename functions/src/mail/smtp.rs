//! The SMTP edge: a [`Mailer`] configured from the environment, on lettre
//! (tokio, rustls + ring). Without `SMTP_URL` it only logs that no email is
//! sent; it never fails the caller.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::outbox::Outgoing;

/// lettre's URL form: `smtp://127.0.0.1:2525`, `smtp://host:587?tls=required`,
/// `smtps://user:password@host` (TLS from the first byte).
pub const ENV_SMTP_URL: &str = "SMTP_URL";
/// The sender: `Pavé <dons@example.org>` or `dons@example.org`.
pub const ENV_MAIL_FROM: &str = "MAIL_FROM";

/// How long one delivery may take (connection, TLS, dialogue) before it is
/// given up and logged.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP_URL is not a valid SMTP URL: {0}")]
    Url(String),
    #[error("MAIL_FROM is missing or not an address: {0}")]
    From(String),
    #[error("the recipient is not an address")]
    To,
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("SMTP delivery failed: {0}")]
    Smtp(String),
}

/// Sends the donors' emails, or logs that it does not.
#[derive(Clone)]
pub struct Mailer {
    smtp: Option<Smtp>,
}

#[derive(Clone)]
struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("smtp", &self.smtp.as_ref().map(|s| s.from.to_string()))
            .finish()
    }
}

/// What happened to one email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// No SMTP configured: logged only.
    NotConfigured,
}

impl Mailer {
    /// A mailer that sends nothing (logs only).
    pub fn disabled() -> Mailer {
        Mailer { smtp: None }
    }

    /// From `SMTP_URL` and `MAIL_FROM` as `lookup` gives them: disabled when
    /// `SMTP_URL` is unset or empty; an error when it is set but unusable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Mailer, MailError> {
        let Some(url) = lookup(ENV_SMTP_URL).filter(|u| !u.trim().is_empty()) else {
            return Ok(Mailer::disabled());
        };
        let from = lookup(ENV_MAIL_FROM).unwrap_or_default();
        let from: Mailbox = from
            .trim()
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim())
            // The URL may hold a password: never echoed.
            .map_err(|e| MailError::Url(e.to_string().replace(url.trim(), "<SMTP_URL>")))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        Ok(Mailer {
            smtp: Some(Smtp { transport, from }),
        })
    }

    /// From the process environment; an unusable configuration is logged
    /// and the mailer disabled (a payment never fails for an email).
    pub fn from_env() -> Mailer {
        Mailer::from_lookup_or_log(|name| std::env::var(name).ok())
    }

    /// [`Mailer::from_lookup`], where an unset or unusable configuration is
    /// logged and gives the disabled mailer.
    pub fn from_lookup_or_log(lookup: impl Fn(&str) -> Option<String>) -> Mailer {
        match Mailer::from_lookup(lookup) {
            Ok(mailer) => {
                if !mailer.is_enabled() {
                    tracing::warn!(
                        "pave mail: SMTP_URL is not set: no email is sent (they wait in the store's outbox)"
                    );
                }
                mailer
            }
            Err(e) => {
                tracing::error!(
                    "pave mail: {e}: no email is sent (they wait in the store's outbox)"
                );
                Mailer::disabled()
            }
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.smtp.is_some()
    }

    /// Sends `mail` as plain UTF-8 text, with the `Message-ID` of its key
    /// ([`super::outbox::message_id`]) and, for an email a person may stop,
    /// the one-click `List-Unsubscribe` headers (RFC 8058).
    pub async fn send_outgoing(&self, mail: &Outgoing) -> Result<Delivery, MailError> {
        let Some(smtp) = &self.smtp else {
            // Once per process: a busy server would log a line per payment.
            static TOLD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
            if !TOLD.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::info!(
                    "pave mail: not sent (no SMTP_URL): \"{}\" (the next emails not sent are not logged)",
                    mail.subject.replace(['\r', '\n'], " ")
                );
            }
            return Ok(Delivery::NotConfigured);
        };
        let to: Mailbox = mail.to.trim().parse().map_err(|_| MailError::To)?;
        let mut builder = Message::builder()
            .from(smtp.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(super::outbox::message_id(
                &mail.key,
                smtp.from.email.domain(),
            )))
            .header(ContentType::TEXT_PLAIN);
        if let Some(address) = &mail.unsubscribe {
            builder = builder
                .header(ListUnsubscribe(format!("<{address}>")))
                .header(ListUnsubscribePost);
        }
        let message = builder
            .body(mail.text.clone())
            .map_err(|e| MailError::Build(e.to_string()))?;
        smtp.transport
            .send(message)
            .await
            .map_err(|e| MailError::Smtp(e.to_string()))?;
        Ok(Delivery::Sent)
    }
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): a mail
/// client may unsubscribe with one POST, without opening the page.
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn no_smtp_url_means_log_only() {
        let m = Mailer::from_lookup(lookup(&[("MAIL_FROM", "dons@pave.example")])).unwrap();
        assert!(!m.is_enabled());
    }

    #[test]
    fn a_configured_mailer_needs_a_sender() {
        let m = Mailer::from_lookup(lookup(&[
            ("SMTP_URL", "smtp://127.0.0.1:2525"),
            ("MAIL_FROM", "Pavé <dons@pave.example>"),
        ]))
        .unwrap();
        assert!(m.is_enabled());
        let e = Mailer::from_lookup(lookup(&[("SMTP_URL", "smtp://127.0.0.1:2525")])).unwrap_err();
        assert!(matches!(e, MailError::From(_)), "{e}");
    }

    #[test]
    fn a_bad_url_is_refused_without_echoing_it() {
        let e = Mailer::from_lookup(lookup(&[
            ("SMTP_URL", "ftp://user:secret@host"),
            ("MAIL_FROM", "dons@pave.example"),
        ]))
        .unwrap_err();
        assert!(matches!(e, MailError::Url(_)), "{e}");
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[tokio::test]
    async fn a_disabled_mailer_sends_nothing_and_does_not_fail() {
        let mail = Outgoing {
            key: "test/1".into(),
            to: "a@b.example".into(),
            subject: "s".into(),
            text: "t".into(),
            unsubscribe: None,
        };
        assert_eq!(
            Mailer::disabled().send_outgoing(&mail).await.unwrap(),
            Delivery::NotConfigured
        );
    }
}
