//! Transactions: what a key holder asks a chain to do, signed.

use crate::brand::MAX_REFERENCE_BYTES;
use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use crate::keys::{self, Address, Keypair, Signature};
use crate::{Amount, ChainId, Hash, Symbol};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

/// The longest memo a transfer may carry, in bytes of UTF-8.
pub const MAX_MEMO_BYTES: usize = 140;
/// The longest encoded signed transaction this version produces or accepts.
pub const MAX_TX_BYTES: usize = 1024;
/// The only transaction format version so far.
const TX_VERSION: u8 = 1;

/// The id of a transaction: the domain-separated hash of its unsigned encoding. It is also
/// the message that is signed, so it cannot be changed without the signer's key.
pub type TxId = Hash;

/// What a transaction does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Moves `amount` of `asset` from the sender to `to`.
    Transfer {
        /// The recipient.
        to: Address,
        /// The asset moved.
        asset: Symbol,
        /// How much, in base units; never zero.
        amount: Amount,
        /// A short note for the recipient (a gift message, an invoice reference).
        memo: String,
    },
    /// Creates `amount` of `asset` for `to`; only the asset's issuer may.
    Mint {
        /// The recipient.
        to: Address,
        /// The asset created.
        asset: Symbol,
        /// How much, in base units; never zero.
        amount: Amount,
    },
    /// Destroys `amount` of the sender's own `asset`.
    Burn {
        /// The asset destroyed.
        asset: Symbol,
        /// How much, in base units; never zero.
        amount: Amount,
    },
    /// Links the sender's wallet to a customer of the chain's partner (brand chains). The
    /// chain stores only `customer_hash`, the partner's salted hash of its customer id.
    Link {
        /// The partner's salted hash of the customer id.
        customer_hash: Hash,
        /// The partner's signature over [`crate::brand::link_message`].
        partner_signature: Signature,
    },
    /// Mints Brand Tokens for converted mileage, at the partner's rate; only the issuer may.
    Convert {
        /// The linked customer's wallet.
        to: Address,
        /// Mileage points converted.
        mileage: u64,
        /// The partner's own reference id: each is used once.
        reference: String,
    },
    /// Spends the sender's Brand Tokens at the partner: they are burned, and the partner
    /// owes the service at value R per unit.
    Redeem {
        /// How much, in base units; never zero.
        amount: Amount,
        /// The partner's order id: each is used once.
        order_id: String,
    },
    /// Gives a redemption back: re-mints its amount to the redeemer, once; only the issuer.
    Refund {
        /// The redemption's order id.
        order_id: String,
    },
    /// Applies to join the alliance (center chain), signed by the key that will issue the
    /// applicant's Brand Token.
    Apply {
        /// What the applicant asks for.
        application: crate::alliance::Application,
    },
    /// A member partner approves an application (center chain).
    Approve {
        /// The applicant's chain.
        chain: ChainId,
    },
    /// TICA signs the service agreement: the applicant is admitted (center chain).
    SignAgreement {
        /// The applicant's chain.
        chain: ChainId,
    },
    /// TICA suspends a member: trading halts, redemptions go on (center chain).
    Suspend {
        /// The member's chain.
        chain: ChainId,
    },
    /// TICA lifts a suspension (center chain).
    Reinstate {
        /// The member's chain.
        chain: ChainId,
    },
    /// Retires an account's expired Brand Tokens (burns its expired lots); only the issuer.
    Expire {
        /// The account swept.
        account: Address,
    },
    /// Records a brand chain's block hash on the center chain; only the operator may. A
    /// partner cannot rewrite history before an anchor without every verifier noticing.
    Anchor {
        /// The brand chain.
        chain: ChainId,
        /// Its block height.
        height: u64,
        /// That block's hash.
        hash: Hash,
    },
    /// MLK's price in KRW, as the oracle observed it (center chain; the oracle key only).
    /// Every trade is priced with the latest one, so each conversion can be audited.
    OraclePrice {
        /// KRW per whole MLK, times 10⁴.
        krw_e4: u64,
        /// When the sources quoted it, Unix ms.
        observed_at_ms: u64,
    },
    /// Opens a Brand Token market or changes its depth and limits (center chain; TICA).
    SetMarket {
        /// The Brand Token.
        asset: Symbol,
        /// The curve's capacity K, base units. A change keeps the current price exactly.
        capacity: Amount,
        /// TICA's starting position on the curve: given when opening, absent after.
        position: Option<Amount>,
        /// The largest order, base units (at most the sandwich-safe bound).
        max_order: Amount,
        /// What one customer may trade in a UTC day, base units.
        user_daily_limit: Amount,
    },
    /// A customer buys Brand Tokens with MLK (center chain): the MLK is held in escrow until
    /// the tokens are delivered on the brand chain.
    Buy {
        /// The Brand Token.
        asset: Symbol,
        /// What pays: MLK, the only currency of the exchange (LZM never pays).
        pay: Symbol,
        /// How much: tokens, or an MLK budget.
        size: OrderSize,
        /// The most MLK to pay, fee included.
        max_in: Amount,
    },
    /// TICA settles a buy once its delivery is known (center chain): the escrow goes to the
    /// reserve and fee accounts, or back to the customer.
    CompleteBuy {
        /// The buy's transaction id.
        trade: TxId,
        /// Whether the tokens were delivered.
        delivered: bool,
    },
    /// A customer sells Brand Tokens of this chain for MLK (brand chain): the tokens are held
    /// in escrow until the center chain settles the sale.
    Sell {
        /// Tokens sold, base units.
        amount: Amount,
        /// The least MLK to receive, after the fee.
        min_out: Amount,
    },
    /// TICA settles a sale on the center chain with the customer's signed order embedded: it
    /// pays, or records why it does not.
    SettleSell {
        /// The customer's signed `Sell`, as committed on its brand chain.
        order: Box<SignedTransaction>,
    },
    /// TICA releases a sale's escrow (brand chain): to its inventory if the sale was
    /// filled, back to the customer if not.
    ReleaseSell {
        /// The sale's transaction id.
        trade: TxId,
        /// Whether the center chain filled it.
        filled: bool,
    },
    /// TICA delivers bought tokens from its inventory (brand chain), once per buy.
    DeliverBuy {
        /// The buy's transaction id (on the center chain).
        trade: TxId,
        /// The customer.
        to: Address,
        /// Tokens, base units.
        amount: Amount,
    },
    /// The daily check-in: earns LZM once per UTC day (center chain).
    CheckIn,
    /// Burns the sender's MLK for LZM at TICA's rate (center chain).
    BurnForLzm {
        /// MLK base units burned.
        amount: Amount,
    },
    /// A partner reports a customer's coupon payment, which earns LZM (center chain; the
    /// partner's issuer key), once per coupon.
    ReportCoupon {
        /// The customer.
        user: Address,
        /// What the coupon paid, KRW.
        krw: u64,
        /// The partner's coupon id.
        coupon_id: String,
    },
    /// TICA changes the earning rules (center chain).
    SetEarningRules {
        /// The new rules.
        rules: crate::membership::EarningRules,
    },
    /// TICA sets a floor under a member's level, with its reason; level 0 removes it.
    SetLevelFloor {
        /// The member.
        user: Address,
        /// The level's index.
        level: u8,
        /// Why.
        reason: String,
    },
    /// A partner publishes a premium offer for members of a level, paid in LZM (center
    /// chain; the partner's issuer key).
    PublishOffer {
        /// The partner's id for it (once per partner).
        id: String,
        /// What it is.
        title: String,
        /// The lowest level that may buy it.
        level: u8,
        /// Its price, LZM base units.
        price: Amount,
        /// How many there are.
        stock: u32,
        /// When it opens and closes, Unix ms.
        opens_ms: u64,
        /// See `opens_ms`.
        closes_ms: u64,
    },
    /// A member buys a premium offer: the LZM goes to the partner.
    BuyOffer {
        /// The partner's brand chain.
        chain: ChainId,
        /// The offer's id.
        id: String,
    },
    /// A member consents to share membership data with one partner (center chain).
    GrantConsent {
        /// The partner's brand chain: the recipient.
        chain: ChainId,
        /// What the partner may use it for.
        purpose: String,
        /// The data items shared: `level`, `activity`.
        items: Vec<String>,
        /// How long the partner may keep what it reads, days.
        retention_days: u32,
    },
    /// A member withdraws a consent.
    WithdrawConsent {
        /// The partner's brand chain.
        chain: ChainId,
    },
    /// TICA's node records a partner's read of consenting members' data (center chain).
    LogAccess {
        /// The partner's brand chain.
        chain: ChainId,
        /// The members read.
        users: Vec<Address>,
    },
    /// TICA opens a MiL.k Pack season (center chain).
    OpenPackSeason {
        /// The season's number, each higher than the last.
        season: u32,
        /// When its first week starts, Unix ms.
        starts_ms: u64,
        /// How many weeks it runs.
        weeks: u32,
        /// MLK paid out each week, pro rata, base units.
        weekly_reward: Amount,
        /// LZM each participant earns per week, base units.
        lzm_per_week: Amount,
    },
    /// A member commits MLK to the Pack (more joins add to it).
    JoinPack {
        /// MLK base units.
        amount: Amount,
    },
    /// A member takes all their MLK out of the Pack; the week under way is forfeited.
    LeavePack,
    /// TICA pays a finished week of the season (center chain; once per week).
    PayPackWeek {
        /// The week's index in the season, from 0.
        week: u32,
    },
    /// TICA pays a partner its contribution reward for a finished epoch: X% of the MLK
    /// volume its customers traded, from partner allocation B (center chain; once).
    PayContribution {
        /// The partner's brand chain.
        chain: ChainId,
        /// The epoch.
        epoch: u64,
    },
    /// TICA pays a user's reward for linking a wallet to a partner, once per partner.
    RewardLink {
        /// The user.
        user: Address,
        /// The partner's brand chain.
        chain: ChainId,
    },
    /// TICA switches the alliance to phase 2: from now on an applicant stakes MLK, locked
    /// while it is a member (center chain; once).
    StartPhase2 {
        /// The stake, MLK base units.
        stake: Amount,
    },
    /// TICA sets aside a partner's share of partner allocation A, locked 3 years from the
    /// later of the partner's join date and MLK's listing date (center chain; once per
    /// partner).
    AllocatePartner {
        /// The partner's brand chain.
        chain: ChainId,
        /// MLK base units.
        amount: Amount,
    },
    /// A partner claims its allocation once unlocked (its issuer key).
    ClaimAllocation {
        /// The partner's brand chain.
        chain: ChainId,
    },
}

