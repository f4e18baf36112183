//! The README's walkthrough, run as written against the platform its first command starts
//! (the demo network, with its oracle and background traffic): every line of its shell
//! blocks up to the replicated network, in order, with what an earlier line printed where
//! the README says `<…>`. Each must succeed unless its comment names the refusal, and then
//! it exits 1 with that code (2 for input the CLI itself refuses); nothing printed for a person shows base units (an integer of
//! ten digits or more, or the words); the sample webhook receiver gets the partner's events
//! and refuses a forged one; and the node's log has no warning.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const README: &str = include_str!("../../../README.md");

/// Where the walkthrough stops: the replicated network has tests of its own.
const LAST_SECTION: &str = "cargo run --release -p milkd -- --local-net";

/// The README's shell lines in order (continuations joined), up to [`LAST_SECTION`].
fn walkthrough() -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for raw in README.lines() {
        if raw.starts_with("```") {
            in_sh = raw == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        if raw.starts_with(LAST_SECTION) {
            break;
        }
        match raw.strip_suffix('\\') {
            Some(head) => pending += head,
            None => {
                let line = std::mem::take(&mut pending) + raw;
                if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
                    lines.push(line);
                }
            }
        }
    }
    assert!(lines.len() > 50, "the README's walkthrough was not found");
    lines
}

/// A line's command and its comment.
fn split_comment(line: &str) -> (String, String) {
    match line.find(" #") {
        Some(i) => (line[..i].trim().to_owned(), line[i + 2..].trim().to_owned()),
        None => (line.trim().to_owned(), String::new()),
    }
}

/// The refusal a comment names: a snake_case code, or `forbidden`.
fn named_refusal(comment: &str) -> Option<String> {
    let words = comment.split(|c: char| !(c.is_ascii_lowercase() || c == '_'));
    let code = words
        .filter(|w| w.contains('_') && !w.starts_with('_') && !w.ends_with('_'))
        .map(str::to_owned)
        .next();
    code.or_else(|| {
        comment
            .starts_with("forbidden")
            .then(|| "forbidden".to_owned())
    })
}

/// Splits a command into words, keeping double-quoted ones whole.
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Text for a person: no integer of ten digits or more (outside identifiers: hashes,
/// addresses, credentials, a credential's random hex id) and never "base units".
fn for_a_person(text: &str, what: &str) {
    assert!(!text.contains("base units"), "{what}: {text}");
    let lines = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("id: "));
    for word in lines.flat_map(str::split_whitespace) {
        let lettered = word.chars().any(|c| c.is_ascii_alphabetic());
        let hex_id = word.len() >= 16 && word.chars().all(|c| c.is_ascii_hexdigit());
        let identifier = lettered && (word.len() >= 20 || hex_id);
        let longest = (word.split(|c: char| !c.is_ascii_digit()).map(str::len)).max();
        assert!(
            identifier || longest.unwrap_or(0) < 10,
            "{what} prints {word:?}: {text}"
        );
    }
}

/// The value after `label` in `text` (a printed id or secret).
fn printed(text: &str, label: &str) -> Option<String> {
    let at = text.find(label)? + label.len();
    let value: String = (text[at..].trim_start_matches([' ', ':']).chars())
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    (value.len() == 64).then_some(value)
}

/// What earlier lines printed, for the README's `<…>` placeholders.
#[derive(Default)]
struct Printed {
    first_transfer: Option<String>,
    last_transfer: Option<String>,
    last_trade: Option<String>,
    secret: Option<String>,
}

impl Printed {
    fn note(&mut self, command: &str, out: &str) {
        if command.starts_with("milk transfer")
            && let Some(id) = printed(out, "tx ")
        {
            self.first_transfer.get_or_insert(id.clone());
            self.last_transfer = Some(id);
        }
        if let Some(id) = printed(out, "trade ") {
            self.last_trade = Some(id);
        }
        if command.starts_with("milk partner add-webhook") {
            self.secret = printed(out, "secret");
        }
    }

    fn fill(&self, command: &str) -> String {
        let mut filled = command.to_owned();
        for (placeholder, value) in [
            ("<tx id printed by the transfer>", &self.first_transfer),
            ("<its id>", &self.last_transfer),
            ("<trade id printed by sell or buy>", &self.last_trade),
            ("<the secret add-webhook printed>", &self.secret),
        ] {
            if filled.contains(placeholder) {
                let value = value
                    .as_ref()
                    .unwrap_or_else(|| panic!("{placeholder} unknown"));
                filled = filled.replace(placeholder, value);
            }
        }
        assert!(!filled.contains('<'), "an unknown placeholder in {command}");
        filled
    }
}

/// Processes that stop with the test.
struct Stop(Vec<Child>);

impl Drop for Stop {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn milkd_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_milk")).with_file_name("milkd");
    if !path.exists() {
        let built = Command::new(env!("CARGO"))
            .args(["build", "-p", "milkd", "--bin", "milkd"])
            .status()
            .expect("cargo runs");
        assert!(built.success(), "building milkd failed");
    }
    path
}

