//! docs/ENCODING.md's worked examples and tables, checked byte for byte against the code a
//! node runs: each transaction's bytes field by field, its id and signature, the demo keys'
//! seeds and addresses, the action tags and the limits the page states.

use milk_core::codec::{Encode, MAX_MEMO_BYTES, MAX_TX_LIFETIME_MS};
use milk_core::genesis::demo_key;
use milk_core::tx::{Action, BrandAction, MembershipAction, TokenAction, Transaction};
use milk_core::{Amount, Hash, Keypair};

const PAGE: &str = include_str!("../../../docs/ENCODING.md");

/// The `text` block whose first line is `# {title}`, without that line.
fn block(title: &str) -> Vec<&'static str> {
    let start = PAGE
        .find(&format!("```text\n# {title}\n"))
        .unwrap_or_else(|| panic!("no block {title:?}"));
    let body = &PAGE[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].lines().collect()
}

/// A field-by-field block's bytes: the hex before the two spaces that start the note.
fn bytes_of(title: &str) -> Vec<u8> {
    let hex: String = block(title)
        .iter()
        .map(|line| line.split("  ").next().unwrap().replace(' ', ""))
        .collect();
    hex::decode(hex).unwrap()
}

/// `label value` from an id-and-signature block.
fn value(title: &str, label: &str) -> String {
    block(title)
        .iter()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("{label} missing from {title}"))
        .trim()
        .to_owned()
}

/// The page's example `title`: `key`'s first transaction on `chain`, valid until block time
/// 1,900,000,000,000, doing `action`.
fn check(title: &str, key: &Keypair, chain: &str, action: Action) {
    let tx = Transaction {
        chain: chain.parse().unwrap(),
        sender: key.address(),
        sequence: 0,
        expires_at_ms: 1_900_000_000_000,
        action,
    };
    assert_eq!(
        bytes_of(&format!("{title}: the transaction bytes, field by field")),
        tx.to_bytes(),
        "{title}"
    );
    let ids = format!("{title}: id and signature");
    assert_eq!(value(&ids, "id"), tx.id().to_hex(), "{title}");
    let signed = tx.sign(key);
    assert_eq!(
        value(&ids, "signature"),
        hex::encode(signed.signature.0),
        "{title}"
    );
    assert!(
        PAGE.contains(&hex::encode(key.secret())),
        "{title}: the seed"
    );
    assert!(
        PAGE.contains(&key.address().to_string()),
        "{title}: the address"
    );
    // Id then signature: what the page says a signed transaction is.
    let mut expected = signed.tx.to_bytes();
    expected.extend_from_slice(&signed.signature.0);
    assert_eq!(signed.to_bytes(), expected);
    assert_eq!(
        Hash::domain("milk/tx/v1", &[&signed.tx.to_bytes()]),
        sha256(&[&[10], b"milk/tx/v1", &signed.tx.to_bytes()])
    );
}

fn sha256(parts: &[&[u8]]) -> Hash {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Hash(h.finalize().into())
}

#[test]
fn the_transfer_example_is_what_the_code_signs() {
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let transfer = Action::Token(TokenAction::Transfer {
        to: bob.address(),
        asset: "MLK".parse().unwrap(),
        amount: Amount::new(1_250_000_000),
        memo: "for your trip".into(),
    });
    check("transfer", &alice, "center", transfer);
    assert!(PAGE.contains(&bob.address().to_string()));
}

#[test]
fn the_conversion_example_is_what_the_code_signs() {
    let cinema = demo_key("partner:cinema");
    let convert = Action::Brand(BrandAction::Convert {
        to: demo_key("alice").address(),
        mileage: 120,
        reference: "T-0001".into(),
    });
    check("convert", &cinema, "cinema", convert);
}

/// Each row of the tag table names the byte the action's encoding starts with.
#[test]
fn the_tag_table_and_the_limits_are_the_codes() {
    let a = demo_key("alice").address();
    let amount = Amount::new(1);
    let actions = [
        (
            "transfer",
            Action::Token(TokenAction::Transfer {
                to: a,
                asset: "MLK".parse().unwrap(),
                amount,
                memo: String::new(),
            }),
        ),
        (
            "burn",
            Action::Token(TokenAction::Burn {
                asset: "MLK".parse().unwrap(),
                amount,
            }),
        ),
        (
            "convert (partner)",
            Action::Brand(BrandAction::Convert {
                to: a,
                mileage: 1,
                reference: "r".into(),
            }),
        ),
        (
            "convert_batch (partner)",
            Action::Brand(BrandAction::ConvertBatch {
                items: vec![milk_core::brand::action::ConversionItem {
                    to: a,
                    mileage: 1,
                    reference: "r".into(),
                }],
            }),
        ),
        (
            "withdraw (to the main chain)",
            Action::Bridge(milk_core::tx::BridgeAction::Withdraw {
                to: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
                    .parse()
                    .unwrap(),
                amount,
                max_fee: amount,
            }),
        ),
        (
            "redeem",
            Action::Brand(BrandAction::Redeem {
                amount,
                order_id: "o".into(),
            }),
        ),
        (
            "refund (partner)",
            Action::Brand(BrandAction::Refund {
                order_id: "o".into(),
            }),
        ),
        ("check_in", Action::Membership(MembershipAction::CheckIn)),
        (
            "burn_for_lzm",
            Action::Membership(MembershipAction::BurnForLzm { amount }),
        ),
        (
            "report_coupon (partner, on its own chain)",
            Action::Brand(BrandAction::ReportCoupon {
                user: a,
                krw: 1,
                coupon_id: "c".into(),
            }),
        ),
        (
            "refund_coupon (partner, on its own chain)",
            Action::Brand(BrandAction::RefundCoupon {
                user: a,
                coupon_id: "c".into(),
            }),
        ),
        (
            "grant_consent (on the partner's chain)",
            Action::Brand(BrandAction::GrantConsent {
                chain: "cinema".parse().unwrap(),
                purpose: "p".into(),
                items: vec!["level".into()],
                retention_days: 1,
            }),
        ),
        (
            "withdraw_consent (on the partner's chain)",
            Action::Brand(BrandAction::WithdrawConsent {
                chain: "cinema".parse().unwrap(),
            }),
        ),
        (
            "start_exit (partner)",
            Action::Alliance(milk_core::tx::AllianceAction::StartExit {
                chain: "cinema".parse().unwrap(),
                final_ms: 1,
            }),
        ),
    ];
    for (name, action) in actions {
        let row = PAGE
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row for {name}"));
        let tag = row.split('|').nth(2).unwrap().trim().trim_matches('`');
        assert_eq!(tag, hex::encode([action.to_bytes()[0]]), "{name}");
    }
    assert!(PAGE.contains(&format!("at most {MAX_MEMO_BYTES} bytes")));
    assert_eq!(MAX_TX_LIFETIME_MS, 24 * 60 * 60 * 1000);
    assert!(PAGE.contains("at most 24 hours ahead"));
    assert!(PAGE.contains(&format!("at most {} bytes", "1,024")));
    assert_eq!(milk_core::envelope::MAX_TX_BYTES, 1_024);
    assert!(PAGE.contains("at most 131,072\nbytes"));
    assert_eq!(milk_core::envelope::MAX_BATCH_TX_BYTES, 131_072);
    assert!(PAGE.contains("1 to 1,000"));
    assert_eq!(milk_core::brand::action::MAX_CONVERSION_BATCH, 1_000);
}
