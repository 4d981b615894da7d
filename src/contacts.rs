//! `pave contacts FILE`: loads the private contacts of the holders and the
//! editors (who is told of each offer of help) into the store, the
//! embedded one or the deployed table. `pave serve` loads the
//! `contacts.yaml` beside its database by itself, at start and on reload.

use std::path::{Path, PathBuf};

use pave_functions::contacts::Contacts;
use pave_functions::store::Store;

use crate::exit::{Done, Failure};
use crate::store_file::StoreChoice;

/// The file beside a database that `pave serve` loads.
pub fn beside(db: &Path) -> PathBuf {
    db.with_file_name("contacts.yaml")
}

/// Reads and checks a contacts file: every problem named, with its place.
pub fn read(path: &Path) -> Result<Contacts, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot be read: {e}", path.display()))?;
    let contacts: Contacts = serde_saphyr::from_str(&text).map_err(|e| {
        format!(
            "{}: {e}\n  help: the file lists `projects:` and `territories:`, each a slug and its addresses (README, \"Offers of help\")",
            path.display()
        )
    })?;
    let problems = contacts.problems();
    if problems.is_empty() {
        Ok(contacts)
    } else {
        Err(problems
            .iter()
            .map(|p| format!("{}: {p}", path.display()))
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

/// One line saying what was loaded.
pub fn summary(contacts: &Contacts) -> String {
    format!(
        "{} address(es) for {} project(s) and {} territory(ies)",
        contacts.addresses(),
        contacts.projects.len(),
        contacts.territories.len()
    )
}

/// `pave contacts FILE [--db | --store]`.
pub fn load(store: StoreChoice, file: &Path) -> Done {
    let contacts = read(file).map_err(Failure::Usage)?;
    let runtime = crate::store_file::runtime()?;
    runtime.block_on(async {
        match store {
            StoreChoice::Sqlite(db) => {
                crate::store_file::open_existing(&db)?
                    .set_contacts(&contacts)
                    .await
            }
            StoreChoice::Dynamo(table) => {
                crate::store_file::dynamo_store(&table)
                    .await?
                    .set_contacts(&contacts)
                    .await
            }
        }
        .map_err(|e| Failure::Failed(e.to_string()))
    })?;
    println!("pave contacts: {} loaded", summary(&contacts));
    Ok(())
}
