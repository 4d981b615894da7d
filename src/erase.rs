//! `pave erase --email X`: a donor's right to erasure, on the embedded
//! store or the deployed table (`--store dynamodb:TABLE`). The work is
//! `Store::erase_donor`, the same on both.

use pave_functions::store::Store;

use crate::exit::{Done, Failure};
use crate::store_file::StoreChoice;

/// Erases (done also when nothing matched).
pub fn erase(store: StoreChoice, email: &str) -> Done {
    let email = email.trim();
    if !email.contains('@') {
        return Err(Failure::Usage(format!("`{email}` is not an email address")));
    }
    let runtime = crate::store_file::runtime()?;
    let erased = runtime.block_on(async {
        let erased = match store {
            StoreChoice::Sqlite(db) => {
                crate::store_file::open_existing(&db)?
                    .erase_donor(email)
                    .await
            }
            StoreChoice::Dynamo(table) => {
                crate::store_file::dynamo_store(&table)
                    .await?
                    .erase_donor(email)
                    .await
            }
        };
        erased.map_err(|e| Failure::Failed(e.to_string()))
    })?;
    println!(
        "pave erase: {} record(s) anonymised ({} pledge(s), {} offer(s), {} unsent email(s) dropped); amounts and totals kept",
        erased.total(),
        erased.pledges,
        erased.offers,
        erased.emails
    );
    Ok(())
}
