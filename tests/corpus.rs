//! `pave corpus` end to end: the corpus is valid content for `pave check`,
//! deterministic, and its Hugo twin holds the same projects.

use std::path::Path;
use std::process::Command;

fn corpus(out: &Path, seed: &str) {
    let status = Command::new(env!("CARGO_BIN_EXE_pave"))
        .arg("corpus")
        .arg(out)
        .args([
            "--projects",
            "50",
            "--territories",
            "7",
            "--seed",
            seed,
            "--hugo",
        ])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Every file under `dir`, relative path → bytes, sorted.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect();
    all.sort();
    all
}

#[test]
fn the_corpus_passes_pave_check_with_no_error_nor_warning() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path(), "42");
    let out = Command::new(env!("CARGO_BIN_EXE_pave"))
        .arg("check")
        .arg(dir.path().join("content"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("0 errors, 0 warnings"),
        "{stdout}{stderr}"
    );
    let projects = walkdir::WalkDir::new(dir.path().join("content/territories"))
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_name() == "index.md")
        .count();
    assert_eq!(projects, 50);
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_other_stories() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    corpus(a.path(), "7");
    corpus(b.path(), "7");
    corpus(c.path(), "8");
    assert_eq!(files(a.path()), files(b.path()));
    assert_ne!(files(a.path()), files(c.path()));
}

#[test]
fn the_hugo_twin_holds_the_same_projects_with_their_story_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path(), "42");
    let hugo = dir.path().join("hugo");
    let config = std::fs::read_to_string(hugo.join("hugo.toml")).unwrap();
    assert!(config.contains("theme = \"pave-twin\""));
    assert!(config.contains("[languages.en]"));
    for layout in [
        "layouts/_default/baseof.html",
        "layouts/_default/single.html",
        "layouts/_default/term.html",
        "layouts/index.html",
    ] {
        assert!(
            hugo.join("themes/pave-twin").join(layout).is_file(),
            "{layout}"
        );
    }
    let territories = std::fs::read_dir(hugo.join("content/territoires"))
        .unwrap()
        .count();
    assert_eq!(territories, 7);
    let projects = std::fs::read_dir(hugo.join("content/projets"))
        .unwrap()
        .count();
    assert_eq!(projects, 50);

    // The same project, the same story: the Markdown after the front matter is
    // byte for byte the one of the Pavé tree.
    let pave = std::fs::read_to_string(
        dir.path()
            .join("content/territories/territoire-003/projects/projet-00010/index.md"),
    )
    .unwrap();
    let twin = std::fs::read_to_string(hugo.join("content/projets/projet-00010/index.md")).unwrap();
    let story = |md: &str| md.splitn(3, "---\n").nth(2).unwrap().to_string();
    assert_eq!(story(&pave), story(&twin));
    assert!(story(&twin).split_whitespace().count() > 550);
    let field = |md: &str, name: &str| {
        md.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {md}"))
            .to_string()
    };
    for name in ["title: ", "goal: ", "funding: ", "summary: "] {
        assert_eq!(field(&pave, name), field(&twin, name));
    }
    assert_eq!(
        field(&twin, "territoires: "),
        "territoires: [territoire-003]"
    );
    assert_eq!(field(&twin, "raised: "), "raised: 0");
}
