//! The MLK price oracle: what a quorum of fresh exchange tickers agrees on, recorded on the
//! center chain by the oracle key with the sources' own quote time, so every trade's
//! conversion can be audited. The chain then keeps its band and window
//! (`milk_core::exchange::oracle`).
//!
//! Each source is an Upbit-style ticker URL answering `[{"market": "KRW-MLK",
//! "trade_price": 1234.5, "timestamp": 1700000000000}]` (a single object works too). Prices
//! are read from the JSON text as exact decimals (to 10⁻⁴ KRW; finer digits are dropped),
//! never through floating point. A quote older than the exchange's `oracle_max_age_ms` is
//! ignored, and so is one further than the band from the median; with fewer than the quorum
//! left nothing is recorded, the last price ages, and trading halts (`oracle_stale`) until
//! enough sources agree again.

use crate::node::Node;
use milk_core::ChainId;
use milk_core::tx::Action;
use milk_core::tx::ExchangeAction;
use milk_store::ChainStore;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;

/// How long one source may take.
const SOURCE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Deserialize)]
struct Quote<'a> {
    #[serde(default)]
    market: Option<String>,
    #[serde(borrow)]
    trade_price: &'a RawValue,
    #[serde(default)]
    timestamp: Option<u64>,
    #[serde(default)]
    trade_timestamp: Option<u64>,
}

/// Reads a decimal number's text as an integer × 10⁴, dropping finer digits.
pub fn decimal_e4(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a plain positive decimal");
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let mut digits = frac.as_bytes().iter().take(4).map(|b| u64::from(b - b'0'));
    let mut frac_e4 = 0u64;
    for _ in 0..4 {
        frac_e4 = frac_e4 * 10 + digits.next().unwrap_or(0);
    }
    whole
        .parse::<u64>()
        .ok()
        .and_then(|w| w.checked_mul(10_000))
        .and_then(|w| w.checked_add(frac_e4))
        .ok_or_else(bad)
}

/// One ticker answer's price (× 10⁴) and time for `market`.
pub fn parse_ticker(body: &[u8], market: &str) -> Result<(u64, u64), String> {
    let quotes: Vec<Quote<'_>> = match serde_json::from_slice::<Vec<Quote<'_>>>(body) {
        Ok(q) => q,
        Err(_) => vec![serde_json::from_slice::<Quote<'_>>(body).map_err(|e| e.to_string())?],
    };
    let q = quotes
        .into_iter()
        .find(|q| q.market.as_deref().is_none_or(|m| m == market))
        .ok_or_else(|| format!("no {market} quote"))?;
    let price = decimal_e4(q.trade_price.get())?;
    if price == 0 {
        return Err("a price of zero".into());
    }
    let at = q
        .timestamp
        .or(q.trade_timestamp)
        .ok_or("the quote has no timestamp")?;
    Ok((price, at))
}

/// The median of some prices (the lower middle one of an even count).
pub fn median(prices: &mut [u64]) -> Option<u64> {
    if prices.is_empty() {
        return None;
    }
    prices.sort_unstable();
    Some(prices[(prices.len() - 1) / 2])
}

fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(SOURCE_TIMEOUT))
        .build()
        .into();
    let mut r = agent.get(url).call().map_err(|e| e.to_string())?;
    r.body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .map_err(|e| e.to_string())
}

/// What a round of quotes agrees on: `(price, quoted at)`, the median of the fresh quotes
/// within `band_bps` of their median, stamped with the oldest of them, if at least `quorum`
/// agree. A liar among honest sources is left out or outvoted; sources that disagree record
/// nothing, so the last price ages and trading halts.
pub fn agree(
    quotes: &[(u64, u64)],
    now_ms: u64,
    max_age_ms: u64,
    quorum: usize,
    band_bps: u16,
) -> Result<(u64, u64), String> {
    let fresh: Vec<(u64, u64)> = (quotes.iter().copied())
        .filter(|(_, at)| now_ms.saturating_sub(*at) <= max_age_ms && *at <= now_ms + 5_000)
        .collect();
    let mut prices: Vec<u64> = fresh.iter().map(|q| q.0).collect();
    let mid = median(&mut prices).ok_or("no fresh quote")?;
    let agreeing: Vec<(u64, u64)> = (fresh.iter().copied())
        .filter(|(p, _)| milk_core::exchange::oracle::within(*p, mid, band_bps))
        .collect();
    if agreeing.len() < quorum.max(1) {
        return Err(format!(
            "{} of {} sources agree ({} fresh), fewer than the quorum of {quorum}",
            agreeing.len(),
            quotes.len(),
            fresh.len()
        ));
    }
    let mut prices: Vec<u64> = agreeing.iter().map(|q| q.0).collect();
    let price = median(&mut prices).ok_or("no agreeing quote")?;
    let at = agreeing
        .iter()
        .map(|q| q.1)
        .min()
        .ok_or("no agreeing quote")?;
    Ok((price, at))
}

/// Asks every source; the quotes read, `(price, quoted at)`. Each answer, or why there is
/// none, is kept for the operator (`node.oracle_sources`).
async fn ask(node: &Node, sources: &[String], market: &str) -> Vec<(u64, u64)> {
    let mut quotes = Vec::new();
    for url in sources {
        let asked_at = node.clock.now_ms();
        let source = url.clone();
        let got = tokio::task::spawn_blocking(move || fetch(&source)).await;
        let answer = match got {
            Ok(Ok(body)) => {
                parse_ticker(&body, market).map_err(|e| format!("its answer is unreadable: {e}"))
            }
            Ok(Err(e)) => Err(format!("it did not answer: {e}")),
            Err(_) => Err("the request failed".to_owned()),
        };
        match &answer {
            Ok(q) => quotes.push(*q),
            Err(e) => tracing::warn!(%url, error = %e, "oracle: no quote from a source"),
        }
        node.oracle_sources.record(url, asked_at, answer);
    }
    quotes
}

