//! The content rules. Each check names the YAML path of the offending value.

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

fn check_site(issues: &mut Issues, site: &Site) {
    let c = &site.config;
    let file = site.root.join("site.yaml");
    let file = file.as_path();
    check_text(issues, file, path!["title"], &c.title, "title");
    check_text(issues, file, path!["tagline"], &c.tagline, "tagline");
    let base_ok = (c.base_url.starts_with("https://") || c.base_url.starts_with("http://"))
        && !c.base_url.ends_with('/')
        && !c.base_url.contains(char::is_whitespace);
    if !base_ok {
        issues.push(
            Issue::new(file, path!["base_url"], "bad-url", format!("`{}` is not an absolute site address", c.base_url))
                .help("write the public address of the site with its scheme and no trailing slash, e.g. https://pave.example.org"),
        );
    }
    let api_ok = !c.api_url.contains(char::is_whitespace)
        && (c.api_url.starts_with("https://")
            || c.api_url.starts_with("http://127.0.0.1")
            || c.api_url.starts_with("http://localhost")
            || (c.api_url.starts_with('/') && !c.api_url.starts_with("//")));
    if !api_ok {
        issues.push(
            Issue::new(file, path!["api_url"], "bad-url", format!("`{}` is not a usable API address", c.api_url))
                .help("write /api when the API is served with the site, or the https:// address of the API"),
        );
    }
    check_languages(
        issues,
        file,
        path!["languages"],
        &c.languages,
        KNOWN_LANGUAGES,
        "translations shipped with Pavé",
    );
    check_timezone(issues, file, path!["timezone"], &c.timezone);
    if c.currency != "EUR" {
        issues.push(
            Issue::new(
                file,
                path!["currency"],
                "unsupported-currency",
                format!("the currency `{}` is not supported", c.currency),
            )
            .help("Pavé handles euros only: write EUR"),
        );
    }
    check_money(issues, file, path!["pledge", "min"], c.pledge.min, false);
    check_money(issues, file, path!["pledge", "max"], c.pledge.max, false);
    if c.pledge.max < c.pledge.min {
        issues.push(
            Issue::new(
                file,
                path!["pledge", "max"],
                "max-below-min",
                format!(
                    "the largest pledge ({}) is below the smallest ({})",
                    c.pledge.max, c.pledge.min
                ),
            )
            .help("make `max` greater than `min`"),
        );
    }
}

fn check_themes(issues: &mut Issues, site: &Site) {
    let file = site.root.join("themes.yaml");
    let mut seen = BTreeSet::new();
    for (i, theme) in site.themes.iter().enumerate() {
        check_slug(
            issues,
            &file,
            path!["themes", i, "slug"],
            &theme.slug,
            "theme slug",
        );
        if !seen.insert(theme.slug.as_str()) {
            issues.push(
                Issue::new(
                    &file,
                    path!["themes", i, "slug"],
                    "duplicate-slug",
                    format!("the theme `{}` is defined twice", theme.slug),
                )
                .help("remove or rename one of them"),
            );
        }
        check_text(
            issues,
            &file,
            path!["themes", i, "name", "fr"],
            &theme.name.fr,
            "theme name",
        );
    }
}

