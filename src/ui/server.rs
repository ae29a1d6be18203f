//! The web view's HTTP server, on the hyper already in the tree, in a
//! thread of its own (a one-thread runtime) so serving pages never takes
//! a worker from the run. It serves the page (HTML, script and style, all
//! built in: nothing from the network), the JSON snapshot, the event
//! stream, the list of runs and their reports, and, for `replay ui`, the
//! plan/start/stop calls.
//!
//! Every request passes [`Access`] first: a token where one is set, a
//! loopback `Host` where none is (a page elsewhere cannot reach the server
//! by rebinding a name to 127.0.0.1), and a JSON body on every call that
//! changes something (a form on another site cannot post one).

use super::control::{Control, Form, StartError};
use super::feed::Feed;
use super::{Access, assets};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// A request body the server reads at most: a form is small.
const MAX_BODY: usize = 64 << 10;
/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A comment on an idle stream this often keeps proxies from closing it.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// When the server stops, its connections get this long to finish what they are writing.
pub const FINISH_WITHIN: Duration = Duration::from_secs(2);

/// What every request is served from.
pub struct Site {
    pub feed: Arc<Feed>,
    pub control: Option<Arc<dyn Control>>,
    pub access: Access,
}

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()).boxed_unsync());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("text/plain")));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    full(status, "application/json", body)
}

/// `{"error": "…"}` with `status`.
fn error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, serde_json::json!({ "error": message }).to_string())
}

