//! One simulated chain: its state, its pool, and its store on a [`SimDisk`]. Blocks are made
//! by the core's `produce`, as a node's worker makes them, and committed as its committer
//! commits them. A commit that fails (the power went, a write failed) restarts the chain
//! from what its disk holds, as a node restarts: the pool is gone, and the state must be
//! exactly the one before the block or, if the commit reached the platter, the one after.

use milk_core::block::Block;
use milk_core::chain;
use milk_core::codec::Decode;
use milk_core::error::LedgerError;
use milk_core::genesis::{ChainSpec, Genesis};
use milk_core::mempool::{Mempool, PoolLimits, Share};
use milk_core::state::{ChainState, TxError};
use milk_core::tx::VerifiedTx;
use milk_core::{ChainId, Keypair};
use milk_store::simdisk::SimDisk;
use milk_store::{ChainStore, RedbStore};

/// A chain, its pool and its store.
pub struct SimChain {
    genesis: Genesis,
    spec: ChainSpec,
    producer: Keypair,
    /// The state as of the last block (committed, or being committed).
    pub state: ChainState,
    head: Block,
    pool: Mempool,
    disk: SimDisk,
    store: RedbStore,
}

/// What sealing a block did.
pub enum Sealed {
    /// Nothing applied: no block.
    Nothing,
    /// A block, committed.
    Committed(Block),
    /// The commit failed and the chain restarted from its disk: the block is there, or not.
    Restarted(Option<Block>),
}

impl SimChain {
    /// The chain at genesis, its genesis block committed.
    pub fn open(genesis: &Genesis, id: &ChainId, producer: Keypair) -> Result<SimChain, String> {
        let spec = genesis.chain(id).ok_or(format!("no chain {id}"))?.clone();
        let (head, _) = genesis.genesis_block(&spec)?;
        let (state, delta) = genesis.initial_state(&spec)?;
        let disk = SimDisk::default();
        let store = RedbStore::with_backend(disk.clone()).map_err(|e| e.to_string())?;
        store
            .commit(&head, &[], &delta)
            .map_err(|e| e.to_string())?;
        Ok(SimChain {
            genesis: genesis.clone(),
            spec,
            producer,
            state,
            head,
            pool: Mempool::new(PoolLimits::new(10_000)),
            disk,
            store,
        })
    }

    /// The chain's id.
    pub fn id(&self) -> &ChainId {
        &self.spec.id
    }

    /// Admits a transaction to the pool, as a node's worker does; why not, if it is refused.
    pub fn submit(&mut self, verified: VerifiedTx, now_ms: u64) -> Result<(), String> {
        match self.state.check_envelope(verified.tx(), now_ms) {
            // It may wait for its predecessors, as far ahead as its share lets it.
            Ok(()) | Err(TxError::Ledger(LedgerError::SequenceGap { .. })) => {}
            Err(e) => return Err(e.code().to_owned()),
        }
        let sender = verified.tx().sender;
        let share = match sender == self.producer.address() || self.state.is_issuer(&sender) {
            true => Share::OPERATOR,
            false => Share::ORDINARY,
        };
        let standing = self.state.standing(verified.tx(), share, now_ms);
        self.pool
            .admit(verified, &standing)
            .map_err(|e| e.to_string())
    }

    /// The last block's time.
    pub fn time_ms(&self) -> u64 {
        self.head.header.time_ms
    }

    /// The disk, to inject its next fault.
    pub fn disk(&self) -> &SimDisk {
        &self.disk
    }

    /// Makes a block of what applies at `now_ms` and commits it.
    pub fn seal(&mut self, now_ms: u64) -> Result<Sealed, String> {
        // Kept only when a fault may cut this commit (the state is copied whole).
        let before = self.disk.armed().then(|| self.state.records());
        let (produced, _) = chain::produce(
            &mut self.state,
            &mut self.pool,
            &self.head.header,
            now_ms,
            &self.producer,
            1_000,
        );
        let Some(p) = produced else {
            return Ok(Sealed::Nothing);
        };
        if self.store.commit(&p.block, &p.ids, &p.delta).is_ok() {
            self.head = p.block.clone();
            return Ok(Sealed::Committed(p.block));
        }
        let after = self.state.records();
        self.restart()?;
        let now = self.state.records();
        match (Some(&now) == before.as_ref(), now == after) {
            (true, _) => Ok(Sealed::Restarted(None)),
            (_, true) => Ok(Sealed::Restarted(Some(p.block))),
            _ => Err(format!(
                "{}: after a failed commit the store holds neither the state before block {} nor after it",
                self.spec.id, p.block.header.height
            )),
        }
    }

    /// The node stops between blocks (killed, or its machine rebooted): it restarts from its
    /// disk with its pool gone, and must hold exactly the state of its last block.
    pub fn crash(&mut self) -> Result<(), String> {
        let before = self.state.records();
        self.restart()?;
        match self.state.records() == before {
            true => Ok(()),
            false => Err(format!("{}: restarted to another state", self.spec.id)),
        }
    }

    /// Restarts from what the disk holds: the store reopened, its state restored.
    fn restart(&mut self) -> Result<(), String> {
        let disk = SimDisk::from_image(self.disk.platter());
        let store = RedbStore::with_backend(disk.clone()).map_err(|e| e.to_string())?;
        let snapshot = (store.snapshot().map_err(|e| e.to_string())?)
            .ok_or(format!("{}: the genesis block was lost", self.spec.id))?;
        let bytes = (store
            .block_bytes(snapshot.head.height)
            .map_err(|e| e.to_string())?)
        .ok_or(format!("{}: the head block is missing", self.spec.id))?;
        let mut state = self.genesis.empty_state(&self.spec);
        state.restore(snapshot.records)?;
        self.head = Block::from_bytes(&bytes).map_err(|e| e.to_string())?;
        self.state = state;
        self.pool = Mempool::new(PoolLimits::new(10_000));
        (self.disk, self.store) = (disk, store);
        Ok(())
    }

    /// Every block from genesis, as the store holds them.
    pub fn blocks(&self) -> Result<Vec<Block>, String> {
        (0..=self.head.header.height)
            .map(|h| {
                let bytes = (self.store.block_bytes(h).map_err(|e| e.to_string())?)
                    .ok_or(format!("{}: block {h} is missing", self.spec.id))?;
                Block::from_bytes(&bytes).map_err(|e| e.to_string())
            })
            .collect()
    }
}
