//! `replay derive`'s flags for deriving on many machines: `--partial` and `--merge`.

/// What `replay derive` reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeriveMode {
    /// Logs in, a profile out.
    Profile,
    /// Logs in, a partial profile out (`--partial`).
    Partial,
    /// Partials in, a profile out (`--merge`), or a partial (`--merge --partial`).
    Merge { into_partial: bool },
}

#[derive(Debug, clap::Args)]
pub struct DeriveModeArgs {
    /// Write a partial profile: this derive's mergeable state, for `--merge` with others' (many machines, one profile)
    #[arg(long, conflicts_with = "trace")]
    partial: bool,
    /// The FILEs are partials: merge them into the profile one derive of all their logs gives (with --partial, into one partial)
    #[arg(
        long,
        conflicts_with_all = ["format", "strict", "threads", "since", "until", "exclude", "host_filter", "max_endpoints", "session_gap", "bin", "seed", "trace", "login_form"]
    )]
    merge: bool,
}

impl DeriveModeArgs {
    pub fn mode(&self) -> DeriveMode {
        match (self.merge, self.partial) {
            (true, into_partial) => DeriveMode::Merge { into_partial },
            (false, true) => DeriveMode::Partial,
            (false, false) => DeriveMode::Profile,
        }
    }
}
