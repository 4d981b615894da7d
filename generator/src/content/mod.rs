//! Loading content files from disk into the model.

pub mod load;
pub mod source;
pub mod yaml;
