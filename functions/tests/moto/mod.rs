//! moto, the local AWS the DynamoDB tests run against: one server per test
//! binary, started on first use by `<repo>/.venv/bin/python
//! scripts/moto_server.py` (installed by `scripts/setup-moto`), on a free
//! port, single-threaded (see the script for why). It exits by itself when
//! the test binary does.
//!
//! Never skipped: without the venv, or if the server does not start, the
//! tests fail with a message saying what to run.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use pave_functions::store::dynamo::{Connection, DynamoStore};

/// How long the server may take to print its port.
const START_TIMEOUT: Duration = Duration::from_secs(20);

const NOT_INSTALLED: &str =
    "moto is not installed: run scripts/setup-moto (the README's test command does)";

struct Server {
    endpoint: String,
    // Kept so the child is not reaped early; it exits with this process.
    _child: Child,
}

/// The repository (this module serves the tests of `functions/` and of the root crate).
fn repo() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|dir| dir.join("scripts/moto_server.py").exists())
        .unwrap_or(&here)
        .to_path_buf()
}

fn start() -> Server {
    let root = repo();
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{NOT_INSTALLED} ({} is missing)",
        python.display()
    );
    let mut child = Command::new(&python)
        .arg(root.join("scripts/moto_server.py"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{NOT_INSTALLED} ({} does not run: {e})", python.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(START_TIMEOUT) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            panic!("{NOT_INSTALLED} (moto did not start within {START_TIMEOUT:?})");
        }
    };
    let port: u16 = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{NOT_INSTALLED} (moto printed {line:?}, not `PORT <n>`)"));
    Server {
        endpoint: format!("http://127.0.0.1:{port}"),
        _child: child,
    }
}

/// The connection to this binary's moto server (started on first use).
pub fn connection() -> Connection {
    static SERVER: OnceLock<Server> = OnceLock::new();
    let server = SERVER.get_or_init(start);
    Connection {
        region: "eu-west-3".to_string(),
        endpoint: Some(server.endpoint.clone()),
        access_key_id: "testing".to_string(),
        secret_access_key: "testing".to_string(),
        session_token: None,
    }
}

/// A new, empty table named after `test` on the moto server; returns its
/// name.
pub async fn fresh_table(test: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!("pave-{test}-{}", N.fetch_add(1, Ordering::Relaxed));
    let connection = tokio::task::block_in_place(connection);
    DynamoStore::new(connection.client(), &name)
        .create_table()
        .await
        .unwrap_or_else(|e| panic!("creating table {name} on moto: {e}"));
    name
}

/// A paid 20 € pledge `id` on the sample café (`cafe-du-coin`), from
/// `ada@example.org`, through the store's own path (create, then Stripe's
/// payment applied): the fixture of the tests that read a ledger on moto.
#[allow(dead_code)] // Not every test binary that includes this module uses it.
pub async fn paid_cafe_pledge(
    store: &DynamoStore,
    catalog: &pave_functions::catalog::Catalog,
    id: &str,
) {
    use pave_functions::payment::Payment;
    use pave_functions::store::{NewPledge, Store};
    let now = jiff::Timestamp::now().as_second();
    store
        .create_pledge(
            NewPledge {
                id: id.into(),
                project: "cafe-du-coin".into(),
                amount: 20.into(),
                reward: None,
                display_name: None,
                email: "ada@example.org".into(),
                donor: "d1".into(),
                lang: "fr".into(),
                share_contact: false,
                news: false,
                message: None,
                created_at: now,
                expires_at: now + 3600,
                client: None,
            },
            None,
        )
        .await
        .expect("pledge");
    store
        .apply_paid(
            catalog,
            &format!("evt_{id}"),
            id,
            &Payment {
                intent: Some(&format!("pi_{id}")),
                amount_cents: 2_000,
                currency: "eur",
            },
            now,
        )
        .await
        .expect("paid");
}
