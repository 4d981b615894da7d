//! `pave build` end to end on the sample content: the pages a citizen reads,
//! with the figures, links and forms they would check; sanitised stories;
//! deterministic output; the incremental re-render of progress figures.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(120);
const TODAY: &str = "2026-11-23";

fn build(cwd: &Path, content: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "build",
        "--content",
        content.to_str().unwrap(),
        "--theme",
        repo_root()
            .join("themes/default")
            .to_str()
            .unwrap()
            .to_string()
            .leak(),
        "--out",
        out.to_str().unwrap(),
        "--today",
        TODAY,
    ];
    args.extend_from_slice(extra);
    let output = pave(cwd, &args, LIMIT);
    assert!(
        output.status.success(),
        "pave build failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn read(out: &Path, rel: &str) -> String {
    std::fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The files whose bytes differ between two trees (new ones included).
fn changed_files(
    before: &BTreeMap<PathBuf, Vec<u8>>,
    after: &BTreeMap<PathBuf, Vec<u8>>,
) -> Vec<String> {
    after
        .iter()
        .filter(|(p, bytes)| before.get(*p) != Some(bytes))
        .map(|(p, _)| p.to_string_lossy().into_owned())
        .collect()
}

/// Every file of a full build of `content` with `snapshot` has the same
/// bytes in `after` (the output of the incremental path).
fn assert_equals_full_build(content: &Path, snapshot: &Path, after: &BTreeMap<PathBuf, Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    build(
        &repo_root(),
        content,
        &full,
        &["--progress", snapshot.to_str().unwrap()],
    );
    for (path, bytes) in &tree(&full) {
        assert!(
            after.get(path) == Some(bytes),
            "{} differs from a full rebuild",
            path.display()
        );
    }
}

/// All files of a tree, with their bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(root).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

const NNBSP: &str = "\u{202F}";

#[test]
fn every_page_kind_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build_sample(&out);
    for rel in [
        "index.html",
        "en/index.html",
        "territoires/saint-etienne/index.html",
        "territoires/auvergne/index.html",
        "territoires/marseille/index.html",
        "territoires/saint-etienne/appels/circuits-courts-2026/index.html",
        "projets/cafe-du-coin/index.html",
        "projets/cafe-du-coin/widget/index.html",
        "projets/cafe-du-coin/cover.svg",
        "en/projets/cafe-du-coin/index.html",
        "themes/index.html",
        "themes/habitat/index.html",
        "partenaires/index.html",
        "partenaires/fondation-btp-plus/index.html",
        "statistiques/index.html",
        "404.html",
        "en/404.html",
        "sitemap.xml",
        "robots.txt",
        "atom.xml",
        "territoires/saint-etienne/atom.xml",
        "catalog.json",
        "frames.json",
        "style.css",
    ] {
        assert!(out.join(rel).is_file(), "{rel} is missing");
    }
    // Drafts and projects under review are not published.
    assert!(!out.join("projets/chorale-du-panier").exists());
    assert!(!out.join("projets/velobus-ecole-jacquard").exists());
    let sitemap = read(&out, "sitemap.xml");
    assert!(sitemap.contains("<loc>https://pave.example.org/projets/cafe-du-coin/</loc>"));
    assert!(
        sitemap
            .contains("hreflang=\"en\" href=\"https://pave.example.org/en/projets/cafe-du-coin/\"")
    );
    assert!(!sitemap.contains("widget"));
    let feed = read(&out, "territoires/saint-etienne/atom.xml");
    assert!(
        feed.contains("<title>Le Café du Coin — café, AMAP et ressourcerie</title>"),
        "{feed}"
    );
    assert!(
        !feed.contains("Trottoirs"),
        "a territory's feed holds only its projects"
    );
}

