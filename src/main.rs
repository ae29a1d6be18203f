//! The `replay` binary: parse the command line, run the command, map the exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let command = replay::cli::parse();
    match replay::app::run(command) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(error) => {
            eprintln!("replay: error: {error:#}");
            ExitCode::from(replay::Exit::BadInput as u8)
        }
    }
}
