//! A call for projects.

use super::*;

pub(super) fn check_call(issues: &mut Issues, refs: &Refs, call: &Call) {
    let file = call.file.as_path();
    let m = &call.meta;
    check_slug(
        issues,
        file,
        Vec::new(),
        &call.slug,
        "file name (the call's slug)",
    );
    check_text(issues, file, path!["title"], &m.title, "title");
    check_text(issues, file, path!["summary"], &m.summary, "summary");
    if m.themes.is_empty() {
        issues.push(
            Issue::new(
                file,
                path!["themes"],
                "no-theme",
                "a call for projects needs at least one theme",
            )
            .help("list the themes of the call, e.g. [alimentation]"),
        );
    }
    refs.check_themes(issues, file, path!["themes"], &m.themes);
    if m.deadline < m.opens {
        issues.push(
            Issue::new(
                file,
                path!["deadline"],
                "end-before-start",
                format!(
                    "the deadline {} is before the opening {}",
                    m.deadline, m.opens
                ),
            )
            .help("the deadline must be on or after the day the call opens"),
        );
    }
    if let Some(s) = &m.sponsor
        && !refs.sponsors.contains(s.as_str())
    {
        issues.push(unknown_ref(
            file,
            path!["sponsor"],
            "sponsor",
            s,
            &refs.sponsors,
            "content/sponsors/",
        ));
    }
}
