//! The wire helpers of the API: binary submission bodies, raw block pages, and hex bodies.

use milk_core::block::Block;
use milk_core::codec::{Decode, Encode, Reader};
use milk_core::tx::SignedTransaction;

/// Decodes a raw-blocks response body.
pub fn decode_raw_blocks(body: &[u8]) -> Result<Vec<Block>, String> {
    let mut r = Reader::new(body);
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let raw = r
            .bytes("block", usize::MAX)
            .map_err(|e| format!("block {}: {e}", out.len()))?;
        out.push(Block::from_bytes(raw).map_err(|e| format!("block {}: {e}", out.len()))?);
    }
    Ok(out)
}

/// Encodes transactions for a binary submission body.
pub fn encode_batch<'a>(txs: impl IntoIterator<Item = &'a SignedTransaction>) -> Vec<u8> {
    let mut out = Vec::new();
    for tx in txs {
        let bytes = tx.to_bytes();
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

/// Hex of a signed transaction, for request bodies.
pub fn tx_hex(tx: &SignedTransaction) -> String {
    hex::encode(tx.to_bytes())
}
