//! Making blocks and checking them: the two halves of the chain rules.

use crate::block::{Block, BlockHeader, MAX_BLOCK_TXS};
use crate::genesis::Genesis;
use crate::keys::Keypair;
use crate::mempool::Mempool;
use crate::state::{ChainState, StateDelta, TxError, state_root};
use crate::tx::{self, TxId};
use crate::{Address, ChainId, Hash};
use thiserror::Error;

/// A block just made, with what it changed.
#[derive(Debug)]
pub struct Produced {
    /// The sealed block.
    pub block: Block,
    /// The state entries it changed, to persist with it.
    pub delta: StateDelta,
    /// The ids of the block's transactions, in order (already computed; hashing is not free).
    pub ids: Vec<TxId>,
}

/// Makes the next block from the pool, if any transaction applies.
///
/// The block's time is `now_ms`, or the parent's if the clock went back, so block times never
/// decrease. Transactions that can never apply are dropped from the pool and returned with
/// their reason either way.
pub fn produce(
    state: &mut ChainState,
    mempool: &mut Mempool,
    parent: &BlockHeader,
    now_ms: u64,
    producer: &Keypair,
    max_txs: usize,
) -> (Option<Produced>, Vec<(TxId, TxError)>) {
    let time_ms = now_ms.max(parent.time_ms);
    let max_txs = max_txs.min(MAX_BLOCK_TXS as usize);
    let selection = mempool.select(state, time_ms, max_txs);
    if selection.applied.is_empty() {
        return (None, selection.rejected);
    }
    let delta = state.take_delta();
    let ids: Vec<TxId> = selection.applied.iter().map(tx::VerifiedTx::id).collect();
    let txs: Vec<_> = selection
        .applied
        .into_iter()
        .map(tx::VerifiedTx::into_signed)
        .collect();
    let header = BlockHeader {
        chain: state.chain().clone(),
        height: parent.height + 1,
        prev_hash: parent.hash(),
        time_ms,
        tx_count: txs.len() as u32,
        tx_root: crate::merkle::root(&txs.iter().map(crate::block::leaf_of).collect::<Vec<_>>()),
        state_root: state_root(&parent.state_root, parent.height + 1, &delta),
        producer: producer.address(),
    };
    let block = Block::seal(header, txs, producer);
    (Some(Produced { block, delta, ids }), selection.rejected)
}

/// Why a block does not follow from its parent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlockError {
    /// The genesis block differs from the one the genesis file defines.
    #[error("genesis block does not match the genesis file")]
    GenesisMismatch,
    /// The block names another chain.
    #[error("block is for chain {0}")]
    WrongChain(ChainId),
    /// The height does not follow the parent's.
    #[error("height {got}, expected {expected}")]
    WrongHeight {
        /// The parent's height plus one.
        expected: u64,
        /// The block's.
        got: u64,
    },
    /// The parent hash is not the parent's hash.
    #[error("previous hash does not match the parent block")]
    PrevHashMismatch,
    /// Time went back.
    #[error("time {got} is before the parent's {parent}")]
    TimeWentBack {
        /// The parent's time.
        parent: u64,
        /// The block's.
        got: u64,
    },
    /// Signed by a key outside the chain's producer set.
    #[error("producer {got} is not in the chain's producer set")]
    WrongProducer {
        /// The key named.
        got: Address,
    },
    /// The producer's signature is invalid.
    #[error("producer signature is invalid")]
    BadSignature,
    /// The header's count differs from the transactions present.
    #[error("header says {header} transactions, block has {actual}")]
    TxCountMismatch {
        /// The header's count.
        header: u32,
        /// The transactions present.
        actual: usize,
    },
    /// The Merkle root does not match the transactions.
    #[error("transaction Merkle root does not match")]
    TxRootMismatch,
    /// A transaction's signature, or an address it names, is invalid.
    #[error("transaction {index}: {reason}")]
    InvalidTx {
        /// Its position in the block.
        index: usize,
        /// What is wrong.
        reason: tx::VerifyError,
    },
    /// A transaction does not apply to the state.
    #[error("transaction {index} does not apply: {error}")]
    TxRejected {
        /// Its position in the block.
        index: usize,
        /// Why.
        error: TxError,
    },
    /// The state after the block differs from the header's commitment.
    #[error("state root does not match the replayed state")]
    StateRootMismatch,
}