/// How an order is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSize {
    /// Brand Token base units.
    Tokens(Amount),
    /// MLK base units to spend, fee included.
    Mlk(Amount),
}

impl Encode for OrderSize {
    fn encode(&self, w: &mut Writer) {
        match self {
            OrderSize::Tokens(a) => w.u8(0).put(a),
            OrderSize::Mlk(a) => w.u8(1).put(a),
        };
    }
}

impl Decode for OrderSize {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(OrderSize::Tokens(r.get()?)),
            1 => Ok(OrderSize::Mlk(r.get()?)),
            tag => Err(DecodeError::UnknownTag {
                what: "order size",
                tag,
            }),
        }
    }
}

impl Action {
    const TRANSFER: u8 = 1;
    const MINT: u8 = 2;
    const BURN: u8 = 3;
    const LINK: u8 = 4;
    const CONVERT: u8 = 5;
    const REDEEM: u8 = 6;
    const REFUND: u8 = 7;
    const ANCHOR: u8 = 8;
    const EXPIRE: u8 = 9;
    const APPLY: u8 = 10;
    const APPROVE: u8 = 11;
    const SIGN_AGREEMENT: u8 = 12;
    const SUSPEND: u8 = 13;
    const REINSTATE: u8 = 14;
    const ORACLE_PRICE: u8 = 15;
    const SET_MARKET: u8 = 16;
    const BUY: u8 = 17;
    const COMPLETE_BUY: u8 = 18;
    const SELL: u8 = 19;
    const SETTLE_SELL: u8 = 20;
    const RELEASE_SELL: u8 = 21;
    const DELIVER_BUY: u8 = 22;
    const CHECK_IN: u8 = 23;
    const BURN_FOR_LZM: u8 = 24;
    const REPORT_COUPON: u8 = 25;
    const SET_EARNING_RULES: u8 = 26;
    const SET_LEVEL_FLOOR: u8 = 27;
    const PUBLISH_OFFER: u8 = 28;
    const BUY_OFFER: u8 = 29;
    const GRANT_CONSENT: u8 = 30;
    const WITHDRAW_CONSENT: u8 = 31;
    const LOG_ACCESS: u8 = 32;
    const OPEN_PACK_SEASON: u8 = 33;
    const JOIN_PACK: u8 = 34;
    const LEAVE_PACK: u8 = 35;
    const PAY_PACK_WEEK: u8 = 36;
    const PAY_CONTRIBUTION: u8 = 37;
    const REWARD_LINK: u8 = 38;
    const START_PHASE2: u8 = 39;
    const ALLOCATE_PARTNER: u8 = 40;
    const CLAIM_ALLOCATION: u8 = 41;

