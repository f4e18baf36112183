//! The chain export file (`milk export`, `milk verify --file`): a JSON header line (the
//! format, the chain, the network's genesis and, for a brand chain, the center chain's
//! evidence about it), then one block per line in its canonical encoding, hex. Anyone may
//! hand one over, so reading one trusts nothing in it: each block is decoded on its own (a
//! line that does not decode is kept as an error naming its block), and each piece of
//! evidence is checked as it is read.

pub mod evidence;

use evidence::{Checked, Evidence};
use milk_core::ChainId;
use milk_core::block::Block;
use milk_core::codec::{Decode, Encode};
use milk_core::genesis::Genesis;
use serde::{Deserialize, Serialize};

/// The format this version reads and writes.
pub const EXPORT_FORMAT: &str = "milk-chain-export/2";

/// The first line of an export file.
#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    chain: ChainId,
    genesis: Genesis,
    /// For a brand chain: the center chain's transactions about it, with their proofs.
    #[serde(default)]
    center: Vec<Evidence>,
}

/// One chain as exported: its genesis, every block, each still to be checked, and the
/// center chain's evidence about it, each piece checked as the file was read.
#[derive(Debug)]
pub struct Export {
    /// The chain.
    pub chain: ChainId,
    /// The network's genesis.
    pub genesis: Genesis,
    /// Every block in order, or why its line does not decode.
    pub blocks: Vec<Result<Block, String>>,
    /// The center chain's evidence, checked.
    pub center: Vec<Checked>,
}

impl Export {
    /// Reads an export file's text.
    pub fn parse(text: &str) -> Result<Export, String> {
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default();
        let header: Header = serde_json::from_str(first).map_err(|e| {
            match first.starts_with("{\"format\":\"milk-chain-export/") {
                true => format!(
                    "its header (line 1: the format, the chain and its genesis) is damaged: {e}"
                ),
                false => format!("it is not a milk chain export: {e}"),
            }
        })?;
        if header.format != EXPORT_FORMAT {
            return Err(format!(
                "it is {:?}, not {EXPORT_FORMAT}: export the chain again",
                header.format
            ));
        }
        let blocks = lines
            .map(|line| {
                let bytes = hex::decode(line.trim()).map_err(|e| format!("is not hex: {e}"))?;
                Block::from_bytes(&bytes).map_err(|e| format!("cannot be decoded: {e}"))
            })
            .collect();
        let center = evidence::check_all(&header.center, &header.genesis.operator)?;
        Ok(Export {
            chain: header.chain,
            genesis: header.genesis,
            blocks,
            center,
        })
    }

    /// A chain's genesis and blocks as an export file's text, with the center chain's
    /// evidence about it.
    pub fn render(
        chain: &ChainId,
        genesis: &Genesis,
        blocks: &[Block],
        center: Vec<Evidence>,
    ) -> String {
        let header = Header {
            format: EXPORT_FORMAT.to_owned(),
            chain: chain.clone(),
            genesis: genesis.clone(),
            center,
        };
        let mut out = serde_json::to_string(&header).expect("a header is plain data");
        out.push('\n');
        for b in blocks {
            out.push_str(&hex::encode(b.to_bytes()));
            out.push('\n');
        }
        out
    }
}
