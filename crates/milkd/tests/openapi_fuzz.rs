//! The OpenAPI document against the node itself: schemathesis, driven by `/openapi.json`,
//! sends generated requests (well-formed and not) to every operation of the demo network's
//! node, as an anonymous caller, as a partner and as the operator, and checks every answer:
//! no server error, every status code and content type documented, every body matching its
//! schema. So a client generated from the document can trust it.
//!
//! Schemathesis comes from PyPI: the one on the `PATH`, or one this test installs (pinned)
//! into a virtual environment under cargo's target directory. `MILK_FUZZ_EXAMPLES` sets the
//! examples per operation and phase (10 here; `MILK_FUZZ_EXAMPLES=200` for a long run).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

const SCHEMATHESIS: &str = "schemathesis==4.32.5";

const CHECKS: &str = "response_schema_conformance,not_a_server_error,status_code_conformance,content_type_conformance";

/// A `schemathesis` that runs: the `PATH`'s, or one installed under the target directory.
fn schemathesis() -> PathBuf {
    let on_path = Command::new("schemathesis").arg("--version").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return PathBuf::from("schemathesis");
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schemathesis-venv");
    let bin = venv.join("bin").join("schemathesis");
    if !bin.exists() {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 runs");
        assert!(made.success(), "python3 -m venv failed");
        let installed = Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet", SCHEMATHESIS])
            .status()
            .expect("pip runs");
        assert!(installed.success(), "pip install {SCHEMATHESIS} failed");
    }
    bin
}

/// Runs schemathesis against `url` with `header`, if any; panics with its report on a failure.
fn fuzz(tool: &Path, url: &str, header: Option<&str>, dir: &Path) {
    let examples = support::env_u64("MILK_FUZZ_EXAMPLES", 10).to_string();
    let mut cmd = Command::new(tool);
    cmd.current_dir(dir)
        .args(["run", &format!("{url}/openapi.json")])
        .args([
            "--checks",
            CHECKS,
            "--max-examples",
            &examples,
            "--seed",
            "1",
        ])
        .env("NO_COLOR", "1");
    if let Some(h) = header {
        cmd.args(["--header", h]);
    }
    let out = cmd.output().expect("schemathesis runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems as {header:?}:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("passed"), "{report}");
}

#[test]
fn every_answer_is_what_the_openapi_document_says() {
    let tool = schemathesis();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut node, url) = support::spawn_milkd([
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    for header in [
        None,
        Some("Authorization: Bearer demo-cinema-token"),
        Some("Authorization: Bearer demo-operator-token"),
    ] {
        fuzz(&tool, &url, header, dir.path());
    }
    node.kill().unwrap();
    node.wait().unwrap();
}
