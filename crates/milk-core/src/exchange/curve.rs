//! Brand Token markets: how TICA prices each Brand Token from its own position in it.
//!
//! A market's price, in basis points of the token's redemption value R, falls linearly in
//! TICA's position `x` on the curve, from the maximum (95 % of R) at `x = 0` to the
//! partner's floor at `x = K` (the capacity):
//!
//! ```text
//! p(x) = Pmax − (Pmax − Pmin) · x / K          for 0 ≤ x ≤ K
//! ```
//!
//! A customer buying `Δ` base units moves TICA's position from `x` to `x − Δ` and pays the
//! area under the curve over `[x − Δ, x]`; selling moves it up and is paid the area over
//! `[x, x + Δ]`. The area is a quadratic in whole numbers, computed exactly in 256 bits and
//! rounded once, against the customer: what a customer pays is rounded up, what a customer
//! gets is rounded down. The fee is a separate amount, also rounded up. Because the area is
//! additive and every rounding favours TICA, splitting an order never gains, and a buy and a
//! sell of the same size never profit. At `x = 0` buying is refused (the price is at its
//! maximum); at `x = K` selling is refused (at the floor); an order that would cross either
//! bound is refused with the largest size allowed.
//!
//! MLK amounts follow from the KRW values at MLK's oracle price, given as KRW per whole MLK
//! times 10⁴.

/// The highest price of a Brand Token, in basis points of its redemption value: a customer
/// always buys at a discount of at least 5%.
pub const MAX_PRICE_BPS: u16 = 9_500;

use ethnum::U256;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Basis points in one.
pub const BPS: u128 = 10_000;
/// The exchange fee unless configured otherwise: 1.5 %.
pub const DEFAULT_FEE_BPS: u16 = 150;
/// The scale of MLK's oracle price: KRW per whole MLK times this.
pub const PRICE_SCALE: u64 = 10_000;

/// Which way a customer trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The customer buys Brand Tokens with MLK.
    Buy,
    /// The customer sells Brand Tokens for MLK.
    Sell,
}

/// One market's curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Curve {
    /// R: what one whole token is worth at its partner, KRW.
    pub redemption_value_krw: u64,
    /// The token's decimals.
    pub decimals: u8,
    /// The floor, in basis points of R.
    pub min_bps: u16,
    /// The maximum, in basis points of R: at most [`MAX_PRICE_BPS`], which TICA may lower.
    pub max_bps: u16,
    /// K: the curve's capacity, base units.
    pub capacity: u128,
    /// x: TICA's position on the curve, `0 ..= capacity`, base units.
    pub position: u128,
}

/// What MLK is worth, and how finely it divides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MlkPrice {
    /// KRW per whole MLK, times [`PRICE_SCALE`].
    pub krw_e4: u64,
    /// MLK's decimals.
    pub decimals: u8,
}

/// A priced order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// Which way.
    pub side: Side,
    /// Brand Token base units.
    pub bt: u128,
    /// The tokens' value on the curve in MLK base units, rounded against the customer.
    pub gross: u128,
    /// TICA's fee, MLK base units, rounded up.
    pub fee: u128,
    /// What the customer pays (buy: gross + fee) or gets (sell: gross − fee), MLK base units.
    pub total: u128,
    /// TICA's position after the trade.
    pub position_after: u128,
}

/// Why an order cannot be priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum MarketError {
    /// An order of nothing.
    #[error("the order is for nothing")]
    ZeroSize,
    /// The order would take the price past its maximum (buying) or floor (selling).
    #[error(
        "the order would cross the price bound; the largest size allowed now is {largest} base units"
    )]
    BoundReached {
        /// The largest Brand Token amount that fits, base units.
        largest: u128,
    },
    /// The order is so small that, after rounding and the fee, it is worth nothing.
    #[error("the order is too small to be worth a base unit of MLK after the fee")]
    TooSmall,
    /// The amounts do not fit in 128 bits.
    #[error("the amounts are too large")]
    TooLarge,
    /// A new capacity that cannot keep the current price exactly.
    #[error("a capacity of {requested} would move the price; use a multiple of {step}")]
    DepthWouldMovePrice {
        /// The capacity asked for.
        requested: u128,
        /// Capacities that keep the price are the multiples of this.
        step: u128,
    },
    /// A curve that breaks its own rules (floor above the maximum, position past capacity).
    #[error("invalid curve: {0}")]
    InvalidCurve(&'static str),
}

