//! What ships to run replay elsewhere, run as written: the Kubernetes
//! kustomizations rendered and every object checked against the Kubernetes
//! schemas; the shards' script (taken from the Job as it is) run as pods
//! would run it, and run.sh driving a stand-in kubectl: it collects the
//! shards' results from their logs, merges and judges, ignores an earlier
//! run's folders, and returns at once naming a failed shard; run-flags read
//! by replay's own parser; the Dockerfile. The derive Job likewise: its script
//! run as three pods over five hourly files (one fetched as an object), and
//! derive.sh merging their partials into the profile one derive gives.

use crate::util::{replay, root, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn yaml(text: &str) -> Vec<yaml_rust2::Yaml> {
    yaml_rust2::YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// `kubectl kustomize DIR`, as applied.
fn render(dir: &str) -> String {
    let out = Command::new("kubectl").args(["kustomize", &root().join(dir).display().to_string()]).output().expect("kubectl runs");
    assert!(out.status.success(), "{dir}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
#[cfg_attr(
    not(all(has_kubectl, has_kubernetes_validate)),
    ignore = "kubectl or kubernetes-validate is missing: the manifests were not rendered and checked (.ci/run installs kubernetes-validate from PyPI)"
)]
fn the_kustomizations_render_and_every_object_passes_the_kubernetes_schemas() {
    for dir in ["deploy/kubernetes/base", "deploy/kubernetes/shared-volume", "deploy/kubernetes/derive"] {
        let rendered = render(dir);
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &rendered).unwrap();
        // Strict: a field Kubernetes does not know is an error too.
        let out = Command::new("kubernetes-validate").args(["--strict", "-k", "1.30.0"]).arg(file.path()).output().unwrap();
        assert!(out.status.success(), "{dir}: {}{}", text(&out.stdout), text(&out.stderr));
        let docs = yaml(&rendered);
        let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        // The derive Job's namespace is the run's (derive.sh applies base/namespace.yaml).
        let wanted: &[&str] = if dir.ends_with("derive") { &["ConfigMap", "Job"] } else { &["Namespace", "ConfigMap", "Job"] };
        for kind in wanted {
            assert!(kinds.contains(kind), "{dir} renders no {kind}: {kinds:?}");
        }
        let job = docs.iter().find(|d| d["kind"].as_str() == Some("Job")).unwrap();
        let spec = &job["spec"];
        let pod = &spec["template"]["spec"];
        // The image is set once, in the kustomization, for every container.
        assert_eq!(pod["containers"][0]["image"].as_str(), Some("registry.example.com/your-team/replay:0.1.0"));
        // N is one number: completions, parallelism and the SHARDS the pods are told.
        let n = spec["completions"].as_i64().unwrap();
        assert_eq!(spec["parallelism"].as_i64(), Some(n));
        let env = pod["containers"][0]["env"].as_vec().unwrap();
        let shards = env.iter().find(|e| e["name"].as_str() == Some("SHARDS")).unwrap();
        assert_eq!(shards["value"].as_str(), Some(n.to_string().as_str()));
        assert!(docs.iter().all(|d| d["kind"].as_str() == Some("Namespace") || d["metadata"]["namespace"].as_str() == Some("replay")));
        if dir.ends_with("shared-volume") {
            assert!(kinds.contains(&"PersistentVolumeClaim"));
            assert_eq!(pod["volumes"][3]["persistentVolumeClaim"]["claimName"].as_str(), Some("replay-results"));
        }
    }
}

/// The script of the Job in `file`, with its mount points moved under `at`.
fn job_script(file: &str, mounts: &[&str], at: &Path) -> String {
    let job = &yaml(&read(file))[0];
    let command = &job["spec"]["template"]["spec"]["containers"][0]["command"];
    assert_eq!((command[0].as_str(), command[1].as_str()), (Some("sh"), Some("-c")));
    let script = command[2].as_str().unwrap().to_owned();
    mounts.iter().fold(script, |s, mount| s.replace(mount, &format!("{}{mount}", at.display())))
}

/// The shards' script from the Job, with its mount points moved under `at`.
fn shard_script(at: &Path) -> String {
    job_script("deploy/kubernetes/base/shards-job.yaml", &["/config/", "/profile/", "/secrets/", "/results/"], at)
}

/// A folder on PATH with `replay` (the one built) and a stand-in `kubectl` answering from `STUB_*`.
fn bin_dir(at: &Path) -> PathBuf {
    let bin = at.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_replay"), bin.join("replay")).unwrap();
    let stub = r#"#!/bin/sh
echo "$*" >> "$STUB_DIR/calls"
case "$*" in
  *"create configmap"*) echo "apiVersion: v1"; echo "kind: ConfigMap" ;;
  "apply -f -") cat > /dev/null ;;
  *"get job"*"spec.completions"*) echo "$STUB_SHARDS" ;;
  *"get job"*"conditions"*) printf '%s ' $STUB_STATE ;;
  *"get pods"*"status.phase=Failed"*) printf '%s ' $STUB_FAILED ;;
  *"get pods"*"job-completion-index="*) echo "pod-$(echo "$*" | sed 's/.*job-completion-index=\([0-9]*\).*/\1/')" ;;
  "logs "*) for pod in "$@"; do :; done; cat "$STUB_DIR/$pod.log" ;;
  *) : ;;
