//! Pavé's generator: the content model, its loading and validation, and (in
//! later modules) the rendering of the static site.
//!
//! Pure where it can be: `validate` and the model are functions over values;
//! file reading sits in `content::load` and `content::source`.

pub mod build;
pub mod check;
pub mod content;
pub mod diagnostics;
pub mod headers;
pub mod link;
pub mod live;
pub mod model;
pub mod money;
pub mod render;
pub mod slug;
pub mod text;
pub mod validate;
