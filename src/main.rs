//! The `pave` command: check, build and serve a Pavé site, and close its campaigns.

mod backup;
mod cli;
mod close_command;
mod contacts;
mod corpus;
mod erase;
mod exit;
mod seed;
mod serve;
mod statements;
mod store_file;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    pave_functions::logs::init(false);
    exit::exit_code(cli::run())
}
