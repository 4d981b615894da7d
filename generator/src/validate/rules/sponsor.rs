//! A sponsor and its pools: each mode takes its own fields.

use super::*;

pub(super) fn check_sponsor(
    issues: &mut Issues,
    refs: &Refs,
    sponsor: &Sponsor,
    sponsor_assets: &[PathBuf],
) {
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
        let first = seen.insert(pool.slug.as_str());
        check_pool(issues, refs, file, i, pool, first);
    }
}

/// One pool (`first`: the first of its slug in the file): its slug, title,
/// budget, dates, scope, and its mode's fields.
fn check_pool(issues: &mut Issues, refs: &Refs, file: &Path, i: usize, pool: &Pool, first: bool) {
    let p = |field: &str| path!["pools", i, field];
    check_slug(issues, file, p("slug"), &pool.slug, "pool slug");
    if !first {
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

/// The fields of a pool's mode: only its own, each required one, each
/// within its bounds, no amount above the budget.
fn check_pool_mode(issues: &mut Issues, file: &Path, i: usize, pool: &Pool) {
    let mode_name = check_mode_fields(issues, file, i, pool);
    check_mode_values(issues, file, i, pool, mode_name);
    check_pool_amounts(issues, file, i, pool);
}

/// Fields of another mode are refused; returns the mode's name.
fn check_mode_fields(issues: &mut Issues, file: &Path, i: usize, pool: &Pool) -> &'static str {
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
    let (mode_name, allowed): (&'static str, &[&str]) = match pool.mode {
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
    mode_name
}

/// The fields a mode requires, and their bounds.
fn check_mode_values(issues: &mut Issues, file: &Path, i: usize, pool: &Pool, mode_name: &str) {
    let p = |field: &str| path!["pools", i, field];
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
}

/// Amounts are money, and none is above the budget.
fn check_pool_amounts(issues: &mut Issues, file: &Path, i: usize, pool: &Pool) {
    let p = |field: &str| path!["pools", i, field];
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