    /// The asset this action names, if it names one (brand actions move the chain's own
    /// Brand Token).
    pub fn asset(&self) -> Option<&Symbol> {
        match self {
            Action::Transfer { asset, .. }
            | Action::Mint { asset, .. }
            | Action::Burn { asset, .. } => Some(asset),
            Action::Link { .. }
            | Action::Convert { .. }
            | Action::Redeem { .. }
            | Action::Refund { .. }
            | Action::Expire { .. }
            | Action::Anchor { .. }
            | Action::Apply { .. }
            | Action::Approve { .. }
            | Action::SignAgreement { .. }
            | Action::Suspend { .. }
            | Action::Reinstate { .. }
            | Action::OraclePrice { .. }
            | Action::SetMarket { .. }
            | Action::Buy { .. }
            | Action::CompleteBuy { .. }
            | Action::Sell { .. }
            | Action::SettleSell { .. }
            | Action::ReleaseSell { .. }
            | Action::DeliverBuy { .. }
            | Action::CheckIn
            | Action::BurnForLzm { .. }
            | Action::ReportCoupon { .. }
            | Action::SetEarningRules { .. }
            | Action::SetLevelFloor { .. }
            | Action::PublishOffer { .. }
            | Action::BuyOffer { .. }
            | Action::GrantConsent { .. }
            | Action::WithdrawConsent { .. }
            | Action::LogAccess { .. }
            | Action::OpenPackSeason { .. }
            | Action::JoinPack { .. }
            | Action::LeavePack
            | Action::PayPackWeek { .. }
            | Action::PayContribution { .. }
            | Action::RewardLink { .. }
            | Action::StartPhase2 { .. }
            | Action::AllocatePartner { .. }
            | Action::ClaimAllocation { .. } => None,
        }
    }

    /// The account this action pays, other than the sender, if any.
    pub fn recipient(&self) -> Option<&Address> {
        match self {
            Action::Transfer { to, .. } | Action::Mint { to, .. } | Action::Convert { to, .. } => {
                Some(to)
            }
            Action::Expire { account } => Some(account),
            Action::DeliverBuy { to, .. }
            | Action::RewardLink { user: to, .. }
            | Action::ReportCoupon { user: to, .. }
            | Action::SetLevelFloor { user: to, .. } => Some(to),
            _ => None,
        }
    }
}

