//! The relayer, on the operator's node with a main chain configured: each round it seals
//! the waiting withdrawals into a batch on the center chain, posts every sealed batch's root
//! to the vault and releases every sealed withdrawal; the `watcher` then records each
//! release and deposit on the center chain once it has its confirmations.
//!
//! Every step reads where things stand from the two chains, never from memory, so a node
//! stopped between any two steps does the rest after a restart, and nothing twice: the vault
//! refuses a second post or release, and the center chain a second seal, record or credit.
//! The cursors only spare work already seen done.

use super::{ledger, watcher};
use crate::config::MainChainConfig;
use crate::lanes::{Lane, LaneError};
use crate::node::Node;
use milk_api::bridge::RelayerView;
use milk_core::ChainId;
use milk_core::bridge::MAX_BATCH;
use milk_core::tx::{Action, BridgeAction};
use milk_evm::vault::{MainChainError, Vault};
use milk_evm::{B256, U256};
use std::future::Future;
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

/// How far the relayer has seen everything done, and which releases it holds back.
#[derive(Debug, Default, Clone)]
pub struct Cursors {
    /// Batches below it are posted.
    pub posted: u64,
    /// Withdrawals below it are released and recorded.
    pub released: u64,
    /// Main-chain blocks below it were searched for deposits and releases.
    pub watched: u64,
    /// Withdrawals whose release did not go through, and when to try each again.
    pub backoff: Backoff,
}

/// The releases that did not go through, refused by the vault (a correct vault never does)
/// or not seen mined in time, each tried again after a wait that doubles each time, up to
/// [`Backoff::MAX_ROUNDS`] rounds: a release that can never succeed costs gas once in a
/// while, not every round, and blocks no other; one still on its way is not sent again at
/// once.
#[derive(Debug, Default, Clone)]
pub struct Backoff(std::collections::BTreeMap<u64, (u32, u64)>);

impl Backoff {
    /// The longest wait, in rounds.
    pub const MAX_ROUNDS: u64 = 1_024;

    /// Notes that withdrawal `number`'s release did not go through in round `round`; the
    /// rounds it now waits.
    pub fn refused(&mut self, number: u64, round: u64) -> u64 {
        let strikes = self.0.get(&number).map_or(0, |(s, _)| *s) + 1;
        let wait = (1u64 << strikes.min(10)).min(Self::MAX_ROUNDS);
        self.0.insert(number, (strikes, round + wait));
        wait
    }

    /// Whether withdrawal `number`'s release waits in round `round`.
    pub fn waits(&self, number: u64, round: u64) -> bool {
        self.0.get(&number).is_some_and(|(_, until)| round < *until)
    }

    /// Forgets withdrawal `number`: released, by whoever.
    pub fn clear(&mut self, number: u64) {
        self.0.remove(&number);
    }

    /// The withdrawals that wait in round `round`.
    pub fn waiting(&self, round: u64) -> Vec<u64> {
        let all = self.0.keys().copied();
        all.filter(|n| self.waits(*n, round)).collect()
    }
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
    let mut round_number = 0u64;
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
        round_number += 1;
        let result = round(&node, &config, &lane, v, &mut cursors, round_number).await;
        let error = result.err().map(|e| redact(&e.to_string(), &config.rpc));
        // Said once, not every round while it lasts.
        if error.as_ref().is_some_and(|e| *e != last_error) {
            tracing::warn!(error = %error.as_deref().unwrap_or_default(),
                "bridge: round stopped; trying again each round");
        }
        last_error = error.clone().unwrap_or_default();
        let view = RelayerView {
            rounds: round_number,
            last_error: error,
            searched_to: cursors.watched,
            backing_off: cursors.backoff.waiting(round_number),
        };
        *node.relayer.lock().expect("not poisoned") = Some(view);
    }
}

/// `text` without the main chain's URL, which may carry a provider's key.
fn redact(text: &str, rpc: &str) -> String {
    let parsed = rpc.parse::<milk_evm::vault::Url>().map(|u| u.to_string());
    let text = text.replace(rpc, "the main chain's node");
    match parsed {
        Ok(u) if !u.is_empty() => text.replace(&u, "the main chain's node"),
        _ => text,
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
            let error = redact(&e.to_string(), &c.rpc);
            tracing::warn!(error = %error, "bridge: main chain not reached; trying again");
            let view = RelayerView {
                last_error: Some(format!("the main chain was not reached: {error}")),
                searched_to: c.from_block,
                ..RelayerView::default()
            };
            *node.relayer.lock().expect("not poisoned") = Some(view);
            None
        }
    }
}