fn u256(v: u128) -> U256 {
    U256::from(v)
}

fn div_ceil(n: U256, d: U256) -> U256 {
    let q = n / d;
    if q * d == n { q } else { q + U256::ONE }
}

fn to_u128(v: U256) -> Result<u128, MarketError> {
    u128::try_from(v).map_err(|_| MarketError::TooLarge)
}

fn pow10(n: u8) -> U256 {
    U256::from(10u8).pow(u32::from(n))
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Curve {
    /// Checks the curve's own rules.
    pub fn check(&self) -> Result<(), MarketError> {
        if self.redemption_value_krw == 0 {
            return Err(MarketError::InvalidCurve(
                "redemption value must be positive",
            ));
        }
        if self.min_bps == 0 || self.min_bps > MAX_PRICE_BPS {
            return Err(MarketError::InvalidCurve(
                "the floor must be 1 to 9,500 basis points",
            ));
        }
        if self.max_bps < self.min_bps || self.max_bps > MAX_PRICE_BPS {
            return Err(MarketError::InvalidCurve(
                "the maximum must be from the floor to 9,500 basis points",
            ));
        }
        if self.capacity == 0 || self.capacity > u128::from(u64::MAX) {
            return Err(MarketError::InvalidCurve(
                "capacity must be 1 to 2^64 − 1 base units",
            ));
        }
        if self.position > self.capacity {
            return Err(MarketError::InvalidCurve("position past capacity"));
        }
        Ok(())
    }

    fn spread_bps(&self) -> u128 {
        u128::from(self.max_bps.saturating_sub(self.min_bps))
    }

    /// The price at position `x`, in basis points of R, as the exact fraction
    /// `(numerator, denominator)`.
    pub fn price_bps_at(&self, x: u128) -> (u128, u128) {
        let k = self.capacity;
        (u128::from(self.max_bps) * k - self.spread_bps() * x, k)
    }

    /// The current price in basis points of R, as an exact fraction.
    pub fn price_bps(&self) -> (u128, u128) {
        self.price_bps_at(self.position)
    }

    /// The current price in KRW per whole token, times [`PRICE_SCALE`], rounded down.
    pub fn price_krw_e4(&self) -> u128 {
        let (n, d) = self.price_bps();
        to_u128(
            u256(n) * u256(u128::from(self.redemption_value_krw)) * u256(u128::from(PRICE_SCALE))
                / (u256(d) * u256(BPS)),
        )
        .unwrap_or(u128::MAX)
    }

    /// The exact MLK value (base units) of the curve over `[lo, hi]`, as a fraction.
    fn value(&self, lo: u128, hi: u128, mlk: MlkPrice) -> (U256, U256) {
        let k2 = u256(2) * u256(self.capacity);
        let height =
            k2 * u256(u128::from(self.max_bps)) - u256(self.spread_bps()) * (u256(lo) + u256(hi));
        let num = u256(u128::from(self.redemption_value_krw))
            * u256(hi - lo)
            * height
            * pow10(mlk.decimals);
        let den = pow10(self.decimals) * k2 * u256(u128::from(mlk.krw_e4));
        (num, den)
    }

    /// The largest order the curve takes now, base units.
    pub fn largest(&self, side: Side) -> u128 {
        match side {
            Side::Buy => self.position,
            Side::Sell => self.capacity - self.position,
        }
    }

    /// Prices an order of `bt` base units at MLK price `mlk` with a fee of `fee_bps`.
    pub fn quote(
        &self,
        side: Side,
        bt: u128,
        mlk: MlkPrice,
        fee_bps: u16,
    ) -> Result<Fill, MarketError> {
        self.check()?;
        if mlk.krw_e4 == 0 {
            return Err(MarketError::InvalidCurve("MLK's price must be positive"));
        }
        if bt == 0 {
            return Err(MarketError::ZeroSize);
        }
        let largest = self.largest(side);
        if bt > largest {
            return Err(MarketError::BoundReached { largest });
        }
        let fee_of = |gross: u128| -> Result<u128, MarketError> {
            to_u128(div_ceil(u256(gross) * u256(u128::from(fee_bps)), u256(BPS)))
        };
        match side {
            Side::Buy => {
                let lo = self.position - bt;
                let (num, den) = self.value(lo, self.position, mlk);
                let gross = to_u128(div_ceil(num, den))?;
                let fee = fee_of(gross)?;
                Ok(Fill {
                    side,
                    bt,
                    gross,
                    fee,
                    total: gross.checked_add(fee).ok_or(MarketError::TooLarge)?,
                    position_after: lo,
                })
            }
            Side::Sell => {
                let hi = self.position + bt;
                let (num, den) = self.value(self.position, hi, mlk);
                let gross = to_u128(num / den)?;
                let fee = fee_of(gross)?;
                if gross <= fee {
                    return Err(MarketError::TooSmall);
                }
                Ok(Fill {
                    side,
                    bt,
                    gross,
                    fee,
                    total: gross - fee,
                    position_after: hi,
                })
            }
        }
    }

    /// Prices an order sized in MLK: a buy spending at most `mlk_amount` in all (the most
    /// tokens it buys), or a sell getting at least `mlk_amount` (the fewest tokens it takes).
    pub fn quote_mlk(
        &self,
        side: Side,
        mlk_amount: u128,
        mlk: MlkPrice,
        fee_bps: u16,
    ) -> Result<Fill, MarketError> {
        self.check()?;
        if mlk_amount == 0 {
            return Err(MarketError::ZeroSize);
        }
        let largest = self.largest(side);
        match side {
            Side::Buy => {
                // The most tokens whose total fits the budget: totals grow with the size.
                let fits = |bt: u128| {
                    self.quote(side, bt, mlk, fee_bps)
                        .is_ok_and(|f| f.total <= mlk_amount)
                };
                if largest == 0 {
                    return Err(MarketError::BoundReached { largest });
                }
                let (mut lo, mut hi) = (0u128, largest);
                while lo < hi {
                    let mid = lo + (hi - lo).div_ceil(2);
                    if fits(mid) {
                        lo = mid;
                    } else {
                        hi = mid - 1;
                    }
                }
                if lo == 0 {
                    return Err(MarketError::TooSmall);
                }
                self.quote(side, lo, mlk, fee_bps)
            }
            Side::Sell => {
                // The fewest tokens whose proceeds reach the amount: proceeds grow with size.
                let reaches = |bt: u128| {
                    self.quote(side, bt, mlk, fee_bps)
                        .is_ok_and(|f| f.total >= mlk_amount)
                };
                if largest == 0 || !reaches(largest) {
                    return Err(MarketError::BoundReached { largest });
                }
                let (mut lo, mut hi) = (1u128, largest);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if reaches(mid) {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                self.quote(side, lo, mlk, fee_bps)
            }
        }
    }

    /// The same price with a capacity of `capacity`: the position scales with it, exactly.
    /// Capacities that keep the price are the multiples of `K / gcd(x, K)`.
    pub fn with_capacity(&self, capacity: u128) -> Result<Curve, MarketError> {
        let step = self.capacity / gcd(self.position, self.capacity);
        let scaled = u256(self.position) * u256(capacity);
        if capacity == 0 || scaled % u256(self.capacity) != U256::ZERO {
            return Err(MarketError::DepthWouldMovePrice {
                requested: capacity,
                step,
            });
        }
        let curve = Curve {
            capacity,
            position: to_u128(scaled / u256(self.capacity))?,
            ..*self
        };
        curve.check()?;
        Ok(curve)
    }

    /// The largest order size that keeps sandwiching unprofitable with a fee of `fee_bps`.
    ///
    /// Someone who trades `a` just before a victim's order of `v` and reverses just after
    /// gains at most the price move the victim causes on `a`, `s·v·a` (`s` = the curve's
    /// slope), and pays at least the fee on both legs, `2·f·p_min·a`. With every order at
    /// most `v ≤ 2·f·p_min / s = 2·f·Pmin·K / (Pmax − Pmin)`, the fees outweigh the gain.
    pub fn sandwich_safe_max_order(&self, fee_bps: u16) -> u128 {
        let spread = self.spread_bps();
        if spread == 0 {
            return u128::MAX;
        }
        let bound = u256(2)
            * u256(u128::from(fee_bps))
            * u256(u128::from(self.min_bps))
            * u256(self.capacity)
            / (u256(spread) * u256(BPS));
        to_u128(bound).unwrap_or(u128::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MLK: MlkPrice = MlkPrice {
        krw_e4: 1_000 * PRICE_SCALE,
        decimals: 8,
    };

    fn curve(position: u128) -> Curve {
        Curve {
            redemption_value_krw: 10,
            decimals: 2,
            min_bps: 8_000,
            max_bps: MAX_PRICE_BPS,
            capacity: 200_000_000,
            position,
        }
    }

    #[test]
    fn a_worked_example() {
        // Half-way, the price is 87.5 % of R = 8.75 KRW per token.
        let c = curve(100_000_000);
        assert_eq!(c.price_bps(), (8_750 * 200_000_000, 200_000_000));
        assert_eq!(c.price_krw_e4(), 87_500);
        // Buying 100.00 tokens costs their area: 100 × (8.75 + a hair) KRW at 1,000 KRW per
        // MLK, 0.875 MLK and change, rounded up; the fee is 1.5 % of it, rounded up.
        let f = c.quote(Side::Buy, 10_000, MLK, 150).unwrap();
        assert_eq!(f.gross, 87_500_375);
        assert_eq!(f.fee, 1_312_506);
        assert_eq!(f.total, f.gross + f.fee);
        assert_eq!(f.position_after, 99_990_000);
        // Selling the same 100.00 from there: the same area, rounded down, less the fee.
        let after = Curve {
            position: f.position_after,
            ..c
        };
        let s = after.quote(Side::Sell, 10_000, MLK, 150).unwrap();
        assert_eq!(s.gross, 87_500_375);
        assert!(s.total < f.total);
    }

    #[test]
    fn the_bounds_refuse_with_the_largest_size() {
        let empty = curve(0);
        assert_eq!(
            empty.quote(Side::Buy, 1, MLK, 150),
            Err(MarketError::BoundReached { largest: 0 })
        );
        let full = curve(200_000_000);
        assert_eq!(
            full.quote(Side::Sell, 1, MLK, 150),
            Err(MarketError::BoundReached { largest: 0 })
        );
        assert_eq!(
            curve(5).quote(Side::Buy, 6, MLK, 150),
            Err(MarketError::BoundReached { largest: 5 })
        );
        assert_eq!(
            curve(5).quote(Side::Buy, 0, MLK, 150),
            Err(MarketError::ZeroSize)
        );
        // A sale worth less than its fee is refused rather than paid as nothing.
        let tiny = MlkPrice {
            krw_e4: u64::MAX,
            decimals: 8,
        };
        assert_eq!(
            curve(5).quote(Side::Sell, 1, tiny, 150),
            Err(MarketError::TooSmall)
        );
    }

    #[test]
    fn depth_changes_keep_the_price_or_are_refused() {
        let c = curve(100_000_000);
        let deeper = c.with_capacity(400_000_000).unwrap();
        assert_eq!(deeper.position, 200_000_000);
        assert_eq!(deeper.price_krw_e4(), c.price_krw_e4());
        let odd = curve(3);
        assert_eq!(
            odd.with_capacity(7),
            Err(MarketError::DepthWouldMovePrice {
                requested: 7,
                step: 200_000_000
            })
        );
    }

    #[test]
    fn the_sandwich_bound_follows_the_fee_and_the_spread() {
        // 2 × 1.5 % × 8,000 / 1,500 of K = 16 % of K.
        assert_eq!(curve(0).sandwich_safe_max_order(150), 32_000_000);
        assert_eq!(curve(0).sandwich_safe_max_order(0), 0);
        let flat = Curve {
            min_bps: MAX_PRICE_BPS,
            ..curve(0)
        };
        assert_eq!(flat.sandwich_safe_max_order(150), u128::MAX);
    }

    fn arb_curve() -> impl Strategy<Value = (Curve, MlkPrice, u16)> {
        (
            1u64..1_000_000,
            0u8..=8,
            1u16..=MAX_PRICE_BPS,
            1u128..=u128::from(u64::MAX),
            0u128..=1_000_000,
            1u64..=u64::MAX,
            0u16..=1_000,
        )
            .prop_flat_map(|(r, d, min, k, _, p, fee)| {
                (0..=k).prop_map(move |x| {
                    (
                        Curve {
                            redemption_value_krw: r,
                            decimals: d,
                            min_bps: min,
                            max_bps: MAX_PRICE_BPS,
                            capacity: k,
                            position: x,
                        },
                        MlkPrice {
                            krw_e4: p,
                            decimals: 8,
                        },
                        fee,
                    )
                })
            })
    }

    /// A fraction of the largest size: sizes that fit.
    fn part(largest: u128, share: u64) -> u128 {
        (u256(largest) * u256(u128::from(share)) / u256(u128::from(u64::MAX))).as_u128()
    }

    proptest! {
        #[test]
        fn the_price_stays_within_its_bounds((c, _, _) in arb_curve()) {
            let (n, d) = c.price_bps();
            prop_assert!(n <= u128::from(MAX_PRICE_BPS) * d);
            prop_assert!(n >= u128::from(c.min_bps) * d);
        }

        #[test]
        fn rounding_never_favours_the_customer((c, mlk, fee) in arb_curve(), share in any::<u64>()) {
            for side in [Side::Buy, Side::Sell] {
                let bt = part(c.largest(side), share);
                let Ok(f) = c.quote(side, bt, mlk, fee) else { continue };
                let (lo, hi) = match side {
                    Side::Buy => (f.position_after, c.position),
                    Side::Sell => (c.position, f.position_after),
                };
                let (num, den) = c.value(lo, hi, mlk);
                match side {
                    Side::Buy => prop_assert!(u256(f.gross) * den >= num),
                    Side::Sell => prop_assert!(u256(f.gross) * den <= num),
                }
                prop_assert!(u256(f.fee) * u256(BPS) >= u256(f.gross) * u256(u128::from(fee)));
            }
        }

        #[test]
        fn splitting_an_order_never_gains(
            (c, mlk, fee) in arb_curve(), share in any::<u64>(), cut in any::<u64>()
        ) {
            for side in [Side::Buy, Side::Sell] {
                let whole = part(c.largest(side), share);
                let first = part(whole, cut);
                let (Ok(one), Ok(a)) = (c.quote(side, whole, mlk, fee), c.quote(side, first, mlk, fee)) else {
                    continue;
                };
                let rest = Curve { position: a.position_after, ..c };
                let Ok(b) = rest.quote(side, whole - first, mlk, fee) else { continue };
                prop_assert_eq!(b.position_after, one.position_after);
                match side {
                    Side::Buy => prop_assert!(a.total + b.total >= one.total),
                    Side::Sell => prop_assert!(a.total + b.total <= one.total),
                }
            }
        }

        #[test]
        fn a_buy_then_a_sell_of_the_same_size_never_profits(
            (c, mlk, fee) in arb_curve(), share in any::<u64>()
        ) {
            let bt = part(c.largest(Side::Buy), share);
            let Ok(buy) = c.quote(Side::Buy, bt, mlk, fee) else { return Ok(()) };
            let after = Curve { position: buy.position_after, ..c };
            if let Ok(sell) = after.quote(Side::Sell, bt, mlk, fee) {
                prop_assert!(sell.total <= buy.total);
                prop_assert_eq!(sell.position_after, c.position);
            }
        }

        #[test]
        fn mlk_sized_orders_are_the_best_fit((c, mlk, fee) in arb_curve(), budget in 1u128..=u128::from(u64::MAX)) {
            if let Ok(f) = c.quote_mlk(Side::Buy, budget, mlk, fee) {
                prop_assert!(f.total <= budget);
                if f.bt < c.largest(Side::Buy) {
                    let more = c.quote(Side::Buy, f.bt + 1, mlk, fee).unwrap();
                    prop_assert!(more.total > budget);
                }
            }
            if let Ok(f) = c.quote_mlk(Side::Sell, budget, mlk, fee) {
                prop_assert!(f.total >= budget);
                if f.bt > 1 {
                    let less = c.quote(Side::Sell, f.bt - 1, mlk, fee);
                    prop_assert!(less.is_err() || less.unwrap().total < budget);
                }
            }
        }

        #[test]
        fn a_new_depth_keeps_the_exact_price((c, _, _) in arb_curve(), m in 1u128..1_000) {
            let k = c.capacity.saturating_mul(m).min(u128::from(u64::MAX));
            match c.with_capacity(k) {
                Ok(d) => {
                    let ((n1, d1), (n2, d2)) = (c.price_bps(), d.price_bps());
                    prop_assert_eq!(u256(n1) * u256(d2), u256(n2) * u256(d1));
                }
                Err(MarketError::DepthWouldMovePrice { step, .. }) => prop_assert!(k % step != 0),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }
}
