//! Blocks: an ordered batch of transactions with a signed header that links to its parent.

use super::{MAX_TX_BYTES, SignedTransaction};
use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use crate::keys::{self, Address, Keypair, Signature};
use crate::merkle::{self, Proof};
use crate::{ChainId, Hash};
use serde::{Deserialize, Serialize};

/// The most transactions one block may hold, counted by weight (a batch counts its items).
pub const MAX_BLOCK_TXS: u32 = 20_000;
/// The most bytes of transactions one block may hold: as many ordinary transactions of the
/// longest kind (a batch's items are shorter than that).
pub const MAX_BLOCK_BYTES: usize = MAX_BLOCK_TXS as usize * MAX_TX_BYTES;

/// A block's header: everything that is hashed and signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    /// The chain this block belongs to.
    pub chain: ChainId,
    /// 0 for genesis, then one more than the parent.
    pub height: u64,
    /// The parent's hash ([`Hash::ZERO`] for genesis).
    pub prev_hash: Hash,
    /// When the block was made, Unix milliseconds; never before the parent's.
    pub time_ms: u64,
    /// How many transactions the block holds.
    pub tx_count: u32,
    /// The Merkle root of the transactions' leaf hashes ([`leaf_of`]).
    pub tx_root: Hash,
    /// The commitment to the chain state after this block (see `state::StateRoot`).
    pub state_root: Hash,
    /// Who made and signed the block.
    pub producer: Address,
}

impl BlockHeader {
    /// The block hash: the domain-separated hash of the header, and what the producer signs.
    pub fn hash(&self) -> Hash {
        Hash::domain("milk/block/v1", &[&self.to_bytes()])
    }
}

impl Encode for BlockHeader {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.chain)
            .u64(self.height)
            .put(&self.prev_hash)
            .u64(self.time_ms)
            .u32(self.tx_count)
            .put(&self.tx_root)
            .put(&self.state_root)
            .put(&self.producer);
    }
}

impl Decode for BlockHeader {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(BlockHeader {
            chain: r.get()?,
            height: r.u64()?,
            prev_hash: r.get()?,
            time_ms: r.u64()?,
            tx_count: r.u32()?,
            tx_root: r.get()?,
            state_root: r.get()?,
            producer: r.get()?,
        })
    }
}

/// The leaf hash of a transaction in its block's Merkle tree: over the signed encoding, so
/// the tree commits to signatures too.
pub fn leaf_of<A: Encode>(tx: &SignedTransaction<A>) -> Hash {
    merkle::leaf_hash(&tx.to_bytes())
}

/// A header, its producer's signature, and the transactions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block<A> {
    /// The header.
    pub header: BlockHeader,
    /// The producer's signature over the block hash ([`Signature::NONE`] at genesis).
    pub signature: Signature,
    /// The transactions, in the order they were applied.
    pub txs: Vec<SignedTransaction<A>>,
}

impl<A: Encode> Block<A> {
    /// Signs a header made by `producer` and packs the block.
    pub fn seal(header: BlockHeader, txs: Vec<SignedTransaction<A>>, producer: &Keypair) -> Self {
        debug_assert_eq!(header.producer, producer.address());
        let signature = producer.sign(&header.hash().0);
        Block {
            header,
            signature,
            txs,
        }
    }

    /// The block hash.
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    /// The Merkle root the transactions actually have.
    pub fn computed_tx_root(&self) -> Hash {
        let leaves: Vec<Hash> = self.txs.iter().map(leaf_of).collect();
        merkle::root(&leaves)
    }

    /// The inclusion proof of transaction `index`.
    pub fn prove(&self, index: usize) -> Option<Proof> {
        let leaves: Vec<Hash> = self.txs.iter().map(leaf_of).collect();
        merkle::prove(&leaves, index)
    }

    /// Whether the producer's signature is valid (genesis is checked against the genesis
    /// file instead, so it carries none).
    pub fn signature_valid(&self) -> bool {
        // The producer's key is fixed by genesis, which parsed it as text: always usable.
        keys::verify(&self.header.producer, &self.hash().0, &self.signature)
    }
}

impl<A: Encode> Block<A> {
    /// The canonical encoding, in a buffer sized for it up front.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(512 + self.txs.len() * 256);
        self.encode(&mut w);
        w.into_bytes()
    }
}

impl<A: Encode> Encode for Block<A> {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.header).put(&self.signature);
        for tx in &self.txs {
            w.put(tx);
        }
    }
}

impl<A: Decode> Decode for Block<A> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header: BlockHeader = r.get()?;
        let signature = r.get()?;
        if header.tx_count > MAX_BLOCK_TXS {
            return Err(DecodeError::TooLong {
                what: "block",
                len: header.tx_count as usize,
                max: MAX_BLOCK_TXS as usize,
            });
        }
        if r.remaining() > MAX_BLOCK_BYTES {
            return Err(DecodeError::TrailingBytes(r.remaining()));
        }
        let txs = (0..header.tx_count)
            .map(|_| r.get())
            .collect::<Result<_, _>>()?;
        Ok(Block {
            header,
            signature,
            txs,
        })
    }
}
