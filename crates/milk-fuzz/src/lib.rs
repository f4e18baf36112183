//! The fuzz targets' bodies. Each takes any bytes and panics only when the code under test
//! breaks a property that must hold for every input: a decoder that panics, accepts bytes
//! that do not encode back to themselves (two encodings of one transaction would be two
//! ids), a rule that changes state when it refuses or lets money appear, a request body that
//! does not read back as it was written.
//!
//! `fuzz/` (cargo fuzz, libFuzzer) runs them for coverage-guided search; this crate's test
//! replays every input of `fuzz/corpus/<target>/`, so what the fuzzer once found is checked
//! by `cargo test` for good. [`TARGETS`] names them all.

mod codec;
mod json;
mod rules;

pub use codec::{block, export, raw_blocks, transaction};
pub use json::{genesis, requests};
pub use rules::actions;

/// A target: any bytes in, a panic only for a broken property.
pub type Target = fn(&[u8]);

/// Every target by its name in `fuzz/fuzz_targets/` and `fuzz/corpus/`.
pub const TARGETS: [(&str, Target); 7] = [
    ("transaction", transaction),
    ("block", block),
    ("raw_blocks", raw_blocks),
    ("export", export),
    ("actions", actions),
    ("requests", requests),
    ("genesis", genesis),
];