impl Encode for Action {
    fn encode(&self, w: &mut Writer) {
        match self {
            Action::Transfer {
                to,
                asset,
                amount,
                memo,
            } => {
                w.u8(Self::TRANSFER)
                    .put(to)
                    .put(asset)
                    .put(amount)
                    .str(memo);
            }
            Action::Mint { to, asset, amount } => {
                w.u8(Self::MINT).put(to).put(asset).put(amount);
            }
            Action::Burn { asset, amount } => {
                w.u8(Self::BURN).put(asset).put(amount);
            }
            Action::Link {
                customer_hash,
                partner_signature,
            } => {
                w.u8(Self::LINK).put(customer_hash).put(partner_signature);
            }
            Action::Convert {
                to,
                mileage,
                reference,
            } => {
                w.u8(Self::CONVERT).put(to).u64(*mileage).str(reference);
            }
            Action::Redeem { amount, order_id } => {
                w.u8(Self::REDEEM).put(amount).str(order_id);
            }
            Action::Refund { order_id } => {
                w.u8(Self::REFUND).str(order_id);
            }
            Action::Anchor {
                chain,
                height,
                hash,
            } => {
                w.u8(Self::ANCHOR).put(chain).u64(*height).put(hash);
            }
            Action::Expire { account } => {
                w.u8(Self::EXPIRE).put(account);
            }
            Action::Apply { application } => {
                w.u8(Self::APPLY).put(application);
            }
            Action::Approve { chain } => {
                w.u8(Self::APPROVE).put(chain);
            }
            Action::SignAgreement { chain } => {
                w.u8(Self::SIGN_AGREEMENT).put(chain);
            }
            Action::Suspend { chain } => {
                w.u8(Self::SUSPEND).put(chain);
            }
            Action::Reinstate { chain } => {
                w.u8(Self::REINSTATE).put(chain);
            }
            Action::OraclePrice {
                krw_e4,
                observed_at_ms,
            } => {
                w.u8(Self::ORACLE_PRICE).u64(*krw_e4).u64(*observed_at_ms);
            }
            Action::SetMarket {
                asset,
                capacity,
                position,
                max_order,
                user_daily_limit,
            } => {
                w.u8(Self::SET_MARKET).put(asset).put(capacity);
                match position {
                    Some(p) => w.u8(1).put(p),
                    None => w.u8(0),
                };
                w.put(max_order).put(user_daily_limit);
            }
            Action::Buy {
                asset,
                pay,
                size,
                max_in,
            } => {
                w.u8(Self::BUY).put(asset).put(pay).put(size).put(max_in);
            }
            Action::CompleteBuy { trade, delivered } => {
                w.u8(Self::COMPLETE_BUY).put(trade).u8(u8::from(*delivered));
            }
            Action::Sell { amount, min_out } => {
                w.u8(Self::SELL).put(amount).put(min_out);
            }
            Action::SettleSell { order } => {
                w.u8(Self::SETTLE_SELL).put(order.as_ref());
            }
            Action::ReleaseSell { trade, filled } => {
                w.u8(Self::RELEASE_SELL).put(trade).u8(u8::from(*filled));
            }
            Action::DeliverBuy { trade, to, amount } => {
                w.u8(Self::DELIVER_BUY).put(trade).put(to).put(amount);
            }
            Action::CheckIn => {
                w.u8(Self::CHECK_IN);
            }
            Action::BurnForLzm { amount } => {
                w.u8(Self::BURN_FOR_LZM).put(amount);
            }
            Action::ReportCoupon {
                user,
                krw,
                coupon_id,
            } => {
                w.u8(Self::REPORT_COUPON).put(user).u64(*krw).str(coupon_id);
            }
            Action::SetEarningRules { rules } => {
                w.u8(Self::SET_EARNING_RULES).put(rules);
            }
            Action::SetLevelFloor {
                user,
                level,
                reason,
            } => {
                w.u8(Self::SET_LEVEL_FLOOR).put(user).u8(*level).str(reason);
            }
            Action::PublishOffer {
                id,
                title,
                level,
                price,
                stock,
                opens_ms,
                closes_ms,
            } => {
                w.u8(Self::PUBLISH_OFFER)
                    .str(id)
                    .str(title)
                    .u8(*level)
                    .put(price)
                    .u32(*stock)
                    .u64(*opens_ms)
                    .u64(*closes_ms);
            }
            Action::BuyOffer { chain, id } => {
                w.u8(Self::BUY_OFFER).put(chain).str(id);
            }
            Action::GrantConsent {
                chain,
                purpose,
                items,
                retention_days,
            } => {
                w.u8(Self::GRANT_CONSENT)
                    .put(chain)
                    .str(purpose)
                    .u32(items.len() as u32);
                for i in items {
                    w.str(i);
                }
                w.u32(*retention_days);
            }
            Action::WithdrawConsent { chain } => {
                w.u8(Self::WITHDRAW_CONSENT).put(chain);
            }
            Action::LogAccess { chain, users } => {
                w.u8(Self::LOG_ACCESS).put(chain).u32(users.len() as u32);
                for u in users {
                    w.put(u);
                }
            }
            Action::OpenPackSeason {
                season,
                starts_ms,
                weeks,
                weekly_reward,
                lzm_per_week,
            } => {
                w.u8(Self::OPEN_PACK_SEASON)
                    .u32(*season)
                    .u64(*starts_ms)
                    .u32(*weeks)
                    .put(weekly_reward)
                    .put(lzm_per_week);
            }
            Action::JoinPack { amount } => {
                w.u8(Self::JOIN_PACK).put(amount);
            }
            Action::LeavePack => {
                w.u8(Self::LEAVE_PACK);
            }
            Action::PayPackWeek { week } => {
                w.u8(Self::PAY_PACK_WEEK).u32(*week);
            }
            Action::PayContribution { chain, epoch } => {
                w.u8(Self::PAY_CONTRIBUTION).put(chain).u64(*epoch);
            }
            Action::RewardLink { user, chain } => {
                w.u8(Self::REWARD_LINK).put(user).put(chain);
            }
            Action::StartPhase2 { stake } => {
                w.u8(Self::START_PHASE2).put(stake);
            }
            Action::AllocatePartner { chain, amount } => {
                w.u8(Self::ALLOCATE_PARTNER).put(chain).put(amount);
            }
            Action::ClaimAllocation { chain } => {
                w.u8(Self::CLAIM_ALLOCATION).put(chain);
            }
        }
    }
}

