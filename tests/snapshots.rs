//! Snapshots of the rendered pages of the sample site: a template change
//! shows its diff in review (`tests/snapshots/*.snap`). To accept an intended
//! change: `INSTA_UPDATE=always cargo test --test snapshots`, then review the diff.

mod common;

use common::*;

#[test]
fn rendered_pages() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build_sample(&out);
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
