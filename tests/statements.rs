//! `pave statements` end to end, on the sample site and the embedded store:
//! pledges paid through the store (matched by the sample's sponsors), the
//! site rebuilt with the store's snapshot, the statements written. The open
//! data's totals equal, to the cent, the snapshot and what the project
//! pages show; the holder's CSV names only the donors who agreed.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use pave_functions::catalog::{Catalog, Status};
use pave_functions::store::sqlite::SqliteStore;
use pave_functions::store::{Applied, NewPledge, Store};
use pave_locale::{Lang, money};
use rust_decimal::Decimal;

use common::{pave, repo_root, sample_copy};

fn build(dir: &Path, progress: Option<&str>) {
    let theme = repo_root().join("themes/default");
    let mut args = vec![
        "build",
        "--content",
        "content",
        "--theme",
        theme.to_str().unwrap(),
        "--out",
        "public",
    ];
    if let Some(p) = progress {
        args.extend(["--progress", p]);
    }
    let out = pave(dir, &args, Duration::from_secs(120));
    assert!(
        out.status.success(),
        "pave build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Noon UTC the day after the campaign's start: inside it, and inside the
/// pools' dates of the sample.
fn in_campaign(catalog: &Catalog, slug: &str) -> i64 {
    let start = catalog.projects[slug].start;
    start
        .tomorrow()
        .unwrap()
        .at(12, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_second()
}

struct Pledge<'a> {
    id: &'a str,
    project: &'a str,
    amount: &'a str,
    reward: Option<usize>,
    name: Option<&'a str>,
    share: bool,
}

async fn pay(store: &SqliteStore, catalog: &Catalog, p: &Pledge<'_>) {
    let at = in_campaign(catalog, p.project);
    store
        .create_pledge(
            NewPledge {
                id: p.id.into(),
                project: p.project.into(),
                amount: p.amount.parse().unwrap(),
                reward: p.reward,
                display_name: p.name.map(str::to_string),
                email: format!("{}@donors.example", p.id),
                donor: format!("donor:{}", p.id),
                lang: "fr".into(),
                share_contact: p.share,
                news: false,
                message: None,
                created_at: at - 60,
                expires_at: at + 3600,
                client: None,
            },
            None,
        )
        .await
        .unwrap();
    let applied = store
        .apply_paid(
            catalog,
            &format!("evt_{}", p.id),
            p.id,
            &pave_functions::payment::Payment {
                intent: Some("pi_secret_intent"),
                amount_cents: pave_functions::money::to_cents(p.amount.parse().unwrap()).unwrap(),
                currency: "eur",
            },
            at,
        )
        .await
        .unwrap();
    assert!(matches!(applied, Applied::Changed { .. }), "{applied:?}");
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A CSV of plain cells (no quoted commas in the files read here) as rows.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_data_reconciles_with_the_site_to_the_cent() {
    let dir = sample_copy();
    let root = dir.path();
    build(root, None);
    let catalog =
        Catalog::from_json(&std::fs::read(root.join("public/catalog.json")).unwrap()).unwrap();
    let live: Vec<&str> = catalog
        .projects
        .iter()
        .filter(|(_, p)| p.status == Status::Live && !p.pools.is_empty())
        .map(|(slug, _)| slug.as_str())
        .take(3)
        .collect();
    assert!(live.contains(&"cafe-du-coin"), "{live:?}");
    std::fs::create_dir_all(root.join("data")).unwrap();
    let store = SqliteStore::open(&root.join("data/pave.sqlite")).unwrap();
    let amounts = ["12.34", "50", "7.77", "120.01", "33.33"];
    let mut n = 0;
    for project in &live {
        for amount in amounts {
            n += 1;
            let id = format!("p-{n}");
            pay(
                &store,
                &catalog,
                &Pledge {
                    id: &id,
                    project,
                    amount,
                    reward: None,
                    name: None,
                    share: false,
                },
            )
            .await;
        }
    }
    // On the café: one donor who agreed, with a reward; one who did not.
    pay(
        &store,
        &catalog,
        &Pledge {
            id: "ada",
            project: "cafe-du-coin",
            amount: "25.50",
            reward: Some(0),
            name: Some("Ada Lovelace"),
            share: true,
        },
    )
    .await;
    pay(
        &store,
        &catalog,
        &Pledge {
            id: "grace",
            project: "cafe-du-coin",
            amount: "15.05",
            reward: Some(0),
            name: Some("Grace Hopper"),
            share: false,
        },
    )
    .await;

    let snapshot = store.snapshot().await.unwrap();
    std::fs::write(
        root.join("progress.json"),
        serde_json::to_string_pretty(&snapshot).unwrap(),
    )
    .unwrap();
    drop(store);
    build(root, Some("progress.json"));

    let out = pave(
        root,
        &[
            "statements",
            "--db",
            "data/pave.sqlite",
            "--catalog",
            "public/catalog.json",
            "--out",
            "data/statements",
            "--project",
            "cafe-du-coin",
        ],
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "pave statements: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stm = root.join("data/statements");
    let read = |name: &str| std::fs::read_to_string(stm.join(name)).unwrap();

    // totals.csv = the snapshot, to the cent.
    let totals = rows(&read("totals.csv"));
    let mut all_raised = Decimal::ZERO;
    for project in &live {
        let figures = &snapshot.projects[*project];
        assert!(figures.raised > Decimal::ZERO, "{project}");
        let row = totals
            .iter()
            .find(|r| r[0] == *project)
            .unwrap_or_else(|| panic!("{project} in totals.csv"));
        assert_eq!(d(&row[1]), figures.raised, "{project} raised");
        assert_eq!(d(&row[2]), figures.matched_total(), "{project} matched");
        assert_eq!(row[4], figures.pledges.to_string());
        assert_eq!(row[5], figures.backers.to_string());
        all_raised += figures.raised;
    }
    assert!(
        live.iter()
            .any(|p| snapshot.projects[*p].matched_total() > Decimal::ZERO),
        "the sample's sponsors matched nothing"
    );
    let all = totals.iter().find(|r| r[0] == "all").unwrap();
    assert_eq!(d(&all[1]), all_raised);

    // ledger.csv, summed line by line, = the snapshot and the pages.
    let ledger = read("ledger.csv");
    let mut raised: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut matched: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for r in rows(&ledger) {
        match (r[4].as_str(), r[6].as_str()) {
            ("pledge", "paid") => *raised.entry(r[0].clone()).or_default() += d(&r[7]),
            ("match" | "close_match", "active") => {
                *matched.entry((r[0].clone(), r[5].clone())).or_default() += d(&r[7])
            }
            _ => {}
        }
    }
    for project in &live {
        let figures = &snapshot.projects[*project];
        assert_eq!(raised[*project], figures.raised, "{project}");
        let mut pools_total = Decimal::ZERO;
        for (pool, amount) in &figures.matched {
            assert_eq!(
                matched[&(project.to_string(), pool.clone())],
                amount.0,
                "{project} {pool}"
            );
            pools_total += amount.0;
        }
        // The page shows the total and what each sponsor matched.
        let page =
            std::fs::read_to_string(root.join(format!("public/projets/{project}/index.html")))
                .unwrap();
        let total = money(raised[*project] + pools_total, Lang::Fr);
        assert!(
            page.contains(&format!("<strong>{total}</strong>")),
            "{project}: {total} not on the page"
        );
        for (pool, amount) in &figures.matched {
            let sponsor = &catalog.pools[pool].sponsor_name;
            let line = format!("dont {} abondés par {sponsor}", money(amount.0, Lang::Fr));
            assert!(page.contains(&line), "{project}: {line:?} not on the page");
        }
    }
    // No personal data in the open data.
    for name in ["ledger.csv", "totals.csv"] {
        let text = read(name);
        for secret in ["@", "Ada", "Grace", "donor:", "pi_secret", "evt_", "p-1"] {
            assert!(!text.contains(secret), "{name} contains {secret:?}");
        }
    }

    // The holder's statement (provisional: the campaign runs) names Ada only.
    let holder = read("holder-cafe-du-coin.csv");
    assert!(holder.contains("status,provisional"), "{holder}");
    assert!(
        holder.contains("donor,Ada Lovelace,ada@donors.example"),
        "{holder}"
    );
    assert!(
        !holder.contains("Grace") && !holder.contains("grace@"),
        "{holder}"
    );
    assert!(!holder.contains("p-1@"), "{holder}");
    let cafe = &snapshot.projects["cafe-du-coin"];
    assert!(holder.contains(&format!(
        "total,citizens,,{},{:.2}",
        cafe.pledges, cafe.raised
    )));
    assert!(
        holder.contains("reward,0,Un café équitable offert,2,"),
        "{holder}"
    );
    let page = read("holder-cafe-du-coin.html");
    assert!(page.contains("ada@donors.example") && !page.contains("grace@"));
    assert!(page.contains(&money(cafe.raised, Lang::Fr)));
    // Sponsors' statements exist for every sponsor that matched.
    for pool in cafe.matched.keys() {
        let sponsor = &catalog.pools[pool].sponsor;
        let csv = read(&format!("sponsor-{sponsor}.csv"));
        assert!(csv.contains("cafe-du-coin"), "{csv}");
    }
    // Without --project, a live campaign gets no holder statement.
    let _ = std::fs::remove_dir_all(&stm);
    let out = pave(root, &["statements"], Duration::from_secs(60));
    assert!(out.status.success());
    assert!(!stm.join("holder-cafe-du-coin.csv").exists());
    assert!(stm.join("ledger.csv").exists());
}
