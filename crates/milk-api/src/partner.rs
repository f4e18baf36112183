//! The partner API: links, conversions, redemptions, reports, the event feed, auditors and webhooks.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// docs/ENCODING.md's second worked example: Starlight Cinema converts 120 of alice's
/// miles, signed by its issuer key.
pub const EXAMPLE_CONVERSION: &str = "010000000663696e656d6180e0c0d09437ae42a938181f31d1ecbb001d99775d1b7c8c5936d9f75428fbb10000000000000000000001ba60d33800057d04f6e20b601fbe0f43e01f94eb1bc5e5402cc4e7fa60350cac6d864a79cd4b000000000000007800000006542d303030312f46807b0bac04ed90a7198f00699f670b3f8f3416c96ac3e5d54b6236e214151dcdc914e3ae1d841f29f9ee807340efa5be443e57a7665628da40a54166e509";

/// A signed transaction for the partner API.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PartnerTxRequest {
    /// The signed transaction in its canonical encoding, hex (docs/ENCODING.md).
    #[schema(example = json!(EXAMPLE_CONVERSION))]
    pub tx: String,
}

/// Where a committed transaction is.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct TxRef {
    /// Transaction id, hex.
    pub id: String,
    /// Its block.
    pub height: u64,
    /// Its position in the block.
    pub index: u32,
}

/// A conversion as recorded on the chain.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ConversionReceipt {
    /// The partner's reference id.
    pub reference: String,
    /// The customer's wallet.
    pub to: String,
    /// Mileage converted.
    pub mileage: u64,
    /// Brand Token minted, base units.
    pub amount: String,
    /// The transaction that minted it.
    pub tx: TxRef,
    /// True when this answer is for an earlier request with the same reference.
    pub replayed: bool,
}

/// What became of one item of a batch of conversions.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct BatchItemResult {
    /// The partner's reference id.
    pub reference: String,
    /// The customer's wallet.
    pub to: String,
    /// Mileage the item asked to convert.
    pub mileage: u64,
    /// `converted` (minted by this batch), `replayed` (the reference already converted
    /// exactly this; nothing minted again) or `refused` (see `error`).
    pub status: String,
    /// Brand Token the reference's conversion minted, base units (absent when refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// Why it was refused: the chain's code and message. Nothing was minted for it, and a
    /// later batch may try the same reference again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::error::ErrorBody>,
}

/// A batch of conversions as the chain recorded it, item by item, in the batch's order.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ConversionBatchReceipt {
    /// The batch's transaction.
    pub tx: TxRef,
    /// Items converted now.
    pub converted: u32,
    /// Items whose reference had already converted exactly this.
    pub replayed: u32,
    /// Items refused.
    pub refused: u32,
    /// Each item's outcome.
    pub items: Vec<BatchItemResult>,
    /// True when this answer is for a batch already committed (a retry of the same
    /// signed transaction).
    pub replayed_batch: bool,
}

/// Many customer-signed transactions of one kind for the partner API.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PartnerTxsRequest {
    /// The signed transactions in their canonical encoding, hex.
    pub txs: Vec<String>,
}

/// One result per redemption of a batch, in order: a receipt or why it was refused.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct RedemptionBatchItem {
    /// The receipt, when it committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<RedemptionReceipt>,
    /// Why not, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::error::ErrorBody>,
}

/// The results of a batch of redemptions.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct RedemptionBatchReceipt {
    /// One per transaction sent, in order.
    pub results: Vec<RedemptionBatchItem>,
}

/// A redemption: the receipt the partner keeps.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct RedemptionReceipt {
    /// The partner's order id.
    pub order_id: String,
    /// The customer who redeemed.
    pub redeemer: String,
    /// Brand Token burned, base units.
    pub amount: String,
    /// Its value at the partner, in KRW (amount × R, rounded down).
    pub value_krw: String,
    /// Whether the partner refunded it.
    pub refunded: bool,
    /// The transaction of this request (the redemption, or the refund).
    pub tx: Option<TxRef>,
}

/// A Brand Token's supply, as its partner reports it.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct SupplyReport {
    /// The brand chain.
    pub chain: String,
    /// The Brand Token.
    pub asset: String,
    /// Its decimals.
    pub decimals: u8,
    /// All of it in existence now (base units).
    pub outstanding: String,
    /// Ever minted by conversions of mileage.
    pub issued: String,
    /// Ever burned by redemptions.
    pub redeemed: String,
    /// Ever re-minted by refunds.
    pub refunded: String,
    /// Ever retired by expiry sweeps.
    pub expired: String,
    /// Held by TICA as exchange inventory.
    pub held_by_tica: String,
    /// Held by everyone else: outstanding minus TICA's inventory.
    pub held_by_customers: String,
    /// Whether this chain records the partner as suspended from the alliance: its chain
    /// then refuses every conversion (redemptions and refunds go on).
    pub suspended: bool,
    /// Once this chain records the partner leaving: its final date (Unix ms), from which
    /// nothing is redeemed or refunded; conversions have stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaving_until_ms: Option<u64>,
    /// Whether the exit is finished here: TICA's remaining stock was burned.
    #[serde(default)]
    pub exit_closed: bool,
}