/// Starts the README's first command: the demo platform, its log in `log`.
fn start_platform(data: &Path, log: &Path) -> (Child, String) {
    let mut child = Command::new(milkd_binary())
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("milkd starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("milkd listening on ")
        .unwrap()
        .to_owned();
    // Keep reading what it prints, so it never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (child, url)
}

/// Waits for the demo network's setup: the bookshop admitted and the oracle's price fresh.
fn wait_for_demo(url: &str) {
    let get = |path: &str| -> serde_json::Value {
        ureq::get(&format!("{url}{path}"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_json().ok())
            .unwrap_or_default()
    };
    let until = Instant::now() + Duration::from_secs(90);
    loop {
        let admitted = get("/v1/alliance").to_string().contains("bookshop");
        let fresh = get("/v1/oracle")["fresh"].as_bool() == Some(true);
        if admitted && fresh {
            return;
        }
        assert!(Instant::now() < until, "the demo network did not get ready");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn free_port() -> u16 {
    milkd::localnet::unused_port().expect("a free loopback port")
}

/// Starts the sample webhook receiver; its events go to `events`.
fn start_receiver(command: &str, port: u16, events: &Path) -> Child {
    let w = words(command);
    let secret = w[0].strip_prefix("MILK_WEBHOOK_SECRET=").unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut child = Command::new("python3")
        .arg(repo.join(&w[2]))
        .args(["--port", &port.to_string()])
        .env("MILK_WEBHOOK_SECRET", secret)
        .stdout(std::fs::File::create(events).unwrap())
        .spawn()
        .expect("python3 runs the sample receiver");
    let until = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "the receiver stopped");
        assert!(Instant::now() < until, "the receiver never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

struct Shell<'a> {
    dir: &'a Path,
    url: String,
    env: HashMap<String, String>,
    printed: Printed,
    port: u16,
}

impl Shell<'_> {
    fn milk(&self, args: &[String]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_milk"))
            .args(args)
            .current_dir(self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("MILK_HOME", self.dir.join("home"))
            .env("MILK_NODE", &self.url)
            .envs(&self.env)
            .output()
            .expect("milk runs")
    }

    /// Runs one `milk` line and checks it did what its comment says.
    fn run(&mut self, command: &str, comment: &str) {
        let filled = self
            .printed
            .fill(command)
            .replace("127.0.0.1:9000", &format!("127.0.0.1:{}", self.port));
        let out = self.milk(&words(&filled)[1..]);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        let what = format!("`{command}`");
        match named_refusal(comment) {
            Some(code) => {
                // Input the CLI itself refuses is a usage error (2); the node's refusals, 1.
                let exit = if code == "invalid_input" { 2 } else { 1 };
                assert_eq!(
                    out.status.code(),
                    Some(exit),
                    "{what} should be refused: {stdout}{stderr}"
                );
                assert!(
                    stderr.contains(&code),
                    "{what} does not say {code}: {stderr}"
                );
            }
            None => assert!(out.status.success(), "{what} failed: {stdout}{stderr}"),
        }
        for_a_person(&format!("{stdout}{stderr}"), &what);
        self.printed.note(command, &stdout);
    }

    /// `export A=1 B=2`, `unset A`, or a `for` loop over `milk` lines.
    fn shell(&mut self, command: &str, comment: &str) -> bool {
        let w = words(command);
        match w[0].as_str() {
            "export" => {
                for pair in &w[1..] {
                    let (k, v) = pair.split_once('=').unwrap();
                    self.env.insert(k.to_owned(), v.to_owned());
                }
            }
            "unset" => {
                for k in &w[1..] {
                    self.env.remove(k);
                }
            }
            "sleep" => {
                // The walkthrough waits for a moment the README names (an exit's final date).
                let secs: u64 = w[1].parse().unwrap();
                std::thread::sleep(Duration::from_secs(secs));
            }
            "for" => {
                let (head, body) = command.split_once("; do ").unwrap();
                let body = body.strip_suffix("; done").unwrap();
                for value in words(head).iter().skip(3) {
                    self.run(&body.replace("$p", value), comment);
                }
            }
            _ => return false,
        }
        true
    }
}

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("milkd.log");
    let (node, url) = start_platform(&dir.path().join("data"), &log);
    let mut running = Stop(vec![node]);
    wait_for_demo(&url);
    let events = dir.path().join("events.jsonl");
    let mut sh = Shell {
        dir: dir.path(),
        url,
        env: HashMap::new(),
        printed: Printed::default(),
        port: free_port(),
    };
    let mut ran = 0;
    for line in walkthrough() {
        let (command, comment) = split_comment(&line);
        if command.starts_with("cargo ") || command.starts_with("alias ") {
            continue; // the platform is running; the tests are running
        }
        if command.starts_with("MILK_WEBHOOK_SECRET=") {
            let filled = sh.printed.fill(&command);
            running.0.push(start_receiver(&filled, sh.port, &events));
            continue;
        }
        if sh.shell(&command, &comment) {
            continue;
        }
        assert!(command.starts_with("milk "), "no way to run `{command}`");
        sh.run(&command, &comment);
        ran += 1;
    }
    assert!(ran > 60, "only {ran} commands ran");
    check_receiver(&events, sh.port);
    let text = std::fs::read_to_string(&log).unwrap();
    let warnings: Vec<&str> = (text.lines())
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .collect();
    assert!(
        warnings.is_empty(),
        "the node's log warns:\n{}",
        warnings.join("\n")
    );
}

/// The receiver printed the cinema chain's events (each once), and refuses a forged one.
fn check_receiver(events: &Path, port: u16) {
    let until = Instant::now() + Duration::from_secs(20);
    let kinds = loop {
        let text = std::fs::read_to_string(events).unwrap_or_default();
        let kinds: Vec<String> = (text.lines())
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["kind"].as_str().map(str::to_owned))
            .collect();
        if kinds.iter().any(|k| k == "conversion") || Instant::now() > until {
            break kinds;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(kinds.iter().any(|k| k == "conversion"), "{kinds:?}");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let forged = ureq::post(&format!("http://127.0.0.1:{port}/milk-events"))
        .header(
            "Milk-Signature",
            &format!("t={now_ms},v1={}", "0".repeat(64)),
        )
        .send("{\"events\": []}");
    assert!(
        matches!(forged, Err(ureq::Error::StatusCode(401))),
        "{forged:?}"
    );
}
