use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    opsdesk::cli::run(opsdesk::cli::Cli::parse()).await
}
