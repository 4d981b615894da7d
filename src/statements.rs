//! `pave statements`: reads the embedded store and the catalog, and writes
//! the statements (`pave_functions::statements`, pure) as files:
//! `holder-<slug>.csv/.html` for each closed project (or the one given,
//! marked provisional while it runs), `sponsor-<slug>.csv/.html`, and the
//! open data `ledger.csv` and `totals.csv`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::exit::{Done, Failure};
use crate::store_file::StoreChoice;
use pave_functions::catalog::Catalog;
use pave_functions::statements::{FeePolicy, ProjectTotals, holder, html, ledger, sponsor};
use pave_functions::store::{CloseRecord, CloseState, ProjectLedger, Store, StoreError};
use pave_locale::Lang;

pub struct Options {
    pub store: crate::store_file::StoreChoice,
    pub catalog: PathBuf,
    pub out: PathBuf,
    pub project: Option<String>,
    pub lang: Lang,
    pub fees: FeePolicy,
}

/// `--lang`: `fr` or `en`.
pub fn parse_lang(text: &str) -> Result<Lang, String> {
    Lang::from_code(text).ok_or_else(|| format!("`{text}` is not a language: fr or en"))
}

/// Writes the statements: failed when the store or the output failed, a
/// usage error without catalog or store, or for an unknown project.
pub fn statements(options: &Options) -> Done {
    let catalog = crate::store_file::read_catalog(&options.catalog)?;
    if let Some(slug) = &options.project
        && !catalog.projects.contains_key(slug)
    {
        return Err(Failure::Usage(format!(
            "no project `{slug}` in the catalog"
        )));
    }
    let runtime = crate::store_file::runtime()?;
    let read = runtime.block_on(async {
        let read = match &options.store {
            StoreChoice::Sqlite(db) => {
                read_store(&crate::store_file::open_existing(db)?, &catalog).await
            }
            StoreChoice::Dynamo(table) => {
                read_store(&crate::store_file::dynamo_store(table).await?, &catalog).await
            }
        };
        read.map_err(|e| Failure::Failed(format!("cannot read the store: {e}")))
    })?;
    let written = write(options, &catalog, &read)
        .map_err(|e| Failure::Failed(format!("cannot write in {}: {e}", options.out.display())))?;
    for path in written {
        println!("{}", path.display());
    }
    Ok(())
}

/// Every catalog project's ledger, and whether its close is done.
struct Read {
    ledgers: BTreeMap<String, ProjectLedger>,
    /// Each project's close record, once its close started.
    closes: BTreeMap<String, CloseRecord>,
}

async fn read_store(store: &impl Store, catalog: &Catalog) -> Result<Read, StoreError> {
    let mut read = Read {
        ledgers: BTreeMap::new(),
        closes: BTreeMap::new(),
    };
    for slug in catalog.projects.keys() {
        if let Some(close) = store.close_record(slug).await? {
            read.closes.insert(slug.clone(), close);
        }
        read.ledgers
            .insert(slug.clone(), store.project_ledger(slug).await?);
    }
    Ok(read)
}

fn write(options: &Options, catalog: &Catalog, read: &Read) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(&options.out)?;
    let mut written = Vec::new();
    let mut put = |name: String, text: String| -> std::io::Result<()> {
        let path = options.out.join(name);
        write_atomic(&path, text.as_bytes())?;
        written.push(path);
        Ok(())
    };
    for (slug, project) in &catalog.projects {
        let close = read.closes.get(slug);
        let closed = close.is_some_and(|c| c.state == CloseState::Closed);
        let wanted = match &options.project {
            Some(only) => only == slug,
            None => closed,
        };
        let Some(ledger) = read.ledgers.get(slug).filter(|_| wanted) else {
            continue;
        };
        let s = holder::statement(
            slug,
            project,
            catalog,
            ledger,
            options.fees,
            !closed,
            close.and_then(|c| c.outcome),
        );
        put(format!("holder-{slug}.csv"), holder::csv(&s))?;
        put(
            format!("holder-{slug}.html"),
            html::holder(&s, options.lang),
        )?;
    }
    let totals: BTreeMap<String, ProjectTotals> = read
        .ledgers
        .iter()
        .map(|(slug, l)| (slug.clone(), ProjectTotals::of(l)))
        .collect();
    for s in sponsor::statements(catalog, &totals) {
        put(format!("sponsor-{}.csv", s.slug), sponsor::csv(&s))?;
        put(
            format!("sponsor-{}.html", s.slug),
            html::sponsor(&s, options.lang),
        )?;
    }
    put(
        "ledger.csv".into(),
        ledger::ledger_csv(catalog, &read.ledgers),
    )?;
    put("totals.csv".into(), ledger::totals_csv(&totals))?;
    Ok(written)
}

/// Writes through a temporary file renamed over the target: a reader never
/// sees half a statement.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
