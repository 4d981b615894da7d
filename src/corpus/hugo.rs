//! Writes a [`Corpus`] as an equivalent Hugo site: the same projects, texts
//! and figures, with the `pave-twin` theme kept in the repository under
//! `benches/hugo/themes/pave-twin/` (embedded here, copied into the site so
//! that it builds on its own). Projects are page bundles at `/projets/<slug>/`,
//! territories and themes are taxonomies (`/territoires/<slug>/`,
//! `/themes/<slug>/`), and the content folder is mounted for French (`/`) and
//! English (`/en/`), the two languages Pavé renders.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use super::pave::COVER_SVG;
use super::{Corpus, Project, THEMES};

/// The theme's files: path under `themes/pave-twin/`, contents.
const THEME: &[(&str, &str)] = &[
    (
        "layouts/_default/baseof.html",
        include_str!("../../benches/hugo/themes/pave-twin/layouts/_default/baseof.html"),
    ),
    (
        "layouts/_default/single.html",
        include_str!("../../benches/hugo/themes/pave-twin/layouts/_default/single.html"),
    ),
    (
        "layouts/_default/term.html",
        include_str!("../../benches/hugo/themes/pave-twin/layouts/_default/term.html"),
    ),
    (
        "layouts/_default/list.html",
        include_str!("../../benches/hugo/themes/pave-twin/layouts/_default/list.html"),
    ),
    (
        "layouts/index.html",
        include_str!("../../benches/hugo/themes/pave-twin/layouts/index.html"),
    ),
    (
        "layouts/partials/card.html",
        include_str!("../../benches/hugo/themes/pave-twin/layouts/partials/card.html"),
    ),
    (
        "layouts/partials/figures.html",
        include_str!("../../benches/hugo/themes/pave-twin/layouts/partials/figures.html"),
    ),
    (
        "i18n/fr.yaml",
        include_str!("../../benches/hugo/themes/pave-twin/i18n/fr.yaml"),
    ),
    (
        "i18n/en.yaml",
        include_str!("../../benches/hugo/themes/pave-twin/i18n/en.yaml"),
    ),
    (
        "static/style.css",
        include_str!("../../benches/hugo/themes/pave-twin/static/style.css"),
    ),
];

const CONFIG: &str = r#"baseURL = "https://pave.example.org/"
title = "Pavé"
theme = "pave-twin"
defaultContentLanguage = "fr"
# Pavé renders Atom feeds and a sitemap too, but the twin keeps to pages.
disableKinds = ["RSS", "sitemap", "robotsTXT"]

[taxonomies]
territoire = "territoires"
theme = "themes"

[languages.fr]
languageName = "Français"
weight = 1

[languages.en]
languageName = "English"
weight = 2

# One content folder for both languages (the stories are in French, as on Pavé).
[[module.mounts]]
source = "content"
target = "content"
lang = "fr"

[[module.mounts]]
source = "content"
target = "content"
lang = "en"
"#;

/// Writes the Hugo site in `site` (`hugo.toml`, `content/`, `themes/pave-twin/`).
pub fn write(site: &Path, corpus: &Corpus) -> io::Result<()> {
    fs::create_dir_all(site)?;
    fs::write(site.join("hugo.toml"), CONFIG)?;
    for (path, text) in THEME {
        let file = site.join("themes/pave-twin").join(path);
        if let Some(dir) = file.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(file, text)?;
    }
    let content = site.join("content");
    for t in &corpus.territories {
        let dir = content.join("territoires").join(&t.slug);
        fs::create_dir_all(&dir)?;
        fs::write(
            dir.join("_index.md"),
            format!(
                "---\ntitle: {}\nregion: {}\n---\n{}\n",
                t.name, t.region, t.description
            ),
        )?;
    }
    for (slug, fr, _) in THEMES {
        let dir = content.join("themes").join(slug);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join("_index.md"), format!("---\ntitle: {fr}\n---\n"))?;
    }
    for p in &corpus.projects {
        let dir = content.join("projets").join(&p.slug);
        fs::create_dir_all(&dir)?;
        fs::write(
            dir.join("index.md"),
            project(p, &corpus.territories[p.territory].slug, p.territory),
        )?;
        fs::write(dir.join("cover.svg"), COVER_SVG)?;
    }
    Ok(())
}

/// A project's `index.md` for Hugo: the same fields as Pavé's, with its
/// figures (zero, as Pavé's without a progress snapshot) in the front matter.
fn project(p: &Project, territory: &str, territory_index: usize) -> String {
    let mut md = format!(
        "---\ntitle: {}\ndate: {}\nsummary: {}\nholder: {}\naddress: {}, Ville {territory_index}\nterritoires: [{territory}]\nthemes: [{}]\ngoal: {}\nraised: 0\nbackers: 0\nfunding: {}\nstatus: {}\nfeatured: {}\ncampaign: {{ start: {}, end: {} }}\ncover: cover.svg\nrewards:\n",
        p.title,
        p.start(),
        p.summary,
        p.holder,
        p.address,
        p.themes.join(", "),
        p.goal,
        p.funding,
        p.status,
        p.featured,
        p.start(),
        p.end()
    );
    for r in &p.rewards {
        let _ = writeln!(
            md,
            "  - {{ min: {}, title: {}, limit: {} }}",
            r.min, r.title, r.limit
        );
    }
    let _ = writeln!(md, "needs:\n  - {{ kind: volunteers, title: {} }}", p.need);
    if let Some(body) = &p.news {
        let _ = writeln!(
            md,
            "news:\n  - {{ title: Des nouvelles, date: {}, body: {body} }}",
            p.news_date()
        );
    }
    md.push_str("---\n");
    md.push_str(&p.story);
    md
}
