//! How a command ends, mapped to an exit status in one place (as ripgrep
//! does): every subcommand returns `Result<(), Failure>`, and `main` prints
//! the message and exits with the failure's status.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | the content has errors, or the work failed (a refund, the store, the output) |
//! | 2 | usage or setup: bad arguments, a missing store or catalog, a runtime that cannot start |

use std::process::ExitCode;

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// The work failed (status 1): `error: <message>`.
    Failed(String),
    /// The work failed and already said so (a report, a summary): status 1.
    Reported,
    /// Bad usage or setup (status 2): `error: <message>`.
    Usage(String),
}

/// What a subcommand returns.
pub type Done = Result<(), Failure>;

impl Failure {
    fn status(&self) -> u8 {
        match self {
            Failure::Failed(_) | Failure::Reported => 1,
            Failure::Usage(_) => 2,
        }
    }
}

/// The exit status of a command's result, its message printed.
pub fn exit_code(done: Done) -> ExitCode {
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if let Failure::Failed(message) | Failure::Usage(message) = &failure {
                eprintln!("error: {message}");
            }
            ExitCode::from(failure.status())
        }
    }
}