fn check_sponsor(issues: &mut Issues, refs: &Refs, sponsor: &Sponsor, sponsor_assets: &[PathBuf]) {
    let file = sponsor.file.as_path();
    let m = &sponsor.meta;
    check_slug(
        issues,
        file,
        Vec::new(),
        &sponsor.slug,
        "file name (the sponsor's slug)",
    );
    check_text(issues, file, path!["name"], &m.name, "name");
    check_link(issues, file, path!["website"], m.website.as_ref());
    if let Some(logo) = &m.logo {
        check_asset(
            issues,
            file,
            path!["logo"],
            logo,
            sponsor_assets,
            "the sponsors' folder",
        );
    }
    if m.pools.is_empty() {
        issues.push(
            Issue::new(
                file,
                path!["pools"],
                "no-pool",
                "this sponsor has no matching pool",
            )
            .help("add at least one pool under `pools:`"),
        );
    }
    let mut seen = BTreeSet::new();
    for (i, pool) in m.pools.iter().enumerate() {
        let p = |field: &str| path!["pools", i, field];
        check_slug(issues, file, p("slug"), &pool.slug, "pool slug");
        if !seen.insert(pool.slug.as_str()) {
            issues.push(
                Issue::new(
                    file,
                    p("slug"),
                    "duplicate-slug",
                    format!("the pool `{}` is defined twice in this file", pool.slug),
                )
                .help("give each pool its own slug"),
            );
        }
        check_text(issues, file, p("title"), &pool.title, "pool title");
        check_money(issues, file, p("budget"), pool.budget, false);
        check_dates(
            issues,
            file,
            p("start"),
            p("end"),
            pool.start,
            pool.end,
            "the pool",
        );
        for (list, what, known, defined_in) in [
            (
                &pool.scope.territories,
                "territory",
                &refs.territories,
                "content/territories/",
            ),
            (
                &pool.scope.projects,
                "project",
                &refs.projects,
                "content/territories/*/projects/",
            ),
        ] {
            let key = if what == "territory" {
                "territories"
            } else {
                "projects"
            };
            for (j, value) in list.iter().enumerate() {
                if !known.contains(value.as_str()) {
                    issues.push(unknown_ref(
                        file,
                        path!["pools", i, "scope", key, j],
                        what,
                        value,
                        known,
                        defined_in,
                    ));
                }
            }
        }
        refs.check_themes(
            issues,
            file,
            path!["pools", i, "scope", "themes"],
            &pool.scope.themes,
        );
        check_pool_mode(issues, file, i, pool);
    }
}

