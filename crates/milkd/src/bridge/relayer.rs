//! The relayer, on the operator's node with a main chain configured: each round it seals
//! the waiting withdrawals into a batch on the center chain, posts every sealed batch's root
//! to the vault, releases every sealed withdrawal, records each release on the center chain
//! once it has its confirmations, and credits deposits (`watcher`).
//!
//! Every step reads where things stand from the two chains, never from memory, so a node
//! stopped between any two steps does the rest after a restart, and nothing twice: the vault
//! refuses a second post or release, and the center chain a second seal, record or credit.
//! The cursors only spare work already seen done.

use super::{ledger, watcher};
use crate::config::MainChainConfig;
use crate::lanes::{Lane, LaneError};
use crate::node::Node;
use milk_core::ChainId;
use milk_core::bridge::MAX_BATCH;
use milk_core::tx::{Action, BridgeAction};
use milk_evm::vault::{MainChainError, Vault};
use milk_evm::{B256, U256};
use std::sync::Arc;

/// The most withdrawals one round looks at for release.
const RELEASES_PER_ROUND: u64 = 64;

/// Why a round stopped early; the next round starts over.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// The main chain's node failed or timed out.
    #[error(transparent)]
    Main(#[from] MainChainError),
    /// The center chain refused or did not commit an action.
    #[error("the center chain: {0}")]
    Center(String),
    /// The store could not be read.
    #[error("the store: {0}")]
    Store(#[from] milk_store::StoreError),
    /// The vault holds another root for a batch than the center chain sealed.
    #[error("the vault holds root {found} for batch {batch}, not the center chain's {sealed}")]
    RootMismatch {
        /// The batch.
        batch: u64,
        /// The vault's.
        found: B256,
        /// The center chain's.
        sealed: B256,
    },
}

impl From<LaneError> for RoundError {
    fn from(e: LaneError) -> Self {
        RoundError::Center(format!("{}: {}", e.code(), e.message()))
    }
}

/// How far the relayer has seen everything done.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cursors {
    /// Batches below it are posted.
    pub posted: u64,
    /// Withdrawals below it are released and recorded.
    pub released: u64,
    /// Main-chain blocks below it were searched for deposits.
    pub watched: u64,
}

/// Runs the bridge on the operator's node while it leads the center chain.
pub async fn run(node: Arc<Node>) {
    let Some(config) = node.config.main_chain.clone() else {
        return;
    };
    let Some(lane) = crate::lane::get(&node, &ChainId::center()) else {
        tracing::warn!("bridge: this node does not hold the operator's key; not relaying");
        return;
    };
    let key = match milk_evm::chain::read_key(&config.key_file) {
        Ok(k) => k,
        Err(e) => return tracing::error!(error = %e, "bridge: no bridge key; not relaying"),
    };
    let mut cursors = Cursors {
        watched: config.from_block,
        ..Cursors::default()
    };
    let mut vault: Option<Vault> = None;
    let mut tick = tokio::time::interval(config.poll);
    let mut last_error = String::new();
    loop {
        tick.tick().await;
        if !node.leads_center() {
            continue;
        }
        if vault.is_none() {
            vault = connect(&node, &config, key.clone()).await;
            if let Some(v) = &vault {
                cursors.watched = watcher::load_cursor(&node, v, config.from_block);
            }
        }
        let Some(v) = &vault else { continue };
        match round(&node, &config, &lane, v, &mut cursors).await {
            // Said once, not every round while it lasts.
            Err(e) if e.to_string() != last_error => {
                last_error = e.to_string();
                tracing::warn!(error = %e, "bridge: round stopped; trying again each round");
            }
            Err(_) => {}
            Ok(()) => last_error.clear(),
        }
    }
}

async fn connect(
    node: &Node,
    c: &MainChainConfig,
    key: milk_evm::PrivateKeySigner,
) -> Option<Vault> {
    let url = match c.rpc.parse() {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(rpc = %c.rpc, error = %e, "bridge: bad main-chain URL");
            return None;
        }
    };
    let vault = milk_evm::address::to_alloy(&c.vault);
    match Vault::connect(url, key, vault).await {
        Ok(v) => {
            let view = milk_api::bridge::MainChainView {
                chain_id: v.chain_id(),
                vault: c.vault.to_string(),
                confirmations: c.confirmations,
            };
            let _ = node.main_chain.set(view);
            tracing::info!(chain_id = v.chain_id(), vault = %c.vault, "bridge: main chain reached");
            Some(v)
        }
        Err(e) => {
            tracing::warn!(error = %e, "bridge: main chain not reached; trying again");
            None
        }
    }
}

/// One round: seal, post, release and record, then deposits.
pub async fn round(
    node: &Node,
    config: &MainChainConfig,
    lane: &Lane,
    vault: &Vault,
    cursors: &mut Cursors,
) -> Result<(), RoundError> {
    seal(node, lane).await?;
    post(node, vault, &mut cursors.posted).await?;
    release(node, config, lane, vault, &mut cursors.released).await?;
    watcher::watch(node, config, lane, vault, &mut cursors.watched).await
}

