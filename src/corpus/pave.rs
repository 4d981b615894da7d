//! Writes a [`Corpus`] as a Pavé content tree (what `pave check` and
//! `pave build` read).

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use super::{Corpus, Project, THEMES};

pub const COVER_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 4 3\"><title>Projet</title><rect width=\"4\" height=\"3\" fill=\"#0b5d4b\"/></svg>\n";

const SITE: &str = "title: Pavé\ntagline: Corpus de test\nbase_url: https://pave.example.org\napi_url: /api\nlanguages: [fr, en]\n";

const FONDATION: &str = "---\nname: Fondation\nkind: foundation\npools:\n  - { slug: habitat, title: Habitat, mode: per_pledge, budget: 100000, start: 2026-01-01, end: 2027-12-31, scope: { themes: [habitat] }, ratio: 1, max_per_pledge: 100, max_per_project: 2000 }\n---\nUne fondation.\n";

const REGION: &str = "---\nname: Région\nkind: public\npools:\n  - { slug: reussite, title: Réussite, mode: on_success, budget: 500000, start: 2026-01-01, end: 2027-12-31, share_of_goal: 0.5, max_per_project: 5000 }\n  - { slug: forfait, title: Forfait, mode: lump_sum, budget: 50000, start: 2026-01-01, end: 2027-12-31, amount: 500, min_progress: 0.5, min_backers: 20 }\n---\nUne région.\n";

/// Writes `corpus` under `content` (the `content/` folder itself).
pub fn write(content: &Path, corpus: &Corpus) -> io::Result<()> {
    fs::create_dir_all(content.join("sponsors"))?;
    fs::write(content.join("site.yaml"), SITE)?;
    let mut themes = String::from("themes:\n");
    for (slug, fr, en) in THEMES {
        let _ = writeln!(
            themes,
            "  - {{ slug: {slug}, name: {{ fr: {fr}, en: {en} }} }}"
        );
    }
    fs::write(content.join("themes.yaml"), themes)?;
    fs::write(content.join("sponsors/fondation.md"), FONDATION)?;
    fs::write(content.join("sponsors/region.md"), REGION)?;
    for t in &corpus.territories {
        let dir = content.join("territories").join(&t.slug);
        fs::create_dir_all(dir.join("projects"))?;
        fs::write(
            dir.join("_territory.md"),
            format!(
                "---\nname: {}\nregion: {}\nmax_goal: 30000\ncampaign: {{ default_days: 45, max_days: 90 }}\noverfunding_cap: 1.5\nbranding: {{ primary: \"#0b5d4b\" }}\n---\n{}\n",
                t.name, t.region, t.description
            ),
        )?;
    }
    for p in &corpus.projects {
        let territory = &corpus.territories[p.territory];
        let dir = content
            .join("territories")
            .join(&territory.slug)
            .join("projects")
            .join(&p.slug);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join("index.md"), project(p, p.territory))?;
        fs::write(dir.join("cover.svg"), COVER_SVG)?;
        if let Some(body) = &p.news {
            fs::create_dir_all(dir.join("news"))?;
            fs::write(
                dir.join(format!("news/{}-nouvelles.md", p.news_date())),
                format!(
                    "---\ntitle: Des nouvelles\ndate: {}\n---\n{body}\n",
                    p.news_date()
                ),
            )?;
        }
    }
    Ok(())
}

/// A project's `index.md`: front matter and story.
fn project(p: &Project, territory: usize) -> String {
    let mut md = format!(
        "---\ntitle: {}\nsummary: {}\nholder: {{ name: {}, kind: association }}\nthemes: [{}]\ngoal: {}\nfunding: {}\ncampaign: {{ start: {}, end: {} }}\nrewards:\n",
        p.title,
        p.summary,
        p.holder,
        p.themes.join(", "),
        p.goal,
        p.funding,
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
    let _ = write!(
        md,
        "needs:\n  - {{ kind: volunteers, title: {} }}\nlocation: {{ address: {}, city: Ville {territory}, lat: 45.4, lon: 4.3 }}\nstatus: {}\nfeatured: {}\ncover: {{ src: cover.svg, alt: Illustration du projet }}\n---\n",
        p.need, p.address, p.status, p.featured
    );
    md.push_str(&p.story);
    md
}
