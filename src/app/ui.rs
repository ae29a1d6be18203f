//! The web view's commands: `--ui` on `run` and `demo` (a page watching
//! the one run), and `replay ui` (a page that starts runs of the profiles
//! it was given, one at a time, each into its own folder, and stops them).
//! A run started from the page is the command line's run: the form becomes
//! `replay run` flags and goes through the same parser and checks.

use super::run::{Judging, default_run_id, plan_facts, prepare_out, replay, runtime};
use super::watch::Watching;
use crate::Exit;
use crate::cli::{Command, RunRequest, UiArgs};
use crate::report::json::PlanFacts;
use crate::ui::control::{Choices, Control, Form, StartError};
use crate::ui::feed::Feed;
use crate::ui::live::production_curve;
use crate::ui::{UiOptions, UiServer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Serves a page watching one run (`run --ui`, `demo --ui`) and says where it is.
pub fn watch_one(
    options: &UiOptions,
    profile: Option<&crate::profile::Profile>,
    facts: &PlanFacts,
    source: &Path,
) -> anyhow::Result<(UiServer, Watching)> {
    let feed = Feed::new();
    let server = UiServer::start(options, Arc::clone(&feed), None)?;
    eprintln!("replay: watch it live at {} (it closes when the run ends)", server.url);
    let production = profile.and_then(|p| production_curve(p, facts));
    Ok((server, Watching { feed, production, profile: source.display().to_string(), stop: None }))
}

/// The run going, and how to stop it.
struct Going {
    run_id: String,
    /// Its number among the server's runs.
    number: usize,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: std::thread::JoinHandle<anyhow::Result<Exit>>,
}

/// `replay ui`'s side of the page: its profiles, where results go, and the run going.
struct Runs {
    profiles: Vec<PathBuf>,
    host: Option<String>,
    /// `--header`, `--var`… for every run; never sent to the page.
    run_flags: Vec<String>,
    out: PathBuf,
    feed: Arc<Feed>,
    going: Mutex<Option<Going>>,
}

/// clap's message without its usage lines, for the page.
fn first_paragraph(message: &str) -> String {
    message.split("\n\n").next().unwrap_or(message).trim().trim_start_matches("error: ").to_owned()
}

impl Runs {
    /// The form as the command line `replay COMMAND` would read it.
    fn request(&self, form: &Form, command: &str, out: Option<&Path>) -> Result<RunRequest, String> {
        let profile = self.profiles.get(form.profile).ok_or_else(|| format!("profile: there is no profile #{}", form.profile))?;
        let mut args = vec!["replay".to_owned(), command.to_owned(), profile.display().to_string()];
        let mut flags = form.flags()?;
        // The page shows the target without credentials: the one it was given stands for itself.
        if let (Some(given), Some(at)) = (&self.host, flags.iter().position(|f| f == "--host"))
            && flags.get(at + 1).is_some_and(|shown| *shown == shown_host(given))
        {
            flags[at + 1] = given.clone();
        }
        args.extend(flags);
        args.extend(self.run_flags.iter().cloned());
        if let Some(out) = out {
            args.extend(["--out".to_owned(), out.display().to_string()]);
        }
        match crate::cli::try_parse_from(args) {
            Ok(Command::Run { request, .. } | Command::Plan { request }) => Ok(request),
            Ok(_) => Err("not a run".to_owned()),
            Err(e) => Err(first_paragraph(&e)),
        }
    }

    fn busy(&self) -> Option<String> {
        let mut going = self.going.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A run whose results are out is over, though its thread may take a moment more to end.
        let latest = self.feed.latest();
        let published = |g: &Going| latest.snapshot.phase == crate::ui::live::Phase::Done && latest.snapshot.run_number == Some(g.number);
        if going.as_ref().is_some_and(|g| published(g) || g.thread.is_finished())
            && let Some(done) = going.take()
        {
            let _ = done.thread.join();
        }
        going.as_ref().map(|g| g.run_id.clone())
    }
}

/// A URL as the page may show it: without credentials.
fn shown_host(url: &str) -> String {
    url.parse::<hyper::Uri>().map(|u| crate::client::display_url(&u)).unwrap_or_else(|_| "(not a URL)".to_owned())
}

impl Control for Runs {
    fn choices(&self) -> Choices {
        Choices { profiles: self.profiles.iter().map(|p| p.display().to_string()).collect(), host: self.host.as_deref().map(shown_host) }
    }

    fn plan(&self, form: &Form) -> Result<String, String> {
        let request = self.request(form, "plan", None)?;
        let mut out = Vec::new();
        super::plan::plan_command(request, &mut out).map_err(|e| format!("{e:#}"))?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn start(&self, form: &Form) -> Result<String, StartError> {
        if let Some(run_id) = self.busy() {
            return Err(StartError::Busy(run_id));
        }
        let number = self.feed.next_number();
        let folder = format!("{}-{number}", chrono::Utc::now().format("%Y-%m-%dT%H-%M-%SZ"));
        let mut request = self.request(form, "run", Some(&self.out.join(folder))).map_err(StartError::Invalid)?;
        let invalid = |e: anyhow::Error| StartError::Invalid(format!("{e:#}"));
        let source = super::source::open(&mut request).map_err(invalid)?;
        let planned = crate::plan::build(source.as_ref(), &request.plan).map_err(|e| invalid(e.into()))?;
        let thresholds = super::source::thresholds(source.as_ref(), &request, &planned.catalog).map_err(invalid)?;
        let out = prepare_out(request.out.as_deref(), false).map_err(invalid)?;
        let facts = plan_facts(&request.source.display().to_string(), &request.plan, &request.run, &planned);
        let run_id = default_run_id(&facts, None);
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let watching = Watching {
            feed: Arc::clone(&self.feed),
            production: source.profile().and_then(|p| production_curve(p, &facts)),
            profile: request.source.display().to_string(),
            stop: Some(stopped),
        };
        let target = crate::client::display_url(&request.run.client.base);
        let judging = Judging { thresholds, abort_on_fail: request.abort_on_fail, run_id: run_id.clone() };
        let mut going = self.going.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(g) = going.as_ref() {
            return Err(StartError::Busy(g.run_id.clone()));
        }
        let config = request.run;
        let thread = std::thread::Builder::new()
            .name("replay-run".into())
            .spawn(move || {
                let runtime = runtime()?;
                Ok(replay(&runtime, planned, config, &target, &out, facts, judging, Some(watching))?.1)
            })
            .map_err(|e| StartError::Invalid(format!("cannot start the run: {e}")))?;
        eprintln!("replay: run {run_id} started from the web view");
        *going = Some(Going { run_id: run_id.clone(), number, stop: Some(stop), thread });
        Ok(run_id)
    }

    fn stop(&self) -> bool {
        let mut going = self.going.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match going.as_mut().filter(|g| !g.thread.is_finished()).and_then(|g| g.stop.take()) {
            Some(stop) => stop.send(()).is_ok(),
            None => false,
        }
    }
}

/// `replay ui`: serves the page until Ctrl-C, which also stops the run going (its partial results written).
pub fn ui_command(args: UiArgs) -> anyhow::Result<Exit> {
    // Every profile, and the flags for every run, are checked now, not at the first Start.
    for profile in &args.profiles {
        crate::plan::open(profile, false, &Default::default())?;
    }
    let first = args.profiles.first().ok_or_else(|| anyhow::anyhow!("give at least one profile for the page to start"))?;
    let probe_host = args.host.clone().unwrap_or_else(|| "http://127.0.0.1:9".to_owned());
    let mut probe = vec!["replay".to_owned(), "plan".to_owned(), first.display().to_string(), "--host".to_owned(), probe_host];
    probe.extend(args.run_flags());
    crate::cli::try_parse_from(probe).map_err(|e| anyhow::anyhow!("{}", first_paragraph(&e)))?;
    let feed = Feed::new();
    let runs = Arc::new(Runs {
        profiles: args.profiles.clone(),
        host: args.host.clone(),
        run_flags: args.run_flags(),
        out: args.out.clone(),
        feed: Arc::clone(&feed),
        going: Mutex::new(None),
    });
    let options = UiOptions { addr: args.listen, token: args.ui_token.clone() };
    let server = UiServer::start(&options, feed, Some(Arc::clone(&runs) as Arc<dyn Control>))?;
    eprintln!("replay: the web view is at {} (Ctrl-C stops it)", server.url);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        super::run::interrupted()?.await;
        anyhow::Ok(())
    })?;
    eprintln!("replay: stopping");
    // A run that is over already does not decide how the server exits.
    let _ = runs.busy();
    let going = runs.going.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    drop(server);
    let Some(mut going) = going else { return Ok(Exit::Ok) };
    if let Some(stop) = going.stop.take() {
        let _ = stop.send(());
    }
    match going.thread.join() {
        Ok(Ok(Exit::Ok | Exit::ThresholdsFailed)) => Ok(Exit::Ok),
        Ok(Ok(exit)) => Ok(exit),
        Ok(Err(e)) => Err(e),
        Err(_) => Ok(Exit::Internal),
    }
}
