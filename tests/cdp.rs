//! A small DevTools-protocol client for driving headless Chromium from a
//! test: open a page, evaluate script in it, wait for a condition (in the
//! page, with a deadline), collect console errors, take a screenshot. The network
//! is off except loopback, so a page that reached for a CDN would fail.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Browser {
    child: Child,
    ws: tungstenite::WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    /// Console errors, uncaught exceptions and failed loads, as the page reported them.
    pub errors: Vec<String>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts headless Chromium with a blank page attached.
    pub fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let chromium = crate::browser::chromium();
        let mut child = Command::new(chromium)
            .args(crate::browser::HEADLESS)
            .args([
                // No network but loopback: names fail to resolve, and everything else would go to a dead proxy.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--proxy-server=127.0.0.1:9",
                "--proxy-bypass-list=127.0.0.1",
                "--remote-debugging-port=0",
                "--window-size=1280,2200",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split("DevTools listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(60)).expect("chromium says where DevTools listens");
        let host = url.trim_start_matches("ws://").split('/').next().unwrap().to_owned();
        let stream = TcpStream::connect(&host).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let (ws, _) = tungstenite::client(url.as_str(), stream).expect("DevTools websocket");
        let mut browser = Browser { child, ws, session: String::new(), next_id: 0, errors: Vec::new(), _profile: profile };
        let target = browser.call("Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = browser.call("Target.attachToTarget", json!({ "targetId": target_id, "flatten": true }));
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        for domain in ["Runtime.enable", "Page.enable", "Log.enable"] {
            browser.call(domain, json!({}));
        }
        browser
    }

    fn send(&mut self, method: &str, params: Value) -> u64 {
        self.next_id += 1;
        let mut message = json!({ "id": self.next_id, "method": method, "params": params });
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.ws.send(tungstenite::Message::text(message.to_string())).unwrap();
        self.next_id
    }

    /// Sends a command and returns its result, keeping the events that came before it.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params);
        loop {
            let message = self.ws.read().expect("DevTools answers");
            let Ok(text) = message.to_text() else { continue };
            let Ok(value) = serde_json::from_str::<Value>(text) else { continue };
            if value["id"].as_u64() == Some(id) {
                assert!(value.get("error").is_none(), "{method}: {value}");
                return value["result"].clone();
            }
            self.note(&value);
        }
    }

    fn note(&mut self, event: &Value) {
        let params = &event["params"];
        match event["method"].as_str() {
            Some("Runtime.exceptionThrown") => self.errors.push(format!("exception: {}", params["exceptionDetails"])),
            Some("Runtime.consoleAPICalled") if matches!(params["type"].as_str(), Some("error" | "warning" | "assert")) => {
                self.errors.push(format!("console.{}: {}", params["type"], params["args"]))
            }
            Some("Log.entryAdded") if matches!(params["entry"]["level"].as_str(), Some("error" | "warning")) => {
                self.errors.push(format!("log: {}", params["entry"]["text"]))
            }
            _ => {}
        }
    }

    /// Forgets the errors the test provoked on purpose (a refused call the browser logs), once they are logged.
    pub fn forget(&mut self, provoked: &str) {
        self.eval("0");
        self.errors.retain(|e| !e.contains(provoked));
    }

    pub fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for("document.readyState === 'complete'", Duration::from_secs(30));
    }

    /// The value of `expression` in the page (a promise is awaited).
    pub fn eval(&mut self, expression: &str) -> Value {
        let result = self.call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }));
        assert!(result.get("exceptionDetails").is_none(), "`{expression}` threw: {result}");
        result["result"]["value"].clone()
    }

    /// Waits, in the page, until `condition` is true; fails the test after `within`.
    pub fn wait_for(&mut self, condition: &str, within: Duration) {
        let expression = format!(
            "new Promise((resolve) => {{
               const deadline = Date.now() + {ms};
               const check = () => {{
                 let ok = false;
                 try {{ ok = !!({condition}); }} catch (e) {{ ok = false; }}
                 if (ok) resolve(true); else if (Date.now() > deadline) resolve(false); else setTimeout(check, 50);
               }};
               check();
             }})",
            ms = within.as_millis()
        );
        let met = self.eval(&expression);
        assert_eq!(met, json!(true), "`{condition}` did not become true within {within:?}; errors: {:?}", self.errors);
    }

    /// A PNG of the whole page.
    pub fn screenshot(&mut self, path: &std::path::Path) {
        use base64::Engine;
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true }));
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
