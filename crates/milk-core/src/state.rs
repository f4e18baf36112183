//! The state of one chain and the rules that change it.
//!
//! Applying a transaction is all-or-nothing: every check runs before the first write. The
//! state remembers which entries a block touched and their values before it, so the block's
//! [`StateDelta`] is exact, conservation can be checked in time proportional to the block,
//! and the store persists only what changed.

use crate::alliance::{Alliance, Status as AllianceStatus};
use crate::brand::{BrandPolicy, BrandState, BrandWrite, link_message};
use crate::codec::{Encode, Writer};
use crate::exchange::Exchange;
use crate::exchange::rules::is_exchange;
use crate::keys;
use crate::membership::rules::is_membership;
use crate::membership::{AccountRole, Membership};
use crate::tx::{Action, Transaction};
use crate::tx::{
    AllianceAction, AnchorAction, BrandAction, ExchangeAction, MembershipAction, TokenAction,
    TokenomicsAction,
};
use crate::{Address, Amount, ChainId, Hash, Symbol};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use thiserror::Error;

/// The furthest in the future a transaction may expire: it bounds how long a signed
/// transaction stays dangerous if it leaks before it is submitted.
pub const MAX_TX_LIFETIME_MS: u64 = 24 * 60 * 60 * 1000;

/// An asset as genesis defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetSpec {
    /// The ticker.
    pub symbol: Symbol,
    /// A display name.
    pub name: String,
    /// How many decimals one whole unit has; fixed forever.
    pub decimals: u8,
    /// Who may mint it; `None` for a fixed supply.
    pub issuer: Option<Address>,
}

