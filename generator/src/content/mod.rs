//! Loading content files from disk into the model.

pub mod assets;
pub mod load;
pub mod source;
pub mod svg;
pub mod yaml;
