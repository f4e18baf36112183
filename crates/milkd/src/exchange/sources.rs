//! What each of the oracle's sources last said, for the operator to see which one is down,
//! stale or lying before the quorum notices.

use milk_api::exchange::SourceView;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The sources' last answers, by URL.
#[derive(Debug, Default)]
pub struct Sources {
    last: Mutex<BTreeMap<String, SourceView>>,
}

impl Sources {
    /// Records what `url` answered when asked at `asked_at_ms`: a quote `(price, quoted at)`
    /// or why there is none. A failed answer keeps the last good quote beside its error.
    pub fn record(&self, url: &str, asked_at_ms: u64, answer: Result<(u64, u64), String>) {
        let mut last = self.last.lock().expect("sources lock");
        let entry = last.entry(url.to_owned()).or_insert_with(|| SourceView {
            url: url.to_owned(),
            asked_at_ms,
            krw_e4: None,
            quoted_at_ms: None,
            error: None,
        });
        entry.asked_at_ms = asked_at_ms;
        match answer {
            Ok((price, at)) => {
                (entry.krw_e4, entry.quoted_at_ms, entry.error) = (Some(price), Some(at), None);
            }
            Err(why) => entry.error = Some(why),
        }
    }

    /// Every source asked so far.
    pub fn view(&self) -> Vec<SourceView> {
        self.last
            .lock()
            .expect("sources lock")
            .values()
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_answer_keeps_the_last_quote_beside_its_error() {
        let s = Sources::default();
        s.record("http://a", 10, Ok((10_000_000, 9)));
        s.record("http://b", 10, Err("connection refused".into()));
        s.record("http://a", 20, Err("unreadable".into()));
        let v = s.view();
        assert_eq!(v.len(), 2);
        assert_eq!(
            (v[0].asked_at_ms, v[0].krw_e4, v[0].quoted_at_ms),
            (20, Some(10_000_000), Some(9))
        );
        assert_eq!(v[0].error.as_deref(), Some("unreadable"));
        assert_eq!(
            (v[1].krw_e4, v[1].error.as_deref()),
            (None, Some("connection refused"))
        );
        s.record("http://a", 30, Ok((10_100_000, 29)));
        assert_eq!(s.view()[0].error, None);
    }
}