/// Serves connections from `listener` until `stop` resolves; then ends the event streams, and
/// lets each connection finish writing (within [`FINISH_WITHIN`]) before it returns. A stream
/// counts as closed when its last frame is handed to hyper, not when it is written: the process
/// must not exit before it is, or the page misses the run's end (seen on a loaded machine).
pub async fn serve(listener: tokio::net::TcpListener, site: Arc<Site>, mut stop: tokio::sync::oneshot::Receiver<()>) {
    let mut connections = tokio::task::JoinSet::new();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // Told `true` when the server stops; every event stream watches it.
    let (close, closing) = tokio::sync::watch::channel(false);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let site = Arc::clone(&site);
                let closing = closing.clone();
                let service = hyper::service::service_fn(move |request| {
                    let (site, closing) = (Arc::clone(&site), closing.clone());
                    async move { Ok::<_, Infallible>(handle(&site, request, closing).await) }
                });
                // A client that never finishes its headers is dropped, not kept forever.
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                connections.spawn(async move {
                    let _ = connection.await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = close.send(true);
    let _ = tokio::time::timeout(FINISH_WITHIN, graceful.shutdown()).await;
    connections.abort_all();
}

/// Serves one request; `closing` turns true when the server stops, which ends event streams.
async fn handle(site: &Site, request: Request<Incoming>, closing: tokio::sync::watch::Receiver<bool>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("");
    if let Err(why) = site.access.check(&parts.headers, query) {
        return error(StatusCode::FORBIDDEN, &why);
    }
    let mut response = match (&parts.method, path.as_str()) {
        (&Method::GET, "/") => page(),
        (&Method::GET, "/app.js") => full(StatusCode::OK, "text/javascript; charset=utf-8", assets::SCRIPT),
        (&Method::GET, "/app.css") => full(StatusCode::OK, "text/css; charset=utf-8", assets::STYLE),
        (&Method::GET, "/api/snapshot") => json(StatusCode::OK, site.feed.latest().json().to_owned()),
        (&Method::GET, "/api/events") => events(Arc::clone(&site.feed), site.control.is_none(), closing),
        (&Method::GET, "/api/runs") => json(StatusCode::OK, serde_json::to_string(&site.feed.runs()).unwrap_or_default()),
        // `null` when this server watches one run and starts none.
        (&Method::GET, "/api/choices") => match &site.control {
            Some(control) => json(StatusCode::OK, serde_json::to_string(&control.choices()).unwrap_or_default()),
            None => json(StatusCode::OK, "null"),
        },
        (&Method::GET, p) if p.starts_with("/runs/") => report(&site.feed, p),
        (&Method::GET, p) if p.starts_with("/live/") => live_report(&site.feed, p.trim_start_matches("/live/")).await,
        (&Method::POST, "/api/plan" | "/api/start" | "/api/stop") => call(site, &path, &parts.headers, body).await,
        (_, "/" | "/app.js" | "/app.css" | "/api/snapshot" | "/api/events" | "/api/runs" | "/api/choices") => {
            error(StatusCode::METHOD_NOT_ALLOWED, "only GET here")
        }
        _ => error(StatusCode::NOT_FOUND, &format!("nothing at {}", crate::untrusted::terminal(&path))),
    };
    // A token that came in the address is kept by the page as a cookie, for its script, style and calls.
    if let Some(cookie) = site.access.cookie_from_query(query) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn page() -> Response<Body> {
    let mut response = full(StatusCode::OK, "text/html; charset=utf-8", assets::PAGE);
    response.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}

/// A report of a past run: `/runs/N/report.html`, only the files a run writes.
fn report(feed: &Feed, path: &str) -> Response<Body> {
    let mut parts = path.trim_start_matches("/runs/").splitn(2, '/');
    let (Some(number), Some(file)) = (parts.next().and_then(|n| n.parse::<usize>().ok()), parts.next()) else {
        return error(StatusCode::NOT_FOUND, "a report is at /runs/N/FILE");
    };
    let Some(on_disk) = feed.report_path(number, file) else {
        return error(StatusCode::NOT_FOUND, "no such report among this server's runs");
    };
    match std::fs::read(&on_disk) {
        Ok(bytes) => {
            let mut response = full(StatusCode::OK, content_type(file), bytes);
            // The HTML report is self-contained: it runs no script from anywhere.
            response.headers_mut().insert(
                "content-security-policy",
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
            );
            response
        }
        Err(e) => error(StatusCode::NOT_FOUND, &format!("{file} could not be read: {e}")),
    }
}

/// How long a report of the run so far may take: the run makes it at its next look (twice a second).
const LIVE_REPORT_WITHIN: Duration = Duration::from_secs(3);

/// `/live/stats.csv` (or any report a run writes but results.json): the run going so far, from its tally.
async fn live_report(feed: &Feed, file: &str) -> Response<Body> {
    let Some(writer) = crate::report::WRITERS.iter().find(|w| w.file == file) else {
        return error(StatusCode::NOT_FOUND, "a live report is one a run writes: /live/stats.csv, /live/history.csv, /live/report.html…");
    };
    if feed.latest().snapshot.phase != super::live::Phase::Running {
        return error(StatusCode::NOT_FOUND, "no run is going: a finished run's reports are under /runs/N/");
    }
    let Some(results) = feed.full_results(LIVE_REPORT_WITHIN).await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the run did not answer in time (it may have just ended): try again");
    };
    let mut bytes = Vec::new();
    if let Err(e) = (writer.write)(&results, &mut bytes) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, &format!("{file} could not be made: {e}"));
    }
    let mut response = full(StatusCode::OK, content_type(file), bytes);
    response
        .headers_mut()
        .insert("content-security-policy", HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"));
    response
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("csv") => "text/csv; charset=utf-8",
        Some("xml") => "application/xml",
        Some("md") => "text/markdown; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The event stream: the latest snapshot at once (a page opened mid-run has everything from the start), then each new one.
/// A server watching one run (`run --ui`) ends the stream after the run's last snapshot, cleanly, before it exits.
fn events(feed: Arc<Feed>, ends_with_the_run: bool, closing: tokio::sync::watch::Receiver<bool>) -> Response<Body> {
    struct Stream {
        feed: Arc<Feed>,
        rx: tokio::sync::watch::Receiver<Arc<super::feed::Published>>,
        closing: tokio::sync::watch::Receiver<bool>,
        first: bool,
        sent_final: bool,
    }
    impl Drop for Stream {
        fn drop(&mut self) {
            self.feed.closed(self.sent_final);
        }
    }
    feed.opened();
    let rx = feed.subscribe();
    let state = Stream { feed, rx, closing, first: true, sent_final: false };
    let stream = futures_util::stream::unfold(state, move |mut s| async move {
        if (s.sent_final && ends_with_the_run) || *s.closing.borrow() {
            return None;
        }
        if !s.first {
            let changed = tokio::select! {
                // A snapshot published before the server stopped still goes out.
                biased;
                changed = tokio::time::timeout(KEEP_ALIVE, s.rx.changed()) => changed,
                // The server is stopping: the stream ends, and its connection finishes writing.
                _ = s.closing.changed() => return None,
            };
            match changed {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return None,
                Err(_) => return Some((Ok::<_, Infallible>(Frame::data(Bytes::from_static(b": keep-alive\n\n"))), s)),
            }
        }
        s.first = false;
        let published = Arc::clone(&s.rx.borrow_and_update());
        let frame = Frame::data(Bytes::from(format!("id: {}\nevent: snapshot\ndata: {}\n\n", published.seq, published.json())));
        if published.snapshot.phase == super::live::Phase::Done && !s.sent_final {
            s.sent_final = true;
            s.feed.sent_final();
        }
        Some((Ok(frame), s))
    });
    let mut response = Response::new(StreamBody::new(stream).boxed_unsync());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /api/plan`, `/api/start`, `/api/stop`: a JSON body, for `replay ui` only.
async fn call(site: &Site, path: &str, headers: &hyper::HeaderMap, body: Incoming) -> Response<Body> {
    let Some(control) = &site.control else {
        return error(StatusCode::NOT_FOUND, "this server watches one run; `replay ui PROFILE…` starts runs from the page");
    };
    let is_json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send the call as application/json");
    }
    let bytes = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, &format!("a call's body is at most {} KiB", MAX_BODY >> 10)),
    };
    if path == "/api/stop" {
        return if control.stop() { json(StatusCode::OK, r#"{"stopping":true}"#) } else { error(StatusCode::CONFLICT, "no run is going") };
    }
    let form: Form = match serde_json::from_slice(&bytes) {
        Ok(form) => form,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("the form: {e}")),
    };
    // Planning reads the profile and draws its schedule: off the server's one thread.
    let control = Arc::clone(control);
    let start = path == "/api/start";
    let outcome = tokio::task::spawn_blocking(move || {
        if start {
            control.start(&form).map(|id| serde_json::json!({ "run_id": id }).to_string())
        } else {
            control.plan(&form).map(|text| serde_json::json!({ "plan": text }).to_string()).map_err(StartError::Invalid)
        }
    })
    .await;
    match outcome {
        Ok(Ok(body)) => json(StatusCode::OK, body),
        Ok(Err(StartError::Busy(why))) => error(StatusCode::CONFLICT, &StartError::Busy(why).to_string()),
        Ok(Err(StartError::Invalid(why))) => error(StatusCode::BAD_REQUEST, &why),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "the call failed (a bug in replay)"),
    }
}
