//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository's root (where `content/` lives).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the sample content in a temporary directory.
pub fn sample_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo_root().join("content"), &dir.path().join("content"));
    dir
}

/// The day the end-to-end tests try the sample on (`pave serve --today`,
/// which moves the API's clock too): the sample's campaigns are open then,
/// whatever the real date.
pub const SAMPLE_DAY: &str = "2026-11-23";

/// A production server follows the real clock: the sample's café campaign,
/// which the production tests pledge to, runs from ten days before today
/// to sixty days after in the copy at `dir` (whatever the real date).
pub fn keep_the_cafe_open(dir: &Path) {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .date();
    let start = today.checked_sub(jiff::Span::new().days(10)).unwrap();
    let end = today.checked_add(jiff::Span::new().days(60)).unwrap();
    edit(
        &dir.join("content/territories/saint-etienne/projects/cafe-du-coin/index.md"),
        "campaign: { start: 2026-11-01, end: 2026-12-20 }",
        &format!("campaign: {{ start: {start}, end: {end} }}"),
    );
}

/// Runs `pave` with `args` in `cwd`, killing it if it takes longer than `limit`.
pub fn pave(cwd: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pave"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pave starts");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "pave {args:?} hung for more than {limit:?}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Replaces the first occurrence of `from` by `to` in a file, failing if absent.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The 1-based line of the first occurrence of `needle` in a file.
pub fn line_of(path: &Path, needle: &str) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {}", path.display()))
        + 1
}

/// A plain HTTP/1.1 request over TCP (the tests need no HTTP client crate):
/// returns the status code, the headers and the body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("server reachable");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP response");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut body = response[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, head, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

/// A `pave serve` process, stopped when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub addr: String,
    /// Every line the server wrote on standard error so far.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `pave serve` with `args` (plus `--port 0`) and waits for its address.
pub fn start_server(cwd: &Path, args: &[&str]) -> Server {
    start_server_with(cwd, args, &[])
}

/// [`start_server`] with environment variables.
pub fn start_server_with(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pave"))
        .arg("serve")
        .args(args)
        .args(["--port", "0"])
        .envs(env.iter().copied())
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pave serve starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.split("http://").nth(1) {
                let _ = tx.send(
                    rest.trim_end_matches(|c| c != '/')
                        .trim_end_matches('/')
                        .split('/')
                        .next()
                        .unwrap_or("")
                        .to_string(),
                );
            }
            eprintln!("[serve] {line}");
            kept.lock().unwrap().push(line);
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("pave serve prints its address");
    Server { child, addr, log }
}

/// `pave serve` on a copy of the sample content in `dir` (with the theme of
/// the repository, output in `dir/public`, store in `dir/data`), plus `extra` arguments.
pub fn start_sample_server(dir: &Path, extra: &[&str]) -> Server {
    start_sample_server_with(dir, extra, &[])
}

/// [`start_sample_server`] with environment variables.
pub fn start_sample_server_with(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let theme = repo_root().join("themes/default");
    let mut args = vec![
        "--content",
        "content",
        "--theme",
        theme.to_str().unwrap(),
        "--out",
        "public",
        "--db",
        "data/pave.sqlite",
    ];
    args.extend_from_slice(extra);
    start_server_with(dir, &args, env)
}

/// Builds the sample site with the sample figures (`tests/fixtures/progress.json`)
/// on 2026-11-23 into `out`.
pub fn build_sample(out: &Path) {
    let fixture = repo_root().join("tests/fixtures/progress.json");
    let output = pave(
        &repo_root(),
        &[
            "build",
            "--out",
            out.to_str().unwrap(),
            "--today",
            "2026-11-23",
            "--progress",
            fixture.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    assert!(
        output.status.success(),
        "pave build failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The local SMTP sink (`scripts/smtp_sink.py`, aiosmtpd from `.venv`) on a
/// free 127.0.0.1 port; each message it receives is a JSON file in `dir`.
/// Stopped when dropped. Fails (never skips) when it cannot start.
pub struct SmtpSink {
    child: std::process::Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        SmtpSink::start_delaying(0)
    }

    /// A sink that answers each message `delay_ms` after its data, and
    /// marks it as being received meanwhile ([`SmtpSink::receiving`]).
    pub fn start_delaying(delay_ms: u64) -> SmtpSink {
        use std::io::BufRead;
        let python = repo_root().join(".venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run scripts/setup-moto (it installs aiosmtpd, scripts/requirements-smtp.txt)",
            python.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&python)
            .arg(repo_root().join("scripts/smtp_sink.py"))
            .arg(dir.path())
            .env("SMTP_SINK_DELAY_MS", delay_ms.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the SMTP sink starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(port) = line.strip_prefix("PORT ") {
                    let _ = tx.send(port.trim().parse::<u16>().ok());
                }
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(port)) => port,
            other => {
                let _ = child.kill();
                panic!(
                    "the SMTP sink (scripts/smtp_sink.py) did not start ({other:?}); is aiosmtpd installed in .venv (scripts/setup-moto)?"
                );
            }
        };
        SmtpSink { child, port, dir }
    }

    /// `SMTP_URL` for the sink.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// How many messages were begun (accepted or not).
    pub fn receiving(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".receiving"))
            .count()
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let mut numbered: Vec<(u64, serde_json::Value)> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let n = name.strip_suffix(".json")?.parse().ok()?;
                let bytes = std::fs::read(e.path()).ok()?;
                Some((n, serde_json::from_slice(&bytes).ok()?))
            })
            .collect();
        numbered.sort_by_key(|(n, _)| *n);
        numbered.into_iter().map(|(_, m)| m).collect()
    }

    /// Waits until at least `n` messages arrived (failing after `limit`).
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<serde_json::Value> {
        let start = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(
                start.elapsed() < limit,
                "{} message(s) received, {n} expected",
                messages.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
