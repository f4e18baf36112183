//! A JSON answer as a person reads it: one `key: value` a line, nested objects indented,
//! lists item by item; amounts (the API sends base units as strings of digits) in whole
//! units, moments (`…_ms`) as local dates, days (`…_day`) as dates.

use milk_core::Amount;
use milk_core::amount::grouped;
use serde_json::Value;

/// `v` as text, its amounts in whole units of an asset with `decimals` decimals (an object
/// that names its own `decimals` uses those).
pub fn human(v: &Value, decimals: u8) -> String {
    let mut out = Vec::new();
    render(v, decimals, 0, &mut out);
    out.join("\n")
}

fn render(v: &Value, decimals: u8, indent: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            let own = map.get("decimals").and_then(Value::as_u64);
            let decimals = own.map_or(decimals, |d| d.min(38) as u8);
            for (key, x) in map.iter().filter(|(k, _)| *k != "decimals") {
                if is_nested(x) {
                    out.push(format!("{pad}{}:", label(key)));
                    render(x, decimals, indent + 2, out);
                } else {
                    out.push(format!("{pad}{}: {}", label(key), scalar(key, x, decimals)));
                }
            }
        }
        Value::Array(items) if items.is_empty() => out.push(format!("{pad}(none)")),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if is_nested(item) {
                    out.push(format!("{pad}{}.", i + 1));
                    render(item, decimals, indent + 2, out);
                } else {
                    out.push(format!("{pad}- {}", scalar("", item, decimals)));
                }
            }
        }
        x => out.push(format!("{pad}{}", scalar("", x, decimals))),
    }
}

fn is_nested(v: &Value) -> bool {
    match v {
        Value::Object(_) => true,
        Value::Array(items) => items.iter().any(|i| i.is_object() || i.is_array()),
        _ => false,
    }
}

/// Whether a field names something (an id, a partner's reference, a hash) rather than
/// an amount, however many digits it has.
fn names(key: &str) -> bool {
    let last = key.rsplit('_').next().unwrap_or(key);
    matches!(last, "id" | "reference" | "hash")
}

/// `held_by_tica` reads `held by tica`; a moment's unit goes, since it is shown as a date
/// (`final_ms` reads `final`).
fn label(key: &str) -> String {
    key.strip_suffix("_ms").unwrap_or(key).replace('_', " ")
}

fn scalar(key: &str, v: &Value, decimals: u8) -> String {
    let digits = |s: &str| !s.is_empty() && s.len() <= 39 && s.bytes().all(|b| b.is_ascii_digit());
    match v {
        Value::String(s) if digits(s) && !key.ends_with("_krw") && !names(key) => {
            let units: u128 = s.parse().unwrap_or(0);
            grouped(&Amount::new(units).to_decimal(decimals))
        }
        Value::Number(n) if key.ends_with("_ms") => match n.as_u64() {
            Some(ms) => super::local_time(ms),
            None => n.to_string(),
        },
        Value::Number(n) if key.ends_with("_day") => {
            let secs = n.as_i64().and_then(|d| d.checked_mul(86_400));
            match secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0)) {
                Some(t) => t.format("%Y-%m-%d (a UTC day)").to_string(),
                None => n.to_string(),
            }
        }
        Value::Array(items) => {
            let each: Vec<String> = items.iter().map(|i| scalar(key, i, decimals)).collect();
            each.join(", ")
        }
        Value::String(s) => s.clone(),
        Value::Bool(b) => (if *b { "yes" } else { "no" }).to_owned(),
        Value::Null => "none".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::human;
    use serde_json::json;

    #[test]
    fn amounts_read_in_whole_units_and_nothing_else_changes() {
        let v = json!({
            "chain": "cinema",
            "outstanding": "1015270",
            "decimals": 2,
            "exposure_krw": "8750",
            "suspended": false,
            "height": 12,
            "lots": [{ "amount": "150", "expires_on_day": 20_620 }],
            "reference": "100234",
            "order_id": "77",
            "tags": ["a", "b"],
            "last": null,
            "final_ms": 1_767_225_600_000u64
        });
        let text = human(&v, 0);
        for line in [
            "chain: cinema",
            "outstanding: 10,152.7",
            "exposure krw: 8750",
            "suspended: no",
            "height: 12",
            "lots:",
            "  1.",
            "    amount: 1.5",
            "tags: a, b",
            "last: none",
            "reference: 100234",
            "order id: 77",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing from\n{text}"
            );
        }
        assert!(text.contains("expires on day: 2026-06-"), "{text}");
        // A moment reads as a local date, under its name without the unit.
        assert!(text.contains("final: 202"), "{text}");
        assert!(!text.contains("ms:"), "{text}");
        assert!(!text.contains("decimals"), "{text}");
    }
}
