//! A fault-injecting target on loopback (port 0) for each way a real one
//! misbehaves: it refuses, resets, stalls, trickles, answers 5xx, closes
//! early, restarts, sends its headers slowly, answers garbage, or sends an
//! HTTP/2 GOAWAY. For each, every intended request is accounted for
//! (`intended == requests + not_sent`) and the run ends on time.

use crate::run::{Cfg, config, raw_target, run, runtime};
use replay::client::Failure;
use replay::plan::Pace;
use replay::profile::load::parse;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// 200 requests over one second.
const PROFILE: &str = r#"{"version": 1, "endpoints": [{"method": "GET", "path": "/", "weight": 1}],
    "arrival": {"bin_s": 1, "counts": [100, 100]}}"#;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    Refuse,
    Reset,
    Stall,
    Trickle,
    ServerError,
    CloseEarly,
    SlowHeaders,
    Garbage,
}

/// Reads one request's head; false when the client has gone.
async fn read_head(stream: &mut TcpStream) -> bool {
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    true
}

/// Serves each connection the way `fault` says; nothing it does lasts past 10 s.
async fn misbehave(mut stream: TcpStream, fault: Fault) {
    let _ = tokio::time::timeout(Duration::from_secs(10), async move {
        while read_head(&mut stream).await {
            match fault {
                Fault::Refuse => return,
                Fault::Reset => {
                    // Linger 0 makes the close a reset at once (no blocking on drop, which is what tokio warns of).
                    #[allow(deprecated)]
                    let _ = stream.set_linger(Some(Duration::ZERO));
                    return;
                }
                Fault::Stall => std::future::pending::<()>().await,
                Fault::Trickle => {
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n").await;
                    for _ in 0..100 {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        if stream.write_all(b"x").await.is_err() {
                            return;
                        }
                    }
                }
                Fault::ServerError => {
                    let _ = stream.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nbusy").await;
                }
                Fault::CloseEarly => {
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten..").await;
                    return;
                }
                Fault::SlowHeaders => {
                    for byte in b"HTTP/1.1 200 OK\r\nx-slow: yes\r\ncontent-length: 0\r\n\r\n" {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        if stream.write_all(&[*byte]).await.is_err() {
                            return;
                        }
                    }
                }
                Fault::Garbage => {
                    let _ = stream.write_all(b"\x00\x01garbage that is not HTTP\r\n\r\n").await;
                    return;
                }
            }
        }
    })
    .await;
}

fn cfg(base: &str) -> Cfg {
    let mut cfg = config(base, 2.0);
    cfg.run.client.timeout = Duration::from_millis(500);
    cfg.run.client.connections = 16;
    cfg
}

/// Runs the profile against `base`; checks the accounting and the end; returns the summary.
fn run_against(rt: &tokio::runtime::Runtime, base: &str, cfg: Cfg, what: &str) -> replay::run::Summary {
    let profile = parse(PROFILE, "p.json").unwrap();
    let started = Instant::now();
    let outcome = run(rt, &profile, &cfg);
    let wall = started.elapsed();
    let s = outcome.summary;
    assert_eq!(s.intended, s.requests + s.not_sent_total(), "{what}: {:?} {:?}", s.by_failure, s.not_sent);
    assert_eq!(s.intended, 200, "{what}: every request of the plan came due");
    // One second of schedule, one of late allowance, the timeout, and room for a busy machine.
    assert!(wall < Duration::from_millis(1000 + 1000 + 600 + 1500), "{what} on {base} took {wall:?}");
    s
}

