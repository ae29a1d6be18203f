//! What went wrong with a request: its failure class and the cause in words.

use super::Failure;

/// An HTTP status that counts as a failure.
pub fn classify_status(status: u16) -> Option<Failure> {
    match status {
        400..=499 => Some(Failure::Http4xx),
        500..=599 => Some(Failure::Http5xx),
        _ => None,
    }
}

/// The innermost cause in words (`invalid peer certificate: UnknownIssuer`, `Connection refused`).
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost: &(dyn std::error::Error + 'static) = error;
    loop {
        let next = match innermost.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn std::error::Error + 'static)).or_else(|| innermost.source()),
            None => innermost.source(),
        };
        match next {
            Some(next) => innermost = next,
            None => return innermost.to_string(),
        }
    }
}

/// Whether an HTTP/2 stream failed before the target processed it, so it may
/// go out again: streams above a GOAWAY's last-stream-id, or new streams on
/// a connection going away, when the GOAWAY was graceful (NO_ERROR), and
/// streams refused with REFUSED_STREAM (RFC 9113, 6.8 and 8.7). After a
/// GOAWAY for an error, only idempotent requests go again.
pub fn unprocessed(error: &(dyn std::error::Error + 'static), idempotent: bool) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            let reason = h2.reason();
            return reason == Some(h2::Reason::REFUSED_STREAM)
                || (h2.is_go_away() && h2.is_remote() && (reason == Some(h2::Reason::NO_ERROR) || idempotent));
        }
        source = e.source();
    }
    false
}

/// Whether an HTTP/2 error is the connection's (it broke, is going away, or the peer reset
/// or refused) rather than the request's own (a user error, such as a header h2 will not carry).
pub fn of_the_connection(error: &h2::Error) -> bool {
    error.is_io() || error.is_go_away() || error.is_reset() || error.reason().is_some()
}

/// Walks an error's sources for what went wrong on the wire; `otherwise` when nothing says.
pub fn classify_error(error: &(dyn std::error::Error + 'static), otherwise: Failure) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return Failure::Tls;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            // An io::Error's source() skips the error it wraps: look inside by hand.
            let mut wrapped = io.get_ref();
            while let Some(inner) = wrapped {
                if inner.is::<rustls::Error>() {
                    return Failure::Tls;
                }
                wrapped = inner.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref());
            }
            match io.kind() {
                ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable => return Failure::Connect,
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => return Failure::Reset,
                TimedOut => return Failure::Timeout,
                _ => {}
            }
        }
        // An HTTP/2 error over a broken connection carries its I/O error but names no source.
        if let Some(io) = e.downcast_ref::<h2::Error>().and_then(h2::Error::get_io) {
            return classify_error(io, otherwise);
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_closed() || h.is_canceled())
        {
            return Failure::Reset;
        }
        source = e.source();
    }
    otherwise
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_and_wrapped_tls_errors_get_their_class() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(classify_error(&refused, Failure::Other), Failure::Connect);
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(classify_error(&reset, Failure::Connect), Failure::Reset);
        let tls = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::General("bad".into()));
        assert_eq!(classify_error(&tls, Failure::Connect), Failure::Tls);
        assert_eq!(describe(&tls), "unexpected error: bad");
        let dns = std::io::Error::other("failed to lookup address information");
        assert_eq!(classify_error(&dns, Failure::Connect), Failure::Connect);
        assert_eq!(
            (classify_status(404), classify_status(503), classify_status(302)),
            (Some(Failure::Http4xx), Some(Failure::Http5xx), None)
        );
    }
}
