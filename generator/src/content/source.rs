//! Reading one content file: size and encoding checks, and the split of a
//! Markdown file into its YAML front matter and its body.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::text::FileText;

use crate::diagnostics::Diagnostic;

/// Content files (Markdown and YAML) above this size are refused: a project
/// page is a few kilobytes, and a huge file is a mistake (or an attack on
/// the build). Media files are not read, so they are not limited here.
pub const MAX_CONTENT_FILE_BYTES: u64 = 1024 * 1024;

/// A content file, read and known to be UTF-8.
#[derive(Debug, Clone)]
pub struct Source {
    /// Path as shown to the user (the content root as given, joined with the relative path).
    pub path: PathBuf,
    pub text: FileText,
}

/// The two parts of a Markdown content file.
#[derive(Debug, Clone, Copy)]
pub struct FrontMatter<'a> {
    /// The YAML between the `---` lines.
    pub yaml: &'a str,
    /// How many lines come before the YAML in the file (the opening `---`).
    pub line_offset: usize,
    /// The Markdown after the closing `---`.
    pub body: &'a str,
    /// The 1-based line where the body starts.
    pub body_line: usize,
}

/// Reads a content file, refusing oversized and non-UTF-8 files with a diagnostic.
pub fn read(path: &Path, shown: PathBuf) -> Result<Source, Diagnostic> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| io_error(&shown, &e))?;
    let size = file.metadata().map_err(|e| io_error(&shown, &e))?.len();
    if size > MAX_CONTENT_FILE_BYTES {
        return Err(Diagnostic::error(
            "file-too-large",
            &shown,
            format!(
                "this file is {} — content files must stay under {} KiB",
                human_size(size),
                MAX_CONTENT_FILE_BYTES / 1024
            ),
        )
        .help(
            "keep the text short and put images or documents next to it as separate files \
             (they are not limited), or split the page",
        ));
    }
    let mut bytes = Vec::with_capacity(size as usize + 1);
    file.take(MAX_CONTENT_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(&shown, &e))?;
    from_bytes(bytes, shown)
}

/// Checks the encoding of bytes read from a content file.
pub fn from_bytes(bytes: Vec<u8>, shown: PathBuf) -> Result<Source, Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..3);
            }
            Ok(Source {
                path: shown,
                text: Arc::new(text),
            })
        }
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // The valid prefix is UTF-8 by definition.
            let prefix = String::from_utf8_lossy(valid);
            let line = prefix.matches('\n').count() + 1;
            let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err(Diagnostic::error(
                "not-utf8",
                &shown,
                format!(
                    "this file is not valid UTF-8 (invalid byte 0x{:02X})",
                    e.as_bytes()[valid.len()]
                ),
            )
            .at(line, column)
            .help("save the file as UTF-8 in your editor (it is often saved as Latin-1 or Windows-1252)"))
        }
    }
}

/// Splits a Markdown file into front matter and body.
pub fn split_front_matter<'a>(source: &'a Source) -> Result<FrontMatter<'a>, Diagnostic> {
    let text: &str = &source.text;
    let first_line_end = text.find('\n').map_or(text.len(), |i| i + 1);
    if text[..first_line_end].trim_end() != "---" {
        return Err(Diagnostic::error(
            "missing-front-matter",
            &source.path,
            "this file does not start with a front matter block",
        )
        .help(
            "put the fields between two lines `---` at the very top of the file, then the text",
        ));
    }
    let mut offset = first_line_end;
    let mut line = 2;
    while offset < text.len() {
        let end = text[offset..]
            .find('\n')
            .map_or(text.len(), |i| offset + i + 1);
        let current = text[offset..end].trim_end();
        if current == "---" || current == "..." {
            return Ok(FrontMatter {
                yaml: &text[first_line_end..offset],
                line_offset: 1,
                body: &text[end..],
                body_line: line + 1,
            });
        }
        offset = end;
        line += 1;
    }
    Err(Diagnostic::error(
        "unclosed-front-matter",
        &source.path,
        "the front matter opened on line 1 is never closed",
    )
    .help("add a line `---` after the last field, before the text of the page"))
}

fn io_error(shown: &Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic::error(
        "unreadable-file",
        shown,
        format!("cannot read this file: {e}"),
    )
    .help("check that the file exists and is readable")
}

pub fn human_size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source {
        from_bytes(text.as_bytes().to_vec(), PathBuf::from("x.md")).unwrap()
    }

    #[test]
    fn splits_front_matter_and_body() {
        let s = src("---\ntitle: A\n---\nHello\n");
        let fm = split_front_matter(&s).unwrap();
        assert_eq!(fm.yaml, "title: A\n");
        assert_eq!(fm.body, "Hello\n");
        assert_eq!(fm.body_line, 4);
    }

    #[test]
    fn crlf_and_bom_are_accepted() {
        let s = from_bytes(
            b"\xEF\xBB\xBF---\r\ntitle: A\r\n---\r\nHi".to_vec(),
            "x".into(),
        )
        .unwrap();
        let fm = split_front_matter(&s).unwrap();
        assert_eq!(fm.yaml, "title: A\r\n");
        assert_eq!(fm.body, "Hi");
    }

    #[test]
    fn unclosed_front_matter_is_reported() {
        let s = src("---\ntitle: A\nbody text\n");
        let d = split_front_matter(&s).unwrap_err();
        assert_eq!(d.code, "unclosed-front-matter");
        assert_eq!(d.line, 1);
    }

    #[test]
    fn invalid_utf8_points_at_the_byte() {
        let d = from_bytes(b"---\ntitle: caf\xE9\n".to_vec(), "x.md".into()).unwrap_err();
        assert_eq!(d.code, "not-utf8");
        assert_eq!((d.line, d.column), (2, 11));
        assert!(d.message.contains("0xE9"));
    }
}