fn check_pool_mode(issues: &mut Issues, file: &Path, i: usize, pool: &Pool) {
    let p = |field: &str| path!["pools", i, field];
    let present: [(&str, bool); 8] = [
        ("ratio", pool.ratio.is_some()),
        ("max_per_pledge", pool.max_per_pledge.is_some()),
        ("max_per_project", pool.max_per_project.is_some()),
        ("max_per_donor", pool.max_per_donor.is_some()),
        ("threshold", pool.threshold.is_some()),
        ("share_of_goal", pool.share_of_goal.is_some()),
        ("amount", pool.amount.is_some()),
        (
            "min_progress",
            pool.min_progress.is_some() || pool.min_backers.is_some(),
        ),
    ];
    let (mode_name, allowed): (&str, &[&str]) = match pool.mode {
        PoolMode::PerPledge => (
            "per_pledge",
            &[
                "ratio",
                "max_per_pledge",
                "max_per_project",
                "max_per_donor",
                "threshold",
            ],
        ),
        PoolMode::OnSuccess => ("on_success", &["share_of_goal", "max_per_project"]),
        PoolMode::LumpSum => ("lump_sum", &["amount", "min_progress"]),
    };
    for (field, is_present) in present {
        if is_present && !allowed.contains(&field) {
            let field = if field == "min_progress" && pool.min_progress.is_none() {
                "min_backers"
            } else {
                field
            };
            issues.push(
                Issue::at_key(
                    file,
                    p(field),
                    "field-not-for-mode",
                    format!("`{field}` does not apply to a {mode_name} pool"),
                )
                .help(format!(
                    "a {mode_name} pool takes: {}; remove `{field}` or change `mode`",
                    allowed.join(", ")
                )),
            );
        }
    }
    let required = |issues: &mut Issues, field: &str, present: bool| {
        if !present {
            issues.push(
                Issue::new(
                    file,
                    path!["pools", i, "mode"],
                    "missing-field",
                    format!("a {mode_name} pool needs `{field}`"),
                )
                .help(format!("add `{field}` to this pool (see docs/content.md)")),
            );
        }
    };
    match pool.mode {
        PoolMode::PerPledge => {
            required(issues, "ratio", pool.ratio.is_some());
            if let Some(r) = pool.ratio {
                if !is_whole_cents(r) {
                    issues.push(
                        Issue::new(
                            file,
                            p("ratio"),
                            "too-many-decimals",
                            format!("the ratio `{r}` has more than two decimals"),
                        )
                        .help(format!(
                            "a ratio is written with at most two decimals (euros added per citizen euro), e.g. {}",
                            r.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
                        )),
                    );
                }
                check_ratio(
                    issues,
                    file,
                    p("ratio"),
                    r,
                    Bounds {
                        min: Decimal::ZERO,
                        min_inclusive: false,
                        max: None,
                    },
                    "the ratio is the euros added per citizen euro, e.g. 1 or 0.5",
                );
            }
            if let Some(t) = pool.threshold {
                check_ratio(
                    issues,
                    file,
                    p("threshold"),
                    t,
                    Bounds {
                        min: Decimal::ZERO,
                        min_inclusive: true,
                        max: Some(Decimal::ONE),
                    },
                    "the threshold is a share of the goal, e.g. 0.25 for 25 %",
                );
            }
        }
        PoolMode::OnSuccess => {
            if pool.share_of_goal.is_none() && pool.max_per_project.is_none() {
                required(issues, "share_of_goal` or `max_per_project", false);
            }
            if let Some(s) = pool.share_of_goal {
                check_ratio(
                    issues,
                    file,
                    p("share_of_goal"),
                    s,
                    SHARE,
                    "a share of the goal, e.g. 0.5 for up to 50 %",
                );
            }
        }
        PoolMode::LumpSum => {
            required(issues, "amount", pool.amount.is_some());
            required(issues, "min_progress", pool.min_progress.is_some());
            required(issues, "min_backers", pool.min_backers.is_some());
            if let Some(m) = pool.min_progress {
                check_ratio(
                    issues,
                    file,
                    p("min_progress"),
                    m,
                    SHARE,
                    "a share of the goal, e.g. 0.5 for 50 %",
                );
            }
        }
    }
    for (field, value) in [
        ("max_per_pledge", pool.max_per_pledge),
        ("max_per_project", pool.max_per_project),
        ("max_per_donor", pool.max_per_donor),
        ("amount", pool.amount),
    ] {
        if let Some(v) = value {
            check_money(issues, file, p(field), v, false);
            if v > pool.budget {
                issues.push(
                    Issue::new(file, p(field), "above-budget", format!("`{field}` ({v}) is larger than the pool's budget ({})", pool.budget))
                        .help("a pool never spends more than its budget: lower this amount or raise `budget`").warning(),
                );
            }
        }
    }
}