#[test]
fn project_page_shows_figures_rewards_and_working_forms() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build_sample(&out);
    let page = read(&out, "projets/cafe-du-coin/index.html");
    assert!(page.contains("<html lang=\"fr\">"));
    assert!(
        page.contains(&format!(
            "<strong>1{NNBSP}770{NNBSP}€</strong> sur 6{NNBSP}000{NNBSP}€ — 29{NNBSP}%"
        )),
        "amount raised / goal / percent"
    );
    assert!(
        page.contains("<progress max=\"100\" value=\"29\""),
        "accessible progress bar"
    );
    assert!(page.contains("57 contributeurs"));
    assert!(
        page.contains("Plus que 28 jours"),
        "20 December is 28 days away, both ends included"
    );
    assert!(page.contains("(plus que 2)"), "80 limited, 78 taken");
    assert!(page.contains("(épuisée)"));
    assert!(
        page.contains("id=\"reward-2\" name=\"reward\" value=\"2\" disabled"),
        "a sold-out reward cannot be chosen"
    );
    // The pledge form is plain HTML posting to the API.
    assert!(page.contains(
        "<form class=\"pledge\" id=\"pledge-form\" method=\"post\" action=\"/api/pledges\">"
    ));
    for field in [
        "name=\"project\" value=\"cafe-du-coin\"",
        "name=\"amount\" type=\"number\"",
        "name=\"email\" type=\"email\" required",
        "name=\"name\"",
    ] {
        assert!(page.contains(field), "pledge form lacks {field}");
    }
    assert!(
        page.contains("<form class=\"offer\" method=\"post\" action=\"/api/offers\">"),
        "in-kind offer form"
    );
    assert!(page.contains("Propositions d&#39;aide reçues : 4"));
    assert!(page.contains("Bénévoles"));
    assert!(page.contains("href=\"/territoires/saint-etienne/\""));
    assert!(page.contains(
        "<meta property=\"og:title\" content=\"Le Café du Coin — café, AMAP et ressourcerie\">"
    ));
    assert!(page.contains(
        "<link rel=\"canonical\" href=\"https://pave.example.org/projets/cafe-du-coin/\">"
    ));
    assert!(page.contains("<link rel=\"alternate\" hreflang=\"en\" href=\"https://pave.example.org/en/projets/cafe-du-coin/\">"));
    assert!(page.contains("https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fpave.example.org%2Fprojets%2Fcafe-du-coin%2F"));
    assert!(!page.contains("<script"), "no script on a project page");

    let matched = read(&out, "projets/chaud-dedans-beaubrun/index.html");
    assert!(
        matched.contains(&format!(
            "dont 1{NNBSP}200{NNBSP}€ abondés par Fondation BTP Plus"
        )),
        "matched amount per sponsor"
    );

    let en = read(&out, "en/projets/cafe-du-coin/index.html");
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("<strong>€1,770</strong> of €6,000 — 29%"));
    assert!(en.contains("28 days left"));
    assert!(
        en.contains("lang=\"fr\""),
        "French content is marked as French on English pages"
    );
}

#[test]
fn closed_campaigns_show_their_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build_sample(&out);
    let funded = read(&out, "projets/tables-pique-nique-montaud/index.html");
    assert!(
        funded.contains(&format!("Collecte terminée le 30 juin 2026 — 118{NNBSP}%")),
        "3 120 € + 656 € matched on 3 200 €"
    );
    assert!(funded.contains("Financé"));
    assert!(
        !funded.contains("<form class=\"pledge\""),
        "no pledge form on a closed campaign"
    );
    let refunded = read(&out, "projets/atelier-velo-le-puy/index.html");
    assert!(refunded.contains("Non financé — contributions remboursées"));
    let territory = read(&out, "territoires/saint-etienne/index.html");
    assert!(territory.contains("Projets financés"));
    let stats = read(&out, "statistiques/index.html");
    assert!(stats.contains("Saint-Étienne"));
    assert!(
        stats.contains(&format!("100{NNBSP}%")),
        "Saint-Étienne: 1 closed, 1 funded"
    );
}

