//! Every generated page is valid HTML (Nu Html Checker) and the main pages
//! have no WCAG 2.1 AA violation (axe-core in Debian's headless Chromium).
//! The tools are installed by `scripts/setup-web`, which `scripts/test` runs;
//! a missing tool fails this test, it is never skipped.

mod common;

use std::process::Command;

use common::*;

#[test]
fn pages_are_valid_html_and_accessible() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build_sample(&out);

    let mut args = vec![
        repo_root()
            .join("tests/web/check.mjs")
            .to_string_lossy()
            .into_owned(),
        "--root".into(),
        out.to_string_lossy().into_owned(),
        "--best-practice".into(),
        "--json".into(),
    ];
    for page in [
        "/",
        "/territoires/saint-etienne/",
        "/projets/cafe-du-coin/",
        "/projets/tables-pique-nique-montaud/",
        "/statistiques/",
        "/partenaires/fondation-btp-plus/",
        "/en/projets/cafe-du-coin/",
        "/projets/cafe-du-coin/widget/",
        "/404.html",
    ] {
        args.push("--axe".into());
        args.push(page.into());
    }
    let output = Command::new("node")
        .args(&args)
        .output()
        .expect("node runs (scripts/setup-web installs it)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(
        output.status.code(),
        Some(2),
        "the web harness could not run: {stderr}\nrun scripts/setup-web"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("harness output is not JSON ({e}): {stderr}"));
    assert_eq!(
        report["vnu_errors"].as_array().map(Vec::len),
        Some(0),
        "HTML errors: {:#}",
        report["vnu_errors"]
    );
    let axe = report["axe"].as_object().unwrap();
    assert_eq!(axe.len(), 9, "every page was checked");
    for (page, violations) in axe {
        assert_eq!(
            violations.as_array().map(Vec::len),
            Some(0),
            "accessibility violations on {page}: {violations:#}"
        );
    }
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}
