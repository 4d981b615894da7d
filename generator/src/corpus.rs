//! A synthetic content corpus for benchmarks: N projects over T territories,
//! with realistic front matter and about 600 words of French Markdown each.
//! Deterministic: the same arguments write the same bytes.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// A small deterministic generator (SplitMix64), enough to vary the corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const THEMES: &[(&str, &str, &str)] = &[
    ("habitat", "Habitat", "Housing"),
    ("alimentation", "Alimentation", "Food"),
    ("culture", "Culture", "Culture"),
    ("mobilite", "Mobilité", "Mobility"),
    ("reemploi", "Réemploi", "Reuse"),
    ("environnement", "Environnement", "Environment"),
    ("solidarite", "Solidarité", "Solidarity"),
    ("numerique", "Numérique", "Digital"),
    ("energie", "Énergie", "Energy"),
    ("education", "Éducation", "Education"),
];

const WORDS: &[&str] = &[
    "quartier",
    "habitants",
    "jardin",
    "atelier",
    "vélo",
    "école",
    "association",
    "bénévoles",
    "parc",
    "marché",
    "local",
    "solidaire",
    "réparer",
    "partager",
    "cuisine",
    "légumes",
    "enfants",
    "voisins",
    "chantier",
    "matériel",
    "rencontre",
    "saison",
    "ville",
    "place",
    "bibliothèque",
    "projet",
    "ensemble",
    "accueil",
    "rue",
    "collectif",
    "énergie",
    "chaleur",
];

const PROJECT_KINDS: &[&str] = &[
    "Jardin partagé",
    "Atelier vélo",
    "Épicerie coopérative",
    "Café associatif",
    "Repair café",
    "Bibliothèque mobile",
    "Tables de pique-nique",
    "Chorale de quartier",
    "Fablab",
    "Compost collectif",
];

fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(rng.pick(WORDS));
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => format!("{}{}.", c.to_uppercase(), chars.as_str()),
        None => s,
    }
}

/// About 600 words of Markdown: headings, paragraphs, a list, a link, emphasis, an image.
fn story(rng: &mut Rng) -> String {
    let mut md = String::new();
    for section in [
        "Le projet",
        "Pourquoi maintenant",
        "À quoi servira l'argent",
        "Qui sommes-nous",
    ] {
        let _ = writeln!(md, "## {section}\n");
        for _ in 0..2 {
            let _ = writeln!(
                md,
                "{} *{}* {} **{}** {}\n",
                sentence(rng, 18),
                rng.pick(WORDS),
                sentence(rng, 20),
                rng.pick(WORDS),
                sentence(rng, 16)
            );
        }
        let _ = writeln!(
            md,
            "- {}\n- {}\n- {}\n",
            sentence(rng, 6),
            sentence(rng, 7),
            sentence(rng, 5)
        );
    }
    let _ = writeln!(
        md,
        "Plus d'informations sur [le site du collectif](https://example.org/{}).\n\n![Le lieu du projet](cover.svg)\n",
        rng.below(10_000)
    );
    md
}

