//! `pave check` end to end: the sample content is clean; a broken copy yields
//! one located diagnostic per planted mistake; malformed input never panics
//! or hangs.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn sample_content_is_clean() {
    let out = pave(&repo_root(), &["check", "content"], LIMIT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 errors, 0 warnings"), "{stdout}");
}

/// One planted mistake: the diagnostic it must produce.
struct Expect {
    code: &'static str,
    file: &'static str,
    line: usize,
}

fn plant(root: &Path) -> Vec<Expect> {
    let c = root.join("content");
    let t = |p: &str| c.join("territories").join(p);
    let mut expected = Vec::new();
    let mut expect = |code, file: &'static str, line| expected.push(Expect { code, file, line });

    let f = t("marseille/projects/trottoirs-libres/index.md");
    edit(&f, "goal: 9000", "goal: 30000");
    expect(
        "goal-above-max",
        "territories/marseille/projects/trottoirs-libres/index.md",
        line_of(&f, "goal: 30000"),
    );

    let f = t("saint-etienne/projects/cafe-du-coin/index.md");
    edit(&f, "cap: 7500", "cap: 5000");
    expect(
        "cap-below-goal",
        "territories/saint-etienne/projects/cafe-du-coin/index.md",
        line_of(&f, "cap: 5000"),
    );

    let f = t("saint-etienne/projects/bibliotheque-triporteur/index.md");
    edit(&f, "end: 2026-12-15", "end: 2026-10-05");
    expect(
        "end-before-start",
        "territories/saint-etienne/projects/bibliotheque-triporteur/index.md",
        line_of(&f, "2026-10-05"),
    );

    let f = t("saint-etienne/projects/chaud-dedans-beaubrun/index.md");
    edit(&f, "end: 2027-01-15", "end: 2027-03-15");
    expect(
        "campaign-too-long",
        "territories/saint-etienne/projects/chaud-dedans-beaubrun/index.md",
        line_of(&f, "2027-03-15"),
    );

    let f = t("saint-etienne/projects/tables-pique-nique-montaud/index.md");
    edit(&f, "- min: 25", "- min: 4");
    expect(
        "rewards-not-ordered",
        "territories/saint-etienne/projects/tables-pique-nique-montaud/index.md",
        line_of(&f, "- min: 4"),
    );

    let f = t("auvergne/projects/jardin-des-quatre-saisons/index.md");
    edit(
        &f,
        "themes: [environnement, alimentation]",
        "themes: [environnement, alimentaton]",
    );
    expect(
        "unknown-reference",
        "territories/auvergne/projects/jardin-des-quatre-saisons/index.md",
        line_of(&f, "alimentaton"),
    );

    let f = t("saint-etienne/calls/circuits-courts-2026.md");
    edit(
        &f,
        "sponsor: ville-de-saint-etienne",
        "sponsor: ville-de-st-etienne",
    );
    expect(
        "unknown-reference",
        "territories/saint-etienne/calls/circuits-courts-2026.md",
        line_of(&f, "ville-de-st-etienne"),
    );

    let f = t("auvergne/projects/imprimante-3d-mediatheque-thiers/index.md");
    edit(&f, "goal: 2800", "goal: 2800.555");
    expect(
        "too-many-decimals",
        "territories/auvergne/projects/imprimante-3d-mediatheque-thiers/index.md",
        line_of(&f, "2800.555"),
    );

    let f = t("marseille/projects/repair-cafe-belle-de-mai/index.md");
    edit(
        &f,
        "funding: keep_it_all",
        "funding: keep_it_all\nfeaturd: true",
    );
    expect(
        "unknown-field",
        "territories/marseille/projects/repair-cafe-belle-de-mai/index.md",
        line_of(&f, "featurd"),
    );

    let f = t("saint-etienne/projects/velobus-ecole-jacquard/index.md");
    let text = std::fs::read_to_string(&f).unwrap();
    let summary = text
        .lines()
        .find(|l| l.starts_with("summary:"))
        .unwrap()
        .to_string();
    edit(&f, &format!("{summary}\n"), "");
    expect(
        "missing-field",
        "territories/saint-etienne/projects/velobus-ecole-jacquard/index.md",
        2,
    );

    let f = t("auvergne/projects/atelier-velo-le-puy/index.md");
    edit(&f, "goal: 8000", "goal: huit mille");
    expect(
        "wrong-type",
        "territories/auvergne/projects/atelier-velo-le-puy/index.md",
        line_of(&f, "huit mille"),
    );

    copy_tree(
        &t("marseille/projects/chorale-du-panier"),
        &t("marseille/projects/Chorale_Bis"),
    );
    expect(
        "bad-slug",
        "territories/marseille/projects/Chorale_Bis/index.md",
        2,
    );

    copy_tree(
        &t("marseille/projects/repair-cafe-belle-de-mai"),
        &t("saint-etienne/projects/repair-cafe-belle-de-mai"),
    );
    // The copy carries the unknown field planted above, reported in its own file.
    let copy = t("saint-etienne/projects/repair-cafe-belle-de-mai/index.md");
    expect(
        "duplicate-slug",
        "territories/saint-etienne/projects/repair-cafe-belle-de-mai/index.md",
        2,
    );
    expect(
        "unknown-field",
        "territories/saint-etienne/projects/repair-cafe-belle-de-mai/index.md",
        line_of(&copy, "featurd"),
    );

    let f = t("saint-etienne/projects/cafe-du-coin/news/2026-11-12-premiere-semaine.md");
    let mut bytes = std::fs::read(&f).unwrap();
    let pos = bytes.iter().rposition(|b| *b == b'\n').unwrap();
    bytes.splice(pos..pos, b" caf\xE9".iter().copied());
    std::fs::write(&f, &bytes).unwrap();
    expect(
        "not-utf8",
        "territories/saint-etienne/projects/cafe-du-coin/news/2026-11-12-premiere-semaine.md",
        line_of(&f, " caf"),
    );

    let f = t("marseille/projects/toit-partage/news/2026-11-21-tres-long.md");
    std::fs::write(
        &f,
        format!(
            "---\ntitle: Long\ndate: 2026-11-21\n---\n{}",
            "bla ".repeat(600_000)
        ),
    )
    .unwrap();
    expect(
        "file-too-large",
        "territories/marseille/projects/toit-partage/news/2026-11-21-tres-long.md",
        1,
    );

    let f = t("auvergne/calls/manger-local-2026.md");
    let text = std::fs::read_to_string(&f).unwrap();
    let title = text
        .lines()
        .find(|l| l.starts_with("title:"))
        .unwrap()
        .to_string();
    edit(&f, &title, "title: \"Manger local");
    expect(
        "yaml-syntax",
        "territories/auvergne/calls/manger-local-2026.md",
        0,
    );

    let f = t("auvergne/projects/epicerie-des-volcans/news/2026-11-18-assemblee-generale.md");
    let text = std::fs::read_to_string(&f).unwrap();
    let closing = text.match_indices("\n---\n").next().unwrap().0;
    std::fs::write(
        &f,
        format!("{}\n{}", &text[..closing], &text[closing + 5..]),
    )
    .unwrap();
    expect(
        "unclosed-front-matter",
        "territories/auvergne/projects/epicerie-des-volcans/news/2026-11-18-assemblee-generale.md",
        1,
    );

    let f = c.join("sponsors/fondation-btp-plus.md");
    edit(&f, "    ratio: 1\n", "    ratio: 1\n    amount: 500\n");
    expect(
        "field-not-for-mode",
        "sponsors/fondation-btp-plus.md",
        line_of(&f, "amount: 500"),
    );

    let f = t("marseille/_territory.md");
    let text = std::fs::read_to_string(&f).unwrap();
    let primary = text
        .lines()
        .find(|l| l.contains("primary:"))
        .unwrap()
        .to_string();
    let start = primary.find("primary:").unwrap();
    let hash = start + primary[start..].find('#').unwrap();
    let broken = format!("{}{}", &primary[..hash + 1], &primary[hash + 2..]);
    edit(&f, &primary, &broken);
    expect(
        "bad-colour",
        "territories/marseille/_territory.md",
        line_of(&f, "primary:"),
    );

    expected
}

