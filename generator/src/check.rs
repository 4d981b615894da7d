//! `pave check`: load, validate and report, all problems at once.

use std::collections::BTreeMap;
use std::path::Path;

use crate::content::load;
use crate::diagnostics::Report;
use crate::model::Site;
use crate::validate;

/// The outcome of checking a content folder.
pub struct Checked {
    pub site: Option<Site>,
    pub report: Report,
}

/// Loads and validates the content at `root`.
pub fn check(root: &Path) -> Checked {
    let loaded = load::load(root);
    let mut issues = loaded.issues;
    if let Some(site) = &loaded.site {
        issues.extend(validate::validate(site, &loaded.flags));
    }
    let mut diagnostics = loaded.diagnostics;
    diagnostics.extend(validate::locate(issues, &loaded.files));
    let sources: BTreeMap<_, _> = loaded
        .files
        .iter()
        .map(|(path, file)| (path.clone(), file.text.clone()))
        .collect();
    Checked {
        site: loaded.site,
        report: Report::new(diagnostics, sources),
    }
}