/// Seals the waiting withdrawals (up to a batch's worth) into the next batch.
async fn seal(node: &Node, lane: &Lane) -> Result<(), RoundError> {
    let t = ledger::totals(node)?;
    let waiting = t.next_withdrawal - t.first_unsealed;
    if waiting == 0 {
        return Ok(());
    }
    let count = waiting.min(u64::from(MAX_BATCH)) as u32;
    let action = BridgeAction::SealBatch {
        batch: t.next_batch,
        count,
    };
    match lane.submit(Action::Bridge(action)).await {
        // Sealed meanwhile (by this lane before a restart): the next round sees it.
        Err(e) if e.code() == "not_next_batch" => Ok(()),
        Err(e) => Err(e.into()),
        Ok(_) => {
            node.crash_point("bridge:sealed");
            Ok(())
        }
    }
}

/// Posts every sealed batch's root the vault does not hold yet.
async fn post(node: &Node, vault: &Vault, posted: &mut u64) -> Result<(), RoundError> {
    let next = ledger::totals(node)?.next_batch;
    while *posted < next {
        let batch = *posted;
        let b = ledger::batch(node, batch)?.ok_or_else(|| {
            milk_store::StoreError::Corrupt(format!("sealed batch {batch} has no record"))
        })?;
        let sealed = B256::from(b.root.0);
        match vault.root(batch).await? {
            Some(found) if found != sealed => {
                return Err(RoundError::RootMismatch {
                    batch,
                    found,
                    sealed,
                });
            }
            Some(_) => {}
            None => {
                let tx = vault.post_batch(batch, sealed).await?;
                tracing::info!(batch, %tx, "bridge: batch root posted");
                node.crash_point("bridge:posted");
            }
        }
        *posted += 1;
    }
    Ok(())
}

/// Releases sealed withdrawals and records each release once it has its confirmations.
async fn release(
    node: &Node,
    config: &MainChainConfig,
    lane: &Lane,
    vault: &Vault,
    released: &mut u64,
) -> Result<(), RoundError> {
    let sealed = ledger::totals(node)?.first_unsealed;
    let end = sealed.min(*released + RELEASES_PER_ROUND);
    let (mut contiguous, mut sent) = (true, Vec::new());
    for number in *released..end {
        let done = match release_one(node, config, lane, vault, number).await? {
            Next::Done => true,
            Next::Waiting => false,
            Next::Sent(s) => {
                sent.push((number, s));
                false
            }
        };
        contiguous &= done;
        if contiguous {
            *released = number + 1;
        }
    }
    // Mined together: a round's releases take a block or two, not one block each.
    let waits = sent
        .into_iter()
        .map(|(n, s)| async move { (n, vault.wait(s).await) });
    let mined = futures_util::future::join_all(waits).await;
    let any = !mined.is_empty();
    for (number, tx) in mined {
        tracing::info!(number, tx = %tx?, "bridge: withdrawal released");
    }
    if any {
        node.crash_point("bridge:released");
    }
    Ok(())
}

/// What one withdrawal's step left.
enum Next {
    /// Released and recorded.
    Done,
    /// Waiting: for its batch's root, its confirmations, or the center chain.
    Waiting,
    /// Its release was sent.
    Sent(milk_evm::vault::Sent),
}

/// One withdrawal's next step.
async fn release_one(
    node: &Node,
    config: &MainChainConfig,
    lane: &Lane,
    vault: &Vault,
    number: u64,
) -> Result<Next, RoundError> {
    let w = ledger::withdrawal(node, number)?
        .ok_or_else(|| milk_store::StoreError::Corrupt(format!("no withdrawal {number}")))?;
    let (Some(batch), None) = (w.batch, w.released) else {
        return Ok(if w.released.is_some() {
            Next::Done
        } else {
            Next::Waiting
        });
    };
    let id = B256::from(w.id.0);
    if !vault.is_released(id).await? {
        let Some((_, siblings)) = ledger::proof(node, batch, number)? else {
            return Ok(Next::Waiting);
        };
        let to = milk_evm::address::to_alloy(&w.to);
        let proof = siblings.into_iter().map(B256::from).collect();
        let amount = U256::from(w.amount.units());
        return Ok(Next::Sent(
            vault.send_release(batch, id, to, amount, proof).await?,
        ));
    }
    let Some((tx, block)) = vault.released_by(id).await? else {
        return Ok(Next::Waiting);
    };
    if vault.head().await?.saturating_sub(block) + 1 < config.confirmations {
        return Ok(Next::Waiting);
    }
    let action = BridgeAction::ConfirmRelease {
        withdrawal: number,
        main_tx: milk_core::Hash(tx.0),
    };
    let sent = lane.submit(Action::Bridge(action)).await;
    let recorded = ledger::withdrawal(node, number)?.is_some_and(|w| w.released.is_some());
    match (sent, recorded) {
        (_, true) => {
            node.crash_point("bridge:confirmed");
            Ok(Next::Done)
        }
        (Err(e), false) => Err(e.into()),
        (Ok(_), false) => Ok(Next::Waiting),
    }
}