#[test]
fn every_fault_is_counted_and_the_run_ends_on_time() {
    let rt = runtime();
    let class = |s: &replay::run::Summary, f| s.by_failure.get(&f).copied().unwrap_or(0);
    for fault in [
        Fault::Refuse,
        Fault::Reset,
        Fault::Stall,
        Fault::Trickle,
        Fault::ServerError,
        Fault::CloseEarly,
        Fault::SlowHeaders,
        Fault::Garbage,
    ] {
        let base = if fault == Fault::Refuse {
            // A port nothing listens on any more.
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
            format!("http://{closed}")
        } else {
            format!("http://{}", raw_target(&rt, move |stream| misbehave(stream, fault)))
        };
        let s = run_against(&rt, &base, cfg(&base), &format!("{fault:?}"));
        let what = format!("{fault:?}: {:?} {:?} {:?}", s.by_failure, s.not_sent, s.failure_examples);
        match fault {
            Fault::Refuse => assert_eq!(class(&s, Failure::Connect), 200, "{what}"),
            Fault::Reset | Fault::CloseEarly => assert_eq!(class(&s, Failure::Reset), s.requests, "{what}"),
            Fault::ServerError => assert_eq!(class(&s, Failure::Http5xx), 200, "{what}"),
            Fault::Stall | Fault::Trickle | Fault::SlowHeaders => {
                assert_eq!(class(&s, Failure::Timeout), s.requests, "{what}");
                assert!(s.not_sent_total() > 0, "16 connections held 500 ms each cannot carry 200 requests a second: {what}");
            }
            Fault::Garbage => assert_eq!(s.failures, 200, "{what}"),
        }
    }
}

#[test]
fn a_target_that_restarts_mid_run_loses_nothing_from_the_count() {
    let rt = runtime();
    // Serves keep-alive 200s; at 400 ms it "crashes" (listener and connections gone) and is back 300 ms later.
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let serve = |listener: tokio::net::TcpListener| async move {
                let mut connections = tokio::task::JoinSet::new();
                while let Ok((mut stream, _)) = listener.accept().await {
                    connections.spawn(async move {
                        while read_head(&mut stream).await {
                            if stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await.is_err() {
                                return;
                            }
                        }
                    });
                }
            };
            let _ = tokio::time::timeout(Duration::from_millis(400), serve(listener)).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            if let Ok(listener) = tokio::net::TcpListener::bind(addr).await {
                let _ = tokio::time::timeout(Duration::from_secs(10), serve(listener)).await;
            }
        });
        addr
    });
    let base = format!("http://{addr}");
    let s = run_against(&rt, &base, cfg(&base), "restart");
    assert!(s.requests - s.failures > 100, "before and after the restart the target answers: {:?}", s.by_failure);
    assert!(s.by_failure.get(&Failure::Connect).copied().unwrap_or(0) > 0, "while it is down, connections are refused: {:?}", s.by_failure);
}

#[test]
fn an_http2_goaway_sends_the_unprocessed_streams_again() {
    let rt = runtime();
    let connections = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&connections);
    // An h2c server that, like nginx at keepalive_requests, says GOAWAY after 20 requests on a
    // connection, its last-stream-id the 20th: the streams the client sent past it were never processed.
    let addr = raw_target(&rt, move |stream| {
        counted.fetch_add(1, Ordering::Relaxed);
        async move {
            let Ok(mut conn) = h2::server::handshake(stream).await else { return };
            let mut served = 0;
            while let Some(Ok((_request, mut respond))) = conn.accept().await {
                served += 1;
                let _ = respond.send_response(hyper::Response::new(()), true);
                if served == 20 {
                    conn.abrupt_shutdown(h2::Reason::NO_ERROR);
                }
            }
        }
    });
    let base = format!("http://{addr}");
    let mut cfg = cfg(&base);
    cfg.run.client.http2 = true;
    // All 200 nearly at once, so streams are in flight when the GOAWAY comes.
    cfg.plan.pace = Pace::Speed(1000.0);
    let s = run_against(&rt, &base, cfg, "goaway");
    assert_eq!((s.requests, s.failures), (200, 0), "{:?} {:?}", s.by_failure, s.failure_examples);
    assert!(s.retried > 0, "streams past the last-stream-id went again");
    assert!(connections.load(Ordering::Relaxed) >= 10, "20 requests a connection: {}", connections.load(Ordering::Relaxed));
}