impl Decode for Action {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            Self::TRANSFER => Ok(Action::Transfer {
                to: r.get()?,
                asset: r.get()?,
                amount: r.get()?,
                memo: r.str("memo", MAX_MEMO_BYTES)?.to_owned(),
            }),
            Self::MINT => Ok(Action::Mint {
                to: r.get()?,
                asset: r.get()?,
                amount: r.get()?,
            }),
            Self::BURN => Ok(Action::Burn {
                asset: r.get()?,
                amount: r.get()?,
            }),
            Self::LINK => Ok(Action::Link {
                customer_hash: r.get()?,
                partner_signature: r.get()?,
            }),
            Self::CONVERT => Ok(Action::Convert {
                to: r.get()?,
                mileage: r.u64()?,
                reference: r.str("reference", MAX_REFERENCE_BYTES)?.to_owned(),
            }),
            Self::REDEEM => Ok(Action::Redeem {
                amount: r.get()?,
                order_id: r.str("order id", MAX_REFERENCE_BYTES)?.to_owned(),
            }),
            Self::REFUND => Ok(Action::Refund {
                order_id: r.str("order id", MAX_REFERENCE_BYTES)?.to_owned(),
            }),
            Self::ANCHOR => Ok(Action::Anchor {
                chain: r.get()?,
                height: r.u64()?,
                hash: r.get()?,
            }),
            Self::EXPIRE => Ok(Action::Expire { account: r.get()? }),
            Self::APPLY => Ok(Action::Apply {
                application: r.get()?,
            }),
            Self::APPROVE => Ok(Action::Approve { chain: r.get()? }),
            Self::SIGN_AGREEMENT => Ok(Action::SignAgreement { chain: r.get()? }),
            Self::SUSPEND => Ok(Action::Suspend { chain: r.get()? }),
            Self::REINSTATE => Ok(Action::Reinstate { chain: r.get()? }),
            Self::ORACLE_PRICE => Ok(Action::OraclePrice {
                krw_e4: r.u64()?,
                observed_at_ms: r.u64()?,
            }),
            Self::SET_MARKET => Ok(Action::SetMarket {
                asset: r.get()?,
                capacity: r.get()?,
                position: match r.u8()? {
                    0 => None,
                    1 => Some(r.get()?),
                    tag => {
                        return Err(DecodeError::UnknownTag {
                            what: "market position",
                            tag,
                        });
                    }
                },
                max_order: r.get()?,
                user_daily_limit: r.get()?,
            }),
            Self::BUY => Ok(Action::Buy {
                asset: r.get()?,
                pay: r.get()?,
                size: r.get()?,
                max_in: r.get()?,
            }),
            Self::COMPLETE_BUY => Ok(Action::CompleteBuy {
                trade: r.get()?,
                delivered: flag(r, "delivered")?,
            }),
            Self::SELL => Ok(Action::Sell {
                amount: r.get()?,
                min_out: r.get()?,
            }),
            Self::SETTLE_SELL => Ok(Action::SettleSell {
                order: Box::new(r.get()?),
            }),
            Self::RELEASE_SELL => Ok(Action::ReleaseSell {
                trade: r.get()?,
                filled: flag(r, "filled")?,
            }),
            Self::DELIVER_BUY => Ok(Action::DeliverBuy {
                trade: r.get()?,
                to: r.get()?,
                amount: r.get()?,
            }),
            Self::CHECK_IN => Ok(Action::CheckIn),
            Self::BURN_FOR_LZM => Ok(Action::BurnForLzm { amount: r.get()? }),
            Self::REPORT_COUPON => Ok(Action::ReportCoupon {
                user: r.get()?,
                krw: r.u64()?,
                coupon_id: r.str("coupon id", MAX_REFERENCE_BYTES)?.to_owned(),
            }),
            Self::SET_EARNING_RULES => Ok(Action::SetEarningRules { rules: r.get()? }),
            Self::SET_LEVEL_FLOOR => Ok(Action::SetLevelFloor {
                user: r.get()?,
                level: r.u8()?,
                reason: r.str("reason", MAX_MEMO_BYTES)?.to_owned(),
            }),
            Self::PUBLISH_OFFER => Ok(Action::PublishOffer {
                id: r.str("offer id", MAX_REFERENCE_BYTES)?.to_owned(),
                title: r.str("offer title", MAX_MEMO_BYTES)?.to_owned(),
                level: r.u8()?,
                price: r.get()?,
                stock: r.u32()?,
                opens_ms: r.u64()?,
                closes_ms: r.u64()?,
            }),
            Self::BUY_OFFER => Ok(Action::BuyOffer {
                chain: r.get()?,
                id: r.str("offer id", MAX_REFERENCE_BYTES)?.to_owned(),
            }),
            Self::GRANT_CONSENT => {
                let chain = r.get()?;
                let purpose = r.str("purpose", MAX_MEMO_BYTES)?.to_owned();
                let n = r.u32()?;
                if n > 8 {
                    return Err(DecodeError::Invalid {
                        what: "data items",
                        reason: "at most 8".into(),
                    });
                }
                let items = (0..n)
                    .map(|_| r.str("data item", 32).map(str::to_owned))
                    .collect::<Result<_, _>>()?;
                Ok(Action::GrantConsent {
                    chain,
                    purpose,
                    items,
                    retention_days: r.u32()?,
                })
            }
            Self::WITHDRAW_CONSENT => Ok(Action::WithdrawConsent { chain: r.get()? }),
            Self::OPEN_PACK_SEASON => Ok(Action::OpenPackSeason {
                season: r.u32()?,
                starts_ms: r.u64()?,
                weeks: r.u32()?,
                weekly_reward: r.get()?,
                lzm_per_week: r.get()?,
            }),
            Self::JOIN_PACK => Ok(Action::JoinPack { amount: r.get()? }),
            Self::LEAVE_PACK => Ok(Action::LeavePack),
            Self::PAY_PACK_WEEK => Ok(Action::PayPackWeek { week: r.u32()? }),
            Self::PAY_CONTRIBUTION => Ok(Action::PayContribution {
                chain: r.get()?,
                epoch: r.u64()?,
            }),
            Self::REWARD_LINK => Ok(Action::RewardLink {
                user: r.get()?,
                chain: r.get()?,
            }),
            Self::START_PHASE2 => Ok(Action::StartPhase2 { stake: r.get()? }),
            Self::ALLOCATE_PARTNER => Ok(Action::AllocatePartner {
                chain: r.get()?,
                amount: r.get()?,
            }),
            Self::CLAIM_ALLOCATION => Ok(Action::ClaimAllocation { chain: r.get()? }),
            Self::LOG_ACCESS => {
                let chain = r.get()?;
                let n = r.u32()?;
                if n > 24 {
                    return Err(DecodeError::Invalid {
                        what: "members read",
                        reason: "at most 24 per record".into(),
                    });
                }
                let users = (0..n).map(|_| r.get()).collect::<Result<_, _>>()?;
                Ok(Action::LogAccess { chain, users })
            }
            tag => Err(DecodeError::UnknownTag {
                what: "action",
                tag,
            }),
        }
    }
}