/// Why a transaction cannot be applied. Each variant has a stable [`code`](TxError::code).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TxError {
    /// Signed for another chain.
    #[error("transaction is for chain {got}, not {expected}")]
    WrongChain {
        /// This chain.
        expected: ChainId,
        /// The chain the transaction names.
        got: ChainId,
    },
    /// The signature does not match the sender.
    #[error("signature is not valid for the sender")]
    BadSignature,
    /// The transaction expired.
    #[error("transaction expired at {expires_at_ms} (now {now_ms})")]
    Expired {
        /// Its expiry.
        expires_at_ms: u64,
        /// The time it was checked at.
        now_ms: u64,
    },
    /// The expiry is further away than allowed.
    #[error("expiry {expires_at_ms} is more than {MAX_TX_LIFETIME_MS} ms ahead of {now_ms}")]
    ExpiryTooFar {
        /// Its expiry.
        expires_at_ms: u64,
        /// The time it was checked at.
        now_ms: u64,
    },
    /// The sequence number was already used: a replay or a duplicate.
    #[error("sequence {got} already used; next is {expected}")]
    SequenceUsed {
        /// The sender's next sequence number.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// An earlier sequence number has not been seen yet.
    #[error("sequence {got} is ahead; next is {expected}")]
    SequenceGap {
        /// The sender's next sequence number.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The asset does not exist on this chain.
    #[error("asset {asset} does not exist on this chain")]
    UnknownAsset {
        /// The asset named.
        asset: Symbol,
    },
    /// An amount of zero.
    #[error("amount must be more than zero")]
    ZeroAmount,
    /// The sender does not hold enough.
    #[error("insufficient {asset}: {available} available, {needed} needed (base units)")]
    InsufficientBalance {
        /// The asset.
        asset: Symbol,
        /// What the sender holds.
        available: Amount,
        /// What the transaction needs.
        needed: Amount,
    },
    /// A balance or supply would exceed the largest amount.
    #[error("amount overflows the largest representable {asset} balance")]
    Overflow {
        /// The asset.
        asset: Symbol,
    },
    /// Only the asset's issuer may mint it.
    #[error("only the issuer may mint {asset}")]
    NotIssuer {
        /// The asset.
        asset: Symbol,
    },
    /// A partner action on a chain that has no partner.
    #[error("this is not a brand chain")]
    NotBrandChain,
    /// The partner does not allow transfers between customers.
    #[error("the partner does not allow transfers of its token")]
    TransfersDisabled,
    /// The partner's countersignature of a link is missing or wrong.
    #[error("the partner's signature of the link is not valid")]
    BadPartnerSignature,
    /// The wallet is already linked to another customer.
    #[error("this wallet is already linked to another customer of the partner")]
    AlreadyLinked,
    /// Converting to a wallet that is not linked to a customer.
    #[error("the wallet is not linked to a customer of the partner")]
    NotLinked,
    /// A reference or order id that is empty or too long.
    #[error("reference must be 1 to 64 bytes")]
    InvalidReference,
    /// A partner reference or order id used before.
    #[error("this reference was already used")]
    ReferenceUsed,
    /// A conversion below the partner's minimum or above its maximum.
    #[error("conversion amount is outside the partner's minimum and maximum")]
    ConversionOutOfRange,
    /// A conversion over the customer's daily limit.
    #[error("daily conversion limit {limit} reached ({used} converted today, base units)")]
    DailyLimit {
        /// The limit.
        limit: Amount,
        /// Already converted today.
        used: Amount,
    },
    /// Refunding an order that was never redeemed.
    #[error("no redemption with this order id")]
    UnknownRedemption,
    /// Refunding twice.
    #[error("this redemption was already refunded")]
    AlreadyRefunded,
    /// An application for a chain id that is taken.
    #[error("that chain id is taken")]
    ChainTaken,
    /// An application that breaks a rule.
    #[error("invalid application: {0}")]
    InvalidApplication(String),
    /// An application in a sector that has a partner (or an applicant) already.
    #[error("sector {sector:?} already has a partner; one partner per sector")]
    SectorOccupied {
        /// The sector.
        sector: String,
    },
    /// No pending application (or member) for that chain.
    #[error("no such application or partner")]
    UnknownApplication,
    /// Only a member partner may approve.
    #[error("only a member partner may approve an application")]
    NotAMember,
    /// The member approved this application already.
    #[error("already approved")]
    AlreadyApproved,
    /// Too few members approved the application yet.
    #[error("{have} of {need} required approvals")]
    QuorumNotReached {
        /// Approvals so far.
        have: u32,
        /// Approvals required.
        need: u32,
    },
    /// Suspending a partner that is not admitted, or reinstating one that is not suspended.
    #[error("the partner is not in the status this needs")]
    WrongPartnerStatus,
    /// Sweeping an account with no expired tokens.
    #[error("the account has no expired tokens")]
    NothingExpired,
    /// Only the operator may do this (on the center chain).
    #[error("only the operator may do this, on the center chain")]
    NotOperator,
    /// An anchor at or below the chain's last anchored height.
    #[error("chain {chain} is already anchored at height {anchored}")]
    AnchorNotNewer {
        /// The anchored chain.
        chain: ChainId,
        /// Its last anchored height.
        anchored: u64,
    },
    /// This chain has no exchange.
    #[error("there is no exchange on this chain")]
    NoExchange,
    /// Only the oracle key may record MLK's price.
    #[error("only the oracle key may record MLK's price")]
    NotOracle,
    /// A price of zero.
    #[error("a price must be more than zero")]
    InvalidPrice,
    /// An oracle price not newer than the last, or from the future.
    #[error("the oracle price must be newer than the last and not ahead of the block")]
    OracleNotNewer,
    /// No MLK price was ever recorded.
    #[error("no MLK price yet: trading waits for the oracle")]
    OracleMissing,
    /// MLK's price is too old to trade on.
    #[error(
        "MLK's price is {age_ms} ms old, more than {max_ms} ms: trading is halted until the oracle reports"
    )]
    OracleStale {
        /// Its age.
        age_ms: u64,
        /// The most allowed.
        max_ms: u64,
    },
    /// No market for that token.
    #[error("no market for {asset}")]
    UnknownMarket {
        /// The token.
        asset: Symbol,
    },
    /// A market setting that breaks a rule.
    #[error("invalid market: {0}")]
    InvalidMarket(String),
    /// A largest order that would let someone profit from moving the price against others.
    #[error(
        "the largest order must be at most {bound} base units, or moving the price against another order could pay more than the fees"
    )]
    MaxOrderUnsafe {
        /// The sandwich-safe bound.
        bound: u128,
    },
    /// A depth change that would move the price.
    #[error("that capacity would move the price; use a multiple of {step} base units")]
    DepthWouldMovePrice {
        /// Capacities that keep the price are its multiples.
        step: u128,
    },
    /// Paying with something other than MLK.
    #[error("{asset} cannot pay for Brand Tokens: only MLK does (LZM never does)")]
    PaymentNotAccepted {
        /// What was offered.
        asset: Symbol,
    },
    /// The token's partner is suspended: its trading is halted.
    #[error("the partner is suspended: its token's trading is halted")]
    PartnerSuspended,
    /// The order would take the price past its bound.
    #[error(
        "the order would cross the price bound; the largest size allowed now is {largest} base units"
    )]
    BoundReached {
        /// The largest size allowed, token base units.
        largest: u128,
    },
    /// The order is worth nothing after rounding and the fee.
    #[error("the order is too small to trade")]
    OrderTooSmall,
    /// The order is larger than the market allows.
    #[error("the order is larger than the market's largest, {max} base units")]
    OrderTooLarge {
        /// The largest order.
        max: u128,
    },
    /// The customer's daily volume in this market would be exceeded.
    #[error("daily trading limit {limit} reached ({used} traded today, base units)")]
    DailyVolume {
        /// The limit.
        limit: u128,
        /// Traded today.
        used: u128,
    },
    /// The price moved past the order's limit.
    #[error(
        "the order's limit was missed: it would be {total} MLK base units against a limit of {limit}"
    )]
    LimitMissed {
        /// What the order would pay or get.
        total: u128,
        /// The order's limit.
        limit: u128,
    },
    /// No such trade.
    #[error("no such trade")]
    UnknownTrade,
    /// The trade's step is already done.
    #[error("this step of the trade is already done")]
    TradeClosed,
    /// An embedded order that is not a sale.
    #[error("the embedded order is not a sale")]
    NotASale,
    /// TICA's inventory cannot deliver.
    #[error("TICA's inventory holds only {available} base units")]
    InventoryShort {
        /// What it holds.
        available: u128,
    },
    /// TICA's reserve cannot pay.
    #[error("TICA's reserve holds only {available} MLK base units")]
    ReserveShort {
        /// What it holds.
        available: u128,
    },
    /// The customer's order expired before it settled.
    #[error("the order expired before it could settle")]
    OrderExpired,
    /// This chain has no membership.
    #[error("there is no membership on this chain")]
    NoMembership,
    /// A second check-in on the same UTC day.
    #[error("already checked in today")]
    AlreadyCheckedIn,
    /// The account's daily LZM cap is reached.
    #[error("today's LZM earning cap is reached")]
    DailyCapReached,
    /// The pool that pays this is empty.
    #[error("the LZM pool paying this is exhausted")]
    PoolExhausted,
    /// Too little MLK burned to earn a base unit of LZM.
    #[error("too little MLK to earn any LZM")]
    BurnTooSmall,
    /// The coupon was credited already.
    #[error("this coupon was already credited")]
    CouponUsed,
    /// A level that does not exist.
    #[error("there is no such level")]
    InvalidLevel,
    /// The account is a locked allocation.
    #[error("this allocation is locked: {0}")]
    AllocationLocked(String),
    /// An offer id the partner used already.
    #[error("the partner already published an offer with this id")]
    OfferExists,
    /// An offer that breaks a rule.
    #[error("invalid offer: {0}")]
    InvalidOffer(String),
    /// No such offer.
    #[error("no such offer")]
    UnknownOffer,
    /// The offer is not open now.
    #[error("the offer is not open now")]
    OfferClosed,
    /// Every unit of the offer was bought.
    #[error("the offer is sold out")]
    SoldOut,
    /// No consent to read this member's data (never given, or withdrawn).
    #[error("the member has not consented to share data with this partner")]
    NoConsent,
    /// Phase 2 has begun already.
    #[error("phase 2 has begun already")]
    Phase2Started,
    /// No Pack season, or the action does not fit it.
    #[error("MiL.k Pack: {0}")]
    Pack(String),
    /// A consent that breaks a rule.
    #[error("invalid consent: {0}")]
    InvalidConsent(String),
    /// The member's level is below the offer's.
    #[error("the offer is for {needed} members and up; this member is {level}")]
    UnderLevel {
        /// The member's level.
        level: String,
        /// The offer's.
        needed: String,
    },
}

