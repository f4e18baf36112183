//! The layering, checked on the source: the core names no domain, and a domain reads
//! another only through what its `needs.rs` declares (the app's `wiring` answers it).

use std::fs;
use std::path::{Path, PathBuf};

/// Each domain's folder, and the chain-state fields (and accessors) that hold its state.
const DOMAINS: [(&str, &[&str]); 9] = [
    ("token", &[]),
    ("brand", &["brand"]),
    ("alliance", &["alliance"]),
    ("anchor", &["anchors"]),
    ("exchange", &["exchange", "desk", "inventory"]),
    ("membership", &["membership"]),
    ("tokenomics", &["tokenomics", "roles"]),
    ("producers", &["producers"]),
    ("bridge", &["bridge"]),
];

/// The core: primitives, the ledger, and the envelope (transactions, blocks, the pool).
const CORE: [&str; 8] = [
    "amount.rs",
    "ids.rs",
    "keys.rs",
    "hash.rs",
    "codec.rs",
    "merkle.rs",
    "ledger",
    "envelope",
];

/// The app layer, which the core never names.
const APP: [&str; 8] = [
    "state", "tx", "error", "genesis", "chain", "mempool", "block", "wiring",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut out: Vec<PathBuf> = (fs::read_dir(path).expect("a source folder"))
        .map(|e| e.expect("a source entry").path())
        .flat_map(|p| files(&p))
        .collect();
    out.sort();
    out
}

/// Where `text` names `needle` as a whole word (`self.brand` but not `self.brand_token`).
fn names(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(i, _)| {
        let next = text[i + needle.len()..].chars().next();
        !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

fn problems_in(file: &Path, forbidden: &[String]) -> Vec<String> {
    let text = fs::read_to_string(file).expect("a readable source file");
    // A method chain split over lines reads as one: `self\n    .brand` is `self.brand`.
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let text = lines.join("\n").replace("\n.", ".");
    let found = forbidden
        .iter()
        .filter(|f| f.ends_with('(') && text.contains(f.as_str()) || names(&text, f));
    let shown = file
        .strip_prefix(src())
        .unwrap_or(file)
        .display()
        .to_string();
    found.map(|f| format!("{shown} names {f}")).collect()
}

#[test]
fn the_core_names_no_domain_and_no_app() {
    let named = DOMAINS.iter().map(|(d, _)| *d).chain(APP);
    let forbidden: Vec<String> = named.map(|d| format!("crate::{d}")).collect();
    let problems: Vec<String> = (CORE.iter())
        .flat_map(|c| files(&src().join(c)))
        .flat_map(|f| problems_in(&f, &forbidden))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The chain-state methods a domain's rules define (its rules are `impl ChainState`).
fn rule_methods(domain: &str) -> Vec<String> {
    let text = fs::read_to_string(src().join(domain).join("rules.rs")).unwrap_or_default();
    let defined = text.split("fn ").skip(1);
    let name = |s: &str| s.split(['(', '<']).next().unwrap_or_default().to_owned();
    defined.map(name).filter(|n| !n.is_empty()).collect()
}

#[test]
fn a_domain_reads_another_only_through_its_needs() {
    let mut problems = Vec::new();
    for (domain, _) in DOMAINS {
        let others = DOMAINS.iter().filter(|(d, _)| *d != domain);
        let mut forbidden: Vec<String> = vec!["crate::wiring".into()];
        for (other, fields) in others {
            forbidden.push(format!("crate::{other}"));
            forbidden.extend(fields.iter().map(|f| format!("self.{f}")));
            let methods = rule_methods(other).into_iter();
            forbidden.extend(methods.map(|m| format!("self.{m}(")));
        }
        let declared = |f: &PathBuf| f.file_name().is_some_and(|n| n == "needs.rs");
        for file in files(&src().join(domain)).iter().filter(|f| !declared(f)) {
            problems.extend(problems_in(file, &forbidden));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_check_finds_what_it_forbids() {
    assert!(names("let b = self.brand;", "self.brand"));
    assert!(names("use crate::exchange::Fill;", "crate::exchange"));
    assert!(!names("self.brand_token()", "self.brand"));
    assert!(!names("crate::exchanges", "crate::exchange"));
}
