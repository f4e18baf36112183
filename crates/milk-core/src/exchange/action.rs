//! The exchange: MLK's oracle price, markets, and the steps of buys and sales.
//!
//! The actions' wire tags are one byte each, unique across every domain (checked at
//! compile time by the action dispatch, `tx::Action`).

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer, flag};
use crate::hash::TxId;
use crate::{Address, Amount, Symbol};
use serde::{Deserialize, Serialize};

/// What a transaction of this domain does. `O` is the signed order `SettleSell` embeds: a
/// whole signed transaction of the chain's envelope, which this domain does not define
/// (`tx::ExchangeAction` names it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExchangeAction<O> {
    /// MLK's price in KRW, as the oracle observed it (center chain; the oracle key only).
    /// Every trade is priced with the latest one, so each conversion can be audited.
    OraclePrice {
        /// KRW per whole MLK, times 10⁴.
        krw_e4: u64,
        /// When the sources quoted it, Unix ms.
        observed_at_ms: u64,
    },
    /// TICA confirms a move of MLK's price beyond the oracle's band, so trading resumes at
    /// it before the sources have agreed on it for the settling period (center chain; the
    /// operator only). It must name the price the move reached.
    ConfirmPrice {
        /// The price the move reached, KRW per whole MLK × 10⁴.
        krw_e4: u64,
    },
    /// Halts one market, or lets it trade again (center chain; TICA): while halted, buys
    /// are refused and sales are refused and given back.
    HaltMarket {
        /// The Brand Token.
        asset: Symbol,
        /// Halted, or trading.
        halted: bool,
    },
    /// Changes the exchange's fee (center chain; TICA). Every market's largest order must
    /// stay within the sandwich-safe bound at the new fee.
    SetFee {
        /// The fee, basis points of each trade's value.
        fee_bps: u16,
    },
    /// Changes a market's floor, as its partner agreed (center chain; TICA submits it with
    /// the partner's signature over [`crate::exchange::floor_message`]).
    SetFloor {
        /// The Brand Token.
        asset: Symbol,
        /// The new floor, basis points of R (below 95 %).
        min_bps: u16,
        /// The partner's issuer key's signature.
        partner_signature: crate::keys::Signature,
    },
    /// Changes a market's maximum price (center chain; TICA): never above 95 % of R, never
    /// below the floor.
    SetMaxPrice {
        /// The Brand Token.
        asset: Symbol,
        /// The new maximum, basis points of R.
        max_bps: u16,
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
        order: Box<O>,
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
    /// TICA's settlement steps for many trades in one transaction (either chain): each a
    /// `SettleSell`, `CompleteBuy`, `ReleaseSell` or `DeliverBuy`, applied on its own, in
    /// order (see [`crate::exchange::settlement`]); 1 to
    /// [`MAX_SETTLEMENT_STEPS`](crate::exchange::settlement::MAX_SETTLEMENT_STEPS).
    SettleBatch {
        /// The steps.
        steps: Vec<ExchangeAction<O>>,
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

/// Basis points, written as four bytes: refused past 10,000.
fn bps(r: &mut Reader<'_>, what: &'static str) -> Result<u16, DecodeError> {
    match u16::try_from(r.u32()?) {
        Ok(v) if v <= 10_000 => Ok(v),
        _ => Err(DecodeError::Invalid {
            what,
            reason: "more than 10,000 basis points".into(),
        }),
    }
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

impl<O> ExchangeAction<O> {
    /// The event kind a partner's feed names it by: trades of its token (a sale's escrow
    /// and its release, a buy's delivery) on its brand chain; the rest are the center
    /// chain's.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sell { .. } => "sale",
            Self::ReleaseSell { .. } => "sale_settled",
            Self::DeliverBuy { .. } => "purchase",
            Self::OraclePrice { .. }
            | Self::ConfirmPrice { .. }
            | Self::HaltMarket { .. }
            | Self::SetFee { .. }
            | Self::SetFloor { .. }
            | Self::SetMaxPrice { .. }
            | Self::SetMarket { .. }
            | Self::Buy { .. }
            | Self::CompleteBuy { .. }
            | Self::SettleSell { .. } => "exchange",
            Self::SettleBatch { .. } => "settlement",
        }
    }

    /// Whether it is one of TICA's settlement steps, which a batch may hold.
    pub fn is_step(&self) -> bool {
        matches!(
            self,
            Self::SettleSell { .. }
                | Self::CompleteBuy { .. }
                | Self::ReleaseSell { .. }
                | Self::DeliverBuy { .. }
        )
    }

    const ORACLE_PRICE: u8 = 15;
    const SET_MARKET: u8 = 16;
    const BUY: u8 = 17;
    const COMPLETE_BUY: u8 = 18;
    const SELL: u8 = 19;
    const SETTLE_SELL: u8 = 20;
    const RELEASE_SELL: u8 = 21;
    const DELIVER_BUY: u8 = 22;
    const CONFIRM_PRICE: u8 = 44;
    const HALT_MARKET: u8 = 45;
    const SET_FEE: u8 = 46;
    const SET_FLOOR: u8 = 47;
    const SET_MAX_PRICE: u8 = 48;
    const SETTLE_BATCH: u8 = 57;

    /// The wire tags of these actions.
    pub const TAGS: &'static [u8] = &[
        Self::ORACLE_PRICE,
        Self::SET_MARKET,
        Self::BUY,
        Self::COMPLETE_BUY,
        Self::SELL,
        Self::SETTLE_SELL,
        Self::RELEASE_SELL,
        Self::DELIVER_BUY,
        Self::CONFIRM_PRICE,
        Self::HALT_MARKET,
        Self::SET_FEE,
        Self::SET_FLOOR,
        Self::SET_MAX_PRICE,
        Self::SETTLE_BATCH,
    ];
}