impl TxError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::WrongChain { .. } => "wrong_chain",
            TxError::BadSignature => "bad_signature",
            TxError::Expired { .. } => "expired",
            TxError::ExpiryTooFar { .. } => "expiry_too_far",
            TxError::SequenceUsed { .. } => "sequence_used",
            TxError::SequenceGap { .. } => "sequence_gap",
            TxError::UnknownAsset { .. } => "unknown_asset",
            TxError::ZeroAmount => "zero_amount",
            TxError::InsufficientBalance { .. } => "insufficient_balance",
            TxError::Overflow { .. } => "overflow",
            TxError::NotIssuer { .. } => "not_issuer",
            TxError::NotBrandChain => "not_brand_chain",
            TxError::TransfersDisabled => "transfers_disabled",
            TxError::BadPartnerSignature => "bad_partner_signature",
            TxError::AlreadyLinked => "already_linked",
            TxError::NotLinked => "not_linked",
            TxError::InvalidReference => "invalid_reference",
            TxError::ReferenceUsed => "reference_used",
            TxError::ConversionOutOfRange => "conversion_out_of_range",
            TxError::DailyLimit { .. } => "daily_limit",
            TxError::UnknownRedemption => "unknown_redemption",
            TxError::AlreadyRefunded => "already_refunded",
            TxError::NotOperator => "not_operator",
            TxError::NothingExpired => "nothing_expired",
            TxError::ChainTaken => "chain_taken",
            TxError::InvalidApplication(_) => "invalid_application",
            TxError::SectorOccupied { .. } => "sector_occupied",
            TxError::UnknownApplication => "unknown_application",
            TxError::NotAMember => "not_a_member",
            TxError::AlreadyApproved => "already_approved",
            TxError::QuorumNotReached { .. } => "quorum_not_reached",
            TxError::WrongPartnerStatus => "wrong_partner_status",
            TxError::AnchorNotNewer { .. } => "anchor_not_newer",
            TxError::NoExchange => "no_exchange",
            TxError::NotOracle => "not_oracle",
            TxError::InvalidPrice => "invalid_price",
            TxError::OracleNotNewer => "oracle_not_newer",
            TxError::OracleMissing => "oracle_missing",
            TxError::OracleStale { .. } => "oracle_stale",
            TxError::UnknownMarket { .. } => "unknown_market",
            TxError::InvalidMarket(_) => "invalid_market",
            TxError::MaxOrderUnsafe { .. } => "max_order_unsafe",
            TxError::DepthWouldMovePrice { .. } => "depth_would_move_price",
            TxError::PaymentNotAccepted { .. } => "payment_not_accepted",
            TxError::PartnerSuspended => "partner_suspended",
            TxError::BoundReached { .. } => "bound_reached",
            TxError::OrderTooSmall => "order_too_small",
            TxError::OrderTooLarge { .. } => "order_too_large",
            TxError::DailyVolume { .. } => "daily_volume",
            TxError::LimitMissed { .. } => "limit_missed",
            TxError::UnknownTrade => "unknown_trade",
            TxError::TradeClosed => "trade_closed",
            TxError::NotASale => "not_a_sale",
            TxError::InventoryShort { .. } => "inventory_short",
            TxError::ReserveShort { .. } => "reserve_short",
            TxError::OrderExpired => "order_expired",
            TxError::NoMembership => "no_membership",
            TxError::AlreadyCheckedIn => "already_checked_in",
            TxError::DailyCapReached => "daily_cap_reached",
            TxError::PoolExhausted => "pool_exhausted",
            TxError::BurnTooSmall => "burn_too_small",
            TxError::CouponUsed => "coupon_used",
            TxError::InvalidLevel => "invalid_level",
            TxError::AllocationLocked(_) => "allocation_locked",
            TxError::OfferExists => "offer_exists",
            TxError::InvalidOffer(_) => "invalid_offer",
            TxError::UnknownOffer => "unknown_offer",
            TxError::OfferClosed => "offer_closed",
            TxError::SoldOut => "sold_out",
            TxError::UnderLevel { .. } => "under_level",
            TxError::NoConsent => "no_consent",
            TxError::Pack(_) => "pack_refused",
            TxError::Phase2Started => "phase2_started",
            TxError::InvalidConsent(_) => "invalid_consent",
        }
    }
}

/// Keys of the persisted state: one namespace byte, then that namespace's own bytes.
///
/// The store keeps every piece of chain state as such a record, so a new kind of state
/// (a partner's links, a market's inventory, …) needs a namespace here and nothing new in
/// the store. Values are fixed-width big-endian integers unless a namespace says otherwise.
pub mod record {
    use crate::{Address, Symbol};

    /// `BALANCE ‖ account (32) ‖ symbol` → `u128` base units. Absent means zero.
    pub const BALANCE: u8 = 1;
    /// `SEQUENCE ‖ account (32)` → `u64`, the account's next sequence number.
    pub const SEQUENCE: u8 = 2;
    /// `SUPPLY ‖ symbol` → `u128` base units.
    pub const SUPPLY: u8 = 3;
    /// `ANCHOR ‖ chain ‖ 0 ‖ height (u64)` → the brand chain's block hash (center chain).
    pub const ANCHOR: u8 = 20;

    /// The key of a brand chain's anchor at a height.
    pub fn anchor(chain: &crate::ChainId, height: u64) -> Vec<u8> {
        let mut k = vec![ANCHOR];
        k.extend_from_slice(chain.as_str().as_bytes());
        k.push(0);
        k.extend_from_slice(&height.to_be_bytes());
        k
    }

    /// The prefix of every anchor of a brand chain.
    pub fn anchor_prefix(chain: &crate::ChainId) -> Vec<u8> {
        let mut k = vec![ANCHOR];
        k.extend_from_slice(chain.as_str().as_bytes());
        k.push(0);
        k
    }

    /// The key of an account's balance of an asset.
    pub fn balance(account: &Address, asset: &Symbol) -> Vec<u8> {
        let mut k = Vec::with_capacity(1 + 32 + Symbol::MAX_LEN);
        k.push(BALANCE);
        k.extend_from_slice(account.as_bytes());
        k.extend_from_slice(asset.as_str().as_bytes());
        k
    }

    /// The key of an account's next sequence number.
    pub fn sequence(account: &Address) -> Vec<u8> {
        let mut k = Vec::with_capacity(33);
        k.push(SEQUENCE);
        k.extend_from_slice(account.as_bytes());
        k
    }

    /// The key of an asset's supply.
    pub fn supply(asset: &Symbol) -> Vec<u8> {
        let mut k = vec![SUPPLY];
        k.extend_from_slice(asset.as_str().as_bytes());
        k
    }

    /// Reads a `u128` value.
    pub fn u128_value(bytes: &[u8]) -> Option<u128> {
        bytes.try_into().ok().map(u128::from_be_bytes)
    }

    /// Reads a `u64` value.
    pub fn u64_value(bytes: &[u8]) -> Option<u64> {
        bytes.try_into().ok().map(u64::from_be_bytes)
    }
}

/// What one block changed: the new value of every record it touched (`None`: deleted),
/// sorted by key, so it encodes (and hashes) the same on every node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDelta {
    /// `(key, new value)`, sorted by key, each key once.
    pub entries: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Encode for StateDelta {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.entries.len() as u32);
        for (k, v) in &self.entries {
            w.bytes(k);
            match v {
                Some(v) => w.u8(1).bytes(v),
                None => w.u8(0),
            };
        }
    }
}

