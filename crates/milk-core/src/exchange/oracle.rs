//! MLK's price as the center chain keeps it, and what a lying or lagging source can do to it.
//!
//! The oracle key reports prices (the node's median of several sources, each stamped with
//! its source's quote time). A report within the band of the last accepted price is
//! accepted and joins the recent window. One further away is a **move**: trading halts
//! until reports stay within the band of the new level for the settling period, or TICA
//! confirms it (`ConfirmPrice`). A trade is priced pessimistically for TICA over the recent
//! window: a buy at its lowest MLK price (the customer pays the most MLK), a sale at its
//! highest (the customer gets the least), so a price that lags the market cannot be sold
//! back to TICA at a profit within the window.

use super::curve::Side;
use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};

/// The most prices the recent window keeps.
pub const MAX_RECENT: usize = 64;

/// The oracle's rules, from the genesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OracleRules {
    /// How far a report may be from the last accepted price, basis points.
    pub band_bps: u16,
    /// How long reports must stay within the band of a new level before it is accepted, ms.
    pub settle_ms: u64,
    /// The window a trade is priced pessimistically over, ms.
    pub window_ms: u64,
    /// How old the newest accepted price may be for a trade, ms (from the sources' times).
    pub max_age_ms: u64,
}

/// What the chain keeps of the oracle's reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OracleState {
    /// Accepted prices, `(quoted at, KRW × 10⁴)`, oldest first, within the window of the
    /// newest.
    pub recent: Vec<(u64, u64)>,
    /// A move beyond the band waiting to settle: `(level, since)`; trading halts meanwhile.
    pub jump: Option<(u64, u64)>,
}

/// Why no price can be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unpriced {
    /// No price was ever accepted.
    Missing,
    /// The newest accepted price is too old: `(age, most allowed)`.
    Stale(u64, u64),
    /// A move beyond the band waits to settle or to be confirmed: the level it reached.
    Unsettled(u64),
}

/// Whether `a` is within `band_bps` of `b`.
pub fn within(a: u64, b: u64, band_bps: u16) -> bool {
    u128::from(a.abs_diff(b)) * 10_000 <= u128::from(band_bps) * u128::from(b)
}

impl OracleState {
    /// The state after a report of `krw_e4` quoted at `at` (newer than any before).
    pub fn report(&self, rules: &OracleRules, krw_e4: u64, at: u64) -> OracleState {
        let last = self.recent.last().map(|r| r.1);
        match (self.jump, last) {
            (_, None) => self.accepted(rules, krw_e4, at),
            // Back within the band of the accepted level: the move is over.
            (_, Some(level)) if within(krw_e4, level, rules.band_bps) => {
                self.accepted(rules, krw_e4, at)
            }
            (Some((level, since)), _) if within(krw_e4, level, rules.band_bps) => {
                if at.saturating_sub(since) >= rules.settle_ms {
                    self.accepted(rules, krw_e4, at)
                } else {
                    self.clone()
                }
            }
            // A new move, or a move that moved again: it waits from now.
            _ => OracleState {
                recent: self.recent.clone(),
                jump: Some((krw_e4, at)),
            },
        }
    }

    /// TICA's confirmation of the level a move reached.
    pub fn confirm(&self, rules: &OracleRules, krw_e4: u64) -> Option<OracleState> {
        let (level, since) = self.jump?;
        (level == krw_e4).then(|| self.accepted(rules, level, since))
    }

    /// `krw_e4` accepted at `at`. The prices before a settled move stay in the window: a
    /// customer who traded before it cannot reverse at the new level alone until the old
    /// one has left the window.
    fn accepted(&self, rules: &OracleRules, krw_e4: u64, at: u64) -> OracleState {
        let mut recent = self.recent.clone();
        recent.push((at, krw_e4));
        recent.retain(|(t, _)| t.saturating_add(rules.window_ms) >= at);
        let excess = recent.len().saturating_sub(MAX_RECENT);
        recent.drain(..excess);
        OracleState { recent, jump: None }
    }

    /// The MLK price a trade on `side` uses at block time `now_ms`: the lowest accepted
    /// price of the window for a buy, the highest for a sale.
    pub fn price_for(&self, rules: &OracleRules, side: Side, now_ms: u64) -> Result<u64, Unpriced> {
        if let Some((level, _)) = self.jump {
            return Err(Unpriced::Unsettled(level));
        }
        let newest = self.recent.last().ok_or(Unpriced::Missing)?;
        let age = now_ms.saturating_sub(newest.0);
        if age > rules.max_age_ms {
            return Err(Unpriced::Stale(age, rules.max_age_ms));
        }
        let window = self
            .recent
            .iter()
            .filter(|(t, _)| t.saturating_add(rules.window_ms) >= now_ms)
            .map(|r| r.1);
        let price = match side {
            Side::Buy => window.min(),
            Side::Sell => window.max(),
        };
        Ok(price.unwrap_or(newest.1))
    }
}

