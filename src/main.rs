//! The `replay` binary: parse the command line, run the command, map the exit code.

use std::process::ExitCode;

/// mimalloc: a request's task and a log line's strings are allocated and freed
/// millions of times a second, where glibc's malloc (and its aligned
/// allocation, which every task takes) was a tenth of the run's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A panic is a bug: say so in words, and exit 4 (a run catches its own and writes its results first).
    std::panic::set_hook(Box::new(|info| {
        eprintln!("replay: internal error (a bug in replay; please report it with the command that caused it): {info}");
    }));
    let command = replay::cli::parse();
    // Nothing is shared across the boundary: after a panic the process only exits.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| replay::app::run(command))) {
        Ok(Ok(exit)) => ExitCode::from(exit as u8),
        Ok(Err(error)) => {
            eprintln!("replay: error: {error:#}");
            ExitCode::from(replay::Exit::BadInput as u8)
        }
        Err(_) => ExitCode::from(replay::Exit::Internal as u8),
    }
}