/// The state commitment after a block: a hash chain over every block's delta.
///
/// `root(h) = H(root(h-1) ‖ h ‖ delta(h))`, with `root(-1) = 0` and genesis's delta being
/// the whole initial state. It costs time proportional to the block, not to the state, and
/// anyone who replays the chain from genesis recomputes it exactly.
pub fn state_root(prev_root: &Hash, height: u64, delta: &StateDelta) -> Hash {
    let mut w = Writer::new();
    w.put(prev_root).u64(height).put(delta);
    Hash::domain("milk/state/v1", &[&w.into_bytes()])
}

#[derive(Debug, Clone)]
pub(crate) struct AssetState {
    pub(crate) spec: AssetSpec,
    pub(crate) supply: Amount,
}

/// A chain's accounts, sequence numbers and asset supplies.
#[derive(Debug, Clone)]
pub struct ChainState {
    pub(crate) chain: ChainId,
    pub(crate) assets: BTreeMap<Symbol, AssetState>,
    pub(crate) balances: HashMap<(Address, Symbol), Amount>,
    pub(crate) sequences: HashMap<Address, u64>,
    // Entries changed since the last `take_delta`, with their values before.
    pub(crate) touched_balances: HashMap<(Address, Symbol), Amount>,
    pub(crate) touched_sequences: HashMap<Address, u64>,
    pub(crate) touched_supplies: HashMap<Symbol, Amount>,
    // A brand chain's Brand Token and partner records.
    pub(crate) brand: Option<(Symbol, BrandState)>,
    // On the center chain: who may anchor, and the anchors of every brand chain.
    pub(crate) operator: Option<Address>,
    pub(crate) alliance: Option<(Alliance, BTreeSet<Symbol>)>,
    pub(crate) anchors: BTreeMap<(ChainId, u64), Hash>,
    pub(crate) touched_anchors: Vec<(ChainId, u64)>,
    // On the center chain: the exchange.
    pub(crate) exchange: Option<Exchange>,
    // On a brand chain: TICA's inventory of the token.
    pub(crate) inventory: Option<Address>,
    // On the center chain: membership, and the allocation accounts' roles.
    pub(crate) membership: Option<Membership>,
    pub(crate) roles: Vec<AccountRole>,
}

/// Conservation broke: the sum of balances differs from the recorded supply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{asset}: supply {supply} but balances sum to {sum}")]
pub struct ConservationError {
    /// The asset.
    pub asset: Symbol,
    /// The recorded supply.
    pub supply: Amount,
    /// The sum of balances (saturating).
    pub sum: Amount,
}

impl ChainState {
    /// An empty chain with these assets, all of zero supply.
    pub fn new(chain: ChainId, assets: Vec<AssetSpec>) -> ChainState {
        let assets = assets
            .into_iter()
            .map(|spec| {
                (
                    spec.symbol,
                    AssetState {
                        spec,
                        supply: Amount::ZERO,
                    },
                )
            })
            .collect();
        ChainState {
            chain,
            assets,
            balances: HashMap::default(),
            sequences: HashMap::default(),
            touched_balances: HashMap::default(),
            touched_sequences: HashMap::default(),
            touched_supplies: HashMap::default(),
            brand: None,
            operator: None,
            alliance: None,
            anchors: BTreeMap::new(),
            touched_anchors: Vec::new(),
            exchange: None,
            inventory: None,
            membership: None,
            roles: Vec::new(),
        }
    }

    /// Runs membership here (the center chain), with the allocation accounts' roles.
    pub fn with_membership(mut self, m: Option<Membership>, roles: Vec<AccountRole>) -> ChainState {
        self.membership = m;
        self.roles = roles;
        self
    }

    /// Membership, on the center chain.
    pub fn membership(&self) -> Option<&Membership> {
        self.membership.as_ref()
    }

    /// Runs the exchange here (the center chain).
    pub fn with_exchange(mut self, exchange: Exchange) -> ChainState {
        self.exchange = Some(exchange);
        self
    }

    /// Names TICA's inventory of this brand chain's token, which the exchange trades from.
    pub fn with_inventory(mut self, inventory: Address) -> ChainState {
        self.inventory = Some(inventory);
        self
    }

    /// The exchange, on the center chain.
    pub fn exchange(&self) -> Option<&Exchange> {
        self.exchange.as_ref()
    }

    /// Lets `operator` anchor brand chains here (the center chain).
    pub fn with_operator(mut self, operator: Address) -> ChainState {
        self.operator = Some(operator);
        self
    }

    /// Keeps the alliance's registry here (the center chain); `symbols` are the assets that
    /// already exist, which an applicant may not take.
    pub fn with_alliance(mut self, alliance: Alliance, symbols: BTreeSet<Symbol>) -> ChainState {
        self.alliance = Some((alliance, symbols));
        self
    }

    /// The alliance's registry, on the center chain.
    pub fn alliance(&self) -> Option<&Alliance> {
        self.alliance.as_ref().map(|(a, _)| a)
    }

    /// Checks an alliance action, and returns the change it makes.
    fn check_alliance(&self, tx: &Transaction) -> Result<AllianceChange, TxError> {
        let (alliance, symbols) = self.alliance.as_ref().ok_or(TxError::NotOperator)?;
        let by_operator = || {
            if self.operator == Some(tx.sender) {
                Ok(())
            } else {
                Err(TxError::NotOperator)
            }
        };
        Ok(match &tx.action {
            Action::Alliance(AllianceAction::Apply { application }) => {
                alliance.check_apply(&tx.sender, application, symbols)?;
                AllianceChange::Apply(application.clone())
            }
            Action::Alliance(AllianceAction::Approve { chain }) => {
                alliance.check_approve(&tx.sender, chain)?;
                AllianceChange::Approve(chain.clone())
            }
            Action::Alliance(AllianceAction::SignAgreement { chain }) => {
                by_operator()?;
                alliance.check_sign(chain)?;
                AllianceChange::Status(chain.clone(), AllianceStatus::Admitted)
            }
            Action::Alliance(AllianceAction::Suspend { chain }) => {
                by_operator()?;
                alliance.check_status(chain, AllianceStatus::Admitted)?;
                AllianceChange::Status(chain.clone(), AllianceStatus::Suspended)
            }
            Action::Alliance(AllianceAction::Reinstate { chain }) => {
                by_operator()?;
                alliance.check_status(chain, AllianceStatus::Suspended)?;
                AllianceChange::Status(chain.clone(), AllianceStatus::Admitted)
            }
            _ => unreachable!("called for alliance actions only"),
        })
    }