/// Round number `n`: seal, post and release, then record what the vault did.
pub async fn round(
    node: &Node,
    config: &MainChainConfig,
    lane: &Lane,
    vault: &Vault,
    cursors: &mut Cursors,
    n: u64,
) -> Result<(), RoundError> {
    seal(node, lane).await?;
    post(node, vault, &mut cursors.posted).await?;
    release(node, vault, cursors, n).await?;
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

/// Releases the sealed withdrawals the vault has not released, up to a round's worth, all
/// sent before any is awaited so that they are mined together.
async fn release(
    node: &Node,
    vault: &Vault,
    cursors: &mut Cursors,
    round: u64,
) -> Result<(), RoundError> {
    let sealed = ledger::totals(node)?.first_unsealed;
    let end = sealed.min(cursors.released + RELEASES_PER_ROUND);
    let (mut contiguous, mut sent, mut failed) = (true, Vec::new(), None);
    let mut trees = ledger::Trees::default();
    for number in cursors.released..end {
        let next = match cursors.backoff.waits(number, round) {
            true => Next::Waiting,
            false => release_one(node, vault, &mut trees, number).await,
        };
        let done = match next {
            Next::Done => true,
            Next::Sent(s) => {
                sent.push((number, vault.wait(s)));
                false
            }
            Next::Refused(e) => {
                back_off(cursors, number, round, &e);
                false
            }
            Next::Waiting => false,
            Next::Failed(e) => {
                failed = Some(e);
                break;
            }
        };
        contiguous &= done;
        if contiguous {
            cursors.backoff.clear(number);
            cursors.released = number + 1;
        }
    }
    // What was sent is awaited even when the round stops, so the next round does not send
    // it again while it is still on its way.
    mined(node, cursors, round, sent).await;
    failed.map_or(Ok(()), Err)
}

/// Waits for a round's releases; one that did not go through waits its turn again.
async fn mined(
    node: &Node,
    cursors: &mut Cursors,
    round: u64,
    sent: Vec<(u64, impl Future<Output = Result<B256, MainChainError>>)>,
) {
    let any = !sent.is_empty();
    let waits = sent.into_iter().map(|(n, w)| async move { (n, w.await) });
    for (number, result) in futures_util::future::join_all(waits).await {
        match result {
            Ok(tx) => tracing::info!(number, %tx, "bridge: withdrawal released"),
            // Reverted, or not seen mined in time: sent again only after a wait, so that a
            // release still on its way is not sent twice at once.
            Err(e) => back_off(cursors, number, round, &e),
        }
    }
    if any {
        node.crash_point("bridge:released");
    }
}

fn back_off(cursors: &mut Cursors, number: u64, round: u64, e: &MainChainError) {
    let rounds = cursors.backoff.refused(number, round);
    tracing::warn!(number, error = %e, rounds,
        "bridge: this withdrawal's release did not go through; trying it again after a wait");
}

/// What one withdrawal's step left.
enum Next {
    /// Released and recorded.
    Done,
    /// Waiting: for its batch's root, or for the watcher to record its release.
    Waiting,
    /// Its release was sent.
    Sent(milk_evm::vault::Sent),
    /// The vault refused its release.
    Refused(MainChainError),
    /// The main chain's node or the store failed.
    Failed(RoundError),
}

/// One withdrawal's next step: release it unless the vault has.
async fn release_one(node: &Node, vault: &Vault, trees: &mut ledger::Trees, number: u64) -> Next {
    match try_release(node, vault, trees, number).await {
        Ok(next) => next,
        Err(RoundError::Main(e @ MainChainError::Refused(_))) => Next::Refused(e),
        Err(e) => Next::Failed(e),
    }
}

async fn try_release(
    node: &Node,
    vault: &Vault,
    trees: &mut ledger::Trees,
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
    if vault.is_released(id).await? {
        return Ok(Next::Waiting);
    }
    let Some((_, siblings)) = trees.proof(node, batch, number)? else {
        return Ok(Next::Waiting);
    };
    let to = milk_evm::address::to_alloy(&w.to);
    let proof = siblings.into_iter().map(B256::from).collect();
    let amount = U256::from(w.amount.units());
    let sent = vault.send_release(batch, id, to, amount, proof).await?;
    Ok(Next::Sent(sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_shown_leave_the_main_chains_url_out() {
        let rpc = "https://eth.example/v3/secret-key";
        let said = format!("error sending request for url ({rpc}/): connection refused");
        let shown = redact(&said, rpc);
        assert!(!shown.contains("secret-key"), "{shown}");
        assert!(shown.contains("the main chain's node"), "{shown}");
    }

    #[test]
    fn a_refused_release_waits_twice_as_long_each_time_up_to_the_cap() {
        let mut b = Backoff::default();
        assert!(!b.waits(7, 1));
        assert_eq!(b.refused(7, 1), 2);
        assert!(b.waits(7, 2) && !b.waits(7, 3), "two rounds");
        assert!(!b.waits(8, 2), "only the refused withdrawal waits");
        assert_eq!(b.refused(7, 3), 4);
        assert!(b.waits(7, 6) && !b.waits(7, 7));
        let waits: Vec<u64> = (0..12).map(|_| b.refused(7, 10)).collect();
        assert_eq!(waits.last(), Some(&Backoff::MAX_ROUNDS));
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "never shorter");
        assert_eq!(b.waiting(10), [7]);
        b.clear(7);
        assert!(!b.waits(7, 11), "released: forgotten");
        assert!(b.waiting(10).is_empty());
    }
}
