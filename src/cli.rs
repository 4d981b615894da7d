//! Command-line interface. Exit status: 0 success, 1 content errors, 2 usage errors.

use crate::exit::{Done, Failure};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use pave_generator::build::{self, BuildConfig, BuildError};
use pave_generator::diagnostics::Format;

#[derive(Parser)]
#[command(
    name = "pave",
    version,
    about = "Pavé: civic crowdfunding for cities and regions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the content: every problem at once, with file, line and a fix.
    Check {
        /// The content folder.
        #[arg(default_value = "content")]
        path: PathBuf,
        /// Output format: human (terminal), github (pull request annotations) or json.
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        format: OutputFormat,
    },
    /// Build the static site into the output folder (only changed files are written).
    Build {
        #[command(flatten)]
        args: BuildArgs,
        /// Re-render only the pages showing the figures of these projects
        /// (comma-separated slugs), from the progress snapshot: the incremental path.
        #[arg(long, value_delimiter = ',')]
        changed: Vec<String>,
    },
    /// Build the site and serve it with the API and the store: a preview
    /// that rebuilds and reloads the browser when the content or the theme
    /// change, or with `--production` the site as citizens get it.
    Serve {
        #[command(flatten)]
        args: BuildArgs,
        /// Production: no live reload, no watcher, no script; caching
        /// headers, precompressed files, the daily close, SIGHUP reloads
        /// the content, SIGTERM stops gracefully. Needs Stripe's keys,
        /// unless `--test-payments`.
        #[arg(long)]
        production: bool,
        /// With `--production`, run on the local test checkout (no money
        /// moves; every page says so).
        #[arg(long, requires = "production")]
        test_payments: bool,
        /// Address to listen on (loopback by default).
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The embedded store (SQLite database file).
        #[arg(long, default_value = "data/pave.sqlite")]
        db: PathBuf,
    },
    /// Pack a content release for AWS: the content (checked first) and the
    /// theme as one `releases/<id>/site.tar.gz` under the output folder, the
    /// id (its digest) printed on standard output; upload the folder to the
    /// release bucket, then publish it with `pave-rebuild` (README, "Deploy
    /// on AWS").
    Release {
        /// The content folder.
        #[arg(long, default_value = "content")]
        content: PathBuf,
        /// The theme folder.
        #[arg(long, default_value = "themes/default")]
        theme: PathBuf,
        /// Where to write `releases/<id>/site.tar.gz`.
        #[arg(long, default_value = "release")]
        out: PathBuf,
    },
    /// Close every campaign that ended (for a daily cron): funded, or every
    /// pledge refunded through Stripe; retries the refunds still pending.
    /// Exit status 1 when a refund failed.
    Close {
        /// The embedded store (SQLite database file).
        #[arg(long, default_value = "data/pave.sqlite")]
        db: PathBuf,
        /// Another store: `dynamodb:TABLE` (the stack's TableName, through
        /// the AWS SDK's credential chain) or `sqlite:FILE`; default `--db`.
        #[arg(long, value_parser = crate::store_file::parse_store)]
        store: Option<crate::store_file::StoreChoice>,
        /// The catalog the site was built with.
        #[arg(long, default_value = "public/catalog.json")]
        catalog: PathBuf,
        /// The moment to close at: a timestamp (2026-05-01T06:00:00Z) or a
        /// date (that day at 12:00 UTC); default: now.
        #[arg(long, value_parser = pave_functions::close::parse_now)]
        now: Option<jiff::Timestamp>,
    },
    /// Erase a donor's personal data (name, email, offers' contact and
    /// text); the amounts, matches and totals stay, anonymised.
    Erase {
        /// The donor's email address.
        #[arg(long)]
        email: String,
        /// The embedded store (SQLite database file).
        #[arg(long, default_value = "data/pave.sqlite")]
        db: PathBuf,
        /// Another store: `dynamodb:TABLE` (the stack's TableName, through
        /// the AWS SDK's credential chain) or `sqlite:FILE`; default `--db`.
        #[arg(long, value_parser = crate::store_file::parse_store)]
        store: Option<crate::store_file::StoreChoice>,
    },
    /// Load the private contacts of the holders and the editors (who is
    /// told of each offer of help) into the store, from a YAML file kept
    /// out of the public content (README, "Offers of help").
    Contacts {
        /// The contacts file (`contacts.yaml`).
        file: PathBuf,
        /// The embedded store (SQLite database file).
        #[arg(long, default_value = "data/pave.sqlite")]
        db: PathBuf,
        /// Another store: `dynamodb:TABLE` or `sqlite:FILE`; default `--db`.
        #[arg(long, value_parser = crate::store_file::parse_store)]
        store: Option<crate::store_file::StoreChoice>,
    },
    /// Copy the live store into a new file, consistently, while the server
    /// runs (SQLite's VACUUM INTO).
    Backup {
        /// The embedded store (SQLite database file).
        #[arg(long, default_value = "data/pave.sqlite")]
        db: PathBuf,
        /// The backup to write (never over an existing file).
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup in place of the store (the server stopped), after
    /// checking it is a whole Pavé store.
    Restore {
        /// The backup.
        #[arg(long)]
        from: PathBuf,
        /// The embedded store to restore (SQLite database file).
        #[arg(long, default_value = "data/pave.sqlite")]
        db: PathBuf,
        /// Replace an existing store.
        #[arg(long)]
        force: bool,
    },
    /// Write the statements: each closed project's holder statement, each
    /// sponsor's, and the open-data ledger with its totals (CSV and pages).
    Statements {
        /// The embedded store (SQLite database file).
        #[arg(long, default_value = "data/pave.sqlite")]
        db: PathBuf,
        /// Another store: `dynamodb:TABLE` (the stack's TableName, through
        /// the AWS SDK's credential chain) or `sqlite:FILE`; default `--db`.
        #[arg(long, value_parser = crate::store_file::parse_store)]
        store: Option<crate::store_file::StoreChoice>,
        /// The catalog the site was built with.
        #[arg(long, default_value = "public/catalog.json")]
        catalog: PathBuf,
        /// Where to write them.
        #[arg(long, default_value = "data/statements")]
        out: PathBuf,
        /// Only this project's holder statement (written even while its
        /// campaign runs, then marked provisional).
        #[arg(long)]
        project: Option<String>,
        /// The pages' language: fr or en.
        #[arg(long, default_value = "fr", value_parser = crate::statements::parse_lang)]
        lang: pave_locale::Lang,
        /// Estimated payment fees: percent of each paid pledge…
        #[arg(long, default_value = "1.5")]
        fee_percent: rust_decimal::Decimal,
        /// …plus a fixed amount in euros per paid pledge.
        #[arg(long, default_value = "0.25")]
        fee_fixed: rust_decimal::Decimal,
    },
    /// Write a synthetic corpus (for benchmarks): N projects over T territories.
    Corpus {
        /// Where to write it (a `content/` folder is created inside, and `hugo/` with --hugo).
        out: PathBuf,
        #[arg(long, default_value_t = 1000)]
        projects: usize,
        #[arg(long, default_value_t = 100)]
        territories: usize,
        /// The random seed: the same seed writes the same bytes.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Also write the same corpus as a Hugo site in OUT/hugo.
        #[arg(long)]
        hugo: bool,
    },
}

