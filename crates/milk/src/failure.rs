//! How the CLI fails: one exit-code convention and one error shape for every command.
//!
//! - exit 0: done;
//! - exit 1: refused, with a stable code (by the node, by a chain rule, or a trade that did
//!   not fill);
//! - exit 2: a usage error, bad input caught before anything was sent, or a node that
//!   could not be reached.
//!
//! With `--json` the error is printed on standard output as
//! `{"error": {"code": "…", "message": "…"}}`, the shape the node's own errors have;
//! otherwise as `error: <message> (<code>)` on standard error.

use serde_json::json;

/// A refusal with its stable code.
#[derive(Debug)]
pub struct Refused {
    /// The stable machine-readable code (`insufficient_funds`, `limit_missed`, …).
    pub code: String,
    /// What a person reads.
    pub message: String,
}

impl Refused {
    /// A refusal with `code` and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Refused {
        Refused {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Refused {}

/// The node could not be reached (or stopped answering).
#[derive(Debug)]
pub struct Unreachable(pub String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

/// The exit status, code and message for an error.
pub fn classify(e: &anyhow::Error) -> (i32, String, String) {
    if let Some(r) = e.downcast_ref::<Refused>() {
        return (1, r.code.clone(), r.message.clone());
    }
    if let Some(u) = e.downcast_ref::<Unreachable>() {
        return (2, "unreachable".into(), u.0.clone());
    }
    (2, "invalid_input".into(), format!("{e:#}"))
}

/// Prints the error in the chosen shape and returns the exit status.
pub fn report(e: &anyhow::Error, json_mode: bool) -> i32 {
    let (status, code, message) = classify(e);
    if json_mode {
        let body = json!({ "error": { "code": code, "message": message } });
        crate::cmd::emit(&body.to_string());
    } else {
        eprintln!("error: {message} ({code})");
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn each_kind_of_failure_has_its_exit_status_and_code() {
        let refused: anyhow::Result<()> = Err(Refused::new("limit_missed", "not filled").into());
        let refused = refused.context("selling").unwrap_err();
        assert_eq!(
            classify(&refused),
            (1, "limit_missed".into(), "not filled".into())
        );
        let gone = anyhow::Error::new(Unreachable("cannot reach the node".into()));
        assert_eq!(classify(&gone).0, 2);
        assert_eq!(classify(&gone).1, "unreachable");
        let bad = anyhow::anyhow!("give --amount or --mlk");
        assert_eq!(
            classify(&bad),
            (2, "invalid_input".into(), "give --amount or --mlk".into())
        );
    }
}
