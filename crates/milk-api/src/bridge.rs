//! The bridge to the main chain: its policy and totals, withdrawals with their status and
//! proof, deposits, and where a customer deposits.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The bridge's policy, where its main chain is, and what crossed.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct BridgeView {
    /// The coin that crosses (MLK).
    pub asset: String,
    /// TICA's fee per withdrawal, base units.
    pub fee: String,
    /// The smallest withdrawal, base units.
    pub minimum: String,
    /// The most one account withdraws per UTC day, base units.
    pub daily_limit: String,
    /// The main chain this node relays to; absent: none configured, so withdrawals wait
    /// (`awaiting_main_chain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_chain: Option<MainChainView>,
    /// Withdrawals made so far (their numbers are 0 to this, exclusive).
    pub withdrawals: u64,
    /// Withdrawals sealed into batches.
    pub sealed: u64,
    /// Batches sealed.
    pub batches: u64,
    /// MLK that left the center chain (withdrawals and refunds), base units.
    pub out_total: String,
    /// Deposits recorded, base units.
    pub in_total: String,
    /// The relayer, on the node that runs it (the operator's, with a main chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relayer: Option<RelayerView>,
}

/// The relayer as its last round left it.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Default)]
pub struct RelayerView {
    /// Rounds run while this node led the center chain.
    pub rounds: u64,
    /// Why the last round stopped (or the main chain was not reached), in words; absent
    /// when it went through. The main chain's URL is left out: it may carry a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The first main-chain block not yet searched for deposits and releases.
    pub searched_to: u64,
    /// Withdrawals whose release did not go through, waiting to be tried again.
    pub backing_off: Vec<u64>,
}

/// The main chain as this node reaches it.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct MainChainView {
    /// Its chain id.
    pub chain_id: u64,
    /// The vault, checksummed.
    pub vault: String,
    /// Confirmations a deposit needs before it is credited.
    pub confirmations: u64,
}

/// One withdrawal and where it stands.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct WithdrawalView {
    /// Its number on the center chain.
    pub number: u64,
    /// Its id on the main chain (the center-chain transaction that made it), hex.
    pub id: String,
    /// Who paid it.
    pub account: String,
    /// The main-chain address it goes to, checksummed.
    pub to: String,
    /// Base units released there.
    pub amount: String,
    /// The fee paid on top.
    pub fee: String,
    /// Block time of the withdrawal, Unix ms.
    pub at_ms: u64,
    /// Whether it refunds a held deposit.
    pub refund: bool,
    /// `awaiting_main_chain` (no main chain configured: it waits, nothing is lost),
    /// `queued`, `sealed` (in a batch; the vault releases it against the proof), or
    /// `released`.
    pub status: String,
    /// Its batch, once sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    /// The batch's root and this withdrawal's proof, once sealed: anyone may release it
    /// on the main chain with `release(batch, id, to, amount, proof)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<BatchProofView>,
    /// The main-chain transaction that released it, once recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_tx: Option<String>,
}

/// A sealed withdrawal's proof.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct BatchProofView {
    /// The batch's root, hex.
    pub root: String,
    /// The sibling hashes from the leaf up, hex.
    pub siblings: Vec<String>,
}

/// A deposit into the vault, as the center chain recorded it.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct DepositView {
    /// Its number, in the order the center chain recorded deposits.
    pub number: u64,
    /// The main-chain transaction, hex.
    pub main_tx: String,
    /// The deposit event's log index.
    pub log_index: u64,
    /// Who sent it, checksummed.
    pub from: String,
    /// The milk address it named (`milk1…`), or its 32 bytes in hex when they are not a
    /// usable key.
    pub milk: String,
    /// Base units.
    pub amount: String,
    /// The main-chain block.
    pub block: u64,
    /// `credited`, `held` (the milk address is not a usable key; TICA refunds it) or
    /// `refunded`.
    pub status: String,
    /// The refund's withdrawal number, once refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_withdrawal: Option<u64>,
}

/// Where and how an account deposits main-chain MLK.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct DepositAddressView {
    /// The milk account credited.
    pub account: String,
    /// The 32 bytes to name in the vault's `deposit(amount, milkAddress)`, hex with `0x`.
    pub milk_address: String,
    /// The main chain, if this node relays to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_chain: Option<MainChainView>,
    /// What to do, in a sentence.
    pub how: String,
}
