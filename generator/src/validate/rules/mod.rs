//! The content rules, as pure functions from the loaded `Site` to `Issue`s
//! that name a YAML path: one module per kind of file (site, sponsor,
//! territory, call, project); the checks every kind shares here.

mod call;
mod project;
mod site;
mod sponsor;
mod territory;

use call::check_call;
use project::check_project;
use site::{check_site, check_themes};
use sponsor::check_sponsor;
use territory::check_territory;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use rust_decimal::Decimal;

use super::{Issue, Issues};
use crate::content::assets;
use crate::content::load::LoadFlags;
use crate::content::yaml::{Seg, YamlPath};
use crate::model::*;
use crate::money::is_whole_cents;
use crate::path;
use crate::slug;

/// Interface languages Pavé has translations for.
pub const KNOWN_LANGUAGES: &[&str] = &["fr", "en"];

/// The longest summary that fits a project card.
pub const MAX_SUMMARY_CHARS: usize = 200;

/// Checks every rule over the loaded site. Rules that depend on a shared
/// file that failed to load (`flags`) are skipped, so one broken file does
/// not flood the report.
pub fn validate(site: &Site, flags: &LoadFlags) -> Issues {
    let refs = Refs::new(site, flags);
    let mut issues = Issues::new();
    if flags.site {
        check_site(&mut issues, site);
    }
    check_themes(&mut issues, site);
    for sponsor in &site.sponsors {
        check_sponsor(&mut issues, &refs, sponsor, &site.sponsor_assets);
    }
    let mut first_use: BTreeMap<&str, &Path> = BTreeMap::new();
    for territory in &site.territories {
        check_territory(&mut issues, site, territory);
        for call in &territory.calls {
            check_call(&mut issues, &refs, call);
        }
        for project in &territory.projects {
            let slug = project.doc.slug.as_str();
            if let Some(other) = first_use.get(slug) {
                issues.push(
                    Issue::new(&project.doc.file, Vec::new(), "duplicate-slug", format!(
                        "the project slug `{slug}` is already used by {}",
                        other.display()
                    ))
                    .help("project slugs are unique across the platform (they are the address of the project page): rename this folder"),
                );
            } else {
                first_use.insert(slug, &project.doc.file);
            }
        }
    }
    let project_issues: Vec<Issues> = {
        use rayon::prelude::*;
        site.territories
            .par_iter()
            .flat_map_iter(|t| t.projects.iter().map(move |p| (t, p)))
            .map(|(t, p)| {
                let mut out = Issues::new();
                check_project(&mut out, site, &refs, t, p);
                out
            })
            .collect()
    };
    issues.extend(project_issues.into_iter().flatten());
    issues
}

/// The names other files may refer to.
struct Refs<'a> {
    calls: &'a BTreeSet<(String, String)>,
    themes: Option<BTreeSet<&'a str>>,
    sponsors: BTreeSet<&'a str>,
    territories: BTreeSet<&'a str>,
    projects: BTreeSet<&'a str>,
}

impl<'a> Refs<'a> {
    fn new(site: &'a Site, flags: &'a LoadFlags) -> Self {
        Refs {
            calls: &flags.call_files,
            themes: flags
                .themes
                .then(|| site.themes.iter().map(|t| t.slug.as_str()).collect()),
            sponsors: flags.sponsor_files.iter().map(String::as_str).collect(),
            territories: flags.territory_folders.iter().map(String::as_str).collect(),
            projects: flags.project_folders.iter().map(String::as_str).collect(),
        }
    }

    fn check_themes(&self, issues: &mut Issues, file: &Path, base: YamlPath, themes: &[String]) {
        let Some(known) = &self.themes else { return };
        for (i, theme) in themes.iter().enumerate() {
            if !known.contains(theme.as_str()) {
                issues.push(unknown_ref(
                    file,
                    at(&base, i),
                    "theme",
                    theme,
                    known,
                    "themes.yaml",
                ));
            }
        }
    }
}

fn at(base: &[Seg], i: usize) -> YamlPath {
    let mut p = base.to_vec();
    p.push(Seg::Index(i));
    p
}

