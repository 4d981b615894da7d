//! The SAM template (`deploy/template.yaml`) passes cfn-lint (pinned in
//! `scripts/requirements-cfn-lint.txt`, installed in `.venv` by
//! `scripts/setup-moto`). Fails, never skips, when cfn-lint is missing.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("functions/ is in the repository")
        .to_path_buf()
}

#[test]
fn the_sam_template_passes_cfn_lint() {
    let root = repo();
    let cfn_lint = root.join(".venv/bin/cfn-lint");
    assert!(
        cfn_lint.exists(),
        "cfn-lint is not installed: run scripts/setup-moto (the README's test command does); {} is missing",
        cfn_lint.display()
    );
    let output = Command::new(&cfn_lint)
        .arg("deploy/template.yaml")
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("{} does not run: {e}", cfn_lint.display()));
    assert!(
        output.status.success(),
        "cfn-lint deploy/template.yaml failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_template_names_every_function_binary_and_no_secret() {
    let template =
        std::fs::read_to_string(repo().join("deploy/template.yaml")).expect("the template");
    for code in ["build/api/", "build/rebuild/", "build/close/"] {
        assert!(template.contains(&format!("CodeUri: {code}")), "{code}");
    }
    for secret in ["sk_live_", "sk_test_", "whsec_"] {
        assert!(
            !template.contains(secret),
            "a Stripe secret in the template"
        );
    }
}
