//! `site.yaml` and `themes.yaml`.

use super::*;

pub(super) fn check_site(issues: &mut Issues, site: &Site) {
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

pub(super) fn check_themes(issues: &mut Issues, site: &Site) {
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