/// One round: asks every source, and records what a quorum of fresh ones agrees on,
/// stamped with their quote time. Returns the price recorded, if any.
pub async fn round(node: &Arc<Node>, sources: &[String], market: &str) -> Option<u64> {
    let config = node.genesis.exchange.as_ref()?;
    let quotes = ask(node, sources, market).await;
    let (price, at) = match agree(
        &quotes,
        node.clock.now_ms(),
        config.oracle_max_age_ms,
        node.config.oracle_quorum,
        config.oracle_band_bps,
    ) {
        Ok(x) => x,
        Err(why) => {
            tracing::warn!(%why, "oracle: no price this round");
            return None;
        }
    };
    // A quote no newer than the last recorded one adds nothing.
    let center = node.chain(&ChainId::center())?;
    let last = center
        .store
        .record(&[milk_core::exchange::record::ORACLE])
        .ok()?;
    if last
        .and_then(|v| Some(u64::from_be_bytes(v.get(8..16)?.try_into().ok()?)))
        .is_some_and(|last_at| at <= last_at)
    {
        return None;
    }
    let lane = crate::lane::get(node, &ChainId::center())?;
    let action = Action::Exchange(ExchangeAction::OraclePrice {
        krw_e4: price,
        observed_at_ms: at,
    });
    match lane.submit(action).await {
        Ok(_) => Some(price),
        Err(e) => {
            tracing::warn!(error = %e, "oracle: the price was not recorded");
            None
        }
    }
}

/// Records MLK's price every `every` while the node runs, if this node holds the oracle key.
pub async fn run(node: Arc<Node>, sources: Vec<String>, every: Duration) {
    let Some(config) = node.genesis.exchange.as_ref() else {
        return;
    };
    if sources.is_empty() {
        return;
    }
    if node.operator_key.as_ref().map(|k| k.address()) != Some(config.oracle) {
        tracing::warn!("oracle: this node does not hold the oracle key; prices are not recorded");
        return;
    }
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !node.leads_center() {
            continue;
        }
        round(&node, &sources, crate::exchange::ticker::MARKET).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_read_exactly_from_the_text() {
        assert_eq!(decimal_e4("1234.5"), Ok(12_345_000));
        assert_eq!(decimal_e4("0.0001"), Ok(1));
        assert_eq!(decimal_e4("7"), Ok(70_000));
        assert_eq!(decimal_e4("1.23456789"), Ok(12_345));
        for bad in [
            "-1",
            "1e3",
            ".5",
            "1.2.3",
            "",
            "abc",
            "99999999999999999999",
        ] {
            assert!(decimal_e4(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn upbit_style_tickers_parse_and_others_are_refused() {
        let body = br#"[{"market":"KRW-MLK","trade_price":2105.5,"timestamp":1700000000000,"acc_trade_volume":1.5}]"#;
        assert_eq!(
            parse_ticker(body, "KRW-MLK"),
            Ok((21_055_000, 1_700_000_000_000))
        );
        let object = br#"{"trade_price":3,"trade_timestamp":5}"#;
        assert_eq!(parse_ticker(object, "KRW-MLK"), Ok((30_000, 5)));
        assert!(
            parse_ticker(
                br#"[{"market":"KRW-BTC","trade_price":1,"timestamp":1}]"#,
                "KRW-MLK"
            )
            .is_err()
        );
        assert!(
            parse_ticker(
                br#"[{"market":"KRW-MLK","trade_price":0,"timestamp":1}]"#,
                "KRW-MLK"
            )
            .is_err()
        );
        assert!(parse_ticker(br#"[{"market":"KRW-MLK","trade_price":1}]"#, "KRW-MLK").is_err());
        assert!(parse_ticker(b"not json", "KRW-MLK").is_err());
    }

    #[test]
    fn a_quorum_of_fresh_sources_must_agree_and_a_liar_is_left_out() {
        let now = 1_000_000;
        // One source says KRW 0.01: left out, the others agree; stamped with the oldest.
        let q = [(10_000_000, now - 500), (100, now), (10_010_000, now - 100)];
        assert_eq!(agree(&q, now, 60_000, 2, 200), Ok((10_000_000, now - 500)));
        // Two liars agreeing outvote one honest source only if they agree with each other.
        let q = [(10_000_000, now), (100, now), (5_000_000, now)];
        assert!(agree(&q, now, 60_000, 2, 200).is_err());
        // A stale quote does not count toward the quorum, nor one from the future.
        let q = [
            (10_000_000, now),
            (10_000_000, now - 60_001),
            (10_000_000, now + 9_000),
        ];
        assert!(agree(&q, now, 60_000, 2, 200).is_err());
        assert_eq!(agree(&q, now, 60_000, 1, 200), Ok((10_000_000, now)));
        assert!(agree(&[], now, 60_000, 1, 200).is_err());
    }

    #[test]
    fn the_median_is_the_middle_price() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5]), Some(5));
        assert_eq!(median(&mut [9, 1, 5]), Some(5));
        assert_eq!(median(&mut [9, 1, 5, 7]), Some(5));
    }
}
