//! Money, dates and percentages the way each language writes them:
//! "1 770 €" and "16 mai 2026" in French, "€1,770" and "16 May 2026" in
//! English. They live in `pave-locale`, shared with the API's messages.

pub use pave_locale::{Lang, NNBSP, date, money, number, percent};