impl Encode for OracleState {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.recent.len() as u32);
        for (at, p) in &self.recent {
            w.u64(*at).u64(*p);
        }
        match self.jump {
            Some((level, since)) => w.u8(1).u64(level).u64(since),
            None => w.u8(0),
        };
    }
}

impl Decode for OracleState {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.u32()? as usize;
        if n > MAX_RECENT {
            return Err(DecodeError::Invalid {
                what: "oracle window",
                reason: format!("{n} prices, more than {MAX_RECENT}"),
            });
        }
        let mut recent = Vec::with_capacity(n);
        for _ in 0..n {
            recent.push((r.u64()?, r.u64()?));
        }
        let jump = match r.u8()? {
            0 => None,
            1 => Some((r.u64()?, r.u64()?)),
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "oracle move",
                    tag,
                });
            }
        };
        Ok(OracleState { recent, jump })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: OracleRules = OracleRules {
        band_bps: 200,
        settle_ms: 60_000,
        window_ms: 300_000,
        max_age_ms: 60_000,
    };

    #[test]
    fn a_move_beyond_the_band_halts_until_it_settles_or_is_confirmed() {
        let s = OracleState::default().report(&RULES, 10_000_000, 1_000);
        assert_eq!(s.price_for(&RULES, Side::Buy, 1_000), Ok(10_000_000));
        // 1.9 % up: accepted.
        let s = s.report(&RULES, 10_190_000, 2_000);
        assert_eq!(s.jump, None);
        // Down 99.9 %: a move; trading halts.
        let crash = s.report(&RULES, 10_000, 3_000);
        assert_eq!(
            crash.price_for(&RULES, Side::Sell, 3_000),
            Err(Unpriced::Unsettled(10_000))
        );
        // Back within the band of the old level: the move is over.
        let back = crash.report(&RULES, 10_100_000, 4_000);
        assert_eq!(back.jump, None);
        assert_eq!(back.price_for(&RULES, Side::Sell, 4_000), Ok(10_190_000));
        // A move that holds for the settling period becomes the new level; the old one
        // stays in the window, so a sale is still priced at it.
        let held = crash.report(&RULES, 10_050, 30_000);
        assert_eq!(held.jump, Some((10_000, 3_000)));
        let settled = held.report(&RULES, 10_020, 63_000);
        assert_eq!(settled.jump, None);
        assert_eq!(settled.price_for(&RULES, Side::Buy, 63_000), Ok(10_020));
        assert_eq!(
            settled.price_for(&RULES, Side::Sell, 63_000),
            Ok(10_190_000)
        );
        // A move that moves again waits from the new level.
        let again = crash.report(&RULES, 5_000, 10_000);
        assert_eq!(again.jump, Some((5_000, 10_000)));
        // TICA confirms only the level reached.
        assert_eq!(crash.confirm(&RULES, 9_999), None);
        let confirmed = crash.confirm(&RULES, 10_000).unwrap();
        assert_eq!(confirmed.price_for(&RULES, Side::Buy, 3_000), Ok(10_000));
        assert_eq!(s.confirm(&RULES, 10_190_000), None, "nothing to confirm");
    }

    #[test]
    fn trades_are_priced_against_the_customer_over_the_window_and_halt_when_stale() {
        let mut s = OracleState::default();
        for (at, p) in [(0, 1_000), (100_000, 1_015), (200_000, 1_005)] {
            s = s.report(&RULES, p, at);
        }
        assert_eq!(s.price_for(&RULES, Side::Buy, 200_000), Ok(1_000));
        assert_eq!(s.price_for(&RULES, Side::Sell, 200_000), Ok(1_015));
        // Past the window the oldest no longer counts.
        let narrow = OracleRules {
            window_ms: 150_000,
            ..RULES
        };
        assert_eq!(s.price_for(&narrow, Side::Buy, 200_000), Ok(1_005));
        assert_eq!(s.price_for(&narrow, Side::Sell, 200_000), Ok(1_015));
        assert_eq!(
            s.price_for(&RULES, Side::Buy, 260_001),
            Err(Unpriced::Stale(60_001, 60_000))
        );
        assert_eq!(
            OracleState::default().price_for(&RULES, Side::Buy, 0),
            Err(Unpriced::Missing)
        );
        // The window is bounded, and its record round-trips.
        for i in 0..200 {
            s = s.report(&RULES, 1_000, 300_000 + i);
        }
        assert_eq!(s.recent.len(), MAX_RECENT);
        assert_eq!(OracleState::from_bytes(&s.to_bytes()), Ok(s));
    }
}
