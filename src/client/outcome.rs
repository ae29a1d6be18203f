//! What became of one request: an [`Outcome`], with its [`Failure`] class
//! when it failed. Produced by the client for every request it is given.

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Failure {
    /// Refused, unreachable, or no route.
    Connect,
    Timeout,
    /// Reset or closed mid-request.
    Reset,
    Tls,
    Http4xx,
    Http5xx,
    /// A session's login answered 4xx or sent the user back to a login page: the session goes on without it.
    Login,
    Other,
}

impl Failure {
    /// Every class, in results.json's order.
    pub const ALL: [Failure; 8] = [
        Failure::Connect,
        Failure::Timeout,
        Failure::Reset,
        Failure::Tls,
        Failure::Http4xx,
        Failure::Http5xx,
        Failure::Login,
        Failure::Other,
    ];

    /// The class's name in results.json and in thresholds (`http_5xx<0.1%`).
    pub fn name(self) -> &'static str {
        match self {
            Failure::Connect => "connect",
            Failure::Timeout => "timeout",
            Failure::Reset => "reset",
            Failure::Tls => "tls",
            Failure::Http4xx => "http_4xx",
            Failure::Http5xx => "http_5xx",
            Failure::Login => "login_failed",
            Failure::Other => "other",
        }
    }
}

/// What became of one request. Times are nanoseconds after the run's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub endpoint: usize,
    pub intended_ns: u64,
    pub sent_ns: u64,
    pub done_ns: u64,
    pub status: Option<u16>,
    pub failure: Option<Failure>,
    /// What went wrong, in words, for a failure (`invalid peer certificate: UnknownIssuer`, `HTTP 503`).
    /// It never holds the request's path or headers, which may carry `--var` values.
    pub detail: Option<String>,
    /// The request went out again on a new connection (a kept-alive connection the target
    /// had closed, or streams an HTTP/2 GOAWAY left unprocessed).
    pub retried: bool,
    /// Bytes of response body received.
    pub bytes: u64,
    /// The request carried a synthetic value for a placeholder no `--var` filled.
    pub synthetic: bool,
    /// A redirect to a login page (or back to the request's own path): what a login that failed answers.
    pub to_login: bool,
}
