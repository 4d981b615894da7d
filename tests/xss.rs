//! A cross-site scripting corpus, planted in every Markdown body and every
//! front-matter text field that pages show, runs in Debian's headless
//! Chromium on every kind of page of the generated site
//! (`tests/web/xss.mjs`, served with no Content-Security-Policy: what holds
//! is the sanitiser and the templates' escaping alone): nothing runs, on
//! load, hover, focus or click, and no active content is left for a click.
//! The tools are installed by `scripts/setup-web`, which `scripts/test` runs;
//! a missing tool fails this test, it is never skipped.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(120);
const TODAY: &str = "2026-11-23";

/// The corpus planted at the end of every Markdown body, `{tag}` naming the
/// file. Every payload, if it ran, shows a dialog, sets `window.__pwned` or
/// loads `/pwned?id=…` from script; the harmless `XSSMARK-md-{tag}` lines
/// before and after it prove the body reached the page, whole.
const MARKDOWN_CORPUS: &str = r#"XSSMARK-md-{tag} : une phrase sans danger avant le corpus.

<script>alert('PAVE-XSS-script-{tag}')</script>

<img src=x onerror="alert('PAVE-XSS-img-onerror-{tag}')">

<svg onload="alert('PAVE-XSS-svg-onload-{tag}')"></svg>

<svg><script>alert('PAVE-XSS-svg-script-{tag}')</script></svg>

<svg><a xlink:href="javascript:alert('PAVE-XSS-svg-xlink-{tag}')"><text x="0" y="20">lien svg</text></a></svg>

<svg><animate attributeName="href" values="javascript:alert('PAVE-XSS-svg-animate-{tag}')"/></svg>

[lien javascript](javascript:alert('PAVE-XSS-md-link-{tag}'))

[lien JaVaScRiPt](JaVaScRiPt:alert('PAVE-XSS-md-case-{tag}'))

