//! What `replay derive` was asked to keep and how (`--since`, `--exclude`,
//! `--max-endpoints`, `--session-gap`…), and the defaults of its flags.

/// What `replay derive` was asked to keep and how.
#[derive(Debug, Clone)]
pub struct DeriveSettings {
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
    pub exclude: Option<regex::bytes::Regex>,
    pub host_filter: Option<String>,
    pub max_endpoints: usize,
    pub session_gap_s: u64,
    pub bin_s: Option<u32>,
    pub seed: u64,
    /// Keep each request's row for `--trace`.
    pub trace: bool,
    /// The form a derived login sends (`--login-form`); see `login.rs`.
    pub login_form: Option<String>,
}

/// `--max-endpoints`, when not given.
pub const DEFAULT_MAX_ENDPOINTS: u32 = 200;
/// `--session-gap`, when not given: half an hour idle ends a session.
pub const DEFAULT_SESSION_GAP: std::time::Duration = std::time::Duration::from_secs(30 * 60);

impl Default for DeriveSettings {
    fn default() -> Self {
        DeriveSettings {
            since_us: None,
            until_us: None,
            exclude: None,
            host_filter: None,
            max_endpoints: DEFAULT_MAX_ENDPOINTS as usize,
            session_gap_s: DEFAULT_SESSION_GAP.as_secs(),
            bin_s: None,
            seed: super::super::DEFAULT_SEED,
            trace: false,
            login_form: None,
        }
    }
}
