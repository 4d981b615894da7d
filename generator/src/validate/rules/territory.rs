//! A territory: its languages, colours and logo.

use super::*;

pub(super) fn check_territory(issues: &mut Issues, site: &Site, territory: &Territory) {
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