#[test]
fn stories_are_sanitised() {
    let dir = sample_copy();
    let content = dir.path().join("content");
    let f = content.join("territories/saint-etienne/projects/cafe-du-coin/index.md");
    let mut text = std::fs::read_to_string(&f).unwrap();
    text.push_str(
        "\n<script>alert('x')</script>\n<img src=\"cover.svg\" onerror=\"alert(1)\">\n[piège](javascript:alert(2))\n<a href=\"jAvAsCrIpT:alert(3)\">lien</a>\n<iframe src=\"https://evil.example/\"></iframe>\n<p onclick=\"alert(4)\">clic</p>\n",
    );
    std::fs::write(&f, text).unwrap();
    let out = dir.path().join("public");
    build(dir.path(), &content, &out, &[]);
    let page = read(&out, "projets/cafe-du-coin/index.html").to_lowercase();
    // Nothing active survives; inert text may (a Markdown link inside an HTML
    // block stays text, which is harmless).
    for bad in [
        "<script",
        "onerror=",
        "onclick=",
        "<iframe",
        "href=\"javascript:",
        "src=\"javascript:",
    ] {
        assert!(!page.contains(bad), "{bad} survived sanitising");
    }
    assert!(page.contains("clic"), "the harmless text stays");
}

#[test]
fn output_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    build_sample(&dir.path().join("a"));
    build_sample(&dir.path().join("b"));
    let a = tree(&dir.path().join("a"));
    let b = tree(&dir.path().join("b"));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        assert!(
            bytes == &b[path],
            "{} differs between two builds",
            path.display()
        );
    }
}

#[test]
fn a_second_build_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build_sample(&out);
    let fixture = repo_root().join("tests/fixtures/progress.json");
    let args = [
        "build",
        "--content",
        "content",
        "--out",
        out.to_str().unwrap(),
        "--today",
        TODAY,
        "--progress",
        fixture.to_str().unwrap(),
    ];
    let output = pave(&repo_root(), &args, LIMIT);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("(0 written,"), "{stderr}");
}

#[test]
fn incremental_refresh_touches_only_pages_showing_the_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build_sample(&out);
    let before = tree(&out);
    let mtimes: BTreeMap<PathBuf, std::time::SystemTime> = before
        .keys()
        .map(|p| {
            (
                p.clone(),
                std::fs::metadata(out.join(p)).unwrap().modified().unwrap(),
            )
        })
        .collect();

    // A new pledge of 30 € on the café.
    let fixture =
        std::fs::read_to_string(repo_root().join("tests/fixtures/progress.json")).unwrap();
    let updated = fixture
        .replacen("\"raised\": \"1770.00\"", "\"raised\": \"1800.00\"", 1)
        .replacen("\"backers\": 57", "\"backers\": 58", 1);
    assert_ne!(fixture, updated);
    let snapshot = dir.path().join("progress.json");
    std::fs::write(&snapshot, &updated).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    build(
        &repo_root(),
        &repo_root().join("content"),
        &out,
        &[
            "--progress",
            snapshot.to_str().unwrap(),
            "--changed",
            "cafe-du-coin",
        ],
    );
    let after = tree(&out);

    let changed = changed_files(&before, &after);
    let expected = [
        "en/index.html",
        "en/projets/cafe-du-coin/index.html",
        "en/projets/cafe-du-coin/widget/index.html",
        "en/statistiques/index.html",
        "en/territoires/saint-etienne/appels/circuits-courts-2026/index.html",
        "en/territoires/saint-etienne/index.html",
        "en/themes/alimentation/index.html",
        "en/themes/reemploi/index.html",
        "index.html",
        "projets/cafe-du-coin/index.html",
        "projets/cafe-du-coin/widget/index.html",
        "statistiques/index.html",
        "territoires/saint-etienne/appels/circuits-courts-2026/index.html",
        "territoires/saint-etienne/index.html",
        "themes/alimentation/index.html",
        "themes/reemploi/index.html",
    ];
    // The sponsor pages were re-rendered too, but the café's matching did not
    // change, so their bytes did not either and they were not rewritten.
    assert_eq!(
        changed, expected,
        "exactly the pages that show the café's figures changed"
    );
    for (path, mtime) in &mtimes {
        if !expected.contains(&path.to_string_lossy().as_ref()) {
            let now = std::fs::metadata(out.join(path))
                .unwrap()
                .modified()
                .unwrap();
            assert_eq!(&now, mtime, "{} was rewritten", path.display());
        }
    }
    let page = read(&out, "projets/cafe-du-coin/index.html");
    assert!(
        page.contains(&format!("<strong>1{NNBSP}800{NNBSP}€</strong>")),
        "the new total is shown"
    );
    assert!(page.contains("58 contributeurs"));

    // The incremental result equals a full build with the new snapshot.
    assert_equals_full_build(&repo_root().join("content"), &snapshot, &after);
}

