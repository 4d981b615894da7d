//! The sample site's ledger (`samples/ledger.yaml`), written by the
//! preview's `pave serve` into a store it has just created: paid pledges
//! through the store's own payment path (the matching engine decides each
//! pool's match), then the close of the campaigns that ended. Only into a
//! new store, never in production.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use pave_functions::catalog::Catalog;
use pave_functions::payment::Payment;
use pave_functions::store::sqlite::SqliteStore;
use pave_functions::store::{NewPledge, Store};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ledger {
    groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    project: String,
    donors: u32,
    /// Whole euros.
    total: u32,
    from: Date,
    to: Date,
}

/// Where the sample's ledger is: beside the content folder.
pub fn file_for(content: &Path) -> PathBuf {
    content
        .parent()
        .unwrap_or(Path::new("."))
        .join("samples/ledger.yaml")
}

/// Display names a third of the sample donors chose.
const NAMES: [&str; 12] = [
    "Camille", "Yacine", "Mireille", "Jules", "Nadia", "Paul", "Inès", "Théo", "Fatou", "Marc",
    "Léa", "Bernard",
];

/// The amounts of `donors` pledges summing to `total` euros: around the
/// mean, varied, none under 1 €.
fn amounts(donors: u32, total: u32) -> Vec<u32> {
    let n = donors.max(1);
    let base = total / n;
    let mut amounts: Vec<u32> = (0..n).map(|_| base).collect();
    for a in amounts.iter_mut().take((total % n) as usize) {
        *a += 1;
    }
    // Pairs moved apart keep the sum: 5 € up, 5 € down.
    let swing = (base / 3).min(15);
    for pair in amounts.chunks_mut(2) {
        if let [a, b] = pair
            && *b > swing
        {
            *a += swing;
            *b -= swing;
        }
    }
    amounts
}

/// Writes the ledger into `store`: how many pledges.
pub async fn seed(store: &SqliteStore, catalog: &Catalog, file: &Path) -> Result<u32, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{}: cannot be read: {e}", file.display()))?;
    let ledger: Ledger =
        serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut written = 0;
    for (g, group) in ledger.groups.iter().enumerate() {
        let project = catalog.projects.get(&group.project).ok_or_else(|| {
            format!(
                "{}: no project `{}` in the catalog",
                file.display(),
                group.project
            )
        })?;
        let zone = pave_contract::calendar::zone(&project.timezone);
        let days = group
            .from
            .until(group.to)
            .map_or(0, |s| s.get_days())
            .max(0);
        for (i, euros) in amounts(group.donors, group.total).into_iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let day = group
                .from
                .checked_add(
                    jiff::Span::new()
                        .days(i64::from(i) * i64::from(days) / i64::from(group.donors.max(1))),
                )
                .map_err(|e| e.to_string())?;
            let at = day
                .at(10 + (i % 10) as i8, (i * 7 % 60) as i8, 0, 0)
                .to_zoned_datetime(zone.clone())
                .map_err(|e| e.to_string())?
                .timestamp()
                .as_second();
            let id = format!("sample-{}-{g}-{i:03}", group.project);
            store
                .create_pledge(
                    NewPledge {
                        id: id.clone(),
                        project: group.project.clone(),
                        amount: euros.into(),
                        reward: None,
                        display_name: (i % 3 == 0)
                            .then(|| NAMES[(i as usize / 3) % NAMES.len()].to_string()),
                        email: format!("{id}@sample.invalid"),
                        donor: format!("sample-donor-{id}"),
                        lang: "fr".into(),
                        share_contact: false,
                        news: false,
                        message: None,
                        created_at: at - 60,
                        expires_at: at + 3600,
                        client: None,
                    },
                    None,
                )
                .await
                .map_err(|e| format!("sample pledge {id}: {e}"))?;
            store
                .apply_paid(
                    catalog,
                    &format!("evt_{id}"),
                    &id,
                    &Payment {
                        intent: Some(&format!("pi_{id}")),
                        amount_cents: i64::from(euros) * 100,
                        currency: "eur",
                    },
                    at,
                )
                .await
                .map_err(|e| format!("sample payment {id}: {e}"))?;
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_amounts_sum_to_the_total_and_vary() {
        for (donors, total) in [(143, 3480), (74, 2150), (22, 610), (1, 40), (3, 3)] {
            let a = amounts(donors, total);
            assert_eq!(a.len() as u32, donors);
            assert_eq!(a.iter().sum::<u32>(), total);
            assert!(a.iter().all(|&x| x >= 1), "{a:?}");
        }
        assert!(amounts(143, 3480).windows(2).any(|w| w[0] != w[1]));
    }
}