impl<O: Encode> ExchangeAction<O> {
    /// Writes the action: its tag, then its fields.
    pub fn encode_into(&self, w: &mut Writer) {
        match self {
            Self::OraclePrice {
                krw_e4,
                observed_at_ms,
            } => {
                w.u8(Self::ORACLE_PRICE).u64(*krw_e4).u64(*observed_at_ms);
            }
            Self::ConfirmPrice { krw_e4 } => {
                w.u8(Self::CONFIRM_PRICE).u64(*krw_e4);
            }
            Self::HaltMarket { asset, halted } => {
                w.u8(Self::HALT_MARKET).put(asset).u8(u8::from(*halted));
            }
            Self::SetMaxPrice { asset, max_bps } => {
                w.u8(Self::SET_MAX_PRICE)
                    .put(asset)
                    .u32(u32::from(*max_bps));
            }
            Self::SetFee { fee_bps } => {
                w.u8(Self::SET_FEE).u32(u32::from(*fee_bps));
            }
            Self::SetFloor {
                asset,
                min_bps,
                partner_signature,
            } => {
                w.u8(Self::SET_FLOOR)
                    .put(asset)
                    .u32(u32::from(*min_bps))
                    .put(partner_signature);
            }
            Self::SetMarket {
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
            Self::Buy {
                asset,
                pay,
                size,
                max_in,
            } => {
                w.u8(Self::BUY).put(asset).put(pay).put(size).put(max_in);
            }
            Self::CompleteBuy { trade, delivered } => {
                w.u8(Self::COMPLETE_BUY).put(trade).u8(u8::from(*delivered));
            }
            Self::Sell { amount, min_out } => {
                w.u8(Self::SELL).put(amount).put(min_out);
            }
            Self::SettleSell { order } => {
                w.u8(Self::SETTLE_SELL).put(order.as_ref());
            }
            Self::ReleaseSell { trade, filled } => {
                w.u8(Self::RELEASE_SELL).put(trade).u8(u8::from(*filled));
            }
            Self::DeliverBuy { trade, to, amount } => {
                w.u8(Self::DELIVER_BUY).put(trade).put(to).put(amount);
            }
            Self::SettleBatch { steps } => {
                w.u8(Self::SETTLE_BATCH).u32(steps.len() as u32);
                for step in steps {
                    step.encode_into(w);
                }
            }
        }
    }
}

impl<O: Decode> ExchangeAction<O> {
    /// Reads the fields of the action whose tag, one of [`Self::TAGS`], was just read.
    pub fn decode_fields(tag: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match tag {
            Self::ORACLE_PRICE => Ok(Self::OraclePrice {
                krw_e4: r.u64()?,
                observed_at_ms: r.u64()?,
            }),
            Self::CONFIRM_PRICE => Ok(Self::ConfirmPrice { krw_e4: r.u64()? }),
            Self::HALT_MARKET => Ok(Self::HaltMarket {
                asset: r.get()?,
                halted: flag(r, "halted")?,
            }),
            Self::SET_MAX_PRICE => Ok(Self::SetMaxPrice {
                asset: r.get()?,
                max_bps: bps(r, "maximum")?,
            }),
            Self::SET_FEE => Ok(Self::SetFee {
                fee_bps: bps(r, "fee")?,
            }),
            Self::SET_FLOOR => Ok(Self::SetFloor {
                asset: r.get()?,
                min_bps: bps(r, "floor")?,
                partner_signature: r.get()?,
            }),
            Self::SET_MARKET => Ok(Self::SetMarket {
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
            Self::BUY => Ok(Self::Buy {
                asset: r.get()?,
                pay: r.get()?,
                size: r.get()?,
                max_in: r.get()?,
            }),
            Self::COMPLETE_BUY => Ok(Self::CompleteBuy {
                trade: r.get()?,
                delivered: flag(r, "delivered")?,
            }),
            Self::SELL => Ok(Self::Sell {
                amount: r.get()?,
                min_out: r.get()?,
            }),
            Self::SETTLE_SELL => Ok(Self::SettleSell {
                order: Box::new(r.get()?),
            }),
            Self::RELEASE_SELL => Ok(Self::ReleaseSell {
                trade: r.get()?,
                filled: flag(r, "filled")?,
            }),
            Self::DELIVER_BUY => Ok(Self::DeliverBuy {
                trade: r.get()?,
                to: r.get()?,
                amount: r.get()?,
            }),
            Self::SETTLE_BATCH => Self::decode_steps(r),
            tag => Err(DecodeError::UnknownTag {
                what: "action",
                tag,
            }),
        }
    }

    /// A batch's steps: 1 to [`MAX_SETTLEMENT_STEPS`], each a settlement step (never
    /// another batch).
    fn decode_steps(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        use crate::exchange::settlement::MAX_SETTLEMENT_STEPS;
        let count = r.u32()? as usize;
        if count == 0 || count > MAX_SETTLEMENT_STEPS {
            return Err(DecodeError::Invalid {
                what: "settlement batch",
                reason: format!("{count} steps; 1 to {MAX_SETTLEMENT_STEPS} allowed"),
            });
        }
        let mut steps = Vec::with_capacity(count);
        for _ in 0..count {
            let step = Self::decode_fields(r.u8()?, r)?;
            if !step.is_step() {
                return Err(DecodeError::Invalid {
                    what: "settlement batch",
                    reason: "only settlement steps may be batched".into(),
                });
            }
            steps.push(step);
        }
        Ok(Self::SettleBatch { steps })
    }
}