fn flag(r: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        tag => Err(DecodeError::UnknownTag { what, tag }),
    }
}

/// An unsigned transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The only chain this transaction is valid on.
    pub chain: ChainId,
    /// Who signs and pays.
    pub sender: Address,
    /// The sender's next sequence number on this chain: each value is used exactly once, in
    /// order, so a transaction can never be applied twice.
    pub sequence: u64,
    /// The block time (Unix milliseconds) from which the transaction is no longer valid.
    pub expires_at_ms: u64,
    /// What it does.
    pub action: Action,
}

impl Transaction {
    /// The id, which is also the signed message.
    pub fn id(&self) -> TxId {
        Hash::domain("milk/tx/v1", &[&self.to_bytes()])
    }

    /// Signs with `key`, which must be the sender's.
    pub fn sign(self, key: &Keypair) -> SignedTransaction {
        debug_assert_eq!(key.address(), self.sender, "signed by someone else");
        let signature = key.sign(&self.id().0);
        SignedTransaction {
            tx: self,
            signature,
        }
    }
}

impl Encode for Transaction {
    fn encode(&self, w: &mut Writer) {
        w.u8(TX_VERSION)
            .put(&self.chain)
            .put(&self.sender)
            .u64(self.sequence)
            .u64(self.expires_at_ms)
            .put(&self.action);
    }
}

impl Decode for Transaction {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            TX_VERSION => {}
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "transaction version",
                    tag,
                });
            }
        }
        Ok(Transaction {
            chain: r.get()?,
            sender: r.get()?,
            sequence: r.u64()?,
            expires_at_ms: r.u64()?,
            action: r.get()?,
        })
    }
}

