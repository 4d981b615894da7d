//! Snapshots of the rendered pages of the sample site: a template change
//! shows its diff in review (`tests/snapshots/*.snap`). To accept an intended
//! change: `INSTA_UPDATE=always cargo test --test snapshots`, then review the diff.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn rendered_pages() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let fixture = repo_root().join("tests/fixtures/progress.json");
    let output = pave(
        &repo_root(),
        &[
            "build",
            "--out",
            out.to_str().unwrap(),
            "--today",
            "2026-11-23",
            "--progress",
            fixture.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (name, rel) in [
        ("home", "index.html"),
        ("territory", "territoires/saint-etienne/index.html"),
        ("project", "projets/cafe-du-coin/index.html"),
        (
            "project_closed",
            "projets/tables-pique-nique-montaud/index.html",
        ),
        ("project_en", "en/projets/cafe-du-coin/index.html"),
        ("widget", "projets/cafe-du-coin/widget/index.html"),
        (
            "call",
            "territoires/saint-etienne/appels/circuits-courts-2026/index.html",
        ),
        ("sponsor", "partenaires/fondation-btp-plus/index.html"),
        ("stats", "statistiques/index.html"),
        ("feed", "territoires/saint-etienne/atom.xml"),
    ] {
        let text = std::fs::read_to_string(out.join(rel)).unwrap();
        insta::assert_snapshot!(name, text);
    }
}
