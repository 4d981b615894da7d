//! What the store commands (`pave close`, `pave erase`, `pave statements`)
//! share: the catalog the site was built with, the store they work on (the
//! embedded one opened from an existing file, or with `--store
//! dynamodb:TABLE` the deployed table, reached through the AWS SDK's
//! ordinary credential chain), a runtime to drive its async methods, and the
//! progress snapshot written next to the embedded store.

use std::path::{Path, PathBuf};

use pave_functions::catalog::Catalog;
use pave_functions::progress::Snapshot;
use pave_functions::store::Store;
use pave_functions::store::sqlite::SqliteStore;

use crate::exit::Failure;

/// Reads and checks the catalog `pave build` wrote.
pub fn read_catalog(path: &Path) -> Result<Catalog, Failure> {
    Catalog::read(path).map_err(|e| {
        Failure::Usage(format!(
            "the catalog: {e} (run `pave build` first, or give --catalog)"
        ))
    })
}

/// Opens the SQLite store at `db`, which must exist (these commands never
/// create an empty one by mistake).
pub fn open_existing(db: &Path) -> Result<SqliteStore, Failure> {
    if !db.exists() {
        return Err(Failure::Usage(format!(
            "no store at {} (the database `pave serve` writes; give --db)",
            db.display()
        )));
    }
    SqliteStore::open(db)
        .map_err(|e| Failure::Usage(format!("cannot open the store {}: {e}", db.display())))
}

/// Which store a command works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// The embedded store, a SQLite file.
    Sqlite(PathBuf),
    /// The deployed DynamoDB table.
    Dynamo(String),
}

/// `--store`: `sqlite:FILE` or `dynamodb:TABLE`.
pub fn parse_store(text: &str) -> Result<StoreChoice, String> {
    match text.split_once(':') {
        Some(("sqlite", path)) if !path.is_empty() => Ok(StoreChoice::Sqlite(path.into())),
        Some(("dynamodb", table))
            if (3..=255).contains(&table.len())
                && table
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) =>
        {
            Ok(StoreChoice::Dynamo(table.to_string()))
        }
        _ => Err(format!(
            "`{text}` is not a store: sqlite:FILE (the embedded store) or dynamodb:TABLE (the stack's TableName)"
        )),
    }
}

/// The store given by `--store`, else the embedded one at `--db`.
pub fn choice(db: PathBuf, store: Option<StoreChoice>) -> StoreChoice {
    store.unwrap_or(StoreChoice::Sqlite(db))
}

/// The DynamoDB table `table`, through the AWS SDK's ordinary chain: the
/// region and credentials from the environment, `~/.aws/config` and
/// `~/.aws/credentials` (`AWS_PROFILE`), an assumed role or the instance's;
/// `AWS_ENDPOINT_URL_DYNAMODB` for a local DynamoDB.
pub async fn dynamo_store(
    table: &str,
) -> Result<pave_functions::store::dynamo::DynamoStore, Failure> {
    use aws_config::BehaviorVersion;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await;
    if config.region().is_none() {
        return Err(Failure::Usage(
            "no AWS region: set AWS_REGION, or a region in the AWS_PROFILE's ~/.aws/config".into(),
        ));
    }
    let client = aws_sdk_dynamodb::Client::new(&config);
    Ok(pave_functions::store::dynamo::DynamoStore::new(
        client, table,
    ))
}

/// A current-thread runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the runtime: {e}")))
}

/// Writes the store's progress snapshot (what the build shows) to `path`,
/// and returns it.
pub async fn write_snapshot(store: &SqliteStore, path: &Path) -> Result<Snapshot, String> {
    let snapshot = store
        .snapshot()
        .await
        .map_err(|e| format!("cannot read the store: {e}"))?;
    let json = serde_json::to_vec_pretty(&snapshot).map_err(|e| e.to_string())?;
    std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(snapshot)
}