/// Writes a corpus of `projects` projects over `territories` territories in `out/content`.
pub fn write(out: &Path, projects: usize, territories: usize) -> io::Result<()> {
    let content = out.join("content");
    std::fs::create_dir_all(content.join("sponsors"))?;
    std::fs::write(
        content.join("site.yaml"),
        "title: Pavé\ntagline: Corpus de test\nbase_url: https://pave.example.org\napi_url: /api\nlanguages: [fr, en]\n",
    )?;
    let mut themes = String::from("themes:\n");
    for (slug, fr, en) in THEMES {
        let _ = writeln!(
            themes,
            "  - {{ slug: {slug}, name: {{ fr: {fr}, en: {en} }} }}"
        );
    }
    std::fs::write(content.join("themes.yaml"), themes)?;
    std::fs::write(
        content.join("sponsors/fondation.md"),
        "---\nname: Fondation\nkind: foundation\npools:\n  - { slug: habitat, title: Habitat, mode: per_pledge, budget: 100000, start: 2026-01-01, end: 2027-12-31, scope: { themes: [habitat] }, ratio: 1, max_per_pledge: 100, max_per_project: 2000 }\n---\nUne fondation.\n",
    )?;
    std::fs::write(
        content.join("sponsors/region.md"),
        "---\nname: Région\nkind: public\npools:\n  - { slug: reussite, title: Réussite, mode: on_success, budget: 500000, start: 2026-01-01, end: 2027-12-31, share_of_goal: 0.5, max_per_project: 5000 }\n  - { slug: forfait, title: Forfait, mode: lump_sum, budget: 50000, start: 2026-01-01, end: 2027-12-31, amount: 500, min_progress: 0.5, min_backers: 20 }\n---\nUne région.\n",
    )?;
    let mut rng = Rng(42);
    let territories = territories.max(1);
    for t in 0..territories {
        let dir = content.join(format!("territories/territoire-{t:03}"));
        std::fs::create_dir_all(dir.join("projects"))?;
        std::fs::write(
            dir.join("_territory.md"),
            format!(
                "---\nname: Territoire {t}\nregion: Région {}\nmax_goal: 30000\ncampaign: {{ default_days: 45, max_days: 90 }}\noverfunding_cap: 1.5\nbranding: {{ primary: \"#0b5d4b\" }}\n---\n{}\n",
                t % 13,
                sentence(&mut rng, 30)
            ),
        )?;
    }
    for p in 0..projects {
        let t = p % territories;
        let dir = content.join(format!(
            "territories/territoire-{t:03}/projects/projet-{p:05}"
        ));
        std::fs::create_dir_all(&dir)?;
        let goal = 500 * (2 + rng.below(40));
        let theme_a = THEMES[rng.below(THEMES.len())].0;
        let theme_b = THEMES[rng.below(THEMES.len())].0;
        let themes = if theme_a == theme_b {
            theme_a.to_string()
        } else {
            format!("{theme_a}, {theme_b}")
        };
        let status = ["live", "live", "live", "closed"][rng.below(4)];
        let month = 1 + rng.below(10);
        let funding = if rng.below(3) == 0 {
            "keep_it_all"
        } else {
            "all_or_nothing"
        };
        let title = format!("{} n°{p}", rng.pick(PROJECT_KINDS));
        let mut fm = format!(
            "---\ntitle: {title}\nsummary: {}\nholder: {{ name: Collectif {p}, kind: association }}\nthemes: [{themes}]\ngoal: {goal}\nfunding: {funding}\ncampaign: {{ start: 2026-{month:02}-01, end: 2026-{month:02}-28 }}\nrewards:\n",
            sentence(&mut rng, 14)
        );
        for (i, min) in [5, 20, 50].iter().enumerate() {
            let _ = writeln!(
                fm,
                "  - {{ min: {min}, title: {}, limit: {} }}",
                sentence(&mut rng, 4),
                20 * (i + 1)
            );
        }
        let _ = write!(
            fm,
            "needs:\n  - {{ kind: volunteers, title: {} }}\nlocation: {{ address: {} rue du Marché, city: Ville {t}, lat: 45.4, lon: 4.3 }}\nstatus: {status}\nfeatured: {}\ncover: {{ src: cover.svg, alt: Illustration du projet }}\n---\n",
            sentence(&mut rng, 5),
            1 + rng.below(200),
            p % 97 == 0
        );
        fm.push_str(&story(&mut rng));
        std::fs::write(dir.join("index.md"), fm)?;
        std::fs::write(
            dir.join("cover.svg"),
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 4 3\"><title>Projet</title><rect width=\"4\" height=\"3\" fill=\"#0b5d4b\"/></svg>\n",
        )?;
        if p % 5 == 0 {
            std::fs::create_dir_all(dir.join("news"))?;
            std::fs::write(
                dir.join(format!("news/2026-{month:02}-15-nouvelles.md")),
                format!(
                    "---\ntitle: Des nouvelles\ndate: 2026-{month:02}-15\n---\n{}\n",
                    sentence(&mut rng, 60)
                ),
            )?;
        }
    }
    Ok(())
}
