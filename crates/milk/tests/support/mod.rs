//! What the CLI's tests share: running `milk` as a person does, and reading its answers.

use std::path::Path;
use std::process::{Command, Output};

/// `milk` with `args`, keys under `home`, talking to the node at `node`.
pub fn milk(home: &Path, node: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_milk"))
        .args(args)
        .env("MILK_HOME", home)
        .env("MILK_NODE", node)
        .env("MILK_PASSPHRASE", "test passphrase")
        .output()
        .expect("milk runs")
}

/// What a command that succeeded printed; panics, with its error, if it failed.
pub fn ok(out: Output) -> String {
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// What a command run with `--json` printed, parsed.
pub fn json(out: Output) -> serde_json::Value {
    serde_json::from_str(&ok(out)).unwrap()
}
