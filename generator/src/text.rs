//! Shared file text: read once, never copied. A page's body is a slice of
//! its file's text.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// The whole text of a content file, shared.
pub type FileText = Arc<String>;

/// A part of a file's text (the Markdown body after the front matter).
#[derive(Clone, Default)]
pub struct Slice {
    text: FileText,
    range: Range<usize>,
}

impl Slice {
    /// A slice of `text`; `range` must lie on character boundaries.
    pub fn new(text: FileText, range: Range<usize>) -> Slice {
        debug_assert!(text.get(range.clone()).is_some());
        Slice { text, range }
    }

    /// A slice holding a whole string.
    pub fn owned(s: String) -> Slice {
        let range = 0..s.len();
        Slice {
            text: Arc::new(s),
            range,
        }
    }
}

impl Deref for Slice {
    type Target = str;

    fn deref(&self) -> &str {
        self.text.get(self.range.clone()).unwrap_or_default()
    }
}

impl fmt::Debug for Slice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq for Slice {
    fn eq(&self, other: &Slice) -> bool {
        **self == **other
    }
}