esac
"#;
    std::fs::write(bin.join("kubectl"), stub).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("kubectl"), std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn path_with(bin: &Path) -> String {
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}

#[test]
fn the_shards_script_runs_as_written_and_run_sh_collects_merges_and_judges() {
    let rt = crate::run::runtime();
    let (addr, received, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path();
    for sub in ["config", "profile", "secrets", "results", "stub", "work/replay-results/k8s-old/shard-5"] {
        std::fs::create_dir_all(at.join(sub)).unwrap();
    }
    // A stale folder of an earlier run: never merged into this one.
    std::fs::write(at.join("work/replay-results/k8s-old/shard-5/results.json"), "{not results").unwrap();
    let flags = format!(
        // A quarter of the profile's rate: two shards and the example server share the test machine's cores with other tests.
        "# the test's flags, in run-flags' form\n--host\nhttp://{addr}\n\n--duration\n3s\n--rate-scale\n0.25\n--threshold\np99<2s\n--threshold\nerrors<50%\n"
    );
    std::fs::write(at.join("config/run-flags"), &flags).unwrap();
    // The profile as a gzipped ConfigMap key holds it.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, read("deploy/kubernetes/base/profile.json").as_bytes()).unwrap();
    std::fs::write(at.join("profile/profile"), gz.finish().unwrap()).unwrap();
    std::fs::write(at.join("secrets/headers"), "X-Replay-Test: from-the-secret\n").unwrap();
    let bin = bin_dir(at);
    let script = shard_script(at);
    let start_at = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let pods: Vec<_> = (0..2)
        .map(|k| {
            Command::new("sh")
                .args(["-c", &script])
                .env("PATH", path_with(&bin))
                .env("SHARDS", "2")
                .env("START_AT", &start_at)
                .env("RUN_ID", "k8s-test")
                .env("JOB_COMPLETION_INDEX", k.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (k, pod) in pods.into_iter().enumerate() {
        let done = pod.wait_with_output().unwrap();
        assert_eq!(done.status.code(), Some(0), "shard {k}: {}", text(&done.stderr));
        let log = text(&done.stdout);
        assert!(log.contains("----- BEGIN replay results.json.gz base64 -----"), "{log}");
        std::fs::write(at.join(format!("stub/pod-{k}.log")), log).unwrap();
    }
    let got = received.lock().unwrap().clone();
    assert!(got.values().sum::<u64>() > 0, "the shards sent nothing");
    // The kustomization run.sh is pointed at: the test's run-flags in it, the base beside it.
    let kustomization = at.join("k");
    std::fs::create_dir_all(&kustomization).unwrap();
    std::fs::write(kustomization.join("run-flags"), &flags).unwrap();
    let run = Command::new("sh")
        .arg(root().join("deploy/kubernetes/run.sh"))
        .args(["--lead", "0", "--kustomization", kustomization.to_str().unwrap()])
        .current_dir(at.join("work"))
        .env("PATH", path_with(&bin))
        .env("STUB_DIR", at.join("stub"))
        .env("STUB_SHARDS", "2")
        .env("STUB_STATE", "Complete")
        .env("REPLAY_POLL_S", "30")
        .output()
        .unwrap();
    let _ = stop.send(());
    let said = text(&run.stdout) + &text(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{said}");
    let calls = std::fs::read_to_string(at.join("stub/calls")).unwrap();
    let order: Vec<String> = calls.lines().map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(order[..2], ["apply -f", "delete job"], "{calls}");
    // `create configmap … | apply -f -`: the two run together, before the Job is applied.
    let mut piped = order[2..4].to_vec();
    piped.sort();
    assert_eq!(piped, ["apply -f", "create configmap"], "{calls}");
    assert_eq!(calls.lines().nth(4), Some(format!("apply -k {}", kustomization.display()).as_str()), "{calls}");
    // A new folder for this run: the stale one is not in it.
    let runs: Vec<PathBuf> = std::fs::read_dir(at.join("work/replay-results")).unwrap().map(|e| e.unwrap().path()).collect();
    let this = runs.iter().find(|p| !p.ends_with("k8s-old")).expect("a folder of this run");
    let merged: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(this.join("merged.json")).unwrap()).unwrap();
    let shard = |k: usize| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(this.join(format!("shard-{k}/results.json"))).unwrap()).unwrap()
    };
    let sent = |r: &serde_json::Value| r["totals"]["requests"].as_u64().unwrap();
    assert_eq!(sent(&merged), sent(&shard(0)) + sent(&shard(1)));
    assert_eq!(merged["run_id"], "k8s-test");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(this.join("report/results.json")).unwrap()).unwrap();
    let judged: Vec<&str> = report["verdict"]["thresholds"].as_array().unwrap().iter().map(|t| t["threshold"].as_str().unwrap()).collect();
    assert_eq!(judged, ["p99<2s", "errors<50%"], "run-flags' thresholds judge the merged run");
    assert!(this.join("report/junit.xml").exists());
}

#[test]
fn run_sh_returns_at_once_when_a_shard_failed_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path();
    std::fs::create_dir_all(at.join("stub")).unwrap();
    let bin = bin_dir(at);
    let started = std::time::Instant::now();
    let run = Command::new("sh")
        .arg(root().join("deploy/kubernetes/run.sh"))
        .args(["--lead", "0", "--out", at.join("out").to_str().unwrap()])
        .env("PATH", path_with(&bin))
        .env("STUB_DIR", at.join("stub"))
        .env("STUB_SHARDS", "4")
        .env("STUB_STATE", "FailureTarget Failed")
        .env("STUB_FAILED", "2")
        .env("REPLAY_POLL_S", "600")
        .output()
        .unwrap();
    let said = text(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "{said}");
    assert!(said.contains("shard 2/4 failed"), "{said}");
    assert!(said.contains("--run-id k8s-"), "{said}");
    // It did not sit out a poll interval, let alone a day.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    // An unknown argument is bad usage.
    let bad =
        Command::new("sh").arg(root().join("deploy/kubernetes/run.sh")).arg("--sharts").env("PATH", path_with(&bin)).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn run_flags_read_as_replay_reads_them_and_the_dockerfile_runs_as_documented() {
    let flags: Vec<String> =
        read("deploy/kubernetes/base/run-flags").lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect();
    let mut args = vec!["plan".to_owned(), "deploy/kubernetes/base/profile.json".to_owned()];
    args.extend(flags);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = replay(&args, b"");
    assert_eq!(out.status.code(), Some(0), "run-flags as the shards pass them: {}", text(&out.stderr));
    for forbidden in ["--shard", "--start-at", "--run-id", "--out"] {
        assert!(!args.contains(&forbidden), "{forbidden} is the Job's and run.sh's to set");
    }
    let dockerfile = read("Dockerfile");
    let stages = dockerfile.lines().filter(|l| l.starts_with("FROM ")).count();
    assert_eq!(stages, 2, "a build stage and a runtime stage");
    // The image's binary is the release build with profile-guided optimisation, from the locked dependencies.
    assert!(dockerfile.contains("rustup component add llvm-tools") && dockerfile.contains("deploy/build-release.sh"));
    let build = read("deploy/build-release.sh");
    assert!(build.contains("-Cprofile-generate=") && build.contains("-Cprofile-use=") && build.contains("cargo build --release --locked"));
    assert!(
        build.contains("demo --duration 5s $http2") && build.contains("for http2 in \"\" --http2"),
        "the run engine is trained over HTTP/1.1 and h2c"
    );
    assert!(dockerfile.contains("USER 10001") && dockerfile.contains("ENTRYPOINT [\"replay\"]") && dockerfile.contains("COPY profiles"));
    assert!(!dockerfile.contains("HEALTHCHECK"));
    // The documented `docker run` writes its results as the caller, into the caller's folder.
    let example = dockerfile.lines().find(|l| l.contains("docker run")).unwrap();
    assert!(example.contains("--user \"$(id -u):$(id -g)\"") && example.contains("-v \"$PWD:/work\" -w /work"), "{example}");
}

#[test]
#[cfg_attr(
    not(has_docker),
    ignore = "no container engine answers here (docker info): the image was not built; its Dockerfile is checked above"
)]
fn the_image_builds_is_small_and_prints_help_as_its_default() {
    let tag = "replay-test:ci";
    let build = Command::new("docker").args(["build", "-q", "-t", tag, "."]).current_dir(root()).output().unwrap();
    assert!(build.status.success(), "{}", text(&build.stderr));
    let help = Command::new("docker").args(["run", "--rm", tag]).output().unwrap();
    assert!(help.status.success() && text(&help.stdout).contains("Usage: replay"), "{}", text(&help.stderr));
    let size = Command::new("docker").args(["image", "inspect", tag, "--format", "{{.Size}}"]).output().unwrap();
    let bytes: u64 = text(&size.stdout).trim().parse().unwrap();
    eprintln!("the image is {} MB", bytes >> 20);
    assert!(bytes < 200 << 20, "the image is {} MB", bytes >> 20);
    // gzip and base64, which the shards' script uses, are in it.
    let tools = Command::new("docker").args(["run", "--rm", "--entrypoint", "sh", tag, "-c", "command -v gzip base64"]).output().unwrap();
    assert!(tools.status.success(), "{}", text(&tools.stdout));
}