#[test]
fn a_territory_builds_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build(
        &repo_root(),
        &repo_root().join("content"),
        &out,
        &["--territory", "marseille"],
    );
    assert!(out.join("territoires/marseille/index.html").is_file());
    assert!(out.join("projets/trottoirs-libres/index.html").is_file());
    assert!(!out.join("territoires/saint-etienne").exists());
    assert!(!out.join("projets/cafe-du-coin").exists());
    let home = read(&out, "index.html");
    assert!(home.contains("Marseille") && !home.contains("Saint-Étienne"));
}

/// The API's pages get the site's layout from `frames.json`: each
/// language's header, menu, stylesheet and footer around the slots the API
/// fills.
#[test]
fn frames_carry_the_site_layout_around_the_api_pages() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build_sample(&out);
    let frames =
        pave_contract::frame::Frames::from_json(read(&out, "frames.json").as_bytes()).unwrap();
    for (lang, home, skip) in [
        ("fr", "/", "Aller au contenu"),
        ("en", "/en/", "Skip to content"),
    ] {
        let frame = &frames.frames[lang];
        for expected in [
            format!("<html lang=\"{lang}\">"),
            "<title>%%PAVE_TITLE%% — Pavé</title>".to_string(),
            format!("<a class=\"brand\" href=\"{home}\">Pavé</a>"),
            skip.to_string(),
            "<link rel=\"stylesheet\" href=\"/style.css?v=".to_string(),
            "%%PAVE_HEAD%%</head>".to_string(),
            "<main id=\"main\" class=\"wrap\">\n%%PAVE_MAIN%%\n</main>".to_string(),
            "<a href=\"%%PAVE_URL_EN%%\" hreflang=\"en\"".to_string(),
            "<link rel=\"canonical\" href=\"%%PAVE_URL%%\">".to_string(),
        ] {
            assert!(frame.contains(&expected), "{lang}: {expected}\n{frame}");
        }
    }
}

#[test]
fn catalog_has_the_rules_and_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build_sample(&out);
    let text = read(&out, "catalog.json");
    let catalog: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(catalog["version"], 1);
    let cafe = &catalog["projects"]["cafe-du-coin"];
    assert_eq!(cafe["goal"], "6000");
    assert_eq!(cafe["cap"], "7500");
    assert_eq!(cafe["funding"], "all_or_nothing");
    assert_eq!(cafe["end"], "2026-12-20");
    assert_eq!(cafe["timezone"], "Europe/Paris");
    assert_eq!(cafe["rewards"][1]["limit"], 80);
    assert_eq!(
        cafe["holder"],
        serde_json::json!({"name": "Alexis et Clément", "kind": "collective", "tax_receipt": false})
    );
    let library = &catalog["projects"]["bibliotheque-triporteur"]["holder"];
    assert_eq!(
        (&library["kind"], &library["tax_receipt"]),
        (&serde_json::json!("association"), &serde_json::json!(true))
    );
    let pools: Vec<&str> = cafe["pools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        pools.contains(&"ville-de-saint-etienne/projets-citoyens-2026"),
        "{pools:?}"
    );
    assert!(
        !pools.contains(&"fondation-btp-plus/habitat-2026"),
        "the café is not a housing project"
    );
    let pool = &catalog["pools"]["fondation-btp-plus/habitat-2026"];
    assert_eq!(pool["mode"], "per_pledge");
    assert_eq!(pool["ratio"], "1");
    assert_eq!(pool["max_per_project"], "2000");
    assert!(!text.contains('@'), "no email address in the catalog");
}

