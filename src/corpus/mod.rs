//! `pave corpus`: a synthetic content corpus for benchmarks — N projects over
//! T territories, with realistic front matter (rewards, needs, sponsors'
//! pools, news) and about 600 words of French Markdown each — written as a
//! Pavé content tree and, optionally, as an equivalent Hugo site.
//!
//! Deterministic: the same options write the same bytes. The corpus is first
//! generated as data ([`generate`], pure), then written by [`pave`] and
//! [`hugo`], so that both trees hold the same projects, texts and figures.

pub mod hugo;
pub mod pave;

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub projects: usize,
    pub territories: usize,
    pub seed: u64,
}

/// The whole corpus, as data.
pub struct Corpus {
    pub territories: Vec<Territory>,
    pub projects: Vec<Project>,
}

pub struct Territory {
    pub slug: String,
    pub name: String,
    pub region: String,
    pub description: String,
}

pub struct Project {
    pub slug: String,
    /// Index into [`Corpus::territories`].
    pub territory: usize,
    pub title: String,
    pub summary: String,
    pub holder: String,
    /// Theme slugs (one or two, distinct).
    pub themes: Vec<&'static str>,
    /// Whole euros.
    pub goal: u32,
    /// `all_or_nothing` or `keep_it_all`.
    pub funding: &'static str,
    /// The campaign runs from the 1st to the 28th of this month of 2026.
    pub month: u32,
    /// `live` or `closed`.
    pub status: &'static str,
    pub featured: bool,
    pub rewards: Vec<Reward>,
    pub need: String,
    pub address: String,
    /// Markdown.
    pub story: String,
    /// One news item (on the 15th of the campaign's month), every fifth project.
    pub news: Option<String>,
}

pub struct Reward {
    /// Whole euros.
    pub min: u32,
    pub title: String,
    pub limit: u32,
}

impl Project {
    pub fn start(&self) -> String {
        format!("2026-{:02}-01", self.month)
    }

    pub fn end(&self) -> String {
        format!("2026-{:02}-28", self.month)
    }

    pub fn news_date(&self) -> String {
        format!("2026-{:02}-15", self.month)
    }
}

/// Writes the Pavé tree in `out/content` and, with `with_hugo`, its Hugo twin
/// in `out/hugo`.
pub fn write(out: &Path, options: Options, with_hugo: bool) -> io::Result<()> {
    let corpus = generate(options);
    pave::write(&out.join("content"), &corpus)?;
    if with_hugo {
        hugo::write(&out.join("hugo"), &corpus)?;
    }
    Ok(())
}

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

/// Theme slugs with their French and English names.
pub const THEMES: &[(&str, &str, &str)] = &[
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

/// The corpus for `options`, as data (pure, deterministic).
pub fn generate(options: Options) -> Corpus {
    let mut rng = Rng(options.seed);
    let count = options.territories.max(1);
    let territories = (0..count)
        .map(|t| Territory {
            slug: format!("territoire-{t:03}"),
            name: format!("Territoire {t}"),
            region: format!("Région {}", t % 13),
            description: sentence(&mut rng, 30),
        })
        .collect();
    let projects = (0..options.projects)
        .map(|p| {
            let goal = 500 * (2 + rng.below(40) as u32);
            let theme_a = THEMES[rng.below(THEMES.len())].0;
            let theme_b = THEMES[rng.below(THEMES.len())].0;
            let themes = if theme_a == theme_b {
                vec![theme_a]
            } else {
                vec![theme_a, theme_b]
            };
            let status = ["live", "live", "live", "closed"][rng.below(4)];
            let month = 1 + rng.below(10) as u32;
            let funding = if rng.below(3) == 0 {
                "keep_it_all"
            } else {
                "all_or_nothing"
            };
            let title = format!("{} n°{p}", rng.pick(PROJECT_KINDS));
            let summary = sentence(&mut rng, 14);
            let rewards = [5, 20, 50]
                .iter()
                .zip(1..)
                .map(|(&min, i)| Reward {
                    min,
                    title: sentence(&mut rng, 4),
                    limit: 20 * i,
                })
                .collect();
            let need = sentence(&mut rng, 5);
            let address = format!("{} rue du Marché", 1 + rng.below(200));
            let story = story(&mut rng);
            let news = (p % 5 == 0).then(|| sentence(&mut rng, 60));
            Project {
                slug: format!("projet-{p:05}"),
                territory: p % count,
                title,
                summary,
                holder: format!("Collectif {p}"),
                themes,
                goal,
                funding,
                month,
                status,
                featured: p % 97 == 0,
                rewards,
                need,
                address,
                story,
                news,
            }
        })
        .collect();
    Corpus {
        territories,
        projects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(seed: u64) -> Options {
        Options {
            projects: 30,
            territories: 4,
            seed,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_corpus_and_another_seed_another() {
        let stories = |c: Corpus| c.projects.into_iter().map(|p| p.story).collect::<Vec<_>>();
        assert_eq!(stories(generate(options(7))), stories(generate(options(7))));
        assert_ne!(stories(generate(options(7))), stories(generate(options(8))));
    }

    #[test]
    fn projects_are_spread_over_the_territories_with_600_words_of_story() {
        let corpus = generate(options(42));
        assert_eq!(corpus.territories.len(), 4);
        assert_eq!(corpus.projects.len(), 30);
        assert!(corpus.projects.iter().all(|p| p.territory < 4));
        assert_eq!(
            corpus.projects.iter().filter(|p| p.territory == 3).count(),
            7
        );
        for p in &corpus.projects {
            let words = p.story.split_whitespace().count();
            assert!((550..=700).contains(&words), "{}: {words} words", p.slug);
            assert!(p.story.contains("## ") && p.story.contains("\n- ") && p.story.contains("]("));
            assert!(p.story.contains("![") && p.story.contains("**"));
        }
    }

    #[test]
    fn zero_territories_still_gives_one() {
        let corpus = generate(Options {
            projects: 3,
            territories: 0,
            seed: 1,
        });
        assert_eq!(corpus.territories.len(), 1);
    }
}