/// A transaction with its sender's signature, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// The sender's signature over [`Transaction::id`].
    pub signature: Signature,
}

impl SignedTransaction {
    /// Decodes a signed transaction, refusing oversized input before reading it.
    pub fn decode_checked(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(DecodeError::TooLong {
                what: "transaction",
                len: bytes.len(),
                max: MAX_TX_BYTES,
            });
        }
        Self::from_bytes(bytes)
    }

    /// Checks the signature and every address the transaction names.
    #[expect(
        clippy::result_large_err,
        reason = "both outcomes hand the transaction back; boxing one would allocate per transaction"
    )]
    pub fn verify(self) -> Result<VerifiedTx, (SignedTransaction, VerifyError)> {
        verify_batch(vec![self], keys::decompress)
            .pop()
            .expect("one in, one out")
    }
}

impl Encode for SignedTransaction {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.tx).put(&self.signature);
    }
}

impl Decode for SignedTransaction {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SignedTransaction {
            tx: r.get()?,
            signature: r.get()?,
        })
    }
}

/// A signed transaction whose signature has been checked.
///
/// The only way to make one is [`SignedTransaction::verify`] or [`verify_batch`], so code
/// that takes a `VerifiedTx` never needs to check the signature, or the addresses it
/// names, again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTx {
    id: TxId,
    signed: SignedTransaction,
}

impl VerifiedTx {
    /// The transaction id.
    pub fn id(&self) -> TxId {
        self.id
    }

    /// The transaction.
    pub fn tx(&self) -> &Transaction {
        &self.signed.tx
    }

    /// The transaction with its signature.
    pub fn signed(&self) -> &SignedTransaction {
        &self.signed
    }

    /// Gives back the signed transaction.
    pub fn into_signed(self) -> SignedTransaction {
        self.signed
    }
}

/// Why a signed transaction did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The signature does not match the sender.
    #[error("signature is not valid for the sender")]
    BadSignature,
    /// An address it names is not a usable Ed25519 key (funds sent there could never move).
    #[error("{0} is not a valid Ed25519 public key")]
    InvalidAddress(&'static str),
}

impl VerifyError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::BadSignature => "bad_signature",
            VerifyError::InvalidAddress(_) => "invalid_address",
        }
    }
}

