//! The vault as TICA's node uses it: post a batch root, release a withdrawal, find who
//! released one, and read deposits. Every call is bounded in time, so a main-chain node that
//! is down or hangs makes the bridge wait, never stall the node; and every answer is checked
//! for what a node could get wrong (a log from another contract, a removed log, a deposit
//! event without its transaction).

use crate::contracts::IMilkVault;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;
pub use alloy::transports::http::reqwest::Url;
use std::future::IntoFuture;
use std::time::Duration;

/// How long one call to the main chain's node may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a sent transaction may take to be mined: several blocks of a main chain with
/// 12-second blocks, so that a release still on its way is rarely sent again.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a call to the main chain did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MainChainError {
    /// The node did not answer in time.
    #[error("the main chain's node did not answer within {0:?}")]
    Timeout(Duration),
    /// The node answered with an error, or not at all.
    #[error("the main chain's node: {0}")]
    Node(String),
    /// The contract refused the call (found when its gas was estimated).
    #[error("{0}")]
    Refused(String),
    /// The transaction was mined but reverted.
    #[error("the vault refused the transaction {0}")]
    Reverted(B256),
    /// The node's answer is not what a correct node gives.
    #[error("the main chain's node gave a malformed answer: {0}")]
    Malformed(&'static str),
}

/// [`bounded`] for a contract call: a refusal by the vault or the coin in words.
async fn bounded_call<T>(
    call: impl IntoFuture<Output = Result<T, alloy::contract::Error>>,
) -> Result<T, MainChainError> {
    match tokio::time::timeout(CALL_TIMEOUT, call.into_future()).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(crate::contracts::explain(&e).map_or_else(
            || MainChainError::Node(e.to_string()),
            MainChainError::Refused,
        )),
        Err(_) => Err(MainChainError::Timeout(CALL_TIMEOUT)),
    }
}

async fn bounded<T, E: std::fmt::Display>(
    call: impl IntoFuture<Output = Result<T, E>>,
) -> Result<T, MainChainError> {
    within(CALL_TIMEOUT, call).await
}

async fn within<T, E: std::fmt::Display>(
    limit: Duration,
    call: impl IntoFuture<Output = Result<T, E>>,
) -> Result<T, MainChainError> {
    match tokio::time::timeout(limit, call.into_future()).await {
        Ok(result) => result.map_err(|e| MainChainError::Node(e.to_string())),
        Err(_) => Err(MainChainError::Timeout(limit)),
    }
}

/// A deposit event read from the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositLog {
    /// The transaction's hash.
    pub tx: B256,
    /// The event's index in its block's logs.
    pub log_index: u64,
    /// The block's number.
    pub block: u64,
    /// Who sent it.
    pub from: Address,
    /// The milk address it named.
    pub milk: B256,
    /// MLK base units.
    pub amount: U256,
}

/// A transaction sent, not yet known to be mined.
pub struct Sent(alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>);

/// A release event read from the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseLog {
    /// The withdrawal's id (its center-chain transaction).
    pub withdrawal: B256,
    /// Where it went.
    pub to: Address,
    /// MLK base units.
    pub amount: U256,
    /// The releasing transaction.
    pub tx: B256,
    /// Its block.
    pub block: u64,
}

/// The most blocks one log query covers: public main-chain nodes refuse wider ones.
pub const BLOCKS_PER_QUERY: u64 = 1_000;

/// Blocks `from ..= to` in windows of at most [`BLOCKS_PER_QUERY`], in order.
pub fn windows(from: u64, to: u64) -> impl Iterator<Item = (u64, u64)> {
    let starts = (from..=to).step_by(BLOCKS_PER_QUERY as usize);
    starts.map(move |start| (start, to.min(start.saturating_add(BLOCKS_PER_QUERY - 1))))
}

/// The vault on the main chain, through one node, sending as TICA's bridge key.
#[derive(Clone)]
pub struct Vault {
    provider: DynProvider,
    address: Address,
    chain_id: u64,
    key: PrivateKeySigner,
}

impl Vault {
    /// Connects to the node at `url`, asking it for the chain id.
    pub async fn connect(
        url: Url,
        key: PrivateKeySigner,
        address: Address,
    ) -> Result<Vault, MainChainError> {
        let provider = crate::chain::connect(url, key.clone()).erased();
        let chain_id = bounded(provider.get_chain_id()).await?;
        Ok(Vault {
            provider,
            address,
            chain_id,
            key,
        })
    }

    /// The vault's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The main chain's id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The main chain's newest block number.
    pub async fn head(&self) -> Result<u64, MainChainError> {
        bounded(self.provider.get_block_number()).await
    }

    fn contract(&self) -> IMilkVault::IMilkVaultInstance<&DynProvider> {
        IMilkVault::new(self.address, &self.provider)
    }

    /// The root posted for `batch`, if any.
    pub async fn root(&self, batch: u64) -> Result<Option<B256>, MainChainError> {
        let vault = self.contract();
        let root = bounded(vault.roots(batch).call()).await?;
        Ok((!root.is_zero()).then_some(root))
    }

