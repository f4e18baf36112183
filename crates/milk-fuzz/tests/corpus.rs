//! Replays every committed fuzz input through its target: the corpus the fuzzer built
//! (`fuzz/corpus/<target>/`, the inputs that reach deepest) and the inputs that once found a
//! bug (`fuzz/regressions/<target>/`, kept apart so that minimizing the corpus never drops
//! them). So what the fuzzer found is checked on every `cargo test`. `fuzz/README.md` says
//! how to run the fuzzer itself.

use std::path::{Path, PathBuf};

fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(kind)
        .join(target);
    match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("{}: {e}", dir.display()),
    }
}

fn replay(name: &str, target: milk_fuzz::Target, paths: &[PathBuf]) {
    for path in paths {
        let data = std::fs::read(path).unwrap();
        let run = std::panic::catch_unwind(|| target(&data));
        assert!(run.is_ok(), "{name}: {} fails", path.display());
    }
}

#[test]
fn every_corpus_input_passes_its_target() {
    for (name, target) in milk_fuzz::TARGETS {
        let corpus = inputs("corpus", name);
        assert!(corpus.len() >= 10, "{name}: only {} inputs", corpus.len());
        replay(name, target, &corpus);
    }
}

#[test]
fn every_input_that_found_a_bug_passes_its_target() {
    let mut found = 0;
    for (name, target) in milk_fuzz::TARGETS {
        let regressions = inputs("regressions", name);
        found += regressions.len();
        replay(name, target, &regressions);
    }
    assert!(found >= 4, "only {found} regression inputs");
}

#[test]
fn every_target_has_a_fuzz_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    for (name, _) in milk_fuzz::TARGETS {
        let source = std::fs::read_to_string(dir.join(format!("{name}.rs")))
            .unwrap_or_else(|e| panic!("fuzz/fuzz_targets/{name}.rs: {e}"));
        assert!(source.contains(&format!("milk_fuzz::{name}(")), "{name}");
    }
}
