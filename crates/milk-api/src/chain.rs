//! Chains, blocks, transactions and accounts.

use crate::error::ErrorBody;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Liveness and each chain's head.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct HealthView {
    /// `ok`, or `degraded` when a chain has halted.
    pub status: String,
    /// Each chain's height and whether it halted.
    pub chains: Vec<HeadView>,
    /// What the operator should know: this node's clock behind a chain's head, say (a
    /// block carries the later of the two times, so a client's transaction that expires
    /// sooner than the head is refused as `expired`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// An asset and its supply.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AssetView {
    /// Ticker.
    pub symbol: String,
    /// Display name.
    pub name: String,
    /// Decimals of one whole unit.
    pub decimals: u8,
    /// Total supply, in base units (a decimal string); absent on a private chain.
    pub supply: Option<String>,
    /// Who may mint it, if anyone.
    pub issuer: Option<String>,
}

/// A chain's head.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct HeadView {
    /// The chain.
    pub chain: String,
    /// Height of the last committed block.
    pub height: u64,
    /// Its hash.
    pub hash: String,
    /// Its time, Unix ms.
    pub time_ms: u64,
    /// Its state commitment.
    pub state_root: String,
    /// Whether the chain halted after a storage failure.
    pub halted: bool,
    /// Transactions waiting for a block.
    pub pending: u64,
}

/// A chain.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChainInfo {
    /// Its id.
    pub id: String,
    /// `center` or `brand`.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// The partner, for a brand chain.
    pub partner: Option<String>,
    /// The partner's sector, for a brand chain.
    pub sector: Option<String>,
    /// The producer's address.
    pub producer: String,
    /// Its assets.
    pub assets: Vec<AssetView>,
    /// Its head; absent on a private chain.
    pub head: Option<HeadView>,
}

/// A block without its transactions.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BlockSummary {
    /// Height.
    pub height: u64,
    /// Hash.
    pub hash: String,
    /// Parent's hash.
    pub prev_hash: String,
    /// Time, Unix ms.
    pub time_ms: u64,
    /// How many transactions.
    pub tx_count: u32,
    /// Merkle root of the transactions.
    pub tx_root: String,
    /// State commitment after the block.
    pub state_root: String,
    /// Producer's address.
    pub producer: String,
}

/// A block with its transactions.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BlockView {
    /// The header.
    #[serde(flatten)]
    pub summary: BlockSummary,
    /// The producer's signature, hex.
    pub signature: String,
    /// The transactions, each with `id`, `tx`, `signature` and `raw` (the signed transaction
    /// in its canonical encoding, hex: what the block's Merkle leaf hashes).
    #[schema(value_type = Vec<Object>)]
    pub txs: Vec<serde_json::Value>,
}

/// A Merkle inclusion proof.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProofView {
    /// The transaction's leaf hash.
    pub leaf: String,
    /// Its index in the block.
    pub index: u64,
    /// How many transactions the block has.
    pub leaf_count: u64,
    /// Sibling hashes from the leaf up.
    pub siblings: Vec<String>,
    /// The block's transaction root that the proof leads to.
    pub tx_root: String,
}

/// A transaction's status.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TxStatusView {
    /// Its id.
    pub id: String,
    /// `pending`, `committed` or `rejected`.
    pub status: String,
    /// Its block, once committed.
    pub height: Option<u64>,
    /// That block's hash.
    pub block_hash: Option<String>,
    /// Its position in the block.
    pub index: Option<u32>,
    /// The transaction, once committed.
    #[schema(value_type = Option<Object>)]
    pub tx: Option<serde_json::Value>,
    /// Its inclusion proof, once committed.
    pub proof: Option<ProofView>,
    /// Why it was rejected.
    pub error: Option<ErrorBody>,
}

/// A balance.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BalanceView {
    /// The asset.
    pub asset: String,
    /// Base units, a decimal string.
    pub amount: String,
    /// The asset's decimals.
    pub decimals: u8,
    /// The amount in whole units, exact.
    pub display: String,
}

/// An account on one chain.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AccountChainView {
    /// The chain.
    pub chain: String,
    /// The sequence number its next transaction on this chain must carry.
    pub next_sequence: u64,
    /// Its balances (zero ones included).
    pub balances: Vec<BalanceView>,
}

/// An account on every chain.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AccountView {
    /// The address.
    pub address: String,
    /// One entry per chain.
    pub chains: Vec<AccountChainView>,
}

/// A brand chain's block hash as recorded on the center chain.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct AnchorView {
    /// The anchor's number: a brand chain's anchors are numbered from 0, in order.
    pub number: u64,
    /// The seal of the anchored block (its height and hash, hashed together): whoever reads
    /// the brand chain finds the block; nobody else learns its height or hash.
    pub seal: String,
}

/// One asset's change in a history line.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ChangeView {
    /// The asset.
    pub asset: String,
    /// `in` (credited) or `out` (debited).
    pub direction: String,
    /// Base units, a decimal string.
    pub amount: String,
    /// The asset's decimals.
    pub decimals: u8,
    /// The amount in whole units, exact.
    pub display: String,
}

/// A committed transaction that concerned an account: it sent it, or a balance of its
/// changed (a transfer received, a conversion, a trade's rebate, a reward).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct HistoryLineView {
    /// The chain.
    pub chain: String,
    /// The block height.
    pub height: u64,
    /// The transaction's position in its block.
    pub index: u32,
    /// The block's time, Unix milliseconds.
    pub time_ms: u64,
    /// The transaction id.
    pub tx: String,
    /// What the transaction did: the action's `type` (`transfer`, `conversion`,
    /// `settle_buy`, `reward_link`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Who signed it.
    pub sender: String,
    /// The action itself, as in the transaction.
    #[schema(value_type = Object)]
    pub action: serde_json::Value,
    /// The account's net balance changes in it (none when it only sent it).
    pub changes: Vec<ChangeView>,
}

/// An account's history, newest first.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct HistoryView {
    /// The address.
    pub address: String,
    /// The lines.
    pub lines: Vec<HistoryLineView>,
    /// With `chain`: the `before` that reads the next page, when there may be one.
    pub next: Option<String>,
}
