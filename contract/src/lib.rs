//! What the two halves of Pavé agree on, in one place: the generator
//! publishes `catalog.json` and reads the progress snapshot, the functions
//! read the catalog and write the snapshot. Between processes the JSON is
//! the wire format (versioned, documented in ARCHITECTURE.md); in one
//! process (`pave serve`, `pave-rebuild`) these types pass directly.
//!
//! - [`catalog`]: the reviewed rules of every project, reward and pool;
//! - [`progress`]: every project's figures;
//! - [`kinds`]: the enums both sides name (status, funding, pool mode,
//!   holder kind, outcome), each with its one `as_str`;
//! - [`frame`]: the site's layout around the API's pages (`frames.json`);
//! - [`urls`]: the site's addresses; [`share`]: the links that share a page;
//! - [`html`]: the one escaper of text in HTML and XML;
//! - [`calendar`]: a campaign's days in its time zone;
//! - [`news`]: a project's news item, announced to its readers;
//! - [`outcome`]: the one rule that says whether a campaign is funded;
//! - [`matching`]: the matching engine (what each pool adds, and when).

pub mod calendar;
pub mod catalog;
pub mod frame;
pub mod html;
pub mod kinds;
pub mod matching;
pub mod news;
pub mod outcome;
pub mod progress;
pub mod share;
pub mod urls;

pub use kinds::{Funding, HolderKind, Outcome, PoolMode, Status};
