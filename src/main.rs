//! The `replay` binary: parse the command line, run the command, map the exit code.

use std::ffi::{c_int, c_long};
use std::process::ExitCode;

/// mimalloc: a request's task and a log line's strings are allocated and freed
/// millions of times a second, where glibc's malloc (and its aligned
/// allocation, which every task takes) was a tenth of the run's CPU. Small
/// over-aligned blocks (tasks) by their natural alignment: `allocator.rs`.
#[global_allocator]
static ALLOCATOR: replay::allocator::Allocator = replay::allocator::Allocator;

/// mimalloc's `mi_option_t` value for `purge_delay` (v3's `mimalloc.h`;
/// libmimalloc-sys' own constants follow v2's numbering) and its default there (`options.c`).
const MI_OPTION_PURGE_DELAY: c_int = 15;
const PURGE_DELAY_DEFAULT_MS: c_long = 1000;

unsafe extern "C" {
    fn mi_option_get(option: c_int) -> c_long;
    fn mi_option_set(option: c_int, value: c_long);
}

/// A derive allocates each chunk's tables on a worker and frees them on the
/// folding thread, a few hundred times a second: mimalloc's default second
/// before freed pages go back to the kernel keeps 20 MB or so resident that
/// nothing uses (peak RSS 62 MB against 41 MB on a 1 GB log, at no CPU cost
/// measured). Set only when the option is where v3 keeps it.
fn return_freed_pages_promptly() {
    // SAFETY: plain calls into the linked allocator; an option is an atomic read or store.
    unsafe {
        if mi_option_get(MI_OPTION_PURGE_DELAY) == PURGE_DELAY_DEFAULT_MS {
            mi_option_set(MI_OPTION_PURGE_DELAY, 2);
        }
    }
}

fn main() -> ExitCode {
    // A panic is a bug: say so in words, and exit 4 (a run catches its own and writes its results first).
    std::panic::set_hook(Box::new(|info| {
        eprintln!("replay: internal error (a bug in replay; please report it with the command that caused it): {info}");
    }));
    let command = replay::cli::parse();
    if matches!(command, replay::cli::Command::Derive { .. }) {
        return_freed_pages_promptly();
    }
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
