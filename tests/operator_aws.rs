//! The operator's commands on the deployed store: `pave statements`, `pave
//! erase` and `pave close` with `--store dynamodb:TABLE`, against moto's
//! DynamoDB, reached through the AWS SDK's ordinary credential chain (a
//! named profile in a shared credentials file, as on an operator's
//! machine; no key in the environment). Fails, never skips, without moto
//! (`scripts/setup-moto`).

mod common;
#[path = "../functions/tests/moto/mod.rs"]
mod moto;

use std::process::{Command, Output};

use pave_functions::catalog::Catalog;
use pave_functions::store::Store;
use pave_functions::store::dynamo::DynamoStore;

use common::repo_root;

/// The catalog `pave build` writes, from the sample content.
fn catalog_json() -> Vec<u8> {
    let (site, _) = pave_generator::build::load_site(&repo_root().join("content"), None)
        .expect("the sample content loads");
    serde_json::to_vec(&pave_generator::render::catalog::build(&site)).expect("catalog JSON")
}

/// An operator's AWS set-up: a profile in `~/.aws`-style files, and the
/// local DynamoDB's endpoint.
struct Operator {
    dir: tempfile::TempDir,
    endpoint: String,
}

impl Operator {
    fn new() -> Operator {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("credentials"),
            "[pave-ops]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
        )
        .expect("credentials");
        std::fs::write(
            dir.path().join("config"),
            "[profile pave-ops]\nregion = eu-west-3\n",
        )
        .expect("config");
        std::fs::write(dir.path().join("catalog.json"), catalog_json()).expect("catalog");
        Operator {
            dir,
            endpoint: moto::connection().endpoint.expect("moto endpoint"),
        }
    }

    fn pave(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pave"));
        for name in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "STRIPE_SECRET_KEY",
        ] {
            command.env_remove(name);
        }
        command
            .args(args)
            .current_dir(self.dir.path())
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join("credentials"),
            )
            .env("AWS_CONFIG_FILE", self.dir.path().join("config"))
            .env("AWS_PROFILE", "pave-ops")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL_DYNAMODB", &self.endpoint)
            .output()
            .expect("pave runs")
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_erase_and_close_work_on_the_deployed_table() {
    let table = moto::fresh_table("operator").await;
    let store = DynamoStore::new(moto::connection().client(), &table);
    let catalog = Catalog::from_json(&catalog_json()).expect("catalog");
    moto::paid_cafe_pledge(&store, &catalog, "pl_ops").await;
    let operator = Operator::new();
    let store_arg = format!("dynamodb:{table}");
    let catalog_path = operator.path("catalog.json");

    // The statements read the table: the café's 20 € are in its ledger.
    let out = operator.pave(&[
        "statements",
        "--store",
        &store_arg,
        "--catalog",
        &catalog_path,
        "--out",
        "statements",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let ledger = std::fs::read_to_string(operator.dir.path().join("statements/ledger.csv"))
        .expect("ledger.csv");
    let line = ledger
        .lines()
        .find(|l| l.contains("cafe-du-coin"))
        .unwrap_or_else(|| panic!("no café line in\n{ledger}"));
    assert!(line.contains("20"), "{line}");

    // Erasure on the table, once.
    let out = operator.pave(&["erase", "--store", &store_arg, "--email", "ada@example.org"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("1 record(s) anonymised"),
        "{}",
        text(&out)
    );
    let out = operator.pave(&["erase", "--store", &store_arg, "--email", "ada@example.org"]);
    assert!(
        text(&out).contains("0 record(s) anonymised"),
        "{}",
        text(&out)
    );

    // The close on a fresh table, past every campaign's end: every project
    // is closed, once.
    let empty = moto::fresh_table("operator-close").await;
    let store_arg = format!("dynamodb:{empty}");
    let close = |operator: &Operator| {
        operator.pave(&[
            "close",
            "--store",
            &store_arg,
            "--catalog",
            &catalog_path,
            "--now",
            "2028-01-01",
        ])
    };
    let out = close(&operator);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("cafe-du-coin: not funded, closed"),
        "{}",
        text(&out)
    );
    let closed = DynamoStore::new(moto::connection().client(), &empty)
        .close_record("cafe-du-coin")
        .await
        .expect("close record");
    assert!(closed.is_some(), "the table holds the café's close");
    let again = close(&operator);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        !text(&again).contains("cafe-du-coin: not funded, closed"),
        "closed twice: {}",
        text(&again)
    );

    // A table that is not there: a clear error, no panic.
    let out = operator.pave(&[
        "erase",
        "--store",
        "dynamodb:no-such-table",
        "--email",
        "a@b.fr",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("error"), "{}", text(&out));
    // A bad --store is a usage error.
    let out = operator.pave(&["erase", "--store", "mysql:x", "--email", "a@b.fr"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("dynamodb:TABLE"), "{}", text(&out));
}