    /// The anchors recorded for a brand chain, by height.
    pub fn anchors_of<'a>(&'a self, chain: &'a ChainId) -> impl Iterator<Item = (u64, Hash)> + 'a {
        self.anchors
            .range((chain.clone(), 0)..=(chain.clone(), u64::MAX))
            .map(|((_, h), hash)| (*h, *hash))
    }

    fn check_anchor(&self, tx: &Transaction) -> Result<(), TxError> {
        let Action::Anchor(AnchorAction::Anchor { chain, height, .. }) = &tx.action else {
            unreachable!("called for anchors only")
        };
        if self.operator != Some(tx.sender) || self.alliance.is_none() {
            return Err(TxError::NotOperator);
        }
        if let Some((anchored, _)) = self.anchors_of(chain).last()
            && *height <= anchored
        {
            return Err(TxError::AnchorNotNewer {
                chain: chain.clone(),
                anchored,
            });
        }
        Ok(())
    }

    /// Makes this a brand chain whose partner token is `asset`, under `policy`.
    pub fn with_brand(mut self, asset: Symbol, policy: BrandPolicy) -> ChainState {
        self.brand = Some((asset, BrandState::new(policy)));
        self
    }

    /// The partner's records, on a brand chain.
    pub fn brand(&self) -> Option<&BrandState> {
        self.brand.as_ref().map(|(_, b)| b)
    }

    pub(crate) fn brand_or_err(&self) -> Result<(Symbol, &BrandState), TxError> {
        self.brand
            .as_ref()
            .map(|(s, b)| (*s, b))
            .ok_or(TxError::NotBrandChain)
    }

    /// The chain this state belongs to.
    pub fn chain(&self) -> &ChainId {
        &self.chain
    }

    /// The assets of this chain, in symbol order.
    pub fn assets(&self) -> impl Iterator<Item = (&AssetSpec, Amount)> {
        self.assets.values().map(|a| (&a.spec, a.supply))
    }

    /// One asset's definition.
    pub fn asset(&self, symbol: &Symbol) -> Option<&AssetSpec> {
        self.assets.get(symbol).map(|a| &a.spec)
    }

    /// The total supply of an asset.
    pub fn supply(&self, symbol: &Symbol) -> Option<Amount> {
        self.assets.get(symbol).map(|a| a.supply)
    }

    /// An account's balance of an asset.
    pub fn balance(&self, account: &Address, asset: &Symbol) -> Amount {
        self.balances
            .get(&(*account, *asset))
            .copied()
            .unwrap_or_default()
    }

    /// The sequence number the account's next transaction must carry.
    pub fn next_sequence(&self, account: &Address) -> u64 {
        self.sequences.get(account).copied().unwrap_or(0)
    }

    /// How many (account, asset) balances are non-zero.
    pub fn account_entries(&self) -> usize {
        self.balances.len()
    }

    /// Every non-zero balance, in no particular order.
    pub fn balances(&self) -> impl Iterator<Item = (&Address, &Symbol, Amount)> {
        self.balances.iter().map(|((a, s), v)| (a, s, *v))
    }

    /// Every account's next sequence number.
    pub fn sequences(&self) -> impl Iterator<Item = (&Address, u64)> {
        self.sequences.iter().map(|(a, n)| (a, *n))
    }

    /// Checks a transaction against the current state without changing it. `now_ms` is the
    /// block time (or, on admission, the node's clock).
    pub fn check(&self, tx: &Transaction, now_ms: u64) -> Result<(), TxError> {
        self.check_envelope(tx, now_ms)?;
        if let Action::Anchor(AnchorAction::Anchor { .. }) = tx.action {
            return self.check_anchor(tx);
        }
        if is_alliance(&tx.action) {
            return self.check_alliance(tx).map(|_| ());
        }
        self.plan(tx, now_ms).map(|_| ())
    }

    /// The checks that do not depend on the action: chain, expiry, sequence. A node admits a
    /// transaction to its pool on these alone: everything else depends on what applies
    /// before it in the block (a link before a conversion, funds before a payment).
    pub fn check_envelope(&self, tx: &Transaction, now_ms: u64) -> Result<(), TxError> {
        if tx.chain != self.chain {
            return Err(TxError::WrongChain {
                expected: self.chain.clone(),
                got: tx.chain.clone(),
            });
        }
        if tx.expires_at_ms <= now_ms {
            return Err(TxError::Expired {
                expires_at_ms: tx.expires_at_ms,
                now_ms,
            });
        }
        if tx.expires_at_ms > now_ms.saturating_add(MAX_TX_LIFETIME_MS) {
            return Err(TxError::ExpiryTooFar {
                expires_at_ms: tx.expires_at_ms,
                now_ms,
            });
        }
        let expected = self.next_sequence(&tx.sender);
        if tx.sequence < expected {
            return Err(TxError::SequenceUsed {
                expected,
                got: tx.sequence,
            });
        }
        if tx.sequence > expected {
            return Err(TxError::SequenceGap {
                expected,
                got: tx.sequence,
            });
        }
        Ok(())
    }