fn check_territory(issues: &mut Issues, site: &Site, territory: &Territory) {
    let doc = &territory.doc;
    let file = doc.file.as_path();
    let m = &doc.meta;
    check_slug(
        issues,
        file,
        Vec::new(),
        &doc.slug,
        "folder name (the territory's slug)",
    );
    check_text(issues, file, path!["name"], &m.name, "name");
    check_text(issues, file, path!["region"], &m.region, "region");
    if let Some(tz) = &m.timezone {
        check_timezone(issues, file, path!["timezone"], tz);
    }
    check_money(issues, file, path!["max_goal"], m.max_goal, false);
    if m.campaign.default_days == 0 || m.campaign.max_days == 0 {
        issues.push(
            Issue::new(
                file,
                path!["campaign"],
                "out-of-range",
                "campaign lengths must be at least one day",
            )
            .help("write a number of days, e.g. default_days: 45"),
        );
    }
    if m.campaign.default_days > m.campaign.max_days {
        issues.push(
            Issue::new(
                file,
                path!["campaign", "default_days"],
                "out-of-range",
                format!(
                    "the default campaign length ({} days) is longer than the maximum ({} days)",
                    m.campaign.default_days, m.campaign.max_days
                ),
            )
            .help("make default_days at most max_days"),
        );
    }
    check_ratio(
        issues,
        file,
        path!["overfunding_cap"],
        m.overfunding_cap,
        Bounds {
            min: Decimal::ONE,
            min_inclusive: true,
            max: Some(Decimal::from(10)),
        },
        "the cap is a multiple of the goal, e.g. 1.5 lets a project collect up to 150 % of its goal",
    );
    if let Some(langs) = &m.languages {
        let allowed: Vec<&str> = site.config.languages.iter().map(String::as_str).collect();
        check_languages(
            issues,
            file,
            path!["languages"],
            langs,
            &allowed,
            "the languages of site.yaml",
        );
    }
    check_colour(
        issues,
        file,
        path!["branding", "primary"],
        &m.branding.primary,
    );
    if let Some(accent) = &m.branding.accent {
        check_colour(issues, file, path!["branding", "accent"], accent);
    }
    if let Some(logo) = &m.branding.logo {
        check_asset(
            issues,
            file,
            path!["branding", "logo"],
            logo,
            &territory.assets,
            "the territory's folder",
        );
    }
}

fn check_call(issues: &mut Issues, refs: &Refs, call: &Call) {
    let file = call.file.as_path();
    let m = &call.meta;
    check_slug(
        issues,
        file,
        Vec::new(),
        &call.slug,
        "file name (the call's slug)",
    );
    check_text(issues, file, path!["title"], &m.title, "title");
    check_text(issues, file, path!["summary"], &m.summary, "summary");
    if m.themes.is_empty() {
        issues.push(
            Issue::new(
                file,
                path!["themes"],
                "no-theme",
                "a call for projects needs at least one theme",
            )
            .help("list the themes of the call, e.g. [alimentation]"),
        );
    }
    refs.check_themes(issues, file, path!["themes"], &m.themes);
    if m.deadline < m.opens {
        issues.push(
            Issue::new(
                file,
                path!["deadline"],
                "end-before-start",
                format!(
                    "the deadline {} is before the opening {}",
                    m.deadline, m.opens
                ),
            )
            .help("the deadline must be on or after the day the call opens"),
        );
    }
    if let Some(s) = &m.sponsor
        && !refs.sponsors.contains(s.as_str())
    {
        issues.push(unknown_ref(
            file,
            path!["sponsor"],
            "sponsor",
            s,
            &refs.sponsors,
            "content/sponsors/",
        ));
    }
}