/// A new auditor credential: the token is shown once and never stored.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct AuditorGrant {
    /// The brand chain it may read.
    pub chain: String,
    /// Its id, for listing and revoking.
    pub id: String,
    /// The bearer token to hand to the auditor.
    pub token: String,
}

/// One thing that happened to a partner's Brand Token.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct PartnerEvent {
    /// Stable and ordered: `height:index` of the transaction. Resume after it with `after`.
    pub id: String,
    /// `link`, `conversion`, `conversion_batch`, `redemption`, `refund`, `transfer`,
    /// `mint`, `burn`, `sale` (a customer's sale locked), `sale_settled` and `purchase`
    /// (TICA's steps sent alone), or `settlement` (TICA's steps for many trades in one
    /// transaction: `action.steps` lists them, each a `release_sell` or `deliver_buy`).
    pub kind: String,
    /// The block's time, Unix ms.
    pub time_ms: u64,
    /// The transaction id.
    pub tx: String,
    /// The transaction's action, as in the block.
    #[schema(value_type = Object)]
    pub action: serde_json::Value,
    /// Who signed it.
    pub sender: String,
}

/// A page of events.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct EventPage {
    /// The events, oldest first.
    pub events: Vec<PartnerEvent>,
    /// Pass as `after` to continue (the last event's id, or the one given if none).
    pub next: String,
}

/// Tokens of one account that expire on one day.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ExpiringLot {
    /// The account.
    pub account: String,
    /// Base units.
    pub amount: String,
    /// When they expire: the start of this UTC day, Unix ms.
    pub expires_at_ms: u64,
    /// Whether that time has passed (a sweep may retire them).
    pub expired: bool,
}

/// A webhook to register.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct WebhookRequest {
    /// The endpoint: an `https://` URL (or `http://`, e.g. inside the partner's network).
    pub url: String,
    /// Deliver events after this id (`height:index`); from the chain's first event if absent.
    #[serde(default)]
    pub after: Option<String>,
    /// Once a day, warn of tokens expiring within this many days (at most 3,650).
    #[serde(default)]
    pub warn_days: Option<u32>,
}

/// A registered webhook, with its secret: shown once.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct WebhookCreated {
    /// Its id.
    pub id: String,
    /// The endpoint.
    pub url: String,
    /// The HMAC-SHA256 key of the `Milk-Signature` header, hex.
    pub secret: String,
}

/// A registered webhook and how its deliveries go.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct WebhookView {
    /// Its id.
    pub id: String,
    /// The endpoint.
    pub url: String,
    /// The last event delivered.
    pub cursor: Option<String>,
    /// Expiry warnings, this many days ahead.
    pub warn_days: Option<u32>,
    /// The last UTC day (days since the epoch) whose expiry warnings were delivered.
    pub warned_day: Option<u64>,
    /// Failed attempts since the last delivery.
    pub failures: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// A coupon payment reported on the partner's chain, or its refund, and what it did to the
/// member's LZM on the center chain.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct CouponReceipt {
    /// The partner's coupon id.
    pub coupon_id: String,
    /// The customer's wallet.
    pub user: String,
    /// What the coupon paid, KRW.
    pub krw: u64,
    /// The report's seal: all the public center chain names of it.
    pub seal: String,
    /// Whether the payment was refunded.
    pub refunded: bool,
    /// LZM base units the payment earned (0 when today's cap or the pool was reached).
    pub lzm_credited: String,
    /// LZM base units taken back by its refund (0 before a refund).
    pub lzm_taken_back: String,
    /// The member's level after it.
    pub level: String,
    /// LZM base units the member owes of refunded credits they had already spent.
    pub owed: String,
}

/// A customer's own points that expire on one day, on one brand chain.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct OwnLotView {
    /// The brand chain.
    pub chain: String,
    /// Its Brand Token.
    pub asset: String,
    /// Base units.
    pub amount: String,
    /// The token's decimals.
    pub decimals: u8,
    /// When they expire: the start of this UTC day, Unix ms.
    pub expires_at_ms: u64,
    /// Whether that time has passed (a sweep may retire them).
    pub expired: bool,
}