    /// Works out the writes an action makes, checking everything; writes nothing.
    fn plan(&self, tx: &Transaction, now_ms: u64) -> Result<Plan, TxError> {
        let asset = &match tx.action.asset() {
            Some(a) => *a,
            None => self.brand_or_err()?.0,
        };
        let state = self
            .assets
            .get(asset)
            .ok_or(TxError::UnknownAsset { asset: *asset })?;
        let overflow = || TxError::Overflow { asset: *asset };
        let debit = |amount: Amount| -> Result<Amount, TxError> {
            let available = self.balance(&tx.sender, asset);
            available
                .checked_sub(amount)
                .ok_or(TxError::InsufficientBalance {
                    asset: *asset,
                    available,
                    needed: amount,
                })
        };
        // On a brand chain whose tokens expire: which lots a spend takes, and refusing to
        // spend what has expired.
        let spend = |amount: Amount, to: Option<Address>| -> Result<Option<BrandWrite>, TxError> {
            let Some((_, brand)) = &self.brand else {
                return Ok(None);
            };
            let balance = self.balance(&tx.sender, asset);
            brand
                .plan_spend(&tx.sender, to, balance, amount, now_ms)
                .map_err(|spendable| TxError::InsufficientBalance {
                    asset: *asset,
                    available: spendable,
                    needed: amount,
                })
        };
        // Destroys the sender's own tokens, whatever the reason.
        let burn = |amount: Amount, mut brand: Vec<BrandWrite>| -> Result<Plan, TxError> {
            nonzero(amount)?;
            let from_after = debit(amount)?;
            brand.extend(spend(amount, None)?);
            let supply = state
                .supply
                .checked_sub(amount)
                .expect("a balance never exceeds its asset's supply");
            Ok(Plan {
                writes: [Some((tx.sender, from_after)), None],
                supply: Some(supply),
                brand,
            })
        };
        match &tx.action {
            Action::Token(TokenAction::Transfer { to, amount, .. }) => {
                nonzero(*amount)?;
                if self.brand().is_some_and(|b| !b.policy().transfers_allowed) {
                    return Err(TxError::TransfersDisabled);
                }
                let from_after = debit(*amount)?;
                let lots = spend(*amount, Some(*to))?;
                let to_after = if *to == tx.sender {
                    from_after.checked_add(*amount).ok_or_else(overflow)?
                } else {
                    self.balance(to, asset)
                        .checked_add(*amount)
                        .ok_or_else(overflow)?
                };
                Ok(Plan {
                    writes: [Some((tx.sender, from_after)), Some((*to, to_after))],
                    supply: None,
                    brand: lots.into_iter().collect(),
                })
            }
            Action::Token(TokenAction::Mint { to, amount, .. }) => {
                nonzero(*amount)?;
                if state.spec.issuer != Some(tx.sender) {
                    return Err(TxError::NotIssuer { asset: *asset });
                }
                let supply = state.supply.checked_add(*amount).ok_or_else(overflow)?;
                let to_after = self
                    .balance(to, asset)
                    .checked_add(*amount)
                    .ok_or_else(overflow)?;
                Ok(Plan {
                    writes: [Some((*to, to_after)), None],
                    supply: Some(supply),
                    brand: Vec::new(),
                })
            }
            Action::Token(TokenAction::Burn { amount, .. }) => burn(*amount, Vec::new()),
            Action::Brand(BrandAction::Link {
                customer_hash,
                partner_signature,
            }) => {
                let (_, brand) = self.brand_or_err()?;
                let issuer = state.spec.issuer.ok_or(TxError::NotBrandChain)?;
                let message = link_message(&self.chain, &tx.sender, customer_hash);
                if !keys::verify(&issuer, &message.0, partner_signature) {
                    return Err(TxError::BadPartnerSignature);
                }
                brand.check_link(&tx.sender, customer_hash)?;
                Ok(Plan {
                    writes: [None, None],
                    supply: None,
                    brand: vec![BrandWrite::Link(tx.sender, *customer_hash)],
                })
            }
            Action::Brand(BrandAction::Convert {
                to,
                mileage,
                reference,
            }) => {
                let (_, brand) = self.brand_or_err()?;
                if state.spec.issuer != Some(tx.sender) {
                    return Err(TxError::NotIssuer { asset: *asset });
                }
                let write = brand.plan_convert(to, *mileage, reference, tx.id(), now_ms)?;
                let BrandWrite::Convert { conversion, .. } = &write else {
                    unreachable!("plan_convert plans a conversion")
                };
                let amount = conversion.amount;
                let supply = state.supply.checked_add(amount).ok_or_else(overflow)?;
                let to_after = self
                    .balance(to, asset)
                    .checked_add(amount)
                    .ok_or_else(overflow)?;
                Ok(Plan {
                    writes: [Some((*to, to_after)), None],
                    supply: Some(supply),
                    brand: vec![write],
                })
            }
            Action::Brand(BrandAction::Redeem { amount, order_id }) => {
                let (_, brand) = self.brand_or_err()?;
                nonzero(*amount)?;
                let write = brand.plan_redeem(&tx.sender, *amount, order_id)?;
                burn(*amount, vec![write])
            }
            Action::Brand(BrandAction::Refund { order_id }) => {
                let (_, brand) = self.brand_or_err()?;
                if state.spec.issuer != Some(tx.sender) {
                    return Err(TxError::NotIssuer { asset: *asset });
                }
                let (redemption, write) = brand.plan_refund(order_id)?;
                let supply = state
                    .supply
                    .checked_add(redemption.amount)
                    .ok_or_else(overflow)?;
                let to_after = self
                    .balance(&redemption.redeemer, asset)
                    .checked_add(redemption.amount)
                    .ok_or_else(overflow)?;
                Ok(Plan {
                    writes: [Some((redemption.redeemer, to_after)), None],
                    supply: Some(supply),
                    brand: vec![write],
                })
            }
            Action::Brand(BrandAction::Expire { account }) => {
                let (_, brand) = self.brand_or_err()?;
                if state.spec.issuer != Some(tx.sender) {
                    return Err(TxError::NotIssuer { asset: *asset });
                }
                let (amount, write) = brand.plan_expire(account, now_ms)?;
                let after = self
                    .balance(account, asset)
                    .checked_sub(amount)
                    .expect("lots never exceed a balance");
                let supply = state
                    .supply
                    .checked_sub(amount)
                    .expect("a balance never exceeds its asset's supply");
                Ok(Plan {
                    writes: [Some((*account, after)), None],
                    supply: Some(supply),
                    brand: vec![write],
                })
            }
            Action::Anchor(AnchorAction::Anchor { .. })
            | Action::Alliance(AllianceAction::Apply { .. })
            | Action::Alliance(AllianceAction::Approve { .. })
            | Action::Alliance(AllianceAction::SignAgreement { .. })
            | Action::Alliance(AllianceAction::Suspend { .. })
            | Action::Alliance(AllianceAction::Reinstate { .. })
            | Action::Exchange(ExchangeAction::OraclePrice { .. })
            | Action::Exchange(ExchangeAction::SetMarket { .. })
            | Action::Exchange(ExchangeAction::Buy { .. })
            | Action::Exchange(ExchangeAction::CompleteBuy { .. })
            | Action::Exchange(ExchangeAction::Sell { .. })
            | Action::Exchange(ExchangeAction::SettleSell { .. })
            | Action::Exchange(ExchangeAction::ReleaseSell { .. })
            | Action::Exchange(ExchangeAction::DeliverBuy { .. })
            | Action::Membership(MembershipAction::CheckIn)
            | Action::Membership(MembershipAction::BurnForLzm { .. })
            | Action::Membership(MembershipAction::ReportCoupon { .. })
            | Action::Membership(MembershipAction::SetEarningRules { .. })
            | Action::Membership(MembershipAction::SetLevelFloor { .. })
            | Action::Membership(MembershipAction::PublishOffer { .. })
            | Action::Membership(MembershipAction::BuyOffer { .. })
            | Action::Membership(MembershipAction::GrantConsent { .. })
            | Action::Membership(MembershipAction::WithdrawConsent { .. })
            | Action::Membership(MembershipAction::LogAccess { .. })
            | Action::Membership(MembershipAction::OpenPackSeason { .. })
            | Action::Membership(MembershipAction::JoinPack { .. })
            | Action::Membership(MembershipAction::LeavePack)
            | Action::Membership(MembershipAction::PayPackWeek { .. })
            | Action::Tokenomics(TokenomicsAction::PayContribution { .. })
            | Action::Tokenomics(TokenomicsAction::RewardLink { .. })
            | Action::Tokenomics(TokenomicsAction::StartPhase2 { .. })
            | Action::Tokenomics(TokenomicsAction::AllocatePartner { .. })
            | Action::Tokenomics(TokenomicsAction::ClaimAllocation { .. }) => {
                unreachable!(
                    "anchors, alliance, exchange and membership actions are applied before planning"
                )
            }
        }
    }

