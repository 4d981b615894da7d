//! A project's news item as the functions announce it to the backers who
//! asked for it (`pave_functions::mail::news`): the generator reads it from
//! the content (`pave_generator::build::announcements`); `pave serve` and a
//! publish on AWS hand it over in the same process.

use jiff::civil::Date;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// The project's slug.
    pub project: String,
    /// The news item's slug (its file's name), unique in the project.
    pub id: String,
    pub title: String,
    pub date: Date,
    /// Its text as written (Markdown reads as plain text).
    pub text: String,
}
