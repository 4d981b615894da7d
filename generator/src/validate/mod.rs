//! Validation: the rules of DESIGN.md over the loaded model.
//!
//! Rules are pure functions from the model to [`Issue`]s, which name a YAML
//! path rather than a position; [`locate`] turns them into diagnostics with
//! line and column, indexing the positions of only the files that have issues.

pub mod rules;
pub mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::content::load::FileText;
use crate::content::yaml::{SpanIndex, YamlPath};
use crate::diagnostics::{Diagnostic, Severity};

pub use rules::validate;

/// A problem at a path of a file's YAML, not yet located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub severity: Severity,
    pub code: &'static str,
    pub file: PathBuf,
    pub path: YamlPath,
    /// Point at the key rather than the value (unknown fields).
    pub at_key: bool,
    pub message: String,
    pub help: Option<String>,
}

impl Issue {
    pub fn new(
        file: &Path,
        path: YamlPath,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Issue {
            severity: Severity::Error,
            code,
            file: file.to_path_buf(),
            path,
            at_key: false,
            message: message.into(),
            help: None,
        }
    }

    pub fn at_key(
        file: &Path,
        path: YamlPath,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Issue {
            at_key: true,
            ..Issue::new(file, path, code, message)
        }
    }

    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

pub type Issues = Vec<Issue>;

/// Turns issues into located diagnostics, using the files' text.
pub fn locate(issues: Issues, files: &BTreeMap<PathBuf, FileText>) -> Vec<Diagnostic> {
    let mut by_file: BTreeMap<PathBuf, Vec<Issue>> = BTreeMap::new();
    for issue in issues {
        by_file.entry(issue.file.clone()).or_default().push(issue);
    }
    by_file
        .into_par_iter()
        .flat_map_iter(|(file, issues)| {
            let text = files.get(&file);
            let index = text.map(|t| SpanIndex::build(t.yaml())).unwrap_or_default();
            let offset = text.map_or(0, |t| t.line_offset);
            issues.into_iter().map(move |issue| {
                let (line, column) = if text.is_some() {
                    let (l, c) = if issue.at_key {
                        index.key(&issue.path)
                    } else {
                        index.value(&issue.path)
                    };
                    (l + offset, c)
                } else {
                    (1, 1)
                };
                let message = issue.message;
                Diagnostic {
                    severity: issue.severity,
                    code: issue.code,
                    file: issue.file,
                    line,
                    column,
                    message,
                    help: issue.help,
                }
            })
        })
        .collect()
}