    /// Applies a transaction whose signature was checked, at block time `now_ms`. On error
    /// nothing changed.
    pub fn apply(&mut self, tx: &Transaction, now_ms: u64) -> Result<(), TxError> {
        self.check_envelope(tx, now_ms)?;
        if let Action::Anchor(AnchorAction::Anchor {
            chain,
            height,
            hash,
        }) = &tx.action
        {
            self.check_anchor(tx)?;
            self.anchors.insert((chain.clone(), *height), *hash);
            self.touched_anchors.push((chain.clone(), *height));
            self.bump_sequence(tx.sender);
            return Ok(());
        }
        self.check_locks(tx, now_ms)?;
        if is_membership(&tx.action) {
            let change = self.check_membership(tx, now_ms)?;
            self.apply_membership(change);
            self.bump_sequence(tx.sender);
            return Ok(());
        }
        if is_exchange(&tx.action) {
            let change = self.check_exchange(tx, now_ms)?;
            self.apply_exchange(change);
            self.bump_sequence(tx.sender);
            return Ok(());
        }
        if is_alliance(&tx.action) {
            let change = self.check_alliance(tx)?;
            // In phase 2 an applicant stakes MLK, held while it is a member.
            let stake = match &change {
                AllianceChange::Apply(a) => self.plan_stake(tx.sender, &a.chain)?,
                _ => None,
            };
            if let Some(stake) = stake {
                self.apply_membership(stake);
            }
            let (alliance, _) = self.alliance.as_mut().expect("checked");
            match change {
                AllianceChange::Apply(a) => alliance.apply(tx.sender, a),
                AllianceChange::Approve(chain) => alliance.approve(tx.sender, &chain),
                AllianceChange::Status(chain, status) => {
                    alliance.set_status(&chain, status, now_ms)
                }
            }
            self.bump_sequence(tx.sender);
            return Ok(());
        }
        let plan = self.plan(tx, now_ms)?;
        let asset = match tx.action.asset() {
            Some(a) => *a,
            None => self.brand_or_err()?.0,
        };
        for write in plan.brand {
            self.brand
                .as_mut()
                .expect("planned on a brand chain")
                .1
                .write(write);
        }
        for (account, value) in plan.writes.into_iter().flatten() {
            self.set_balance(account, asset, value);
        }
        if let Some(supply) = plan.supply {
            let state = self
                .assets
                .get_mut(&asset)
                .expect("planned on a known asset");
            self.touched_supplies.entry(asset).or_insert(state.supply);
            state.supply = supply;
        }
        self.bump_sequence(tx.sender);
        Ok(())
    }

    pub(crate) fn bump_sequence(&mut self, sender: Address) {
        let before = self.next_sequence(&sender);
        self.touched_sequences.entry(sender).or_insert(before);
        self.sequences.insert(sender, before + 1);
    }

    pub(crate) fn set_balance(&mut self, account: Address, asset: Symbol, value: Amount) {
        let key = (account, asset);
        let before = self.balances.get(&key).copied().unwrap_or_default();
        self.touched_balances.entry(key).or_insert(before);
        if value.is_zero() {
            self.balances.remove(&key);
        } else {
            self.balances.insert(key, value);
        }
    }

    /// Credits a genesis allocation, creating supply. Only for building genesis.
    pub fn allocate(
        &mut self,
        account: Address,
        asset: &Symbol,
        amount: Amount,
    ) -> Result<(), TxError> {
        let state = self
            .assets
            .get(asset)
            .ok_or(TxError::UnknownAsset { asset: *asset })?;
        let overflow = || TxError::Overflow { asset: *asset };
        let supply = state.supply.checked_add(amount).ok_or_else(overflow)?;
        let balance = self
            .balance(&account, asset)
            .checked_add(amount)
            .ok_or_else(overflow)?;
        self.set_balance(account, *asset, balance);
        let state = self.assets.get_mut(asset).expect("checked above");
        self.touched_supplies.entry(*asset).or_insert(state.supply);
        state.supply = supply;
        Ok(())
    }