[lien entité](&#106;avascript:alert('PAVE-XSS-md-entity-{tag}'))

[lien entité hexadécimale](&#x6A;avascript&#x3A;alert('PAVE-XSS-md-hex-{tag}'))

[lien data](data:text/html;base64,PHNjcmlwdD5hbGVydCgnUEFWRS1YU1MtbWQtZGF0YScpPC9zY3JpcHQ+)

![image javascript](javascript:alert('PAVE-XSS-md-image-{tag}'))

[titre piégé](https://example.org/ "\" onmouseover=\"alert('PAVE-XSS-md-title-{tag}')")

<javascript:alert('PAVE-XSS-autolink-{tag}')>

[lien par référence][xss-{tag}] et [autre référence][xss2-{tag}]

[xss-{tag}]: javascript:alert('PAVE-XSS-reference-{tag}')
[xss2-{tag}]: &#106;avascript:alert('PAVE-XSS-reference-entity-{tag}')

<a href="javascript:alert('PAVE-XSS-a-js-{tag}')">html javascript</a>

<a href="JaVaScRiPt:alert('PAVE-XSS-a-case-{tag}')">html JaVaScRiPt</a>

<a href="&#106;avascript:alert('PAVE-XSS-a-entity-{tag}')">html entité</a>

<a href="&#x6A;&#x61;&#x76;&#x61;script&#x3A;alert('PAVE-XSS-a-hex-{tag}')">html hexadécimal</a>

<a href="jav&#x09;ascript:alert('PAVE-XSS-a-tab-{tag}')">html tabulation</a>

<a href=" javascript:alert('PAVE-XSS-a-space-{tag}')">html espace</a>

<a href="javascript&colon;alert('PAVE-XSS-a-colon-{tag}')">html &amp;colon;</a>

<a href="data:text/html,<script>alert('PAVE-XSS-a-data-{tag}')</script>">html data</a>

<a href="https://example.org/" onmouseover="alert('PAVE-XSS-a-hover-{tag}')">survol</a>

<p onclick="alert('PAVE-XSS-p-click-{tag}')">clic</p>

<div onmouseover="window.__pwned='div-hover-{tag}'">survol div</div>

<iframe srcdoc="<script>parent.__pwned='iframe-srcdoc-{tag}'</script>"></iframe>

<iframe src="javascript:alert('PAVE-XSS-iframe-js-{tag}')"></iframe>

<details open ontoggle="alert('PAVE-XSS-details-{tag}')"><summary>détails</summary>ouverts</details>

<input autofocus onfocus="alert('PAVE-XSS-autofocus-{tag}')">

<body onload="alert('PAVE-XSS-body-{tag}')">

<math><mtext><table><mglyph><style><img src=x onerror="alert('PAVE-XSS-mxss-math-{tag}')"></style></mglyph></table></mtext></math>

<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;/mglyph&gt;&lt;img src=1 onerror=alert('PAVE-XSS-mxss-comment-{tag}')&gt;"></mglyph></table></mtext></math>

<svg></p><style><a id="</style><img src=x onerror=alert('PAVE-XSS-mxss-svg-{tag}')>">

<noscript><p title="</noscript><img src=x onerror=alert('PAVE-XSS-mxss-noscript-{tag}')>"></noscript>

<form action="javascript:alert('PAVE-XSS-form-{tag}')"><button>envoyer</button></form>

<button formaction="javascript:alert('PAVE-XSS-formaction-{tag}')">formaction</button>

<object data="javascript:alert('PAVE-XSS-object-{tag}')"></object>

<object data="data:text/html,<script>alert('PAVE-XSS-object-data-{tag}')</script>"></object>

<embed src="javascript:alert('PAVE-XSS-embed-{tag}')">

<embed src="data:text/html,<script>alert('PAVE-XSS-embed-data-{tag}')</script>">

<base href="javascript:alert('PAVE-XSS-base-{tag}')//">

<meta http-equiv="refresh" content="0;url=javascript:alert('PAVE-XSS-meta-{tag}')">

<div style="background:url(javascript:alert('PAVE-XSS-style-{tag}'))">style</div>

<style>body { background: url("javascript:alert('PAVE-XSS-style-element-{tag}')") }</style>

<video><source onerror="alert('PAVE-XSS-video-{tag}')"></video>

<audio src=x onerror="window.__pwned='audio-{tag}'"></audio>

<img src=x onerror="fetch('/pwned?id=img-fetch-{tag}')">

<marquee onstart="alert('PAVE-XSS-marquee-{tag}')">défilant</marquee>

<link rel="stylesheet" href="javascript:alert('PAVE-XSS-link-{tag}')">

<!--<img src="--><img src=x onerror=alert('PAVE-XSS-comment-{tag}')//">

<title></title><script>alert('PAVE-XSS-title-{tag}')</script>

<textarea></textarea><script>alert('PAVE-XSS-textarea-{tag}')</script>

<xmp><img src=x onerror=alert('PAVE-XSS-xmp-{tag}')></xmp>

<select><option><img src=x onerror=alert('PAVE-XSS-select-{tag}')></option></select>

<template><img src=x onerror=alert('PAVE-XSS-template-{tag}')></template>

En code : `<script>alert('PAVE-XSS-code-{tag}')</script>` reste du texte.

XSSMARK-md-{tag}-end : une phrase sans danger après le corpus.
"#;

/// The Markdown corpus for the file `tag`.
fn markdown(tag: &str) -> String {
    MARKDOWN_CORPUS.replace("{tag}", tag)
}

/// A hostile front-matter text for the field `tag`, as a quoted YAML scalar
/// (a JSON string is one): attribute and element breakers, each calling
/// `alert` if it ran, after the harmless `XSSMARK-{tag}`. `long` adds the
/// breakers of an XML feed and of a script block (not for the summary, which
/// is at most 200 characters).
fn text(tag: &str, long: bool) -> String {
    let mut value = format!(
        "XSSMARK-{tag} \"><img src=x onerror=alert('{tag}1')>'><svg onload=alert('{tag}2')></title></textarea><script>alert('{tag}3')</script>"
    );
    if long {
        value.push_str(&format!(
            " x onmouseover=alert('{tag}4') ]]></summary><x:script xmlns:x=\"http://www.w3.org/1999/xhtml\">alert('{tag}5')</x:script></script><script>window.__pwned='{tag}6'</script> `onfocus=alert('{tag}7')"
        ));
    }
    serde_json::to_string(&value).unwrap()
}

/// Plants the corpus in the copy of the sample content at `content`.
fn plant(content: &Path) {
    let project = content.join("territories/saint-etienne/projects/cafe-du-coin/index.md");
    for (from, to) in [
        (
            "title: Le Café du Coin — café, AMAP et ressourcerie",
            format!("title: {}", text("project-title", true)),
        ),
        (
            "summary: Un café convivial qui distribue les paniers de l'AMAP et répare les objets du quartier Jacquard.",
            format!("summary: {}", text("summary", false)),
        ),
        (
            "  name: Alexis et Clément",
            format!("  name: {}", text("holder-name", true)),
        ),
        (
            "    title: Un café équitable offert",
            format!("    title: {}", text("reward-title", true)),
        ),
        (
            "    description: À boire sur place, au comptoir ou en terrasse, dès l'ouverture.",
            format!("    description: {}", text("reward-description", true)),
        ),
        (
            "    title: Des bras pour l'aménagement et la décoration",
            format!("    title: {}", text("need-title", true)),
        ),
        (
            "    description: Poncer, peindre, monter les étagères de la ressourcerie, trois samedis de janvier.",
            format!("    description: {}", text("need-description", true)),
        ),
        (
            "    actor: Maison des projets citoyens de Saint-Étienne",
            format!("    actor: {}", text("support-actor", true)),
        ),
        (
            "    description: Accompagnement à la préparation de la campagne et au montage associatif.",
            format!("    description: {}", text("support-description", true)),
        ),
        (
            "address: 8 place Jacquard,",
            format!("address: {},", text("location-address", true)),
        ),
        (
            "city: Saint-Étienne, lat:",
            format!("city: {}, lat:", text("location-city", true)),
        ),
        (
            "alt: \"Une devanture de café verte avec une tasse fumante et une caisse de légumes\"",
            format!("alt: {}", text("cover-alt", true)),
        ),
    ] {
        edit(&project, from, &to);
    }
    append(&project, &markdown("story"));

    let news = content.join(
        "territories/saint-etienne/projects/cafe-du-coin/news/2026-11-12-premiere-semaine.md",
    );
    edit(
        &news,
        "title: Une première semaine au-delà de nos espérances",
        &format!("title: {}", text("news-title", true)),
    );
    // The news body first: a feed's summary is its beginning.
    edit(
        &news,
        "\n---\n",
        &format!("\n---\nXSSMARK-md-news-start\n\n{}\n", markdown("news")),
    );

    let territory = content.join("territories/saint-etienne/_territory.md");
    edit(
        &territory,
        "name: Saint-Étienne",
        &format!("name: {}", text("territory-name", true)),
    );
    edit(
        &territory,
        "region: Auvergne-Rhône-Alpes",
        &format!("region: {}", text("territory-region", true)),
    );
    append(&territory, &markdown("territory"));

    let call = content.join("territories/saint-etienne/calls/circuits-courts-2026.md");
    edit(
        &call,
        "title: Circuits courts 2026",
        &format!("title: {}", text("call-title", true)),
    );
    edit(
        &call,
        "summary: Cafés, épiceries, AMAP et cuisines partagées qui rapprochent les Stéphanois des producteurs de la Loire.",
        &format!("summary: {}", text("call-summary", false)),
    );
    append(&call, &markdown("call"));

    let sponsor = content.join("sponsors/ville-de-saint-etienne.md");
    edit(
        &sponsor,
        "name: Ville de Saint-Étienne",
        &format!("name: {}", text("sponsor-name", true)),
    );
    edit(
        &sponsor,
        "title: \"Projets citoyens : la Ville complète la moitié de l'objectif en cas de succès\"",
        &format!("title: {}", text("pool-title", true)),
    );
    append(&sponsor, &markdown("sponsor"));

    let themes = content.join("themes.yaml");
    edit(
        &themes,
        "name: { fr: Alimentation, en: Food }",
        &format!(
            "name: {{ fr: {}, en: {} }}",
            text("theme-name-fr", true),
            text("theme-name-en", true)
        ),
    );
    edit(
        &themes,
        "description: Manger local et de saison, soutenir les paysannes et les paysans, cuisiner ensemble.",
        &format!("description: {}", text("theme-description", true)),
    );

    let site = content.join("site.yaml");
    edit(
        &site,
        "tagline: Les projets de nos quartiers, financés par les habitants et abondés par celles et ceux qui y croient.",
        &format!("tagline: {}", text("site-tagline", true)),
    );
}

/// Appends `body` to a Markdown file, after a blank line.
fn append(file: &Path, body: &str) {
    let mut text = std::fs::read_to_string(file).unwrap();
    text.push_str("\n\n");
    text.push_str(body);
    std::fs::write(file, text).unwrap();
}

/// The markers each project page carries: its story, its news and every
/// planted field but the territory's, the call's, the sponsor's and the theme's.
const PROJECT: &[&str] = &[
    "XSSMARK-md-story ",
    "XSSMARK-md-story-end",
    "XSSMARK-md-news ",
    "XSSMARK-md-news-end",
    "XSSMARK-project-title",
    "XSSMARK-summary",
    "XSSMARK-holder-name",
    "XSSMARK-reward-title",
    "XSSMARK-reward-description",
    "XSSMARK-need-title",
    "XSSMARK-need-description",
    "XSSMARK-support-actor",
    "XSSMARK-support-description",
    "XSSMARK-location-address",
    "XSSMARK-location-city",
    "XSSMARK-cover-alt",
    "XSSMARK-news-title",
    "XSSMARK-territory-name",
    "XSSMARK-site-tagline",
];

/// Every page checked, one of each kind (in both languages), with the
/// planted markers its HTML must carry.
const PAGES: &[(&str, &[&str])] = &[
    (
        "/",
        &[
            "XSSMARK-project-title",
            "XSSMARK-summary",
            "XSSMARK-cover-alt",
            "XSSMARK-call-title",
            "XSSMARK-call-summary",
            "XSSMARK-territory-name",
            "XSSMARK-territory-region",
            "XSSMARK-site-tagline",
        ],
    ),
    (
        "/en/",
        &[
            "XSSMARK-project-title",
            "XSSMARK-call-title",
            "XSSMARK-territory-name",
            "XSSMARK-territory-region",
        ],
    ),
    (
        "/territoires/saint-etienne/",
        &[
            "XSSMARK-md-territory ",
            "XSSMARK-md-territory-end",
            "XSSMARK-territory-name",
            "XSSMARK-project-title",
        ],
    ),
    (
        "/en/territoires/saint-etienne/",
        &[
            "XSSMARK-md-territory ",
            "XSSMARK-md-territory-end",
            "XSSMARK-territory-name",
        ],
    ),
    ("/projets/cafe-du-coin/", PROJECT),
    ("/en/projets/cafe-du-coin/", PROJECT),
    ("/projets/cafe-du-coin/widget/", &["XSSMARK-project-title"]),
    (
        "/en/projets/cafe-du-coin/widget/",
        &["XSSMARK-project-title"],
    ),
    (
        "/territoires/saint-etienne/appels/circuits-courts-2026/",
        &[
            "XSSMARK-md-call ",
            "XSSMARK-md-call-end",
            "XSSMARK-call-title",
            "XSSMARK-territory-name",
        ],
    ),
    (
        "/en/territoires/saint-etienne/appels/circuits-courts-2026/",
        &[
            "XSSMARK-md-call ",
            "XSSMARK-md-call-end",
            "XSSMARK-call-title",
        ],
    ),
    (
        "/themes/",
        &["XSSMARK-theme-name-fr", "XSSMARK-theme-description"],
    ),
    ("/en/themes/", &["XSSMARK-theme-name-en"]),
    (
        "/themes/alimentation/",
        &["XSSMARK-theme-name-fr", "XSSMARK-project-title"],
    ),
    (
        "/en/themes/alimentation/",
        &["XSSMARK-theme-name-en", "XSSMARK-project-title"],
    ),
    (
        "/partenaires/",
        &["XSSMARK-sponsor-name", "XSSMARK-pool-title"],
    ),
    (
        "/en/partenaires/",
        &["XSSMARK-sponsor-name", "XSSMARK-pool-title"],
    ),
    (
        "/partenaires/ville-de-saint-etienne/",
        &[
            "XSSMARK-md-sponsor ",
            "XSSMARK-md-sponsor-end",
            "XSSMARK-sponsor-name",
            "XSSMARK-pool-title",
        ],
    ),
    (
        "/en/partenaires/ville-de-saint-etienne/",
        &[
            "XSSMARK-md-sponsor ",
            "XSSMARK-md-sponsor-end",
            "XSSMARK-sponsor-name",
        ],
    ),
    ("/statistiques/", &["XSSMARK-territory-name"]),
    ("/en/statistiques/", &["XSSMARK-territory-name"]),
    (
        "/404.html",
        &["XSSMARK-territory-name", "XSSMARK-site-tagline"],
    ),
    ("/en/404.html", &["XSSMARK-territory-name"]),
    (
        "/atom.xml",
        &["XSSMARK-project-title", "XSSMARK-news-title"],
    ),
    ("/en/atom.xml", &["XSSMARK-project-title"]),
    (
        "/territoires/saint-etienne/atom.xml",
        &["XSSMARK-project-title", "XSSMARK-territory-name"],
    ),
    (
        "/en/territoires/saint-etienne/atom.xml",
        &["XSSMARK-project-title"],
    ),
];

/// The file a URL path names (`/x/` is `/x/index.html`).
fn file_of(out: &Path, page: &str) -> PathBuf {
    let rel = page.trim_start_matches('/');
    if rel.is_empty() || rel.ends_with('/') {
        out.join(rel).join("index.html")
    } else {
        out.join(rel)
    }
}

/// The kind of a page: its URL path with the slugs (whatever is not a word of
/// the site's URL scheme) replaced by `*`.
fn kind(page: &str) -> String {
    const WORDS: [&str; 8] = [
        "en",
        "projets",
        "territoires",
        "appels",
        "themes",
        "partenaires",
        "statistiques",
        "widget",
    ];
    page.split('/')
        .map(|s| {
            if s.is_empty() || WORDS.contains(&s) || s.ends_with(".html") || s.ends_with(".xml") {
                s
            } else {
                "*"
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every page a browser shows in the output (HTML files and Atom feeds), as URL paths.
fn pages_in(out: &Path) -> Vec<String> {
    let mut pages = Vec::new();
    for entry in walkdir::WalkDir::new(out) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(out).unwrap().to_string_lossy();
        let rel = rel.replace('\\', "/");
        if rel.ends_with(".html") || rel.ends_with("atom.xml") {
            let page = format!("/{rel}");
            pages.push(match page.strip_suffix("index.html") {
                Some(dir) => dir.to_string(),
                None => page,
            });
        }
    }
    pages.sort();
    pages
}

/// Runs `tests/web/xss.mjs` on `root` for `pages`.
fn xss(root: &Path, pages: &[&str]) -> (Output, Value) {
    let mut args = vec![
        repo_root()
            .join("tests/web/xss.mjs")
            .to_string_lossy()
            .into_owned(),
        "--root".into(),
        root.to_string_lossy().into_owned(),
        "--json".into(),
    ];
    for page in pages {
        args.push("--page".into());
        args.push((*page).into());
    }
    let output = Command::new("node")
        .args(&args)
        .output()
        .expect("node runs (scripts/setup-web installs it)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(
        output.status.code(),
        Some(2),
        "the XSS harness could not run: {stderr}\nrun scripts/setup-web"
    );
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("harness output is not JSON ({e}): {stderr}"));
    (output, report)
}

#[test]
fn a_hostile_corpus_runs_nowhere_on_any_kind_of_page() {
    let dir = sample_copy();
    let content = dir.path().join("content");
    plant(&content);

    let check = pave(dir.path(), &["check", content.to_str().unwrap()], LIMIT);
    assert!(
        check.status.success(),
        "the planted content must pass pave check, so that the corpus reaches the pages:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    let out = dir.path().join("public");
    let theme = repo_root().join("themes/default");
    let build = pave(
        dir.path(),
        &[
            "build",
            "--content",
            content.to_str().unwrap(),
            "--theme",
            theme.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--today",
            TODAY,
        ],
        LIMIT,
    );
    assert!(
        build.status.success(),
        "pave build failed: {}\n{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );

    // Every kind of page in the output is checked (a new kind fails here
    // until it is added to PAGES), and every page checked exists and carries
    // the harmless markers planted next to the payloads, so the corpus really
    // reached it: without them this test would pass on pages that never saw it.
    let checked: BTreeSet<String> = PAGES.iter().map(|(p, _)| kind(p)).collect();
    let present: BTreeMap<String, String> =
        pages_in(&out).into_iter().map(|p| (kind(&p), p)).collect();
    for (k, example) in &present {
        assert!(
            checked.contains(k),
            "pages of the kind {k} (e.g. {example}) are not checked: add one to PAGES"
        );
    }
    for (page, markers) in PAGES {
        let file = file_of(&out, page);
        let html = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{page} was not built ({}): {e}", file.display()));
        for marker in *markers {
            assert!(
                html.contains(marker),
                "{page} does not show the planted {marker:?}: the corpus did not reach it"
            );
        }
    }

    let pages: Vec<&str> = PAGES.iter().map(|(p, _)| *p).collect();
    let (output, report) = xss(&out, &pages);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stderr}");
    assert_eq!(
        report["checked"].as_u64(),
        Some(PAGES.len() as u64),
        "every page was checked: {stderr}"
    );
    let results = report["pages"].as_object().unwrap();
    assert_eq!(results.len(), PAGES.len(), "{stderr}");
    for (page, result) in results {
        for key in ["executed", "latent"] {
            assert_eq!(
                result[key].as_array().map(Vec::len),
                Some(0),
                "{key} on {page}: {:#}",
                result[key]
            );
        }
    }
    assert_eq!(
        report["unattributed"].as_array().map(Vec::len),
        Some(0),
        "beacon hits from no known page: {:#}",
        report["unattributed"]
    );
    assert_eq!(output.status.code(), Some(0), "{stderr}");

    // The harness can fail: the same project page with one real payload
    // added after the sanitiser (a canary) is reported, and nothing passes.
    let canary = dir.path().join("canary");
    let page = std::fs::read_to_string(file_of(&out, "/projets/cafe-du-coin/")).unwrap();
    std::fs::create_dir_all(canary.join("projets/cafe-du-coin")).unwrap();
    std::fs::write(
        canary.join("projets/cafe-du-coin/index.html"),
        page.replacen(
            "</main>",
            "<img src=x onerror=\"alert('PAVE-XSS-canary')\"><div onmouseover=\"window.__pwned='canary-hover'\">x</div></main>",
            1,
        ),
    )
    .unwrap();
    std::fs::copy(out.join("style.css"), canary.join("style.css")).unwrap();
    let (output, report) = xss(&canary, &["/projets/cafe-du-coin/"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "the canary ran: {stderr}");
    let executed = report["pages"]["/projets/cafe-du-coin/"]["executed"].to_string();
    assert!(executed.contains("PAVE-XSS-canary"), "{executed}");
    assert!(executed.contains("canary-hover"), "{executed}");
}