/// Replays a chain from genesis, checking every block against the rules.
#[derive(Debug)]
pub struct Verifier {
    state: ChainState,
    head: BlockHeader,
}

impl Verifier {
    /// Starts at `chain`'s genesis, checking that `genesis_block` is the one the file defines.
    pub fn start(
        genesis: &Genesis,
        chain: &ChainId,
        genesis_block: &Block,
    ) -> Result<Verifier, String> {
        let spec = genesis
            .chain(chain)
            .ok_or_else(|| format!("genesis has no chain {chain}"))?;
        let (expected, state) = genesis.genesis_block(spec)?;
        if &expected != genesis_block {
            return Err(BlockError::GenesisMismatch.to_string());
        }
        Ok(Verifier {
            state,
            head: expected.header,
        })
    }

    /// The last block checked.
    pub fn head(&self) -> &BlockHeader {
        &self.head
    }

    /// The state after the last block checked.
    pub fn state(&self) -> &ChainState {
        &self.state
    }

    /// Checks the next block and applies it. On error the verifier must not be used again.
    pub fn apply(&mut self, block: &Block) -> Result<(), BlockError> {
        follow(&mut self.state, &self.head, block)?;
        self.head = block.header.clone();
        Ok(())
    }
}

/// Checks that `block` follows `parent` under the chain's rules (signed by a key of the
/// producer set in `state`, the parent's state; every transaction valid and applying to `state`, the state root as replayed) and applies it to
/// `state`, returning what it changed. A replica applies its leader's blocks this way. On
/// error `state` may be partly changed and must be reloaded before further use.
pub fn follow(
    state: &mut ChainState,
    parent: &BlockHeader,
    block: &Block,
) -> Result<StateDelta, BlockError> {
    let h = &block.header;
    if !state.producers().allows(&h.producer) {
        return Err(BlockError::WrongProducer { got: h.producer });
    }
    check_link(parent, block)?;
    let verified = tx::verify_batch(block.txs.clone(), crate::keys::decompress);
    for (index, v) in verified.into_iter().enumerate() {
        let v = v.map_err(|(_, reason)| BlockError::InvalidTx { index, reason })?;
        state
            .apply(v.tx(), h.time_ms)
            .map_err(|error| BlockError::TxRejected { index, error })?;
    }
    let delta = state.take_delta();
    if state_root(&parent.state_root, h.height, &delta) != h.state_root {
        return Err(BlockError::StateRootMismatch);
    }
    Ok(delta)
}

/// The header's checks: chain, height, parent, time, signature and the transactions' root.
fn check_link(parent: &BlockHeader, block: &Block) -> Result<(), BlockError> {
    let h = &block.header;
    if h.chain != parent.chain {
        return Err(BlockError::WrongChain(h.chain.clone()));
    }
    if h.height != parent.height + 1 {
        return Err(BlockError::WrongHeight {
            expected: parent.height + 1,
            got: h.height,
        });
    }
    if h.prev_hash != parent.hash() {
        return Err(BlockError::PrevHashMismatch);
    }
    if h.time_ms < parent.time_ms {
        return Err(BlockError::TimeWentBack {
            parent: parent.time_ms,
            got: h.time_ms,
        });
    }
    if !block.signature_valid() {
        return Err(BlockError::BadSignature);
    }
    if h.tx_count as usize != block.txs.len() {
        return Err(BlockError::TxCountMismatch {
            header: h.tx_count,
            actual: block.txs.len(),
        });
    }
    if block.computed_tx_root() != h.tx_root {
        return Err(BlockError::TxRootMismatch);
    }
    Ok(())
}

/// The hash a chain's genesis block must have.
pub fn genesis_hash(genesis: &Genesis, chain: &ChainId) -> Option<Hash> {
    let spec = genesis.chain(chain)?;
    genesis.genesis_block(spec).ok().map(|(b, _)| b.hash())
}