    /// Restores persisted records (after [`ChainState::new`]), then checks conservation.
    pub fn restore<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        records: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), String> {
        for (key, value) in records {
            let (key, value) = (key.as_ref(), value.as_ref());
            let bad = || format!("malformed state record {}", hex::encode(key));
            let account = |bytes: &[u8]| -> Result<Address, String> {
                let raw: [u8; 32] = bytes
                    .get(..32)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(bad)?;
                Address::from_bytes(raw)
            };
            let symbol = |bytes: &[u8]| -> Result<Symbol, String> {
                std::str::from_utf8(bytes)
                    .map_err(|e| e.to_string())?
                    .parse()
            };
            match key.first() {
                Some(&record::BALANCE) if key.len() > 33 => {
                    let asset = symbol(&key[33..])?;
                    if !self.assets.contains_key(&asset) {
                        return Err(format!("stored balance of unknown asset {asset}"));
                    }
                    let v = record::u128_value(value).ok_or_else(bad)?;
                    if v != 0 {
                        self.balances
                            .insert((account(&key[1..])?, asset), Amount::new(v));
                    }
                }
                Some(&record::SEQUENCE) if key.len() == 33 => {
                    let n = record::u64_value(value).ok_or_else(bad)?;
                    self.sequences.insert(account(&key[1..])?, n);
                }
                Some(&crate::alliance::PARTNER_RECORD) => {
                    let restored = self
                        .alliance
                        .as_mut()
                        .is_some_and(|(a, _)| a.restore(key, value));
                    if !restored {
                        return Err(bad());
                    }
                }
                Some(&record::ANCHOR) => {
                    let rest = &key[1..];
                    let split = rest.iter().position(|b| *b == 0).ok_or_else(bad)?;
                    let chain: ChainId = std::str::from_utf8(&rest[..split])
                        .map_err(|e| e.to_string())?
                        .parse()?;
                    let height = record::u64_value(&rest[split + 1..]).ok_or_else(bad)?;
                    let hash: [u8; 32] = value.try_into().map_err(|_| bad())?;
                    self.anchors.insert((chain, height), Hash(hash));
                }
                Some(ns) if (40..=57).contains(ns) => {
                    let restored = self
                        .membership
                        .as_mut()
                        .is_some_and(|m| m.restore(key, value));
                    if !restored {
                        return Err(bad());
                    }
                }
                Some(ns) if (30..=35).contains(ns) => {
                    let restored = self
                        .exchange
                        .as_mut()
                        .is_some_and(|e| e.restore(key, value));
                    if !restored {
                        return Err(bad());
                    }
                }
                Some(&record::SUPPLY) => {
                    let asset = symbol(&key[1..])?;
                    let v = record::u128_value(value).ok_or_else(bad)?;
                    self.assets
                        .get_mut(&asset)
                        .ok_or_else(|| format!("stored supply of unknown asset {asset}"))?
                        .supply = Amount::new(v);
                }
                _ => {
                    let restored = self
                        .brand
                        .as_mut()
                        .is_some_and(|(_, b)| b.restore(key, value));
                    if !restored {
                        return Err(bad());
                    }
                }
            }
        }
        // What was restored is the persisted state: nothing in it is a change to persist
        // again (the genesis members, for one, are marked changed when first built).
        if let Some((alliance, _)) = &mut self.alliance {
            alliance.take_records();
        }
        if let Some(exchange) = &mut self.exchange {
            exchange.clear_touched();
        }
        if let Some(m) = &mut self.membership {
            m.clear_touched();
        }
        self.check_conservation().map_err(|e| e.to_string())
    }

    /// Every record of the state, sorted by key: what the store must hold after the last
    /// block (`milk verify` compares the two).
    pub fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = self
            .balances
            .iter()
            .map(|((a, s), v)| (record::balance(a, s), v.units().to_be_bytes().to_vec()))
            .chain(
                self.sequences
                    .iter()
                    .map(|(a, n)| (record::sequence(a), n.to_be_bytes().to_vec())),
            )
            .chain(
                self.assets
                    .iter()
                    .map(|(s, a)| (record::supply(s), a.supply.units().to_be_bytes().to_vec())),
            )
            .collect();
        if let Some((_, brand)) = &self.brand {
            out.extend(brand.records());
        }
        if let Some((alliance, _)) = &self.alliance {
            out.extend(alliance.records());
        }
        if let Some(exchange) = &self.exchange {
            out.extend(exchange.records());
        }
        if let Some(m) = &self.membership {
            out.extend(m.records());
        }
        out.extend(
            self.anchors
                .iter()
                .map(|((c, h), hash)| (record::anchor(c, *h), hash.0.to_vec())),
        );
        out.sort_unstable();
        out
    }

    /// Takes what changed since the last call, and asserts that the change conserved every
    /// asset: the balances moved by exactly what supply moved.
    pub fn take_delta(&mut self) -> StateDelta {
        let mut gained: BTreeMap<&Symbol, u128> = BTreeMap::new();
        let mut lost: BTreeMap<&Symbol, u128> = BTreeMap::new();
        let mut balances = Vec::with_capacity(self.touched_balances.len());
        for ((account, asset), before) in &self.touched_balances {
            let after = self.balance(account, asset);
            if after >= *before {
                *gained.entry(asset).or_default() += after.units() - before.units();
            } else {
                *lost.entry(asset).or_default() += before.units() - after.units();
            }
            balances.push((*account, *asset, after));
        }
        for (symbol, state) in &self.assets {
            let supply_before = self
                .touched_supplies
                .get(symbol)
                .copied()
                .unwrap_or(state.supply);
            let g = gained.get(symbol).copied().unwrap_or(0);
            let l = lost.get(symbol).copied().unwrap_or(0);
            assert_eq!(
                supply_before
                    .units()
                    .checked_add(g)
                    .and_then(|x| x.checked_sub(l)),
                Some(state.supply.units()),
                "conservation broken for {symbol} on {}",
                self.chain
            );
        }
        let mut entries: Vec<(Vec<u8>, Option<Vec<u8>>)> = balances
            .into_iter()
            .map(|(a, s, v)| {
                let value = (!v.is_zero()).then(|| v.units().to_be_bytes().to_vec());
                (record::balance(&a, &s), value)
            })
            .collect();
        entries.extend(self.touched_sequences.keys().map(|a| {
            (
                record::sequence(a),
                Some(self.next_sequence(a).to_be_bytes().to_vec()),
            )
        }));
        entries.extend(self.touched_supplies.keys().map(|s| {
            (
                record::supply(s),
                Some(self.assets[s].supply.units().to_be_bytes().to_vec()),
            )
        }));
        if let Some((_, brand)) = &mut self.brand {
            entries.extend(brand.take_records());
        }
        if let Some((alliance, _)) = &mut self.alliance {
            entries.extend(alliance.take_records());
        }
        if let Some(exchange) = &mut self.exchange {
            entries.extend(exchange.take_records());
        }
        if let Some(m) = &mut self.membership {
            entries.extend(m.take_records());
        }
        for (chain, height) in std::mem::take(&mut self.touched_anchors) {
            let hash = self.anchors[&(chain.clone(), height)];
            entries.push((record::anchor(&chain, height), Some(hash.0.to_vec())));
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.touched_balances.clear();
        self.touched_sequences.clear();
        self.touched_supplies.clear();
        StateDelta { entries }
    }

    /// Checks, over the whole state, that every asset's supply equals the sum of its balances.
    pub fn check_conservation(&self) -> Result<(), ConservationError> {
        let mut sums: BTreeMap<&Symbol, u128> = BTreeMap::new();
        for ((_, asset), v) in &self.balances {
            let s = sums.entry(asset).or_default();
            *s = s.saturating_add(v.units());
        }
        for (symbol, state) in &self.assets {
            let sum = Amount::new(sums.get(symbol).copied().unwrap_or(0));
            if sum != state.supply {
                return Err(ConservationError {
                    asset: *symbol,
                    supply: state.supply,
                    sum,
                });
            }
        }
        Ok(())
    }
}

enum AllianceChange {
    Apply(crate::alliance::Application),
    Approve(ChainId),
    Status(ChainId, AllianceStatus),
}

fn is_alliance(action: &Action) -> bool {
    matches!(
        action,
        Action::Alliance(AllianceAction::Apply { .. })
            | Action::Alliance(AllianceAction::Approve { .. })
            | Action::Alliance(AllianceAction::SignAgreement { .. })
            | Action::Alliance(AllianceAction::Suspend { .. })
            | Action::Alliance(AllianceAction::Reinstate { .. })
    )
}

struct Plan {
    brand: Vec<BrandWrite>,
    writes: [Option<(Address, Amount)>; 2],
    supply: Option<Amount>,
}

fn nonzero(amount: Amount) -> Result<(), TxError> {
    if amount.is_zero() {
        Err(TxError::ZeroAmount)
    } else {
        Ok(())
    }
}