/// Checks the signatures of many transactions with one batch check, and every address
/// they name, telling for each whether it is valid.
///
/// `resolve` turns an address into its curve point, or `None` if it is not a usable key;
/// pass [`keys::decompress`], or a cache in front of it.
#[expect(
    clippy::result_large_err,
    reason = "both outcomes hand the transaction back; boxing one would allocate per transaction"
)]
pub fn verify_batch(
    txs: Vec<SignedTransaction>,
    resolve: impl Fn(&Address) -> Option<VerifyingKey>,
) -> Vec<Result<VerifiedTx, (SignedTransaction, VerifyError)>> {
    let ids: Vec<TxId> = txs.iter().map(|s| s.tx.id()).collect();
    let resolved: Vec<Result<VerifyingKey, VerifyError>> = txs
        .iter()
        .map(|s| {
            let to = s.tx.action.recipient();
            if to.is_some_and(|to| resolve(to).is_none()) {
                return Err(VerifyError::InvalidAddress("recipient"));
            }
            resolve(&s.tx.sender).ok_or(VerifyError::InvalidAddress("sender"))
        })
        .collect();
    let items: Vec<(&VerifyingKey, &[u8], &Signature)> = txs
        .iter()
        .zip(&ids)
        .zip(&resolved)
        .filter_map(|((s, id), key)| {
            key.as_ref()
                .ok()
                .map(|k| (k, id.0.as_slice(), &s.signature))
        })
        .collect();
    let mut valid = keys::verify_many(&items).into_iter();
    txs.into_iter()
        .zip(ids)
        .zip(resolved)
        .map(|((signed, id), key)| match key {
            Err(e) => Err((signed, e)),
            Ok(_) if valid.next().expect("one answer per resolved key") => {
                Ok(VerifiedTx { id, signed })
            }
            Ok(_) => Err((signed, VerifyError::BadSignature)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Transaction {
        Transaction {
            chain: ChainId::center(),
            sender: Keypair::from_label("alice").address(),
            sequence: 7,
            expires_at_ms: 1_800_000_000_000,
            action: Action::Transfer {
                to: Keypair::from_label("bob").address(),
                asset: "MLK".parse().unwrap(),
                amount: Amount::new(1_250_000_000),
                memo: "for lunch".to_owned(),
            },
        }
    }

    /// Golden vector: if this changes, every signature ever made changes with it.
    #[test]
    fn transaction_encoding_is_stable() {
        let tx = sample();
        let bytes = tx.to_bytes();
        assert_eq!(
            hex::encode(&bytes),
            concat!(
                "01",                                                               // version
                "0000000663656e746572",                                             // chain
                "a19dbcbe1455e09714a8fb48efd306aebf9a26e02959e1a4ee85dcefc8ab93ab", // sender
                "0000000000000007",                                                 // sequence
                "000001a3185c5000",                                                 // expiry
                "01",                                                               // transfer
                "10ad98685b7ff709ca008452e1f3e24f1dcc79eb2c9ff96a3f020c3fa26440ef", // to
                "000000034d4c4b",                                                   // asset
                "0000000000000000000000004a817c80",                                 // amount
                "00000009666f72206c756e6368",                                       // memo
            )
        );
        assert_eq!(
            tx.id().to_hex(),
            "0d518139c4456197d5e8025d0631d7d6c9f0d97f8d7344aed981972b1d3a4433"
        );
        assert_eq!(Transaction::from_bytes(&bytes), Ok(tx.clone()));
        // Ed25519 signatures are deterministic, so the signature is a golden value too.
        let signed = tx.sign(&Keypair::from_label("alice"));
        assert_eq!(
            hex::encode(signed.signature.0),
            "f4ec408fac3dc1d1cda23586acd75846d007926e50c3a750f198d0272093b6d19d3e20e45727f986e9502721ae82c5d5b7a4c13319999e721133bfcc681eaa0e"
        );
        assert_eq!(
            signed.tx.sender.to_string(),
            "milk15xwme0s52hsfw99gldywl5cx46le5fhq99v7rf8wshwwlj9tjw4sg0dq95"
        );
    }

    #[test]
    fn signature_binds_every_field() {
        let key = Keypair::from_label("alice");
        let signed = sample().sign(&key);
        assert!(signed.clone().verify().is_ok());
        let mut other_chain = signed.clone();
        other_chain.tx.chain = "skyway".parse().unwrap();
        assert!(other_chain.verify().is_err());
        let mut bad_recipient = sample();
        if let Action::Transfer { to, .. } = &mut bad_recipient.action {
            let mut identity = [0u8; 32];
            identity[0] = 1;
            *to = Address::decode(&mut Reader::new(&identity)).unwrap();
        }
        assert_eq!(
            bad_recipient.sign(&key).verify().unwrap_err().1,
            VerifyError::InvalidAddress("recipient")
        );
        let mut other_seq = signed.clone();
        other_seq.tx.sequence += 1;
        assert!(other_seq.verify().is_err());
    }

    #[test]
    fn oversized_or_truncated_input_is_refused() {
        let bytes = sample().sign(&Keypair::from_label("alice")).to_bytes();
        assert!(SignedTransaction::decode_checked(&bytes).is_ok());
        assert!(SignedTransaction::decode_checked(&bytes[..bytes.len() - 1]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            SignedTransaction::decode_checked(&long),
            Err(DecodeError::TrailingBytes(1))
        );
        assert!(matches!(
            SignedTransaction::decode_checked(&[0; MAX_TX_BYTES + 1]),
            Err(DecodeError::TooLong { .. })
        ));
    }

    fn arb_action() -> impl Strategy<Value = Action> {
        let addr = (0u8..4).prop_map(|i| Keypair::from_label(&format!("p{i}")).address());
        let addr2 = addr.clone();
        let asset = prop::sample::select(vec!["MLK", "LZM", "SKY"])
            .prop_map(|s| s.parse::<Symbol>().unwrap());
        let amount = any::<u128>().prop_map(Amount::new);
        prop_oneof![
            (addr.clone(), asset.clone(), amount.clone(), "[ -~]{0,140}").prop_map(
                |(to, asset, amount, memo)| Action::Transfer {
                    to,
                    asset,
                    amount,
                    memo
                }
            ),
            (addr, asset.clone(), amount.clone()).prop_map(|(to, asset, amount)| Action::Mint {
                to,
                asset,
                amount
            }),
            (asset, amount.clone()).prop_map(|(asset, amount)| Action::Burn { asset, amount }),
            (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(h, s)| Action::Link {
                customer_hash: Hash(h),
                partner_signature: Signature([s, s].concat().try_into().unwrap()),
            }),
            (addr2, any::<u64>(), "[ -~]{0,64}").prop_map(|(to, mileage, reference)| {
                Action::Convert {
                    to,
                    mileage,
                    reference,
                }
            }),
            (amount, "[ -~]{0,64}")
                .prop_map(|(amount, order_id)| Action::Redeem { amount, order_id }),
            "[ -~]{0,64}".prop_map(|order_id| Action::Refund { order_id }),
            (any::<u64>(), any::<[u8; 32]>()).prop_map(|(height, h)| Action::Anchor {
                chain: "skyway".parse().unwrap(),
                height,
                hash: Hash(h),
            }),
        ]
    }

    proptest! {
        #[test]
        fn encoding_round_trips(seq in any::<u64>(), exp in any::<u64>(), action in arb_action()) {
            let tx = Transaction {
                chain: "skyway".parse().unwrap(),
                sender: Keypair::from_label("s").address(),
                sequence: seq,
                expires_at_ms: exp,
                action,
            };
            let signed = tx.sign(&Keypair::from_label("s"));
            let bytes = signed.to_bytes();
            prop_assert_eq!(SignedTransaction::decode_checked(&bytes), Ok(signed));
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = SignedTransaction::decode_checked(&bytes);
        }
    }
}