fn check_project(
    issues: &mut Issues,
    site: &Site,
    refs: &Refs,
    territory: &Territory,
    project: &Project,
) {
    let doc = &project.doc;
    let file = doc.file.as_path();
    let m = &doc.meta;
    let rules = &territory.doc.meta;
    check_slug(
        issues,
        file,
        Vec::new(),
        &doc.slug,
        "folder name (the project's slug)",
    );
    check_text(issues, file, path!["title"], &m.title, "title");
    check_text(issues, file, path!["summary"], &m.summary, "summary");
    let summary_len = m.summary.chars().count();
    if summary_len > MAX_SUMMARY_CHARS {
        issues.push(
            Issue::new(file, path!["summary"], "summary-too-long", format!("the summary is {summary_len} characters long, more than {MAX_SUMMARY_CHARS}"))
                .help("shorten the summary (it is shown on project cards); the story goes in the text below the front matter"),
        );
    }
    check_text(
        issues,
        file,
        path!["holder", "name"],
        &m.holder.name,
        "holder's name",
    );
    check_link(
        issues,
        file,
        path!["holder", "website"],
        m.holder.website.as_ref(),
    );
    if m.holder.tax_receipt && m.holder.kind != HolderKind::Association {
        issues.push(
            Issue::new(
                file,
                path!["holder", "tax_receipt"],
                "tax-receipt-not-association",
                "only an association can issue tax receipts (reçus fiscaux)",
            )
            .help("set `kind: association` if the holder is one, or remove `tax_receipt`"),
        );
    }
    if m.themes.is_empty() {
        issues.push(
            Issue::new(
                file,
                path!["themes"],
                "no-theme",
                "a project needs at least one theme",
            )
            .help("list its themes, e.g. [alimentation, reemploi]"),
        );
    }
    refs.check_themes(issues, file, path!["themes"], &m.themes);

    check_money(issues, file, path!["goal"], m.goal, false);
    if m.goal > rules.max_goal {
        issues.push(
            Issue::new(
                file,
                path!["goal"],
                "goal-above-max",
                format!(
                    "the goal ({} €) is above the maximum of the territory {} ({} €)",
                    m.goal, rules.name, rules.max_goal
                ),
            )
            .help(format!(
                "lower the goal to at most {} €, or split the project into stages",
                rules.max_goal
            )),
        );
    }
    if let Some(cap) = m.cap {
        check_money(issues, file, path!["cap"], cap, false);
        if cap < m.goal {
            issues.push(
                Issue::new(file, path!["cap"], "cap-below-goal", format!("the cap ({cap} €) is below the goal ({} €)", m.goal))
                    .help("the cap is the most the project may collect: make it at least the goal, or remove it"),
            );
        }
        let max_cap = m.goal * rules.overfunding_cap;
        if cap > max_cap {
            issues.push(
                Issue::new(
                    file,
                    path!["cap"],
                    "cap-above-max",
                    format!(
                        "the cap ({cap} €) is above {} × the goal ({} €) allowed by the territory",
                        rules.overfunding_cap,
                        max_cap.normalize()
                    ),
                )
                .help(format!(
                    "lower the cap to at most {} €",
                    max_cap.normalize()
                )),
            );
        }
    }

    let start = m.campaign.start;
    let end = m.campaign_end(&rules.campaign);
    if end < start {
        issues.push(
            Issue::new(
                file,
                path!["campaign", "end"],
                "end-before-start",
                format!("the campaign ends on {end}, before it starts on {start}"),
            )
            .help("the end date must be after the start date"),
        );
    } else if let Ok(span) = start.until((jiff::Unit::Day, end)) {
        let days = i64::from(span.get_days()) + 1;
        if days > i64::from(rules.campaign.max_days) {
            let last = start
                .checked_add(jiff::Span::new().days(i64::from(rules.campaign.max_days) - 1))
                .map_or_else(|_| "-".into(), |d| d.to_string());
            issues.push(
                Issue::new(
                    file,
                    path!["campaign", "end"],
                    "campaign-too-long",
                    format!(
                        "the campaign lasts {days} days, longer than the {} days allowed in {}",
                        rules.campaign.max_days, rules.name
                    ),
                )
                .help(format!("end the campaign on {last} at the latest")),
            );
        }
    }

    let pledge = &site.config.pledge;
    let mut previous: Option<Decimal> = None;
    for (i, reward) in m.rewards.iter().enumerate() {
        check_money(issues, file, path!["rewards", i, "min"], reward.min, false);
        check_text(
            issues,
            file,
            path!["rewards", i, "title"],
            &reward.title,
            "reward title",
        );
        if reward.min > pledge.max {
            issues.push(
                Issue::new(
                    file,
                    path!["rewards", i, "min"],
                    "reward-above-max-pledge",
                    format!(
                        "the reward's minimum ({} €) is above the largest pledge allowed ({} €)",
                        reward.min, pledge.max
                    ),
                )
                .help("nobody could choose this reward: lower its minimum"),
            );
        }
        if let Some(prev) = previous
            && reward.min <= prev
        {
            issues.push(
                Issue::new(
                    file,
                    path!["rewards", i, "min"],
                    "rewards-not-ordered",
                    format!(
                        "the reward minimums are not increasing: {} € comes after {prev} €",
                        reward.min
                    ),
                )
                .help(
                    "list rewards from the smallest minimum to the largest, each strictly larger",
                ),
            );
        }
        previous = Some(reward.min);
        if reward.limit == Some(0) {
            issues.push(
                Issue::new(
                    file,
                    path!["rewards", i, "limit"],
                    "out-of-range",
                    "a reward limit of 0 means nobody can choose it",
                )
                .help("remove `limit` or make it at least 1"),
            );
        }
    }
    for (i, need) in m.needs.iter().enumerate() {
        check_text(
            issues,
            file,
            path!["needs", i, "title"],
            &need.title,
            "need title",
        );
    }
    for (i, support) in m.support.iter().enumerate() {
        check_text(
            issues,
            file,
            path!["support", i, "actor"],
            &support.actor,
            "actor",
        );
        check_link(
            issues,
            file,
            path!["support", i, "website"],
            support.website.as_ref(),
        );
        if let Some(amount) = support.amount {
            check_money(issues, file, path!["support", i, "amount"], amount, false);
        }
    }
    check_text(
        issues,
        file,
        path!["location", "address"],
        &m.location.address,
        "address",
    );
    check_text(
        issues,
        file,
        path!["location", "city"],
        &m.location.city,
        "city",
    );
    if let Some(lat) = m.location.lat
        && !(-90.0..=90.0).contains(&lat)
    {
        issues.push(
            Issue::new(
                file,
                path!["location", "lat"],
                "out-of-range",
                format!("latitude {lat} is not between -90 and 90"),
            )
            .help("latitude comes first: e.g. lat: 45.4397, lon: 4.3872"),
        );
    }
    if let Some(lon) = m.location.lon
        && !(-180.0..=180.0).contains(&lon)
    {
        issues.push(
            Issue::new(
                file,
                path!["location", "lon"],
                "out-of-range",
                format!("longitude {lon} is not between -180 and 180"),
            )
            .help("e.g. lon: 4.3872"),
        );
    }
    if m.location.lat.is_some() != m.location.lon.is_some() {
        issues.push(
            Issue::new(
                file,
                path!["location"],
                "incomplete-location",
                "give both `lat` and `lon`, or neither",
            )
            .help("copy both coordinates from a map"),
        );
    }
    if let Some(call) = &m.call
        && !refs
            .calls
            .contains(&(territory.doc.slug.clone(), call.clone()))
    {
        let known: BTreeSet<&str> = territory.calls.iter().map(|c| c.slug.as_str()).collect();
        issues.push(unknown_ref(
            file,
            path!["call"],
            "call for projects",
            call,
            &known,
            &format!("content/territories/{}/calls/", territory.doc.slug),
        ));
    }
    if let Some(cover) = &m.cover {
        check_asset(
            issues,
            file,
            path!["cover", "src"],
            &cover.src,
            &project.assets,
            "the project's folder",
        );
        check_text(
            issues,
            file,
            path!["cover", "alt"],
            &cover.alt,
            "image description (alt)",
        );
    }
    for news in &project.news {
        check_news(issues, news);
    }
}

fn check_news(issues: &mut Issues, news: &News) {
    let file = news.file.as_path();
    check_slug(issues, file, Vec::new(), &news.slug, "file name");
    check_text(issues, file, path!["title"], &news.meta.title, "title");
    if let Some(prefix) = news.slug.get(..10)
        && let Ok(date) = prefix.parse::<Date>()
        && date != news.meta.date
    {
        issues.push(
            Issue::new(
                file,
                path!["date"],
                "date-mismatch",
                format!(
                    "the date {} differs from the file name's {date}",
                    news.meta.date
                ),
            )
            .help("rename the file or fix the date so that both agree")
            .warning(),
        );
    }
}
