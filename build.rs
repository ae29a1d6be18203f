//! Tells the tests what this machine has, so a test that cannot run here is
//! reported as ignored, with why, instead of passing without checking
//! anything: `has_chromium` (report.html in a real browser),
//! `has_real_logs` (../shared/real-logs beside the checkout) and
//! `has_locust` (Locust from PyPI, to run an exported locustfile) and
//! `has_node` (Node, to run an exported k6 script with stand-in k6 modules),
//! `has_kubectl` and `has_kubernetes_validate` (to render the Kubernetes
//! manifests and check them against the schemas).

use std::path::Path;

/// Where Debian's chromium lands, and the names other systems use.
pub const CHROMIUM: [&str; 3] = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_chromium)");
    println!("cargo::rustc-check-cfg=cfg(has_real_logs)");
    println!("cargo::rustc-check-cfg=cfg(has_locust)");
    println!("cargo::rustc-check-cfg=cfg(has_node)");
    println!("cargo::rustc-check-cfg=cfg(has_kubectl)");
    println!("cargo::rustc-check-cfg=cfg(has_kubernetes_validate)");
    println!("cargo::rustc-check-cfg=cfg(has_docker)");
    if std::process::Command::new("docker").arg("info").output().is_ok_and(|out| out.status.success()) {
        println!("cargo::rustc-cfg=has_docker");
    }
    for (tool, arg, cfg) in [("kubectl", "version", "has_kubectl"), ("kubernetes-validate", "--version", "has_kubernetes_validate")] {
        let args: &[&str] = if tool == "kubectl" { &[arg, "--client"] } else { &[arg] };
        if std::process::Command::new(tool).args(args).output().is_ok_and(|out| out.status.success()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
    if std::process::Command::new("node").arg("--version").output().is_ok_and(|out| out.status.success()) {
        println!("cargo::rustc-cfg=has_node");
    }
    let locust = std::process::Command::new("python3").args(["-c", "import locust"]).output();
    if locust.is_ok_and(|out| out.status.success()) {
        println!("cargo::rustc-cfg=has_locust");
    }
    for path in CHROMIUM {
        println!("cargo::rerun-if-changed={path}");
    }
    if CHROMIUM.iter().any(|p| Path::new(p).exists()) {
        println!("cargo::rustc-cfg=has_chromium");
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-logs/MANIFEST.tsv");
    println!("cargo::rerun-if-changed={}", manifest.display());
    if manifest.is_file() {
        println!("cargo::rustc-cfg=has_real_logs");
    }
}