fn unknown_ref(
    file: &Path,
    path: YamlPath,
    what: &str,
    value: &str,
    known: &BTreeSet<&str>,
    defined_in: &str,
) -> Issue {
    let candidates: Vec<&str> = known.iter().copied().collect();
    let help = match crate::content::yaml::did_you_mean(value, &candidates) {
        Some(c) => format!("did you mean `{c}`? {what}s are defined in {defined_in}"),
        None if candidates.is_empty() => {
            format!("no {what} is defined yet: add it to {defined_in}")
        }
        None => format!(
            "use one of: {} (defined in {defined_in})",
            candidates
                .iter()
                .take(12)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Issue::new(
        file,
        path,
        "unknown-reference",
        format!("there is no {what} `{value}`"),
    )
    .help(help)
}

/// An amount of money: positive (or zero when allowed) and in whole cents.
fn check_money(issues: &mut Issues, file: &Path, path: YamlPath, value: Decimal, allow_zero: bool) {
    if !is_whole_cents(value) {
        issues.push(
            Issue::new(
                file,
                path.clone(),
                "too-many-decimals",
                format!("`{value}` has more than two decimals"),
            )
            .help(format!(
                "amounts are in euros and cents: write {}",
                value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
            )),
        );
    }
    if value < Decimal::ZERO || (!allow_zero && value.is_zero()) {
        issues.push(
            Issue::new(
                file,
                path,
                "not-positive",
                format!("the amount `{value}` must be greater than zero"),
            )
            .help("write a positive amount in euros"),
        );
    }
}

/// A ratio between `min` (exclusive unless `min_inclusive`) and `max` (inclusive).
/// The interval a ratio must lie in.
struct Bounds {
    min: Decimal,
    min_inclusive: bool,
    max: Option<Decimal>,
}

/// A share of the goal: in (0, 1].
const SHARE: Bounds = Bounds {
    min: Decimal::ZERO,
    min_inclusive: false,
    max: Some(Decimal::ONE),
};

fn check_ratio(
    issues: &mut Issues,
    file: &Path,
    path: YamlPath,
    value: Decimal,
    bounds: Bounds,
    hint: &str,
) {
    let low_ok = if bounds.min_inclusive {
        value >= bounds.min
    } else {
        value > bounds.min
    };
    let high_ok = bounds.max.is_none_or(|m| value <= m);
    if !low_ok || !high_ok {
        let range = match bounds.max {
            Some(m) => format!("between {} and {m}", bounds.min),
            None => format!("greater than {}", bounds.min),
        };
        issues.push(
            Issue::new(
                file,
                path,
                "out-of-range",
                format!("`{value}` is out of range: it must be {range}"),
            )
            .help(hint.to_string()),
        );
    }
}

fn check_text(issues: &mut Issues, file: &Path, path: YamlPath, value: &str, what: &str) {
    if value.trim().is_empty() {
        issues.push(
            Issue::new(file, path, "empty-text", format!("the {what} is empty"))
                .help(format!("write a {what}")),
        );
    }
}

/// A link field ([`Link`]): only `https:`, `http:` and `mailto:`.
fn check_link(issues: &mut Issues, file: &Path, path: YamlPath, link: Option<&Link>) {
    let Some(link) = link else { return };
    if let Err(e) = link.parse() {
        issues.push(
            Issue::new(
                file,
                path,
                "bad-link",
                format!("`{}` is not a link: {e}", link.as_str()),
            )
            .help(e.hint()),
        );
    }
}

fn check_slug(issues: &mut Issues, file: &Path, path: YamlPath, value: &str, what: &str) {
    if !slug::is_valid(value) {
        issues.push(
            Issue::new(
                file,
                path,
                "bad-slug",
                format!("the {what} `{value}` is not a valid slug"),
            )
            .help(format!(
                "use lowercase letters a-z, digits and single dashes, e.g. `{}`",
                slug::suggest(value)
            )),
        );
    }
}

fn check_dates(
    issues: &mut Issues,
    file: &Path,
    start_path: YamlPath,
    end_path: YamlPath,
    start: Date,
    end: Date,
    what: &str,
) {
    if end < start {
        issues.push(
            Issue::new(
                file,
                end_path,
                "end-before-start",
                format!("{what} ends on {end}, before it starts on {start}"),
            )
            .help("the end date must be on or after the start date"),
        );
        let _ = start_path;
    }
}

fn check_timezone(issues: &mut Issues, file: &Path, path: YamlPath, tz: &str) {
    if jiff::tz::TimeZone::get(tz).is_err() {
        issues.push(
            Issue::new(file, path, "unknown-timezone", format!("`{tz}` is not a known time zone"))
                .help("use an IANA time zone name such as Europe/Paris, America/Cayenne or Indian/Reunion"),
        );
    }
}

fn check_colour(issues: &mut Issues, file: &Path, path: YamlPath, value: &str) {
    let ok = value.len() == 7
        && value.starts_with('#')
        && value[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        issues.push(
            Issue::new(
                file,
                path,
                "bad-colour",
                format!("`{value}` is not a colour like \"#0b5d4b\""),
            )
            .help("write the colour as # and six hexadecimal digits, in quotes"),
        );
    }
}

/// A field naming a file of the content (a cover, a logo): a relative path
/// of plain names ([`assets::reference`]) to a file that is there (links
/// leaving the content were refused when loading, so they are not there).
fn check_asset(
    issues: &mut Issues,
    file: &Path,
    path: YamlPath,
    src: &str,
    assets: &[PathBuf],
    folder: &str,
) {
    let reference = match assets::reference(src) {
        Ok(reference) => reference,
        Err(why) => {
            issues.push(
                Issue::new(file, path, "bad-file-reference", why.describe(src, folder))
                    .help("put the image next to this file and write its name, e.g. cover.jpg"),
            );
            return;
        }
    };
    if !assets.contains(&reference) {
        issues.push(
            Issue::new(
                file,
                path,
                "missing-file",
                format!("the file `{src}` does not exist in {folder}"),
            )
            .help("add the file, or fix its name (names are case-sensitive)"),
        );
    }
}

fn check_languages(
    issues: &mut Issues,
    file: &Path,
    base: YamlPath,
    languages: &[String],
    allowed: &[&str],
    defined_in: &str,
) {
    if languages.is_empty() {
        issues.push(
            Issue::new(
                file,
                base.clone(),
                "no-language",
                "the list of languages is empty",
            )
            .help("list at least `fr`"),
        );
    }
    let mut seen = BTreeSet::new();
    for (i, lang) in languages.iter().enumerate() {
        if !allowed.contains(&lang.as_str()) {
            issues.push(
                Issue::new(
                    file,
                    at(&base, i),
                    "unknown-language",
                    format!("the language `{lang}` is not available"),
                )
                .help(format!(
                    "available languages: {} ({defined_in})",
                    allowed.join(", ")
                )),
            );
        } else if !seen.insert(lang) {
            issues.push(
                Issue::new(
                    file,
                    at(&base, i),
                    "duplicate-language",
                    format!("`{lang}` is listed twice"),
                )
                .help("remove the duplicate"),
            );
        }
    }
}
