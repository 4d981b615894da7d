//! The interface languages and how each writes money, numbers and dates:
//! "1 770 €" and "16 mai 2026" in French, "€1,770" and "16 May 2026" in
//! English. One crate so that the site (the generator) and the API's messages
//! (the functions) write them the same way.

mod format;
mod lang;

pub use format::{NNBSP, date, money, number, percent};
pub use lang::Lang;