#[test]
fn the_derive_jobs_script_runs_as_written_and_derive_sh_merges_the_pods_partials() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path();
    for sub in ["inputs", "config", "logs", "stub"] {
        std::fs::create_dir_all(at.join(sub)).unwrap();
    }
    // Five hourly files of one generated day; the fourth is an object fetched by FETCH.
    let day = crate::partials::generated_day(25_000);
    let files: Vec<PathBuf> = day
        .chunks(5_000)
        .enumerate()
        .map(|(i, lines)| {
            let path = at.join(format!("logs/access-{i}.log"));
            std::fs::write(&path, lines.join(&b'\n')).unwrap();
            path
        })
        .collect();
    let inputs: Vec<String> =
        files.iter().enumerate().map(|(i, f)| if i == 3 { format!("file://{}", f.display()) } else { f.display().to_string() }).collect();
    std::fs::write(at.join("inputs/inputs"), format!("# the test's inputs, in time order\n{}\n\n", inputs.join("\n"))).unwrap();
    let format = crate::partials::GENERATED_FORMAT;
    std::fs::write(at.join("config/derive-flags"), format!("--format\n{format}\n# a comment\n--session-gap\n30m\n")).unwrap();
    // The shipped derive-flags read as replay's parser reads them.
    let shipped: Vec<String> =
        read("deploy/kubernetes/derive/derive-flags").lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect();
    let args = ["replay", "derive", "--partial"].into_iter().map(str::to_owned).chain(shipped).chain(["x.log".to_owned()]);
    replay::cli::try_parse_from(args).unwrap_or_else(|e| panic!("derive-flags: {e}"));
    let bin = bin_dir(at);
    // Three pods for five inputs: shares of one, two and two lines.
    for k in 0..3 {
        let work = at.join(format!("pod-{k}"));
        std::fs::create_dir_all(work.join("work")).unwrap();
        let script = job_script("deploy/kubernetes/derive/derive-job.yaml", &["/inputs/", "/config/", "/work/"], at)
            .replace(&format!("{}/work/", at.display()), &format!("{}/work/", work.display()));
        let pod = Command::new("sh")
            .args(["-c", &script])
            .env("PATH", path_with(&bin))
            .env("SHARDS", "3")
            .env("JOB_COMPLETION_INDEX", k.to_string())
            .env("FETCH", r#"cat "${1#file://}""#)
            .output()
            .unwrap();
        let log = text(&pod.stdout);
        assert_eq!(pod.status.code(), Some(0), "pod {k}: {}{log}", text(&pod.stderr));
        assert!(log.contains("----- BEGIN replay partial.json.gz base64 -----"), "{log}");
        std::fs::write(at.join(format!("stub/pod-{k}.log")), log).unwrap();
    }
    let out = at.join("out");
    let run = Command::new("sh")
        .arg(root().join("deploy/kubernetes/derive.sh"))
        .args(["--out", out.to_str().unwrap()])
        .env("PATH", path_with(&bin))
        .env("STUB_DIR", at.join("stub"))
        .env("STUB_SHARDS", "3")
        .env("STUB_STATE", "Complete")
        .env("REPLAY_POLL_S", "30")
        .output()
        .unwrap();
    let said = text(&run.stdout) + &text(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{said}");
    let calls = std::fs::read_to_string(at.join("stub/calls")).unwrap();
    assert!(calls.contains("apply -k") && calls.contains("delete job -n replay replay-derive"), "{calls}");
    // The merged profile is one derive of the five files, byte for byte but for where the fetched one was kept.
    let merged = std::fs::read_to_string(out.join("profile.json")).unwrap();
    let mut single = replay::derive::DeriveConfig::new(files.iter().map(|f| f.display().to_string()).collect());
    single.format = Some(format.parse().unwrap());
    let single = replay::profile::to_pretty_json(&replay::derive::derive(&single).unwrap().profile);
    let fetched = format!("{}/work/objects/access-3.log", at.join("pod-2").display());
    assert_eq!(merged.replace(&fetched, &files[3].display().to_string()), single, "{said}");
}
