//! A project's rules: who carries it, its goal and cap, its campaign, its
//! rewards, the help it asks for, where it is, what it refers to, and its
//! news.

use super::*;

pub(super) fn check_project(
    issues: &mut Issues,
    site: &Site,
    refs: &Refs,
    territory: &Territory,
    project: &Project,
) {
    let file = project.doc.file.as_path();
    let m = &project.doc.meta;
    let rules = &territory.doc.meta;
    check_identity(issues, refs, file, &project.doc);
    check_goal(issues, file, m, rules);
    check_campaign(issues, file, m, rules);
    check_rewards(issues, file, m, &site.config.pledge);
    check_help(issues, file, m);
    check_location(issues, file, &m.location);
    check_references(issues, refs, territory, project);
    for news in &project.news {
        check_news(issues, news);
    }
}

/// Its slug, title, summary, holder and themes.
fn check_identity(issues: &mut Issues, refs: &Refs, file: &Path, doc: &Doc<ProjectMeta>) {
    let m = &doc.meta;
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
}

/// Its goal within the territory's maximum, its cap between the goal and
/// the territory's overfunding cap.
fn check_goal(issues: &mut Issues, file: &Path, m: &ProjectMeta, rules: &TerritoryMeta) {
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
}

/// Its campaign: ends after it starts, no longer than the territory allows.
fn check_campaign(issues: &mut Issues, file: &Path, m: &ProjectMeta, rules: &TerritoryMeta) {
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
}

/// Its rewards: positive minimums in increasing order, within the largest
/// pledge, limits of at least 1.
fn check_rewards(issues: &mut Issues, file: &Path, m: &ProjectMeta, pledge: &PledgeBounds) {
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
}

/// The help it asks for and the support it already has.
fn check_help(issues: &mut Issues, file: &Path, m: &ProjectMeta) {
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
}

/// Where it is: an address, a city, coordinates in range and together.
fn check_location(issues: &mut Issues, file: &Path, location: &Location) {
    check_text(
        issues,
        file,
        path!["location", "address"],
        &location.address,
        "address",
    );
    check_text(
        issues,
        file,
        path!["location", "city"],
        &location.city,
        "city",
    );
    if let Some(lat) = location.lat
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
    if let Some(lon) = location.lon
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
    if location.lat.is_some() != location.lon.is_some() {
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
}

/// Its call for projects (in its territory) and its cover (in its folder).
fn check_references(issues: &mut Issues, refs: &Refs, territory: &Territory, project: &Project) {
    let file = project.doc.file.as_path();
    let m = &project.doc.meta;
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
