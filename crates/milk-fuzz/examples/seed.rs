//! Seeds the fuzz corpus from real chains: `cargo run -p milk-fuzz --example seed -- <corpus
//! dir> <raw block page>…`, each page as `GET /v1/chains/{chain}/raw-blocks` answers it (with
//! a credential that reads the chain). Every block, transaction and action in them becomes a
//! starting input of its target, with request bodies and the demo genesis. The fuzzer then
//! mutates from there; `fuzz/README.md` has the whole procedure.

use milk_api::wire::{decode_raw_blocks, tx_hex};
use milk_core::ChainId;
use milk_core::block::Block;
use milk_core::codec::Encode;
use milk_core::genesis::{Genesis, demo_key, demo_labels};
use milk_core::hash::Hash;
use std::path::{Path, PathBuf};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((corpus, pages)) = args.split_first() else {
        eprintln!("usage: seed <corpus dir> <raw block page>…");
        std::process::exit(2);
    };
    let corpus = PathBuf::from(corpus);
    let mut written = 0;
    for page in pages {
        let bytes = std::fs::read(page).unwrap_or_else(|e| panic!("{page}: {e}"));
        let blocks = decode_raw_blocks(&bytes).unwrap_or_else(|e| panic!("{page}: {e}"));
        written += seed_blocks(&corpus, &blocks);
    }
    written += seed_fixed(&corpus);
    println!("{written} inputs written under {}", corpus.display());
}

/// Writes `data` as an input of `target`, named by its hash.
fn put(corpus: &Path, target: &str, data: &[u8]) -> usize {
    let dir = corpus.join(target);
    std::fs::create_dir_all(&dir).unwrap();
    let name = Hash::domain("milk/fuzz/seed", &[data]).to_hex();
    std::fs::write(dir.join(&name[..16]), data).unwrap();
    1
}

fn seed_blocks(corpus: &Path, blocks: &[Block]) -> usize {
    let labels = demo_labels();
    let keys: Vec<_> = labels.iter().map(|l| demo_key(l).address()).collect();
    let mut n = 0;
    for page in blocks.chunks(4) {
        let mut bytes = Vec::new();
        for b in page {
            let one = b.to_bytes();
            bytes.extend_from_slice(&(one.len() as u32).to_be_bytes());
            bytes.extend_from_slice(&one);
        }
        n += put(corpus, "raw_blocks", &bytes);
    }
    for block in blocks.iter().filter(|b| !b.txs.is_empty()) {
        n += put(corpus, "block", &block.to_bytes());
        let mut run = Vec::new();
        for tx in &block.txs {
            n += put(corpus, "transaction", &tx.to_bytes());
            let chain = u8::from(tx.tx.chain != ChainId::center());
            let who = keys.iter().position(|k| *k == tx.tx.sender).unwrap_or(0) as u8;
            let mut one = vec![chain, who, 1];
            one.extend_from_slice(&tx.tx.action.to_bytes());
            n += put(corpus, "actions", &one);
            run.extend_from_slice(&one);
            let request = serde_json::json!({ "chain": tx.tx.chain, "action": tx.tx.action });
            n += put(corpus, "requests", &body(1, &request));
            n += put(
                corpus,
                "requests",
                &body(2, &serde_json::json!({ "tx": tx_hex(tx) })),
            );
        }
        n += put(corpus, "actions", &run);
    }
    n
}

fn body(which: u8, json: &serde_json::Value) -> Vec<u8> {
    let mut out = vec![which];
    out.extend_from_slice(json.to_string().as_bytes());
    out
}

/// The request bodies no chain holds, and the demo genesis.
fn seed_fixed(corpus: &Path) -> usize {
    let tx = milk_api::submit::EXAMPLE_TRANSFER;
    let operator = demo_key("operator").address().to_string();
    let bodies = [
        (0, serde_json::json!({ "txs": [tx, "00"] })),
        (3, serde_json::json!({ "txs": [tx, tx] })),
        (4, serde_json::json!({ "tx": tx })),
        (
            5,
            serde_json::json!({ "url": "https://partner.example/hook", "after": "3:0", "warn_days": 30 }),
        ),
        (5, serde_json::json!({ "url": "http://10.0.0.1/hook" })),
        (6, serde_json::json!({ "node": 4 })),
        (7, serde_json::json!({ "nodes": [1, 2, 3] })),
        (8, serde_json::json!({ "producers": [operator] })),
    ];
    let mut n = 0;
    for (which, json) in bodies {
        n += put(corpus, "requests", &body(which, &json));
    }
    let genesis = serde_json::to_vec(&Genesis::demo()).unwrap();
    n += put(corpus, "genesis", &genesis);
    let pretty = serde_json::to_vec_pretty(&Genesis::demo()).unwrap();
    n + put(corpus, "genesis", &pretty)
}