#[test]
fn project_page_is_light() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build_sample(&out);
    let html = std::fs::metadata(out.join("projets/cafe-du-coin/index.html"))
        .unwrap()
        .len();
    let css = std::fs::metadata(out.join("style.css")).unwrap().len();
    assert!(
        html + css < 40 * 1024,
        "project page HTML + CSS = {} bytes",
        html + css
    );
}

/// The published projects of a `pave corpus` folder: slug → themes.
fn corpus_projects(content: &Path) -> BTreeMap<String, Vec<String>> {
    walkdir::WalkDir::new(content)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| {
            e.file_name() == "index.md" && e.path().to_string_lossy().contains("/projects/")
        })
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap();
            let field = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_string())
            };
            let published = matches!(field("status:").as_deref(), Some("live" | "closed"));
            let themes = field("themes:")?
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(|t| t.trim().to_string())
                .collect();
            let slug = e
                .path()
                .parent()?
                .file_name()?
                .to_string_lossy()
                .into_owned();
            published.then_some((slug, themes))
        })
        .collect()
}

#[test]
fn theme_pages_are_paginated_and_a_pledge_re_renders_its_own_page() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let output = pave(
        &repo_root(),
        &[
            "corpus",
            corpus.to_str().unwrap(),
            "--projects",
            "300",
            "--territories",
            "6",
        ],
        LIMIT,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let content = corpus.join("content");
    let projects = corpus_projects(&content);
    let out = dir.path().join("public");
    build(&repo_root(), &content, &out, &[]);

    // Every published project of a theme is on exactly one of its pages, 24 a page.
    let mut themes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (slug, ts) in &projects {
        for t in ts {
            themes.entry(t).or_default().push(slug);
        }
    }
    let (theme, members) = themes.iter().max_by_key(|(_, m)| m.len()).unwrap();
    assert!(members.len() > 48, "a theme spans three pages or more");
    let pages = members.len().div_ceil(24);
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for page in 1..=pages {
        let rel = if page == 1 {
            format!("themes/{theme}/index.html")
        } else {
            format!("themes/{theme}/page/{page}/index.html")
        };
        let html = read(&out, &rel);
        let on_page: Vec<&str> = members
            .iter()
            .copied()
            .filter(|slug| html.contains(&format!("href=\"/projets/{slug}/\"")))
            .collect();
        let expected = if page < pages {
            24
        } else {
            members.len() - 24 * (pages - 1)
        };
        assert_eq!(on_page.len(), expected, "cards on {rel}");
        for slug in on_page {
            *seen.entry(slug).or_default() += 1;
        }
        assert!(
            html.contains(&format!("Page {page} sur {pages}")),
            "{rel} says where it is"
        );
        if page > 1 {
            let previous = if page == 2 {
                format!("/themes/{theme}/")
            } else {
                format!("/themes/{theme}/page/{}/", page - 1)
            };
            assert!(
                html.contains(&format!("href=\"{previous}\" rel=\"prev\"")),
                "{rel}"
            );
        }
        if page < pages {
            let next = format!("/themes/{theme}/page/{}/", page + 1);
            assert!(
                html.contains(&format!("href=\"{next}\" rel=\"next\"")),
                "{rel}"
            );
        }
    }
    assert_eq!(
        seen.len(),
        members.len(),
        "every project of {theme} is listed"
    );
    assert!(seen.values().all(|&n| n == 1), "each once");
    assert!(
        !out.join(format!("themes/{theme}/page/{}/index.html", pages + 1))
            .exists()
    );
    assert!(read(&out, "en/themes/index.html").contains(&format!("/en/themes/{theme}/")));
    let sitemap = read(&out, "sitemap.xml");
    assert!(
        sitemap.contains(&format!("/themes/{theme}/page/{pages}/")),
        "paged lists are in the sitemap"
    );

    // A sponsor whose pool applies to every project lists the 50 most matched.
    let region = read(&out, "partenaires/region/index.html");
    assert!(
        region.contains("autres projets éligibles"),
        "the cut list says so"
    );

    // A pledge on one project: only its page of each of its themes changes,
    // and the result equals a full build.
    let slug = members[members.len() / 2];
    let snapshot = dir.path().join("progress.json");
    std::fs::write(
        &snapshot,
        format!(r#"{{"version":1,"projects":{{"{slug}":{{"raised":"4321.00","backers":7,"pledges":7}}}}}}"#),
    )
    .unwrap();
    let before = tree(&out);
    build(
        &repo_root(),
        &content,
        &out,
        &["--progress", snapshot.to_str().unwrap(), "--changed", slug],
    );
    let after = tree(&out);
    let changed = changed_files(&before, &after);
    for t in &projects[slug] {
        let in_theme: Vec<&String> = changed
            .iter()
            .filter(|p| p.starts_with(&format!("themes/{t}/")))
            .collect();
        assert_eq!(in_theme.len(), 1, "one page of {t} changed: {changed:?}");
        assert!(read(&out, in_theme[0]).contains(&format!("/projets/{slug}/")));
    }
    assert_equals_full_build(&content, &snapshot, &after);
}

/// Every pool that can match a sample project is stated on its page: its
/// rule in words, computed here from the catalog's numbers (not from the
/// page's code), and where it stands: what is left for the project, the
/// pending on_success promise (what the matching engine would pay at a
/// close with the goal reached), or how far a lump sum is.
#[test]
fn each_pool_s_rule_and_pending_promise_are_on_the_project_page() {
    use pave_contract::PoolMode;
    use pave_contract::matching::{PoolView, ProjectState, settle_on_success};
    use pave_locale::{Lang, money, percent};
    use rust_decimal::Decimal;
    let out = tempfile::tempdir().unwrap();
    build_sample(out.path());
    let catalog = pave_contract::catalog::Catalog::read(&out.path().join("catalog.json")).unwrap();
    let progress =
        pave_contract::progress::Snapshot::read(&repo_root().join("tests/fixtures/progress.json"))
            .unwrap();
    let fr = |d: Decimal| money(d, Lang::Fr);
    let pct = |d: Decimal| {
        percent(
            u32::try_from((d * Decimal::from(100)).trunc().mantissa()).unwrap(),
            Lang::Fr,
        )
    };
    let mut checked = 0;
    for (slug, project) in &catalog.projects {
        // A draft has no page.
        if project.pools.is_empty() || !out.path().join(format!("projets/{slug}")).exists() {
            continue;
        }
        let page = read(out.path(), &format!("projets/{slug}/index.html")).replace("&#39;", "'");
        let figures = progress.projects.get(slug).cloned().unwrap_or_default();
        let matched = |id: &str| figures.matched.get(id).map_or(Decimal::ZERO, |a| a.0);
        let total = figures.raised + figures.matched.values().map(|a| a.0).sum::<Decimal>();
        for id in &project.pools {
            let pool = &catalog.pools[id];
            let (rule, status) = match pool.mode {
                PoolMode::PerPledge => {
                    let mut rule = format!(
                        "Pour chaque euro donné, {} de plus",
                        fr(pool.ratio.unwrap())
                    );
                    if let Some(m) = pool.max_per_pledge {
                        rule.push_str(&format!(", jusqu'à {} par contribution", fr(m)));
                    }
                    if let Some(m) = pool.max_per_project {
                        rule.push_str(&format!(", jusqu'à {} par projet", fr(m)));
                    }
                    if let Some(m) = pool.max_per_donor {
                        rule.push_str(&format!(", jusqu'à {} par donateur", fr(m)));
                    }
                    let threshold = pool.threshold.map(|th| th * project.goal);
                    if let Some(th) = pool.threshold {
                        rule.push_str(&format!(
                            ", une fois {} de l'objectif atteint par les habitants",
                            pct(th)
                        ));
                    }
                    let status = match threshold {
                        Some(th) if figures.raised < th => Some(format!(
                            "Il s’applique dès que les habitants ont réuni {} : il manque {}.",
                            fr(th),
                            fr(th - figures.raised)
                        )),
                        _ => pool.max_per_project.map(|m| {
                            format!("Encore {} possibles pour ce projet.", fr(m - matched(id)))
                        }),
                    };
                    (rule, status)
                }
                PoolMode::OnSuccess => {
                    let mut rule = "Un complément versé si, et seulement si, les habitants atteignent l'objectif".to_string();
                    if let Some(share) = pool.share_of_goal {
                        rule.push_str(&format!(", jusqu'à {} de l'objectif", pct(share)));
                    }
                    if let Some(m) = pool.max_per_project {
                        rule.push_str(&format!(", jusqu'à {} par projet", fr(m)));
                    }
                    let missing = (project.goal - figures.raised).max(Decimal::ZERO);
                    let view = PoolView {
                        spent: matched(id),
                        matched_for_project: matched(id),
                        ..PoolView::fresh(id, pool)
                    };
                    let at_goal = ProjectState {
                        citizens_raised: figures.raised.max(project.goal),
                        total: total + missing,
                        backers: figures.backers,
                    };
                    let promise = settle_on_success(project, &view, &at_goal);
                    let status = match (matched(id) > Decimal::ZERO, promise) {
                        (true, _) => Some(format!(
                            "{} a versé {} à ce projet.",
                            pool.sponsor_name,
                            fr(matched(id))
                        )),
                        (false, Some(a)) if missing > Decimal::ZERO => Some(format!(
                            "{} ajoutera {} si les habitants atteignent l’objectif : il leur manque {}.",
                            pool.sponsor_name,
                            fr(a),
                            fr(missing)
                        )),
                        (false, Some(a)) => Some(format!(
                            "Objectif atteint : {} ajoutera {} à la clôture de la campagne.",
                            pool.sponsor_name,
                            fr(a)
                        )),
                        (false, None) => None,
                    };
                    (rule, status)
                }
                PoolMode::LumpSum => {
                    let rule = format!(
                        "{} versés quand un projet atteint {} de son objectif et {} contributeurs",
                        fr(pool.amount.unwrap()),
                        pct(pool.min_progress.unwrap()),
                        pool.min_backers.unwrap()
                    );
                    let status = (matched(id) == Decimal::ZERO).then(|| {
                        let missing =
                            (pool.min_progress.unwrap() * project.goal - total).max(Decimal::ZERO);
                        format!(
                            "{} versera {} quand les conditions seront réunies : il manque {}",
                            pool.sponsor_name,
                            fr(pool.amount.unwrap()),
                            fr(missing)
                        )
                    });
                    (rule, status)
                }
            };
            assert!(
                page.contains(&rule),
                "{slug}, {id}: the rule «{rule}» is not on the page"
            );
            if let Some(status) = status {
                assert!(
                    page.contains(&status),
                    "{slug}, {id}: «{status}» is not on the page"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} pools checked");
}