#[derive(clap::Args)]
struct BuildArgs {
    /// The content folder.
    #[arg(long, default_value = "content")]
    content: PathBuf,
    /// The theme folder.
    #[arg(long, default_value = "themes/default")]
    theme: PathBuf,
    /// The output folder.
    #[arg(long, default_value = "public")]
    out: PathBuf,
    /// A progress snapshot (JSON) with the figures to show; without it, figures are zero.
    #[arg(long)]
    progress: Option<PathBuf>,
    /// Build only this territory's window, as a site of its own.
    #[arg(long)]
    territory: Option<String>,
    /// The day the figures are shown for (YYYY-MM-DD); default: today in the
    /// site's time zone. In `pave serve` (the preview, with the test
    /// checkout) the API's clock is moved to that day too, so a sample
    /// campaign can be tried on any date.
    #[arg(long)]
    today: Option<jiff::civil::Date>,
}

impl BuildArgs {
    fn config(self, live_reload: bool) -> BuildConfig {
        let today = self.today.unwrap_or_else(|| {
            let site = pave_generator::content::load::read_site_config(&self.content)
                .unwrap_or_else(pave_generator::model::SiteConfig::fallback);
            pave_generator::build::today_in(&site.timezone)
        });
        BuildConfig {
            content: self.content,
            theme: self.theme,
            out: self.out,
            progress: self.progress,
            territory: self.territory,
            today,
            live_reload,
            precompress: false,
            test_payments: false,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Human,
    Github,
    Json,
}

impl From<OutputFormat> for Format {
    fn from(f: OutputFormat) -> Format {
        match f {
            OutputFormat::Human => Format::Human,
            OutputFormat::Github => Format::Github,
            OutputFormat::Json => Format::Json,
        }
    }
}

pub fn run() -> Done {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { path, format } => check(&path, format.into()),
        Command::Build { args, changed } => build(args.config(false), &changed),
        Command::Serve {
            args,
            production,
            test_payments,
            host,
            port,
            db,
        } => {
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| Failure::Usage(format!("cannot start the server runtime: {e}")))?;
            let mode = if production {
                crate::serve::Mode::Production { test_payments }
            } else {
                crate::serve::Mode::Preview
            };
            // Given, the day also moves the API's clock (the preview only).
            let day = args.today;
            runtime
                .block_on(crate::serve::serve(
                    args.config(!production),
                    mode,
                    (host, port).into(),
                    db,
                    day,
                ))
                .map_err(|e| {
                    eprintln!("{e}");
                    Failure::Reported
                })
        }
        Command::Release {
            content,
            theme,
            out,
        } => release(&content, &theme, &out),
        Command::Close {
            db,
            store,
            catalog,
            now,
        } => crate::close_command::close(crate::store_file::choice(db, store), &catalog, now),
        Command::Erase { email, db, store } => {
            crate::erase::erase(crate::store_file::choice(db, store), &email)
        }
        Command::Contacts { file, db, store } => {
            crate::contacts::load(crate::store_file::choice(db, store), &file)
        }
        Command::Backup { db, out } => crate::backup::backup(&db, &out),
        Command::Restore { from, db, force } => crate::backup::restore(&from, &db, force),
        Command::Statements {
            db,
            store,
            catalog,
            out,
            project,
            lang,
            fee_percent,
            fee_fixed,
        } => crate::statements::statements(&crate::statements::Options {
            store: crate::store_file::choice(db, store),
            catalog,
            out,
            project,
            lang,
            fees: pave_functions::statements::FeePolicy {
                percent: fee_percent,
                fixed: fee_fixed,
            },
        }),
        Command::Corpus {
            out,
            projects,
            territories,
            seed,
            hugo,
        } => crate::corpus::write(
            &out,
            crate::corpus::Options {
                projects,
                territories,
                seed,
            },
            hugo,
        )
        .map_err(|e| Failure::Usage(format!("cannot write the corpus in {}: {e}", out.display()))),
    }
}

