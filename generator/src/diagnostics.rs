//! Diagnostics: one problem in one content file, with its position, what is
//! wrong and how to fix it; and the three ways `pave check` prints them.

use crate::text::FileText;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How bad a problem is. Errors make `pave check` fail; warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, located in a file (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable, kebab-case identifier of the rule (`unknown-field`, `goal-above-max`, ...).
    pub code: &'static str,
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            file: file.into(),
            line: 1,
            column: 1,
            message: message.into(),
            help: None,
        }
    }

    pub fn warning(
        code: &'static str,
        file: impl Into<PathBuf>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, file, message)
        }
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = line.max(1);
        self.column = column.max(1);
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The output formats of `pave check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Source snippets for a person at a terminal.
    Human,
    /// GitHub Actions workflow commands: inline annotations in a pull request.
    Github,
    /// One JSON document, for tools.
    Json,
}

/// All the problems found in one run, with the sources they point into.
#[derive(Debug, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    sources: BTreeMap<PathBuf, FileText>,
}

impl Report {
    pub fn new(mut diagnostics: Vec<Diagnostic>, sources: BTreeMap<PathBuf, FileText>) -> Self {
        diagnostics.sort_by(|a, b| {
            (&a.file, a.line, a.column, a.severity, a.code)
                .cmp(&(&b.file, b.line, b.column, b.severity, b.code))
        });
        diagnostics.dedup();
        Report {
            diagnostics,
            sources,
        }
    }

    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Human => self.render_human(),
            Format::Github => self.render_github(),
            Format::Json => self.render_json(),
        }
    }

    fn render_human(&self) -> String {
        use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
        let renderer = Renderer::plain();
        let mut out = String::new();
        for d in &self.diagnostics {
            let level = match d.severity {
                Severity::Error => Level::ERROR,
                Severity::Warning => Level::WARNING,
            };
            let path = d.file.display().to_string();
            let title = level.primary_title(&d.message).id(d.code);
            let mut group = Group::with_title(title);
            if let Some((line_text, range)) = self
                .sources
                .get(&d.file)
                .and_then(|text| line_span(text, d.line, d.column))
            {
                group = group.element(
                    Snippet::source(line_text)
                        .line_start(d.line)
                        .path(&path)
                        .annotation(AnnotationKind::Primary.span(range)),
                );
            } else {
                group = group.element(annotate_snippets::Origin::path(&path).line(d.line));
            }
            if let Some(help) = &d.help {
                group = group.element(Level::HELP.message(help));
            }
            out.push_str(&renderer.render(&[group]));
            out.push_str("\n\n");
        }
        let _ = writeln!(
            out,
            "{} error{}, {} warning{}",
            self.errors(),
            plural(self.errors()),
            self.warnings(),
            plural(self.warnings())
        );
        out
    }

    fn render_github(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            let command = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let _ = writeln!(
                out,
                "::{command} file={},line={},col={},title={}::{}",
                escape_property(&d.file.display().to_string()),
                d.line,
                d.column,
                escape_property(&format!("pave check: {}", d.code)),
                escape_data(&message)
            );
        }
        out
    }

    fn render_json(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            version: u32,
            errors: usize,
            warnings: usize,
            diagnostics: &'a [Diagnostic],
        }
        let mut json = serde_json::to_string_pretty(&Out {
            version: 1,
            errors: self.errors(),
            warnings: self.warnings(),
            diagnostics: &self.diagnostics,
        })
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        json.push('\n');
        json
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The text of a 1-based line and the byte range of the annotated token in it.
fn line_span(text: &str, line: usize, column: usize) -> Option<(&str, std::ops::Range<usize>)> {
    let line_text = text.lines().nth(line.checked_sub(1)?)?;
    let start = line_text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line_text.len(), |(i, _)| i);
    let rest = &line_text[start..];
    let len = rest
        .find(|c: char| c.is_whitespace() || c == ',' || c == '}' || c == ']')
        .unwrap_or(rest.len())
        .max(rest.chars().next().map_or(0, char::len_utf8));
    Some((line_text, start..start + len))
}

/// Escapes the message of a GitHub workflow command.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property (`file=`, `title=`) of a GitHub workflow command.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Joins a path relative to the content root onto the root as the user named it,
/// so diagnostics read `content/territories/…` when the user ran `pave check content`.
pub fn display_path(root: &Path, relative: &Path) -> PathBuf {
    if root == Path::new(".") {
        relative.to_path_buf()
    } else {
        root.join(relative)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn github_annotations_escape_separators() {
        let d = Diagnostic::error("x", "a,b:c.md", "50% done\nnext")
            .at(3, 7)
            .help("fix");
        let report = Report::new(vec![d], BTreeMap::new());
        assert_eq!(
            report.render(Format::Github),
            "::error file=a%2Cb%3Ac.md,line=3,col=7,title=pave check%3A x::50%25 done%0Anext%0Ahelp: fix\n"
        );
    }

    #[test]
    fn human_output_shows_the_line_and_the_help() {
        let d = Diagnostic::error("goal-above-max", "p.md", "goal too high")
            .at(2, 7)
            .help("lower it");
        let mut sources = BTreeMap::new();
        sources.insert(
            PathBuf::from("p.md"),
            Arc::new("---\ngoal: 90000\n---\n".to_string()),
        );
        let out = Report::new(vec![d], sources).render(Format::Human);
        assert!(out.contains("goal: 90000"), "{out}");
        assert!(out.contains("p.md:2:7"), "{out}");
        assert!(out.contains("lower it"), "{out}");
        assert!(out.contains("1 error, 0 warnings"), "{out}");
    }
}
