//! Content from pull requests by anyone is hostile in every field, not only
//! in its Markdown: `pave check` refuses, each at its file and line, every
//! path that leaves the content (absolute, `..`, a link out) in every field
//! that names a file, every link that is not `https:`, `http:` or `mailto:`
//! in every link field, every SVG carrying active content and every file
//! that is not an image or a document; and the build never reads outside
//! the content, never writes outside `--out`, and removes what it wrote
//! before and no longer writes.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);

/// The diagnostics of `pave check --format json` on `root/content`
/// (exit status 1 expected), as (code, file below content/, line, message).
fn diagnostics(root: &Path) -> Vec<(String, String, u64, String)> {
    let out = pave(root, &["check", "content", "--format", "json"], LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert!(d["help"].as_str().is_some_and(|h| !h.is_empty()), "{d}");
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("content/")
                    .to_string(),
                d["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has(found: &[(String, String, u64, String)], code: &str, file: &str, line: usize) -> bool {
    found
        .iter()
        .any(|(c, f, l, _)| c == code && f == file && (line == 0 || *l == line as u64))
}

/// Every field that names a file: (the file holding it, the text to replace,
/// the replacement with `{}` for the hostile path, the folder it is relative to).
const ASSET_FIELDS: [(&str, &str, &str, &str); 3] = [
    (
        "territories/saint-etienne/projects/cafe-du-coin/index.md",
        "cover: { src: cover.svg,",
        "cover: { src: \"{}\",",
        "territories/saint-etienne/projects/cafe-du-coin",
    ),
    (
        "territories/marseille/_territory.md",
        "logo: logo.svg",
        "logo: \"{}\"",
        "territories/marseille",
    ),
    (
        "sponsors/fondation-btp-plus.md",
        "logo: fondation-btp-plus.svg",
        "logo: \"{}\"",
        "sponsors",
    ),
];

#[test]
fn no_field_naming_a_file_can_reach_outside_the_content() {
    for (file, from, to, _) in ASSET_FIELDS {
        for hostile in [
            "/etc/passwd",
            "/proc/self/environ",
            "../../../../../../etc/passwd",
            "images/../../../site.yaml",
        ] {
            let dir = sample_copy();
            let path = dir.path().join("content").join(file);
            edit(&path, from, &to.replace("{}", hostile));
            let found = diagnostics(dir.path());
            let line = line_of(&path, hostile);
            assert!(
                has(&found, "bad-file-reference", file, line),
                "{file}: {hostile}: {found:#?}"
            );
            // And the build refuses to run: nothing is published.
            let out = build_output(dir.path());
            assert_eq!(out.status.code(), Some(1), "{hostile}");
            assert!(!dir.path().join("public").exists());
        }
    }
}

#[cfg(unix)]
#[test]
fn a_link_leaving_the_content_is_refused_in_every_asset_folder() {
    let secret = tempfile::tempdir().unwrap();
    std::fs::write(secret.path().join("env"), "STRIPE_SECRET_KEY=sk_live_x").unwrap();
    for (file, from, to, folder) in ASSET_FIELDS {
        let dir = sample_copy();
        let content = dir.path().join("content");
        // The field names a link to a secret outside the content.
        std::os::unix::fs::symlink(
            secret.path().join("env"),
            content.join(folder).join("leak.svg"),
        )
        .unwrap();
        // A link to a folder outside, and a broken one, likewise.
        std::os::unix::fs::symlink(secret.path(), content.join(folder).join("outside")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/x.png", content.join(folder).join("gone.png"))
            .unwrap();
        let path = content.join(file);
        edit(&path, from, &to.replace("{}", "leak.svg"));
        let found = diagnostics(dir.path());
        let shown = |name: &str| format!("{folder}/{name}");
        assert!(
            has(&found, "link-outside-content", &shown("leak.svg"), 0),
            "{folder}: {found:#?}"
        );
        assert!(
            has(&found, "link-outside-content", &shown("outside"), 0),
            "{found:#?}"
        );
        assert!(
            has(&found, "broken-link", &shown("gone.png"), 0),
            "{found:#?}"
        );
        // The field then names no file of the content.
        assert!(
            has(&found, "missing-file", file, line_of(&path, "leak.svg")),
            "{found:#?}"
        );
        let out = build_output(dir.path());
        assert_eq!(out.status.code(), Some(1));
        assert!(!dir.path().join("public").exists());
    }
}

#[cfg(unix)]
#[test]
fn a_link_inside_the_content_is_followed() {
    let dir = sample_copy();
    let content = dir.path().join("content");
    let project = content.join("territories/saint-etienne/projects/cafe-du-coin");
    std::fs::rename(project.join("cover.svg"), project.join("real.svg")).unwrap();
    std::os::unix::fs::symlink("real.svg", project.join("cover.svg")).unwrap();
    let out = pave(dir.path(), &["check", "content"], LIMIT);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn every_link_field_accepts_only_web_and_mail_addresses() {
    let fields: [(&str, &str, &str); 3] = [
        (
            "sponsors/fondation-btp-plus.md",
            "website: https://fondation-btp-plus.example.org",
            "website: \"{}\"",
        ),
        (
            "territories/auvergne/projects/atelier-velo-le-puy/index.md",
            "website: https://larustine-velay.example.org",
            "website: \"{}\"",
        ),
        (
            "territories/auvergne/projects/epicerie-des-volcans/index.md",
            "website: https://france-active-auvergne.example.org",
            "website: \"{}\"",
        ),
    ];
    for hostile in [
        "javascript:alert(document.domain)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "www.example.org",
    ] {
        let dir = sample_copy();
        for (file, from, to) in fields {
            edit(
                &dir.path().join("content").join(file),
                from,
                &to.replace("{}", hostile),
            );
        }
        let found = diagnostics(dir.path());
        for (file, _, _) in fields {
            let line = line_of(&dir.path().join("content").join(file), hostile);
            assert!(
                has(&found, "bad-link", file, line),
                "{file}: {hostile}: {found:#?}"
            );
        }
        assert_eq!(found.len(), fields.len(), "{found:#?}");
    }
}

#[test]
fn svgs_with_active_content_and_unpublishable_files_are_refused() {
    let dir = sample_copy();
    let content = dir.path().join("content");
    let project = "territories/marseille/projects/trottoirs-libres";
    let cases: [(&str, &str); 6] = [
        (
            "script.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\">\n<script>alert(document.cookie)</script>\n</svg>",
        ),
        (
            "handler.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\">\n<rect width=\"9\" height=\"9\" onmouseover=\"alert(1)\"/>\n</svg>",
        ),
        (
            "foreign.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\">\n<foreignObject><iframe xmlns=\"http://www.w3.org/1999/xhtml\" src=\"https://evil.example\"/></foreignObject>\n</svg>",
        ),
        (
            "external.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\">\n<image href=\"https://tracker.example/pixel.png\"/>\n</svg>",
        ),
        (
            "link.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<a xlink:href=\"javascript:alert(1)\"><text>x</text></a>\n</svg>",
        ),
        (
            "entity.svg",
            "<!DOCTYPE svg [<!ENTITY s \"<script>alert(1)</script>\">]>\n<svg xmlns=\"http://www.w3.org/2000/svg\">&s;</svg>",
        ),
    ];
    for (name, svg) in cases {
        std::fs::write(content.join(project).join(name), svg).unwrap();
    }
    std::fs::write(
        content.join(project).join("page.html"),
        "<script>alert(1)</script>",
    )
    .unwrap();
    std::fs::write(content.join("sponsors/app.js"), "alert(1)").unwrap();
    std::fs::write(
        content.join("territories/auvergne/evil.xhtml"),
        "<html xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></html>",
    )
    .unwrap();

    let found = diagnostics(dir.path());
    for (name, _) in cases {
        let line = if name == "entity.svg" { 1 } else { 2 };
        assert!(
            has(
                &found,
                "svg-active-content",
                &format!("{project}/{name}"),
                line
            ),
            "{name}: {found:#?}"
        );
    }
    for file in [
        format!("{project}/page.html"),
        "sponsors/app.js".to_string(),
        "territories/auvergne/evil.xhtml".to_string(),
    ] {
        assert!(
            has(&found, "unsupported-file", &file, 0),
            "{file}: {found:#?}"
        );
    }
}

#[test]
fn a_pool_ratio_has_at_most_two_decimals() {
    let dir = sample_copy();
    let file = "sponsors/region-auvergne-rhone-alpes.md";
    let path = dir.path().join("content").join(file);
    edit(&path, "ratio: 0.5", "ratio: 0.333");
    let found = diagnostics(dir.path());
    assert!(
        has(&found, "too-many-decimals", file, line_of(&path, "0.333")),
        "{found:#?}"
    );
}

/// `pave build` of `root/content` into `root/public` with the default theme.
fn build_output(root: &Path) -> std::process::Output {
    let theme = repo_root().join("themes/default");
    let args = [
        "build",
        "--content",
        "content",
        "--theme",
        theme.to_str().unwrap(),
        "--out",
        "public",
    ];
    pave(root, &args, LIMIT)
}

fn build(root: &Path) {
    let out = build_output(root);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_stale_file_is_removed_with_its_folder_and_nothing_else() {
    let dir = sample_copy();
    let root = dir.path();
    build(root);
    let public = root.join("public");
    let page = public.join("projets/repair-cafe-belle-de-mai/index.html");
    let logo = public.join("partenaires/fondation-btp-plus.svg");
    assert!(page.exists() && logo.exists());
    // A file of the owner's in the output folder, never written by Pavé.
    std::fs::write(
        public.join("projets/repair-cafe-belle-de-mai/notes.txt"),
        "mine",
    )
    .unwrap();
    // A manifest line edited to point outside the output folder is never followed.
    let victim = root.join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let manifest = public.join(".pave-manifest");
    let mut listing = std::fs::read_to_string(&manifest).unwrap();
    listing.push_str("../victim.txt\n");
    std::fs::write(&manifest, listing).unwrap();

    std::fs::remove_dir_all(
        root.join("content/territories/marseille/projects/repair-cafe-belle-de-mai"),
    )
    .unwrap();
    edit(
        &root.join("content/sponsors/fondation-btp-plus.md"),
        "logo: fondation-btp-plus.svg\n",
        "",
    );
    let out = build_output(root);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!page.exists(), "the removed project's page is gone");
    assert!(
        !public
            .join("en/projets/repair-cafe-belle-de-mai/index.html")
            .exists(),
        "in every language"
    );
    assert!(!logo.exists(), "a logo no longer named is gone");
    assert!(
        public
            .join("projets/repair-cafe-belle-de-mai/notes.txt")
            .exists(),
        "a file Pavé never wrote stays"
    );
    assert!(
        !public.join("en/projets/repair-cafe-belle-de-mai").exists(),
        "the folder left empty is removed"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(
        stderr.contains("../victim.txt (not a path inside the output folder)"),
        "the refused manifest line is reported: {stderr}"
    );
    let listing = std::fs::read_to_string(&manifest).unwrap();
    assert!(!listing.contains("repair-cafe-belle-de-mai"), "{listing}");
    assert!(!listing.contains("victim"), "{listing}");
}

#[test]
fn the_build_publishes_the_sponsor_logo_and_only_checked_links() {
    let dir = sample_copy();
    build(dir.path());
    let public = dir.path().join("public");
    let logo = std::fs::read(public.join("partenaires/fondation-btp-plus.svg")).unwrap();
    assert_eq!(
        logo,
        std::fs::read(repo_root().join("content/sponsors/fondation-btp-plus.svg")).unwrap()
    );
    let sponsor =
        std::fs::read_to_string(public.join("partenaires/fondation-btp-plus/index.html")).unwrap();
    // Named with its fingerprint (cached a year; a new logo, a new address).
    assert!(
        sponsor.contains("src=\"/partenaires/fondation-btp-plus.svg?v="),
        "{sponsor}"
    );
    let project =
        std::fs::read_to_string(public.join("projets/epicerie-des-volcans/index.html")).unwrap();
    assert!(
        project.contains(
            "<a href=\"https://france-active-auvergne.example.org/\">France Active Auvergne</a>"
        ),
        "the support's link is shown"
    );
}