fn build(config: BuildConfig, changed: &[String]) -> Done {
    let start = std::time::Instant::now();
    let result = if changed.is_empty() {
        build::build(&config)
    } else {
        build::refresh(&config, &changed.iter().cloned().collect())
    };
    match result {
        Ok(built) => {
            if built.warnings.warnings() > 0 {
                eprint!("{}", built.warnings.render(Format::Human));
            }
            eprintln!(
                "pave build: {} pages, {} files ({} written, {} unchanged, {} removed) in {} ms (load and check {} ms, render and write {} ms) → {}",
                built.pages,
                built.files,
                built.stats.written,
                built.stats.unchanged,
                built.stats.removed,
                start.elapsed().as_millis(),
                built.load_time.as_millis(),
                built.render_time.as_millis(),
                config.out.display()
            );
            for kept in &built.stats.stale_kept {
                eprintln!(
                    "warning: the stale file {kept} could not be removed from {}; the next build tries again",
                    config.out.display()
                );
            }
            Ok(())
        }
        Err(BuildError::Content(report)) => {
            print!("{}", report.render(Format::Human));
            eprintln!("pave build: the content has errors; nothing was written");
            Err(Failure::Reported)
        }
        Err(e) => Err(Failure::Failed(e.to_string())),
    }
}

/// `pave release`: the content checked (as `pave check`), its theme
/// loaded, both packed; the id printed.
fn release(content: &std::path::Path, theme: &std::path::Path, out: &std::path::Path) -> Done {
    // The report on standard error: standard output is the id alone.
    let checked = pave_generator::check::check(content);
    eprint!("{}", checked.report.render(Format::Human));
    if checked.report.errors() > 0 {
        return Err(Failure::Reported);
    }
    pave_generator::render::Theme::load(theme)
        .map_err(|e| Failure::Failed(format!("the theme {}: {e}", theme.display())))?;
    let bundle = pave_functions::release::pack(content, theme).map_err(Failure::Failed)?;
    let id = pave_functions::release::id_of(&bundle);
    let path = out.join(pave_functions::release::bundle_key(&id));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::Failed(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(&path, &bundle)
        .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", path.display())))?;
    eprintln!(
        "pave release: {} ({} bytes); upload {}/ to the release bucket, then publish release {id}",
        path.display(),
        bundle.len(),
        out.display()
    );
    println!("{id}");
    Ok(())
}

fn check(path: &std::path::Path, format: Format) -> Done {
    if !path.is_dir() {
        return Err(Failure::Usage(format!(
            "`{}` is not a folder: give the content folder, e.g. `pave check content`",
            path.display()
        )));
    }
    let checked = pave_generator::check::check(path);
    let report = &checked.report;
    print!("{}", report.render(format));
    if format == Format::Github {
        eprintln!(
            "pave check: {} error(s), {} warning(s)",
            report.errors(),
            report.warnings()
        );
    }
    if report.errors() > 0 {
        return Err(Failure::Reported);
    }
    if format == Format::Human && report.warnings() == 0 {
        let projects = checked.site.as_ref().map_or(0, |s| s.projects().count());
        eprintln!("pave check: content is valid ({projects} projects)");
    }
    Ok(())
}
