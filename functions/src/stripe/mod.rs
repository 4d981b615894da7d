//! The Stripe edge of the money side.
//!
//! - [`signature`] (pure): verifies and produces `Stripe-Signature` headers.
//! - [`events`] (pure): turns a verified webhook body into a [`StripeEvent`].
//! - [`client`]: the [`Payments`] trait (create a Checkout Session, refund) and
//!   [`StripePayments`], its implementation on async-stripe 1.0.
//! - `double` (tests, `test-double` feature): a local HTTP server answering like
//!   Stripe, with signed webhook events.
//!
//! Webhook flow for the HTTP layer: read the raw body (bounded), call
//! [`signature::verify`] with the `Stripe-Signature` header, the secret and the
//! current time, then [`events::parse`]; either error answers 400. Apply the
//! event at most once, keyed by its `event_id`.

pub mod client;
pub mod events;
pub mod signature;

#[cfg(any(test, feature = "test-double"))]
pub mod double;

#[cfg(test)]
mod tests;

pub use client::{
    CheckoutRequest, CheckoutSession, Locale, PaymentError, Payments, Refund, RefundStatus,
    StripeConfig, StripePayments,
};
pub use events::{EventError, PaymentStatus, StripeEvent};
pub use signature::SignatureError;
