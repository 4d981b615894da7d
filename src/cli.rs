//! Command-line interface. Exit status: 0 success, 1 content errors, 2 usage errors.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
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
    /// Write a synthetic corpus (for benchmarks): N projects over T territories.
    Corpus {
        /// Where to write it (a `content/` folder is created inside).
        out: PathBuf,
        #[arg(long, default_value_t = 1000)]
        projects: usize,
        #[arg(long, default_value_t = 100)]
        territories: usize,
    },
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

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { path, format } => check(&path, format.into()),
        Command::Corpus {
            out,
            projects,
            territories,
        } => match pave_generator::corpus::write(&out, projects, territories) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write the corpus in {}: {e}", out.display());
                ExitCode::from(2)
            }
        },
    }
}

fn check(path: &std::path::Path, format: Format) -> ExitCode {
    if !path.is_dir() {
        eprintln!(
            "error: `{}` is not a folder: give the content folder, e.g. `pave check content`",
            path.display()
        );
        return ExitCode::from(2);
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
        ExitCode::from(1)
    } else {
        if format == Format::Human && report.warnings() == 0 {
            let projects = checked.site.as_ref().map_or(0, |s| s.projects().count());
            eprintln!("pave check: content is valid ({projects} projects)");
        }
        ExitCode::SUCCESS
    }
}