#[test]
fn a_broken_copy_gives_one_located_diagnostic_per_mistake() {
    let dir = sample_copy();
    let expected = plant(dir.path());

    let out = pave(dir.path(), &["check", "content", "--format", "json"], LIMIT);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let diagnostics = report["diagnostics"].as_array().unwrap();
    let got: BTreeSet<(String, String, u64)> = diagnostics
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("content/")
                    .to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    for e in &expected {
        let found = got.iter().any(|(code, file, line)| {
            code == e.code && file == e.file && (e.line == 0 || *line == e.line as u64)
        });
        assert!(
            found,
            "missing {} in {} line {}; got:\n{got:#?}",
            e.code, e.file, e.line
        );
    }
    assert_eq!(
        diagnostics.len(),
        expected.len(),
        "one diagnostic per planted mistake; got:\n{got:#?}"
    );
    for d in diagnostics {
        assert!(d["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(
            d["help"].as_str().is_some_and(|h| !h.is_empty()),
            "every diagnostic says how to fix it: {d}"
        );
        assert!(d["column"].as_u64().unwrap() >= 1);
    }
    assert_eq!(report["errors"].as_u64(), Some(expected.len() as u64));

    // The misspelt field gets a suggestion.
    let typo = diagnostics
        .iter()
        .find(|d| d["code"] == "unknown-field")
        .unwrap();
    assert!(
        typo["help"]
            .as_str()
            .unwrap()
            .contains("did you mean `featured`"),
        "{typo}"
    );
}

#[test]
fn github_format_annotates_each_mistake() {
    let dir = sample_copy();
    let expected = plant(dir.path());
    let out = pave(
        dir.path(),
        &["check", "content", "--format", "github"],
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{stdout}");
    for e in expected.iter().filter(|e| e.line > 0) {
        let prefix = format!("::error file=content/{},line={},col=", e.file, e.line);
        assert!(
            lines.iter().any(|l| l.starts_with(&prefix)
                && l.contains(&format!("title=pave check%3A {}::", e.code))),
            "no annotation {prefix} for {} in:\n{stdout}",
            e.code
        );
    }
}

#[test]
fn human_format_shows_file_line_and_fix() {
    let dir = sample_copy();
    let f = dir
        .path()
        .join("content/territories/marseille/projects/trottoirs-libres/index.md");
    edit(&f, "goal: 9000", "goal: 30000");
    let out = pave(dir.path(), &["check", "content"], LIMIT);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = line_of(&f, "goal: 30000");
    assert!(
        stdout.contains(&format!(
            "content/territories/marseille/projects/trottoirs-libres/index.md:{line}:7"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("goal: 30000"),
        "the offending line is quoted: {stdout}"
    );
    assert!(
        stdout.contains("help: lower the goal to at most 25000 €"),
        "{stdout}"
    );
    assert!(stdout.contains("1 error, 0 warnings"), "{stdout}");
}

#[test]
fn usage_errors_exit_with_2() {
    let out = pave(&repo_root(), &["check", "does-not-exist"], LIMIT);
    assert_eq!(out.status.code(), Some(2));
    let out = pave(
        &repo_root(),
        &["check", "content", "--format", "xml"],
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(2));
    let out = pave(&repo_root(), &["frobnicate"], LIMIT);
    assert_eq!(out.status.code(), Some(2));
}

/// Writes `bytes` as a project's `index.md` in a copy of the sample, checks it,
/// and returns the diagnostics about that file.
fn check_hostile(name: &str, bytes: &[u8]) -> Vec<Value> {
    let dir = sample_copy();
    let folder = dir
        .path()
        .join("content/territories/marseille/projects")
        .join(name);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("index.md"), bytes).unwrap();
    let out = pave(dir.path(), &["check", "content", "--format", "json"], LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "pave panicked on {name}: {stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours: Vec<Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"].as_str().unwrap().contains(name))
        .cloned()
        .collect();
    assert!(!ours.is_empty(), "{name} gave no diagnostic");
    for d in &ours {
        assert!(!d["message"].as_str().unwrap().is_empty());
        assert!(d["help"].is_string(), "{d}");
    }
    ours
}

#[test]
fn malformed_input_is_reported_never_panics_or_hangs() {
    let codes = |ds: Vec<Value>| -> Vec<String> {
        ds.iter()
            .map(|d| d["code"].as_str().unwrap().to_string())
            .collect()
    };

    assert_eq!(
        codes(check_hostile("latin1", b"---\ntitle: caf\xE9\n---\n")),
        ["not-utf8"]
    );

    let mut huge = b"---\ntitle: x\n---\n".to_vec();
    huge.resize(50 * 1024 * 1024, b'a');
    assert_eq!(codes(check_hostile("huge", &huge)), ["file-too-large"]);

    let mut bomb = String::from(
        "---\na: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
    );
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("b{}", i - 1)
        };
        let refs = vec![format!("*{prev}"); 9].join(", ");
        bomb.push_str(&format!("b{i}: &b{i} [{refs}]\n"));
    }
    bomb.push_str("---\n");
    // The aliases sit in fields the format does not know: they are reported
    // (without being expanded), and so is the missing title.
    let ds = codes(check_hostile("bomb", bomb.as_bytes()));
    assert_eq!(
        ds.iter().filter(|c| *c == "unknown-field").count(),
        10,
        "{ds:?}"
    );
    assert!(ds.contains(&"missing-field".to_string()), "{ds:?}");
    // An alias used in a known field is read only as deep as the field's
    // type: a list of themes holding lists is a wrong type, not a bomb.
    let mut expanded = bomb.replace("\n---\n", "\n");
    expanded.push_str("themes: *b8\ntitle: x\n---\n");
    let ds = codes(check_hostile("expanded", expanded.as_bytes()));
    assert!(ds.contains(&"wrong-type".to_string()), "{ds:?}");

    let deep = format!(
        "---\ntitle: {}{}\n---\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(check_hostile("deep", deep.as_bytes()).len(), 1);

    let nested_maps = format!(
        "---\n{}\n---\n",
        (0..200)
            .map(|i| format!("{}k{i}:", "  ".repeat(i)))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Deep block nesting costs little (it is bounded by the file size limit):
    // the unknown field is reported, and the missing title.
    let mut ds = codes(check_hostile("nested", nested_maps.as_bytes()));
    ds.sort();
    assert_eq!(ds, ["missing-field", "unknown-field"]);

    assert_eq!(
        codes(check_hostile("unclosed", b"---\ntitle: x\nno end\n")),
        ["unclosed-front-matter"]
    );
    assert_eq!(
        codes(check_hostile("nofm", b"Just text\n")),
        ["missing-front-matter"]
    );
    assert_eq!(codes(check_hostile("empty", b"")), ["missing-front-matter"]);
    assert_eq!(
        codes(check_hostile("emptyfm", b"---\n---\n")),
        ["empty-front-matter"]
    );
    assert_eq!(
        codes(check_hostile("binary", &[0u8, 159, 146, 150, 0, 1, 2])),
        ["not-utf8"]
    );
    let ds = check_hostile("tabs", b"---\ntitle: x\n\tsummary: y\n---\n");
    assert_eq!(ds.len(), 1, "{ds:?}");
    let ds = check_hostile("dupkey", b"---\ntitle: x\ntitle: y\n---\n");
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(ds[0]["code"], "duplicate-field", "{ds:?}");
    assert_eq!(ds[0]["line"].as_u64(), Some(3), "{ds:?}");
}
