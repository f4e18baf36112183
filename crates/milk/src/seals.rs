//! What the center chain credits by seal, checked against the brand chains it answers: the
//! center chain names neither the partner of a linking reward nor the partner and coupon of
//! a coupon credit, only their seals, so a verifier that replayed every brand chain checks
//! that each seal is a link or a report there, of the same member, and that a credit taken
//! back answers a refund the partner reported.

use milk_core::brand::coupon::{COUPON_REPORT, CouponReport};
use milk_core::brand::{link_of, link_seal, record as brand_record};
use milk_core::state::ChainState;
use milk_core::{ChainId, Hash};
use std::collections::HashMap;

/// What one seal stands for on a brand chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sealed {
    /// A link.
    Link,
    /// A coupon payment's report.
    Coupon(CouponReport),
}

/// Every seal the brand chains hold: links and coupon reports.
fn sealed_on(brands: &[(&ChainId, &ChainState)]) -> HashMap<Hash, Sealed> {
    let mut out = HashMap::new();
    for (chain, state) in brands {
        for (k, v) in state.records() {
            match k.first() {
                Some(&brand_record::LINK) => {
                    if let Some((account, hash)) = link_of(&k, &v) {
                        out.insert(link_seal(chain, &account, &hash), Sealed::Link);
                    }
                }
                Some(&COUPON_REPORT) => {
                    if let Some(r) = CouponReport::from_bytes(&v) {
                        out.insert(r.seal, Sealed::Coupon(r));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The center chain's sealed credits that no brand chain answers: a linking reward without
/// its link, a coupon credit without its report (or for another member), a credit taken
/// back without a refund. `brands` must be every brand chain.
pub fn problems(center: &ChainState, brands: &[(&ChainId, &ChainState)]) -> Vec<String> {
    let sealed = sealed_on(brands);
    let mut problems = Vec::new();
    for (k, v) in center.records() {
        let seal = k.get(1..).and_then(|b| b.try_into().ok()).map(Hash);
        let Some(seal) = seal.filter(|_| k.len() == 33) else {
            continue;
        };
        let found = sealed.get(&seal);
        let why = match k[0] {
            milk_core::tokenomics::record::LINKED => match found {
                Some(Sealed::Link) => continue,
                _ => "a linking reward answers no link",
            },
            milk_core::membership::record::COUPON => match (found, v.as_slice()) {
                (Some(Sealed::Coupon(r)), [user @ .., reversed]) if user == r.user.as_bytes() => {
                    match *reversed == 1 && !r.refunded {
                        true => "a coupon credit was taken back, but no refund was reported",
                        false => continue,
                    }
                }
                _ => "a coupon credit answers no report of that member's payment",
            },
            _ => continue,
        };
        problems.push(format!("{why} (seal {})", &seal.to_hex()[..16]));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::problems;
    use milk_core::genesis::{Genesis, demo_key};
    use milk_core::state::ChainState;
    use milk_core::tx::{Action, BrandAction, MembershipAction, Transaction};
    use milk_core::{ChainId, Hash, Keypair};

    fn run(state: &mut ChainState, key: &Keypair, sequence: u64, action: Action, at: u64) {
        let chain = state.chain().clone();
        let tx = Transaction {
            chain,
            sender: key.address(),
            sequence,
            expires_at_ms: at + 60_000,
            action,
        };
        state.apply(&tx, at).unwrap();
        state.take_delta();
    }

    #[test]
    fn every_sealed_credit_answers_a_report_and_a_stray_one_is_named() {
        let g = Genesis::demo();
        let cinema: ChainId = "cinema".parse().unwrap();
        let (_, mut center) = g.genesis_block(g.center()).unwrap();
        let (_, mut brand) = g.genesis_block(g.chain(&cinema).unwrap()).unwrap();
        let at = g.genesis_time_ms + 1_000;
        let (alice, partner, tica) = (
            demo_key("alice"),
            demo_key("partner:cinema"),
            demo_key("operator"),
        );
        let report = BrandAction::ReportCoupon {
            user: alice.address(),
            krw: 50_000,
            coupon_id: "C-1".into(),
        };
        run(&mut brand, &partner, 0, Action::Brand(report), at);
        let seal = brand.brand().unwrap().coupons().report("C-1").unwrap().seal;
        let credit = |seal: Hash| {
            Action::Membership(MembershipAction::CreditCoupon {
                user: alice.address(),
                krw: 50_000,
                seal,
            })
        };
        run(&mut center, &tica, 0, credit(seal), at);
        assert_eq!(
            problems(&center, &[(&cinema, &brand)]),
            Vec::<String>::new()
        );
        // TICA takes it back without a refund on the partner's chain: named.
        let reverse = MembershipAction::ReverseCoupon {
            user: alice.address(),
            seal,
        };
        run(&mut center, &tica, 1, Action::Membership(reverse), at);
        let found = problems(&center, &[(&cinema, &brand)]);
        assert!(found[0].contains("no refund was reported"), "{found:?}");
        // A credit for a report that does not exist: named too.
        run(&mut center, &tica, 2, credit(Hash([7; 32])), at);
        assert_eq!(problems(&center, &[(&cinema, &brand)]).len(), 2);
    }
}