    /// Posts `batch`'s root with the bridge key's signature; the transaction, once mined.
    pub async fn post_batch(&self, batch: u64, root: B256) -> Result<B256, MainChainError> {
        let signature = crate::batch::sign(&self.key, self.chain_id, self.address, batch, root)
            .map_err(|e| MainChainError::Node(e.to_string()))?;
        let vault = self.contract();
        let call = vault.postBatch(batch, root, signature.into());
        let pending = bounded_call(call.send()).await?;
        self.mined(pending).await
    }

    /// Whether the vault released withdrawal `id`.
    pub async fn is_released(&self, id: B256) -> Result<bool, MainChainError> {
        let vault = self.contract();
        bounded(vault.released(id).call()).await
    }

    /// Releases a withdrawal against its proof; the transaction, once mined.
    pub async fn release(
        &self,
        batch: u64,
        id: B256,
        to: Address,
        amount: U256,
        proof: Vec<B256>,
    ) -> Result<B256, MainChainError> {
        let sent = self.send_release(batch, id, to, amount, proof).await?;
        self.mined(sent.0).await
    }

    /// Sends a release without waiting for it to be mined: several go out one after the
    /// other (the node numbers each from its pending count) and are mined together.
    pub async fn send_release(
        &self,
        batch: u64,
        id: B256,
        to: Address,
        amount: U256,
        proof: Vec<B256>,
    ) -> Result<Sent, MainChainError> {
        let vault = self.contract();
        let call = vault.release(batch, id, to, amount, proof);
        Ok(Sent(bounded_call(call.send()).await?))
    }

    /// Waits for a sent transaction; its hash, once mined.
    pub async fn wait(&self, sent: Sent) -> Result<B256, MainChainError> {
        self.mined(sent.0).await
    }

    async fn mined(
        &self,
        pending: alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>,
    ) -> Result<B256, MainChainError> {
        let receipt = pending.with_timeout(Some(RECEIPT_TIMEOUT)).get_receipt();
        let receipt = within(RECEIPT_TIMEOUT, receipt).await?;
        match receipt.status() {
            true => Ok(receipt.transaction_hash),
            false => Err(MainChainError::Reverted(receipt.transaction_hash)),
        }
    }

    /// Every release in blocks `from ..= to`, in order.
    pub async fn released(&self, from: u64, to: u64) -> Result<Vec<ReleaseLog>, MainChainError> {
        let vault = self.contract();
        let filter = vault.Released_filter().from_block(from).to_block(to);
        let mut releases = Vec::new();
        for (event, log) in bounded(filter.query()).await? {
            if log.removed || log.address() != self.address {
                continue;
            }
            let (Some(tx), Some(block)) = (log.transaction_hash, log.block_number) else {
                return Err(MainChainError::Malformed("a release log without its place"));
            };
            if !(from..=to).contains(&block) {
                return Err(MainChainError::Malformed(
                    "a release log outside the blocks asked for",
                ));
            }
            releases.push(ReleaseLog {
                withdrawal: event.withdrawal,
                to: event.to,
                amount: event.amount,
                tx,
                block,
            });
        }
        Ok(releases)
    }

    /// Every batch root posted in blocks `from ..= to`: the batch and its root.
    pub async fn posted(&self, from: u64, to: u64) -> Result<Vec<(u64, B256)>, MainChainError> {
        let vault = self.contract();
        let filter = vault.BatchPosted_filter().from_block(from).to_block(to);
        let posted = bounded(filter.query()).await?;
        let live = posted
            .into_iter()
            .filter(|(_, log)| !log.removed && log.address() == self.address);
        Ok(live.map(|(e, _)| (e.batch, e.root)).collect())
    }

    /// The coin the vault holds.
    pub async fn coin(&self) -> Result<Address, MainChainError> {
        let vault = self.contract();
        bounded(vault.coin().call()).await
    }

    /// The deposits in blocks `from ..= to`, in order.
    pub async fn deposits(&self, from: u64, to: u64) -> Result<Vec<DepositLog>, MainChainError> {
        let vault = self.contract();
        let filter = vault.Deposited_filter().from_block(from).to_block(to);
        let logs = bounded(filter.query()).await?;
        let mut out = Vec::new();
        for (event, log) in logs {
            if log.removed || log.address() != self.address {
                continue;
            }
            let missing = MainChainError::Malformed("a deposit log without its place");
            let (Some(tx), Some(log_index), Some(block)) =
                (log.transaction_hash, log.log_index, log.block_number)
            else {
                return Err(missing);
            };
            if !(from..=to).contains(&block) {
                return Err(MainChainError::Malformed(
                    "a deposit log outside the blocks asked for",
                ));
            }
            out.push(DepositLog {
                tx,
                log_index,
                block,
                from: event.from,
                milk: event.milkAddress,
                amount: event.amount,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_blocks_once_each_within_the_width() {
        let w: Vec<_> = windows(5, 2_010).collect();
        assert_eq!(w, [(5, 1_004), (1_005, 2_004), (2_005, 2_010)]);
        assert_eq!(windows(7, 7).collect::<Vec<_>>(), [(7, 7)]);
        assert_eq!(windows(8, 7).count(), 0, "an empty range has no window");
        let top = windows(u64::MAX - 1, u64::MAX).collect::<Vec<_>>();
        assert_eq!(top, [(u64::MAX - 1, u64::MAX)], "no overflow at the top");
    }
}
