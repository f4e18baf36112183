//! The canonical decoder: what a node reads from anyone (a submitted transaction, a peer's
//! block, a page of raw blocks, an export file).

use milk_core::block::Block;
use milk_core::chain::Verifier;
use milk_core::codec::{Decode, Encode};
use milk_core::envelope::Payload;
use milk_core::tx::SignedTransaction;

/// A submitted transaction: decoding never panics; what decodes is within its bounds and
/// encodes back to exactly the input (one transaction, one encoding, one id); checking its
/// signatures never panics and agrees with checking them again.
pub fn transaction(data: &[u8]) {
    let Ok(signed) = SignedTransaction::decode_checked(data) else {
        return;
    };
    assert_eq!(signed.to_bytes(), data, "a second encoding of {signed:?}");
    assert!(data.len() <= signed.tx.action.max_bytes());
    let first = signed.clone().verify().map(|v| v.id()).map_err(|(_, e)| e);
    let again = signed.verify().map(|v| v.id()).map_err(|(_, e)| e);
    assert_eq!(first.is_ok(), again.is_ok());
}

/// A block from a peer or an export file: decoding never panics, and what decodes encodes
/// back to the input; its transactions' Merkle root, its proofs and its seal are
/// computed without panicking.
pub fn block(data: &[u8]) {
    let Ok(block) = Block::from_bytes(data) else {
        return;
    };
    assert_eq!(block.to_bytes(), data, "a second encoding of a block");
    let _root = block.computed_tx_root();
    let _sealed = block.signature_valid();
    for i in 0..block.txs.len() {
        assert!(block.prove(i).is_some(), "no proof for transaction {i}");
    }
}

/// A page of raw blocks (`GET /v1/chains/{chain}/blocks/raw`): never panics, and a page
/// that decodes is re-encoded block by block to the same bytes.
pub fn raw_blocks(data: &[u8]) {
    let Ok(blocks) = milk_api::wire::decode_raw_blocks(data) else {
        return;
    };
    let mut again = Vec::with_capacity(data.len());
    for b in &blocks {
        let bytes = b.to_bytes();
        again.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        again.extend_from_slice(&bytes);
    }
    assert_eq!(
        again,
        data,
        "a second encoding of a page of {} blocks",
        blocks.len()
    );
}

/// An export file, as `milk verify --file` reads it from anyone: reading never panics; every
/// block that decodes encodes back to its line; checking the blocks from the file's own
/// genesis, as verification does, never panics.
pub fn export(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(export) = milk_api::export::Export::parse(text) else {
        return;
    };
    let lines = text.lines().skip(1);
    for (line, block) in lines.zip(&export.blocks) {
        if let Ok(block) = block {
            assert_eq!(
                hex::encode(block.to_bytes()),
                line.trim().to_ascii_lowercase()
            );
        }
    }
    let Some(Ok(first)) = export.blocks.first() else {
        return;
    };
    let Ok(mut verifier) = Verifier::start(&export.genesis, &export.chain, first) else {
        return;
    };
    for block in export.blocks[1..].iter().map_while(|b| b.as_ref().ok()) {
        if verifier.apply(block).is_err() {
            return;
        }
    }
    verifier
        .state()
        .check_conservation()
        .expect("a verified chain conserves supply");
}
