//! Membership over simulated years on the demo network's center chain: lockups release at
//! exactly their instant, the team's LZM waits for the user pools, levels rise and fall as
//! earnings enter and leave the window, every bad request is refused with its code, and the
//! circulating supply is the total less its documented exclusions over random histories.

use milk_core::brand::DAY_MS;
use milk_core::genesis::{DEMO_GENESIS_TIME_MS, Genesis, demo_key};
use milk_core::membership::EarningRules;
use milk_core::state::ChainState;
use milk_core::tx::{Action, Transaction};
use milk_core::tx::{
    AllianceAction, BrandAction, ExchangeAction, MembershipAction, TokenAction, TokenomicsAction,
};
use milk_core::{Address, Amount, ChainId, Keypair, Symbol};
use proptest::prelude::*;
use std::collections::BTreeMap;

const YEAR_MS: u64 = 365 * DAY_MS;
const LZM: u128 = 100_000_000; // one whole LZM, in base units

fn sym(s: &str) -> Symbol {
    s.parse().unwrap()
}

/// A stand-in for the seal of a coupon report on a partner's chain.
fn seal(coupon_id: &str) -> milk_core::Hash {
    milk_core::Hash::domain("test-coupon", &[coupon_id.as_bytes()])
}

struct Center {
    g: Genesis,
    /// The chain it runs: the center chain unless made by [`Center::brand`].
    chain: ChainId,
    state: ChainState,
    now: u64,
    seqs: BTreeMap<Address, u64>,
    /// Whom the last transaction applied concerned.
    concerned: Vec<Address>,
    /// The id of the last transaction applied.
    last_tx: Option<milk_core::Hash>,
}

impl Center {
    fn new(change: impl FnOnce(&mut Genesis)) -> Center {
        let mut g = Genesis::demo();
        change(&mut g);
        g.validate().unwrap();
        let (_, state) = g.genesis_block(g.center()).unwrap();
        Center {
            now: g.genesis_time_ms + 1_000,
            g,
            chain: ChainId::center(),
            state,
            seqs: BTreeMap::new(),
            concerned: Vec::new(),
            last_tx: None,
        }
    }

    /// A demo partner's brand chain instead, run the same way.
    fn brand(chain: &str) -> Center {
        let mut c = Center::new(|_| {});
        c.chain = chain.parse().unwrap();
        let spec = c.g.chain(&c.chain).unwrap().clone();
        c.state = c.g.genesis_block(&spec).unwrap().1;
        c
    }

    fn run(&mut self, key: &Keypair, action: Action) -> Result<(), &'static str> {
        let seq = *self.seqs.get(&key.address()).unwrap_or(&0);
        let tx = Transaction {
            chain: self.chain.clone(),
            sender: key.address(),
            sequence: seq,
            expires_at_ms: self.now + 60_000,
            action,
        };
        let result = self.state.apply(&tx, self.now);
        let delta = self.state.take_delta();
        match result {
            Ok(()) => {
                self.seqs.insert(key.address(), seq + 1);
                self.concerned = delta.effects[0].accounts();
                self.last_tx = Some(tx.id());
                Ok(())
            }
            Err(e) => {
                assert_eq!(delta, Default::default(), "{} changed state", e.code());
                Err(e.code())
            }
        }
    }

    fn pay(
        &mut self,
        from: &Keypair,
        to: &Address,
        asset: &str,
        amount: u128,
    ) -> Result<(), &'static str> {
        self.run(
            from,
            Action::Token(TokenAction::Transfer {
                to: *to,
                asset: sym(asset),
                amount: Amount::new(amount),
                memo: String::new(),
            }),
        )
    }

    fn balance(&self, who: &Address, asset: &str) -> u128 {
        self.state.balance(who, &sym(asset)).units()
    }

    fn level(&self, who: &Keypair) -> milk_core::membership::LevelView {
        self.state
            .membership()
            .unwrap()
            .level(&who.address(), self.now)
    }
}

/// Sets a demo allocation's amount (supply follows the allocations).
fn set_allocation(g: &mut Genesis, label: &str, amount: u128) {
    let a = g.chains[0]
        .allocations
        .iter_mut()
        .find(|a| a.label == label)
        .unwrap();
    a.amount = Amount::new(amount);
}

#[test]
fn lockups_release_at_exactly_their_instant() {
    let mut c = Center::new(|_| {});
    let alice = demo_key("alice").address();
    let construction = demo_key("alloc:initial-construction");
    let partner = demo_key("alloc:partner-allocation");
    let liquidity = demo_key("alloc:liquidity");
    // Initial construction: two years from the genesis, to the millisecond.
    c.now = DEMO_GENESIS_TIME_MS + 2 * YEAR_MS - 1;
    assert_eq!(
        c.pay(&construction, &alice, "MLK", 1),
        Err("allocation_locked")
    );
    c.now += 1;
    c.pay(&construction, &alice, "MLK", 1).unwrap();
    // Partner allocation A: three years.
    assert_eq!(c.pay(&partner, &alice, "MLK", 1), Err("allocation_locked"));
    c.now = DEMO_GENESIS_TIME_MS + 3 * YEAR_MS - 1;
    assert_eq!(c.pay(&partner, &alice, "MLK", 1), Err("allocation_locked"));
    c.now += 1;
    c.pay(&partner, &alice, "MLK", 1).unwrap();
    // Liquidity never moves but through the exchange, however late.
    c.now = DEMO_GENESIS_TIME_MS + 50 * YEAR_MS;
    assert_eq!(
        c.pay(&liquidity, &alice, "MLK", 1),
        Err("allocation_locked")
    );
    assert_eq!(
        c.run(
            &liquidity,
            Action::Token(TokenAction::Burn {
                asset: sym("MLK"),
                amount: Amount::new(1)
            })
        ),
        Err("allocation_locked")
    );
}

#[test]
fn the_team_waits_for_the_user_pools_and_the_reserve_comes_last() {
    // Small pools, so they run out: 100 LZM of activity, 50 of burn rewards.
    let mut c = Center::new(|g| {
        set_allocation(g, "lzm:user-activity", 100 * LZM);
        set_allocation(g, "lzm:mlk-burn", 50 * LZM);
    });
    let team = demo_key("lzm:team");
    let reserve = demo_key("lzm:long-term-reserve");
    let alice = demo_key("alice");
    assert_eq!(
        c.pay(&team, &alice.address(), "LZM", 1),
        Err("allocation_locked")
    );
    // Ten check-ins (10 LZM each) empty the activity pool...
    let users: Vec<Keypair> = (0..11)
        .map(|i| Keypair::from_label(&format!("member-{i}")))
        .collect();
    for u in &users[..10] {
        c.run(u, Action::Membership(MembershipAction::CheckIn))
            .unwrap();
    }
    assert_eq!(
        c.run(&users[10], Action::Membership(MembershipAction::CheckIn)),
        Err("pool_exhausted")
    );
    assert_eq!(
        c.pay(&team, &alice.address(), "LZM", 1),
        Err("allocation_locked")
    );
    // ...and 10 MLK burned at 5 LZM each empties the burn pool.
    c.run(
        &alice,
        Action::Membership(MembershipAction::BurnForLzm {
            amount: Amount::new(10 * 100_000_000),
        }),
    )
    .unwrap();
    assert_eq!(
        c.run(
            &alice,
            Action::Membership(MembershipAction::BurnForLzm {
                amount: Amount::new(100_000_000)
            })
        ),
        Err("pool_exhausted")
    );
    // The team's portion is free now; the reserve only once the team's is paid out too.
    assert_eq!(
        c.pay(&reserve, &alice.address(), "LZM", 1),
        Err("allocation_locked")
    );
    let team_lzm = c.balance(&team.address(), "LZM");
    c.pay(&team, &alice.address(), "LZM", team_lzm).unwrap();
    c.pay(&reserve, &alice.address(), "LZM", 1).unwrap();
    c.state.check_conservation().unwrap();
}

#[test]
fn levels_rise_and_fall_as_earnings_enter_and_leave_the_window() {
    let mut c = Center::new(|_| {});
    let bob = demo_key("bob");
    assert_eq!(c.level(&bob).name, "Basic");
    // 10 LZM a day: Silver (100 LZM) after ten days.
    for day in 0..10 {
        assert_eq!(c.level(&bob).name, "Basic", "day {day}");
        c.run(&bob, Action::Membership(MembershipAction::CheckIn))
            .unwrap();
        assert_eq!(
            c.run(&bob, Action::Membership(MembershipAction::CheckIn)),
            Err("already_checked_in")
        );
        c.now += DAY_MS;
    }
    let l = c.level(&bob);
    assert_eq!(
        (l.name.as_str(), l.earned_in_window.units()),
        ("Silver", 100 * LZM)
    );
    assert_eq!(l.next, Some(("Gold".to_owned(), Amount::new(900 * LZM))));
    // What leaves the window when: each day's 10 LZM, 90 days after it was earned.
    assert_eq!(l.leaving.len(), 10);
    let first = l.leaving[0].0;
    assert_eq!(l.leaving[0].1.units(), 10 * LZM);
    // The day the first earning leaves, bob falls back to Basic (90 LZM < 100).
    c.now = first - 1;
    assert_eq!(c.level(&bob).name, "Silver");
    c.now = first;
    assert_eq!(c.level(&bob).name, "Basic");
    assert_eq!(c.level(&bob).earned_in_window.units(), 90 * LZM);
    c.now += 10 * DAY_MS;
    assert_eq!(c.level(&bob).earned_in_window.units(), 0);

    // TICA's floor, with its reason, acts as a minimum; removed, the computed level is back.
    let operator = demo_key("operator");
    let floor = |level: u8| {
        Action::Membership(MembershipAction::SetLevelFloor {
            user: bob.address(),
            level,
            reason: "partner event host".into(),
        })
    };
    assert_eq!(c.run(&bob, floor(3)), Err("not_operator"));
    assert_eq!(c.run(&operator, floor(9)), Err("invalid_level"));
    c.run(&operator, floor(3)).unwrap();
    let l = c.level(&bob);
    assert_eq!(
        (l.name.as_str(), l.floor.clone()),
        ("VIP", Some((3, "partner event host".into())))
    );
    c.run(&operator, floor(0)).unwrap();
    assert_eq!(c.level(&bob).name, "Basic");
    // The state restores from its records, levels included.
    let mut restored = c.g.empty_state(c.g.center());
    restored.restore(c.state.records()).unwrap();
    assert_eq!(restored.records(), c.state.records());
}

#[test]
fn earning_rules_caps_coupons_and_burns() {
    let mut c = Center::new(|_| {});
    let alice = demo_key("alice");
    let operator = demo_key("operator");
    // TICA changes the rules: 600 LZM a check-in, 1,000 a day at most.
    let rules = EarningRules {
        check_in: Amount::new(600 * LZM),
        per_1000_krw_traded: Amount::new(LZM),
        per_1000_krw_coupon: Amount::new(2 * LZM),
        per_mlk_burned: Amount::new(5 * LZM),
        daily_cap: Amount::new(1_000 * LZM),
    };
    assert_eq!(
        c.run(
            &alice,
            Action::Membership(MembershipAction::SetEarningRules {
                rules: rules.clone()
            })
        ),
        Err("not_operator")
    );
    c.run(
        &operator,
        Action::Membership(MembershipAction::SetEarningRules { rules }),
    )
    .unwrap();
    c.run(&alice, Action::Membership(MembershipAction::CheckIn))
        .unwrap();
    assert_eq!(c.balance(&alice.address(), "LZM"), 600 * LZM);
    // A coupon payment a partner reported on its chain, credited by TICA under its seal:
    // 300,000 KRW at 2 LZM per 1,000, capped at what today leaves.
    let tica = demo_key("operator");
    let coupon = |id: &str| {
        Action::Membership(MembershipAction::CreditCoupon {
            user: alice.address(),
            krw: 300_000,
            seal: seal(id),
        })
    };
    c.run(&tica, coupon("C-1")).unwrap();
    assert_eq!(c.balance(&alice.address(), "LZM"), 1_000 * LZM);
    assert_eq!(c.run(&tica, coupon("C-1")), Err("coupon_used"));
    assert_eq!(c.run(&alice, coupon("C-2")), Err("not_operator"));
    // The cap is reached: the next day's check-in is fine again.
    c.run(&tica, coupon("C-2")).unwrap(); // counted, with nothing left to credit today
    assert_eq!(c.run(&tica, coupon("C-2")), Err("coupon_used"));
    // Its refund has nothing to take back, and is recorded once, for its own member only.
    let reverse = |user: Address| {
        Action::Membership(MembershipAction::ReverseCoupon {
            user,
            seal: seal("C-2"),
        })
    };
    let bob = demo_key("bob").address();
    assert_eq!(c.run(&tica, reverse(bob)), Err("coupon_unknown"));
    c.run(&tica, reverse(alice.address())).unwrap();
    assert_eq!(
        c.run(&tica, reverse(alice.address())),
        Err("coupon_refunded")
    );
    assert_eq!(c.balance(&alice.address(), "LZM"), 1_000 * LZM);
    c.now += DAY_MS;
    c.run(&alice, Action::Membership(MembershipAction::CheckIn))
        .unwrap();
    // Burning MLK: supply shrinks by what burned, LZM arrives at the rate, uncapped.
    let mlk_supply = c.state.supply(&sym("MLK")).unwrap().units();
    c.run(
        &alice,
        Action::Membership(MembershipAction::BurnForLzm {
            amount: Amount::new(200_000_000),
        }),
    )
    .unwrap();
    assert_eq!(
        c.state.supply(&sym("MLK")).unwrap().units(),
        mlk_supply - 200_000_000
    );
    assert_eq!(c.balance(&alice.address(), "LZM"), 1_600 * LZM + 10 * LZM);
    // With burn rewards switched off, a burn would earn nothing: refused, nothing burned.
    let off = EarningRules {
        check_in: Amount::new(600 * LZM),
        per_1000_krw_traded: Amount::new(LZM),
        per_1000_krw_coupon: Amount::new(2 * LZM),
        per_mlk_burned: Amount::ZERO,
        daily_cap: Amount::new(1_000 * LZM),
    };
    c.run(
        &operator,
        Action::Membership(MembershipAction::SetEarningRules { rules: off }),
    )
    .unwrap();
    assert_eq!(
        c.run(
            &alice,
            Action::Membership(MembershipAction::BurnForLzm {
                amount: Amount::new(100_000_000)
            })
        ),
        Err("burn_too_small")
    );
    assert_eq!(
        c.run(
            &alice,
            Action::Membership(MembershipAction::BurnForLzm {
                amount: Amount::new(u128::MAX / 2)
            })
        ),
        Err("insufficient_balance")
    );
    // Every credit is recorded with its reason and source.
    let mut credits: Vec<(u64, &str)> = c
        .state
        .records()
        .iter()
        .filter_map(|(k, v)| milk_core::membership::decode_credit(k, v))
        .filter(|(a, _)| *a == alice.address())
        .map(|(_, credit)| (credit.time_ms, credit.reason.code()))
        .collect();
    credits.sort();
    let day0 = credits[0].0;
    assert_eq!(
        credits,
        [
            (day0, "check_in"),
            (day0, "coupon"),
            (day0 + DAY_MS, "check_in"),
            (day0 + DAY_MS, "mlk_burn"),
        ]
    );
    // LZM moves between users, but never pays for a trade.
    c.pay(&alice, &demo_key("bob").address(), "LZM", LZM)
        .unwrap();
    assert_eq!(
        c.run(
            &alice,
            Action::Exchange(ExchangeAction::Buy {
                asset: sym("SKY"),
                pay: sym("LZM"),
                size: milk_core::tx::OrderSize::Tokens(Amount::new(100)),
                max_in: Amount::new(u128::MAX),
            })
        ),
        Err("payment_not_accepted")
    );
    c.state.check_conservation().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random histories of transfers, check-ins, burns and spends from allocations, over
    /// years: the circulating supply always equals the total less locked, reserve and
    /// TICA-held amounts, and equals the sum of every other balance; no locked allocation
    /// ever shrinks before it unlocks.
    #[test]
    fn circulating_supply_is_the_total_less_its_exclusions(
        ops in proptest::collection::vec((0u8..5, 0usize..9, 1u128..1_000_000_000, 0u64..400), 1..40)
    ) {
        let mut c = Center::new(|g| {
            set_allocation(g, "lzm:user-activity", 200 * LZM);
            set_allocation(g, "lzm:mlk-burn", 100 * LZM);
        });
        let mut keys: Vec<Keypair> = ["alice", "bob", "carol"].iter().map(|u| demo_key(u)).collect();
        for label in ["alloc:initial-construction", "alloc:partner-allocation", "alloc:liquidity",
                      "lzm:team", "lzm:long-term-reserve", "alloc:long-term-operation"] {
            keys.push(demo_key(label));
        }
        for (kind, who, amount, days) in ops {
            c.now += days * DAY_MS;
            let key = keys[who].clone();
            let to = keys[(who + 1) % 3].address();
            let locked_before: Vec<(Address, Symbol, u128)> = c.g.roles.iter()
                .filter(|r| c.state.lock_in_force(&r.account, &r.asset, c.now).is_some())
                .map(|r| (r.account, r.asset, c.balance(&r.account, r.asset.as_str())))
                .collect();
            let _ = match kind {
                0 => c.pay(&key, &to, "MLK", amount),
                1 => c.pay(&key, &to, "LZM", amount),
                2 => c.run(&key, Action::Membership(MembershipAction::CheckIn)),
                3 => c.run(&key, Action::Membership(MembershipAction::BurnForLzm { amount: Amount::new(amount) })),
                _ => c.run(&key, Action::Token(TokenAction::Burn { asset: sym("MLK"), amount: Amount::new(amount) })),
            };
            for (account, asset, before) in locked_before {
                prop_assert!(c.balance(&account, asset.as_str()) >= before, "a locked allocation moved");
            }
            c.state.check_conservation().unwrap();
            for report in c.state.supply_report(c.now) {
                let excluded: std::collections::HashSet<Address> = c.g.roles.iter()
                    .filter(|r| r.asset == report.asset)
                    .filter(|r| report.buckets.iter().any(|b| b.0 == r.label))
                    .map(|r| r.account)
                    .collect();
                let others: u128 = c.state.balances()
                    .filter(|(a, s, _)| **s == report.asset && !excluded.contains(a))
                    .map(|(_, _, v)| v.units())
                    .sum();
                prop_assert_eq!(report.circulating.units(), others);
                prop_assert_eq!(
                    report.circulating.units()
                        + report.locked.units() + report.reserve.units() + report.tica_held.units(),
                    report.total.units()
                );
            }
        }
    }
}

#[test]
fn premium_offers_go_to_members_of_their_level_while_they_last() {
    let mut c = Center::new(|_| {});
    let cinema = demo_key("partner:cinema");
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let t0 = c.now;
    let publish = |id: &str, level: u8, stock: u32| {
        Action::Membership(MembershipAction::PublishOffer {
            id: id.into(),
            title: "Premiere night for two".into(),
            level,
            price: Amount::new(5 * LZM),
            stock,
            opens_ms: t0,
            closes_ms: t0 + 7 * DAY_MS,
        })
    };
    // Only an admitted partner publishes, each id once, with a sensible offer.
    assert_eq!(
        c.run(&alice, publish("PREMIERE", 1, 1)),
        Err("not_a_member")
    );
    assert_eq!(
        c.run(&cinema, publish("PREMIERE", 9, 1)),
        Err("invalid_level")
    );
    assert_eq!(
        c.run(&cinema, publish("PREMIERE", 1, 0)),
        Err("invalid_offer")
    );
    c.run(&cinema, publish("PREMIERE", 1, 1)).unwrap();
    assert_eq!(
        c.run(&cinema, publish("PREMIERE", 1, 1)),
        Err("offer_exists")
    );
    let buy = |id: &str| {
        Action::Membership(MembershipAction::BuyOffer {
            chain: "cinema".parse().unwrap(),
            id: id.into(),
        })
    };
    // Silver and up: alice (Basic) is refused until she has earned enough.
    c.run(&alice, Action::Membership(MembershipAction::CheckIn))
        .unwrap();
    assert_eq!(c.run(&alice, buy("PREMIERE")), Err("under_level"));
    assert_eq!(c.run(&alice, buy("NOPE")), Err("unknown_offer"));
    let operator = demo_key("operator");
    for who in [&alice, &bob] {
        c.run(
            &operator,
            Action::Membership(MembershipAction::SetLevelFloor {
                user: who.address(),
                level: 1,
                reason: "test".into(),
            }),
        )
        .unwrap();
    }
    let seller = cinema.address();
    let before = c.balance(&seller, "LZM");
    c.run(&alice, buy("PREMIERE")).unwrap();
    assert_eq!(c.balance(&seller, "LZM"), before + 5 * LZM);
    assert_eq!(c.balance(&alice.address(), "LZM"), 5 * LZM);
    // One in stock: bob is too late.
    c.run(&bob, Action::Membership(MembershipAction::CheckIn))
        .unwrap();
    assert_eq!(c.run(&bob, buy("PREMIERE")), Err("sold_out"));
    // A closed window refuses, however much is left.
    c.run(&cinema, publish("ENCORE", 1, 10)).unwrap();
    c.now = t0 + 7 * DAY_MS;
    assert_eq!(c.run(&bob, buy("ENCORE")), Err("offer_closed"));
    c.state.check_conservation().unwrap();
    let mut restored = c.g.empty_state(c.g.center());
    restored.restore(c.state.records()).unwrap();
    assert_eq!(restored.records(), c.state.records());
}

/// A partner reports coupon payments, and their refunds, on its own chain, once each; each
/// report gets the seal TICA's credit on the center chain names.
#[test]
fn a_partner_reports_coupon_payments_on_its_own_chain() {
    let mut c = Center::brand("cinema");
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let cinema = demo_key("partner:cinema");
    let report = |id: &str| {
        Action::Brand(BrandAction::ReportCoupon {
            user: alice.address(),
            krw: 50_000,
            coupon_id: id.into(),
        })
    };
    let refund = |user: Address, id: &str| {
        Action::Brand(BrandAction::RefundCoupon {
            user,
            coupon_id: id.into(),
        })
    };
    assert_eq!(c.run(&alice, report("C-1")), Err("not_issuer"));
    c.run(&cinema, report("C-1")).unwrap();
    let chain: ChainId = "cinema".parse().unwrap();
    let sealed = milk_core::brand::coupon::coupon_seal(&chain, &c.last_tx.unwrap());
    let reports = |c: &Center| c.state.brand().unwrap().coupons().clone();
    let first = *reports(&c).report("C-1").unwrap();
    assert_eq!(
        (first.user, first.krw, first.seal, first.refunded),
        (alice.address(), 50_000, sealed, false)
    );
    assert_eq!(c.run(&cinema, report("C-1")), Err("coupon_used"));
    assert_eq!(
        c.run(&cinema, refund(bob.address(), "C-1")),
        Err("coupon_unknown")
    );
    assert_eq!(
        c.run(&cinema, refund(alice.address(), "C-2")),
        Err("coupon_unknown")
    );
    c.run(&cinema, refund(alice.address(), "C-1")).unwrap();
    assert!(reports(&c).report("C-1").unwrap().refunded);
    assert_eq!(
        c.run(&cinema, refund(alice.address(), "C-1")),
        Err("coupon_refunded")
    );
    // The center chain takes no report from a partner: TICA credits it there, by its seal.
    let mut center = Center::new(|_| {});
    assert_eq!(center.run(&cinema, report("C-1")), Err("not_brand_chain"));
    let spec = c.g.chain(&chain).unwrap().clone();
    let mut restored = c.g.empty_state(&spec);
    restored.restore(c.state.records()).unwrap();
    assert_eq!(restored.records(), c.state.records());
}

#[test]
fn data_sharing_needs_a_consent_on_the_partners_chain_and_every_read_is_logged() {
    let mut c = Center::brand("cinema");
    let alice = demo_key("alice");
    let operator = demo_key("operator");
    let cinema: ChainId = "cinema".parse().unwrap();
    let grant = |chain: &str, items: &[&str]| {
        Action::Brand(BrandAction::GrantConsent {
            chain: chain.parse().unwrap(),
            purpose: "VIP screening invitations".into(),
            items: items.iter().map(|s| s.to_string()).collect(),
            retention_days: 30,
        })
    };
    let log = |users: Vec<Address>| {
        Action::Brand(BrandAction::LogAccess {
            chain: "cinema".parse().unwrap(),
            users,
        })
    };
    // Nothing is read without a consent.
    assert_eq!(
        c.run(&operator, log(vec![alice.address()])),
        Err("no_consent")
    );
    // A consent to another partner belongs on that partner's chain; the center chain keeps
    // none.
    assert_eq!(
        c.run(&alice, grant("skyway", &["level"])),
        Err("invalid_consent")
    );
    let mut center = Center::new(|_| {});
    assert_eq!(
        center.run(&alice, grant("cinema", &["level"])),
        Err("not_brand_chain")
    );
    assert_eq!(
        c.run(&alice, grant("cinema", &["phone number"])),
        Err("invalid_consent")
    );
    assert_eq!(c.run(&alice, grant("cinema", &[])), Err("invalid_consent"));
    c.run(&alice, grant("cinema", &["level", "activity"]))
        .unwrap();
    let sharing = |c: &Center| c.state.brand().unwrap().sharing().clone();
    let consent = sharing(&c).consent(&alice.address()).unwrap().clone();
    assert!(consent.active());
    assert_eq!(consent.retention_days, 30);
    // Reads are logged by TICA's node only, per member.
    assert_eq!(
        c.run(&alice, log(vec![alice.address()])),
        Err("not_operator")
    );
    c.run(&operator, log(vec![alice.address()])).unwrap();
    let logged = |c: &Center| {
        let prefix = milk_core::brand::consent::accesses_prefix(&alice.address());
        let records = c.state.records();
        records
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .count()
    };
    assert_eq!(logged(&c), 1);
    // Withdrawn, it reads nothing more; withdrawing twice is refused.
    let withdraw = || {
        Action::Brand(BrandAction::WithdrawConsent {
            chain: "cinema".parse().unwrap(),
        })
    };
    c.run(&alice, withdraw()).unwrap();
    assert_eq!(c.run(&alice, withdraw()), Err("no_consent"));
    assert_eq!(
        c.run(&operator, log(vec![alice.address()])),
        Err("no_consent")
    );
    assert_eq!(logged(&c), 1);
    // Partners see members under per-partner pseudonyms.
    assert_ne!(
        milk_core::membership::member_pseudonym(&cinema, &alice.address()),
        milk_core::membership::member_pseudonym(&"skyway".parse().unwrap(), &alice.address())
    );
    let spec = c.g.chain(&cinema).unwrap().clone();
    let mut restored = c.g.empty_state(&spec);
    restored.restore(c.state.records()).unwrap();
    assert_eq!(restored.records(), c.state.records());
}

#[test]
fn the_pack_pays_whole_weeks_pro_rata_and_leaving_forfeits_the_week() {
    let mut c = Center::new(|_| {});
    let (alice, bob, carol) = (demo_key("alice"), demo_key("bob"), demo_key("carol"));
    let operator = demo_key("operator");
    const WEEK: u64 = 7 * DAY_MS;
    const MLK: u128 = 100_000_000;
    let join = |n: u128| {
        Action::Membership(MembershipAction::JoinPack {
            amount: Amount::new(n * MLK),
        })
    };
    assert!(matches!(c.run(&alice, join(1)), Err("pack_refused")));
    let start = c.now + DAY_MS;
    let season = Action::Membership(MembershipAction::OpenPackSeason {
        season: 1,
        starts_ms: start,
        weeks: 4,
        weekly_reward: Amount::new(1_000 * MLK),
        lzm_per_week: Amount::new(20 * LZM),
    });
    assert_eq!(c.run(&alice, season.clone()), Err("not_operator"));
    // A season past the end of time is refused (found by the `actions` fuzz target: its
    // weeks' starts overflowed), as is one longer than ten years or opened over a year ahead.
    let unbounded = |starts_ms, weeks| {
        Action::Membership(MembershipAction::OpenPackSeason {
            season: 1,
            starts_ms,
            weeks,
            weekly_reward: Amount::new(MLK),
            lzm_per_week: Amount::new(LZM),
        })
    };
    assert_eq!(
        c.run(&operator, unbounded(u64::MAX, 2)),
        Err("pack_refused")
    );
    assert_eq!(
        c.run(&operator, unbounded(start, u32::MAX)),
        Err("pack_refused")
    );
    assert_eq!(c.run(&operator, unbounded(start, 521)), Err("pack_refused"));
    let later = c.now + 367 * DAY_MS;
    assert_eq!(c.run(&operator, unbounded(later, 4)), Err("pack_refused"));
    c.run(&operator, season.clone()).unwrap();
    assert_eq!(c.run(&operator, season), Err("pack_refused"));
    // Alice commits 300 MLK and bob 100 before week 0; carol joins during it.
    c.run(&alice, join(300)).unwrap();
    c.run(&bob, join(100)).unwrap();
    let (a0, b0) = (
        c.balance(&alice.address(), "MLK"),
        c.balance(&bob.address(), "MLK"),
    );
    c.now = start + DAY_MS;
    c.run(&carol, join(100)).unwrap();
    let pay = |week: u32| Action::Membership(MembershipAction::PayPackWeek { week });
    assert_eq!(c.run(&operator, pay(0)), Err("pack_refused"));
    c.now = start + WEEK;
    c.run(&operator, pay(0)).unwrap();
    assert_eq!(c.run(&operator, pay(0)), Err("trade_closed"));
    // 1,000 MLK: 3/4 to alice, 1/4 to bob, nothing to carol (not in for the whole week).
    assert_eq!(c.balance(&alice.address(), "MLK"), a0 + 750 * MLK);
    assert_eq!(c.balance(&bob.address(), "MLK"), b0 + 250 * MLK);
    assert_eq!(c.balance(&alice.address(), "LZM"), 20 * LZM);
    assert_eq!(c.balance(&carol.address(), "LZM"), 0);
    // Bob leaves during week 1: his MLK comes back, and week 1 pays alice and carol only.
    c.now = start + WEEK + DAY_MS;
    c.run(&bob, Action::Membership(MembershipAction::LeavePack))
        .unwrap();
    assert_eq!(c.balance(&bob.address(), "MLK"), b0 + 250 * MLK + 100 * MLK);
    assert!(matches!(
        c.run(&bob, Action::Membership(MembershipAction::LeavePack)),
        Err("pack_refused")
    ));
    c.now = start + 2 * WEEK;
    let a1 = c.balance(&alice.address(), "MLK");
    let c1 = c.balance(&carol.address(), "MLK");
    c.run(&operator, pay(1)).unwrap();
    assert_eq!(c.balance(&alice.address(), "MLK"), a1 + 750 * MLK);
    assert_eq!(c.balance(&carol.address(), "MLK"), c1 + 250 * MLK);
    assert_eq!(c.balance(&bob.address(), "LZM"), 20 * LZM);
    // After the last week nobody joins.
    c.now = start + 4 * WEEK;
    assert!(matches!(c.run(&bob, join(1)), Err("pack_refused")));
    c.state.check_conservation().unwrap();
    let mut restored = c.g.empty_state(c.g.center());
    restored.restore(c.state.records()).unwrap();
    assert_eq!(restored.records(), c.state.records());
}

#[test]
fn in_phase_two_a_new_partner_stakes_mlk_locked_until_it_leaves() {
    let mut c = Center::new(|_| {});
    let operator = demo_key("operator");
    let applicant = Keypair::from_label("phase-two-co");
    let stake = 1_000 * 100_000_000u128;
    let apply = || {
        Action::Alliance(AllianceAction::Apply {
            application: milk_core::alliance::Application {
                chain: "bakery".parse().unwrap(),
                name: "Morning Bakery".into(),
                sector: "bakeries".into(),
                symbol: sym("BUN"),
                decimals: 2,
                policy: c_policy(),
                initial_float: Amount::new(1_000_000),
            },
        })
    };
    assert_eq!(
        c.run(
            &demo_key("alice"),
            Action::Tokenomics(TokenomicsAction::StartPhase2 {
                stake: Amount::new(stake)
            })
        ),
        Err("not_operator")
    );
    c.run(
        &operator,
        Action::Tokenomics(TokenomicsAction::StartPhase2 {
            stake: Amount::new(stake),
        }),
    )
    .unwrap();
    assert_eq!(
        c.run(
            &operator,
            Action::Tokenomics(TokenomicsAction::StartPhase2 {
                stake: Amount::new(1)
            })
        ),
        Err("phase2_started")
    );
    // Without the stake the application is refused, and nothing is recorded.
    assert_eq!(c.run(&applicant, apply()), Err("insufficient_balance"));
    c.pay(&demo_key("alice"), &applicant.address(), "MLK", stake)
        .unwrap();
    c.run(&applicant, apply()).unwrap();
    assert_eq!(c.balance(&applicant.address(), "MLK"), 0);
    assert_eq!(c.balance(&milk_core::tokenomics::STAKES, "MLK"), stake);
    // The stake is not circulating: it counts as locked.
    let mlk = c
        .state
        .supply_report(c.now)
        .into_iter()
        .find(|r| r.asset == sym("MLK"))
        .unwrap();
    assert!(
        mlk.buckets
            .iter()
            .any(|b| b.0 == "partner-stakes" && b.2.units() == stake)
    );
    c.state.check_conservation().unwrap();
    let mut restored = c.g.empty_state(c.g.center());
    restored.restore(c.state.records()).unwrap();
    assert_eq!(restored.records(), c.state.records());
    stake_comes_back_when_it_leaves(&mut c, &applicant, stake);
}

/// The bakery is admitted, leaves, and has its stake back once its exit is finished.
fn stake_comes_back_when_it_leaves(c: &mut Center, applicant: &Keypair, stake: u128) {
    let bakery: ChainId = "bakery".parse().unwrap();
    let alliance = |chain: &ChainId| AllianceAction::Approve {
        chain: chain.clone(),
    };
    for p in ["skyway", "cinema", "dailymart"] {
        let approve = Action::Alliance(alliance(&bakery));
        c.run(&demo_key(&format!("partner:{p}")), approve).unwrap();
    }
    let sign = AllianceAction::SignAgreement {
        chain: bakery.clone(),
    };
    c.run(&demo_key("operator"), Action::Alliance(sign))
        .unwrap();
    let final_ms = c.now + milk_core::genesis::DEMO_EXIT_NOTICE_MS;
    let exit = AllianceAction::StartExit {
        chain: bakery.clone(),
        final_ms,
    };
    // TICA may start it too, for cause.
    c.run(&demo_key("operator"), Action::Alliance(exit))
        .unwrap();
    let member = c.state.alliance().unwrap().member(&bakery).unwrap().clone();
    assert!(member.exit.unwrap().for_cause);
    c.now = final_ms;
    let finish = AllianceAction::FinishExit { chain: bakery };
    c.run(&demo_key("operator"), Action::Alliance(finish))
        .unwrap();
    assert_eq!(c.balance(&applicant.address(), "MLK"), stake);
    assert_eq!(c.balance(&milk_core::tokenomics::STAKES, "MLK"), 0);
    c.state.check_conservation().unwrap();
}

fn c_policy() -> milk_core::brand::BrandPolicy {
    Genesis::demo().chains[1]
        .partner
        .as_ref()
        .unwrap()
        .policy
        .clone()
}

#[test]
fn partner_allocations_unlock_three_years_after_the_later_of_join_and_listing() {
    let mut c = Center::new(|_| {});
    let operator = demo_key("operator");
    let cinema_key = demo_key("partner:cinema");
    let share = 1_000_000 * 100_000_000u128;
    let allocate = |chain: &str| {
        Action::Tokenomics(TokenomicsAction::AllocatePartner {
            chain: chain.parse().unwrap(),
            amount: Amount::new(share),
        })
    };
    let claim = |chain: &str| {
        Action::Tokenomics(TokenomicsAction::ClaimAllocation {
            chain: chain.parse().unwrap(),
        })
    };
    assert_eq!(c.run(&cinema_key, allocate("cinema")), Err("not_operator"));
    c.run(&operator, allocate("cinema")).unwrap();
    assert_eq!(c.run(&operator, allocate("cinema")), Err("trade_closed"));
    // A genesis partner joined at listing: locked until listing + 3 years, to the ms.
    c.now = DEMO_GENESIS_TIME_MS + 3 * YEAR_MS - 1;
    assert_eq!(
        c.run(&cinema_key, claim("cinema")),
        Err("allocation_locked")
    );
    assert_eq!(
        c.run(&demo_key("alice"), claim("cinema")),
        Err("not_issuer")
    );
    // Meanwhile it is locked supply.
    let locked = |c: &Center| {
        c.state
            .supply_report(c.now)
            .into_iter()
            .find(|r| r.asset == sym("MLK"))
            .unwrap()
            .buckets
            .iter()
            .any(|b| b.0 == "partner-allocation:cinema")
    };
    assert!(locked(&c));
    c.now += 1;
    let before = c.balance(&cinema_key.address(), "MLK");
    c.run(&cinema_key, claim("cinema")).unwrap();
    assert_eq!(c.balance(&cinema_key.address(), "MLK"), before + share);
    assert_eq!(c.run(&cinema_key, claim("cinema")), Err("trade_closed"));
    assert!(!locked(&c));

    // A partner admitted a year after listing: locked until its join date + 3 years.
    let newco = Keypair::from_label("late-partner");
    c.now = DEMO_GENESIS_TIME_MS + YEAR_MS;
    let application = milk_core::alliance::Application {
        chain: "bakery".parse().unwrap(),
        name: "Morning Bakery".into(),
        sector: "bakeries".into(),
        symbol: sym("BUN"),
        decimals: 2,
        policy: c_policy(),
        initial_float: Amount::new(1_000_000),
    };
    c.run(
        &newco,
        Action::Alliance(AllianceAction::Apply { application }),
    )
    .unwrap();
    for p in ["skyway", "cinema", "dailymart"] {
        c.run(
            &demo_key(&format!("partner:{p}")),
            Action::Alliance(AllianceAction::Approve {
                chain: "bakery".parse().unwrap(),
            }),
        )
        .unwrap();
    }
    c.run(
        &operator,
        Action::Alliance(AllianceAction::SignAgreement {
            chain: "bakery".parse().unwrap(),
        }),
    )
    .unwrap();
    let joined = c.now;
    c.run(&operator, allocate("bakery")).unwrap();
    c.now = joined + 3 * YEAR_MS - 1;
    assert_eq!(c.run(&newco, claim("bakery")), Err("allocation_locked"));
    c.now += 1;
    c.run(&newco, claim("bakery")).unwrap();
    c.state.check_conservation().unwrap();
}

/// A coupon payment credited and, later, its refund: the LZM it earned is taken back, once,
/// with its own reason; the level forgets it; a member who already sent it on owes the rest,
/// settled from their next credits before any of them counts.
#[test]
fn a_refunded_coupon_takes_its_lzm_back_once_and_what_was_spent_is_owed() {
    let mut c = Center::new(|_| {});
    let cinema = demo_key("operator");
    let member = Keypair::from_label("coupon-refund-member");
    let m = member.address();
    let bob = demo_key("bob").address();
    let report = |id: &str| {
        Action::Membership(MembershipAction::CreditCoupon {
            user: m,
            krw: 300_000,
            seal: seal(id),
        })
    };
    let refund = |user: Address, id: &str| {
        Action::Membership(MembershipAction::ReverseCoupon {
            user,
            seal: seal(id),
        })
    };
    c.run(&cinema, report("C-1")).unwrap();
    assert_eq!(c.balance(&m, "LZM"), 600 * LZM);
    assert_eq!(c.level(&member).name, "Silver");
    assert_eq!(c.run(&cinema, refund(bob, "C-1")), Err("coupon_unknown"));
    assert_eq!(c.run(&cinema, refund(m, "C-9")), Err("coupon_unknown"));
    assert_eq!(
        c.run(&demo_key("alice"), refund(m, "C-1")),
        Err("not_operator")
    );
    c.run(&cinema, refund(m, "C-1")).unwrap();
    assert_eq!(c.balance(&m, "LZM"), 0);
    assert_eq!(c.level(&member).earned_in_window.units(), 0);
    assert_eq!(c.level(&member).name, "Basic");
    assert_eq!(c.run(&cinema, refund(m, "C-1")), Err("coupon_refunded"));
    let mut reasons: Vec<(&str, u128)> = (c.state.membership().unwrap().credits_of(&m))
        .map(|cr| (cr.reason.code(), cr.amount.units()))
        .collect();
    reasons.sort();
    assert_eq!(reasons, [("coupon", 600 * LZM), ("reversal", 600 * LZM)]);

    // Credited again, then 500 of the 600 sent to bob before the refund: 100 comes back and
    // 500 is owed.
    c.now += DAY_MS;
    c.run(&cinema, report("C-2")).unwrap();
    c.pay(&member, &bob, "LZM", 500 * LZM).unwrap();
    c.run(&cinema, refund(m, "C-2")).unwrap();
    let membership = c.state.membership().unwrap();
    assert_eq!(c.balance(&m, "LZM"), 0);
    assert_eq!(membership.debt_of(&m), 500 * LZM);
    assert_eq!(c.level(&member).earned_in_window.units(), 0);
    // The next credits settle the debt before any counts: a check-in pays nothing, then a
    // coupon of 600 pays 110.
    c.now += DAY_MS;
    c.run(&member, Action::Membership(MembershipAction::CheckIn))
        .unwrap();
    assert_eq!(c.balance(&m, "LZM"), 0);
    assert_eq!(c.state.membership().unwrap().debt_of(&m), 490 * LZM);
    c.run(&cinema, report("C-3")).unwrap();
    assert_eq!(c.balance(&m, "LZM"), 110 * LZM);
    assert_eq!(c.state.membership().unwrap().debt_of(&m), 0);
    assert_eq!(c.level(&member).earned_in_window.units(), 110 * LZM);
    // All of it sent on, then refunded: nothing comes back, all 600 is owed, and the
    // refund is in the member's history all the same.
    c.pay(&member, &bob, "LZM", 110 * LZM).unwrap();
    c.run(&cinema, refund(m, "C-3")).unwrap();
    assert!(c.concerned.contains(&m), "{:?}", c.concerned);
    assert_eq!(c.state.membership().unwrap().debt_of(&m), 600 * LZM);
    assert_eq!(c.level(&member).earned_in_window.units(), 0);
    c.state.check_conservation().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Over any history of coupon reports, check-ins, LZM sent between members and refunds,
    /// no member's level counts LZM whose source was refunded, and LZM is conserved.
    #[test]
    fn levels_never_count_refunded_lzm(ops in proptest::collection::vec((0u8..5, 0usize..3, 1u64..400), 1..40)) {
        let mut c = Center::new(|_| {});
        let cinema = demo_key("operator");
        let members: Vec<Keypair> = (0..3).map(|i| Keypair::from_label(&format!("refund-prop-{i}"))).collect();
        let mut reported: Vec<(usize, String)> = Vec::new();
        for (n, (op, who, x)) in ops.into_iter().enumerate() {
            let m = members[who].address();
            match op {
                0 => {
                    let id = format!("P-{n}");
                    let report = MembershipAction::CreditCoupon { user: m, krw: x * 1_000, seal: seal(&id) };
                    if c.run(&cinema, Action::Membership(report)).is_ok() {
                        reported.push((who, id));
                    }
                }
                1 if !reported.is_empty() => {
                    let (owner, id) = reported[x as usize % reported.len()].clone();
                    let user = members[owner].address();
                    let _ = c.run(&cinema, Action::Membership(MembershipAction::ReverseCoupon { user, seal: seal(&id) }));
                }
                2 => {
                    let to = members[(who + 1) % 3].address();
                    let _ = c.pay(&members[who], &to, "LZM", u128::from(x) * LZM / 10);
                }
                3 => {
                    let _ = c.run(&members[who], Action::Membership(MembershipAction::CheckIn));
                }
                _ => c.now += DAY_MS / 2,
            }
            c.state.check_conservation().unwrap();
            let membership = c.state.membership().unwrap();
            for k in &members {
                let credits: Vec<_> = membership.credits_of(&k.address()).collect();
                let earned: u128 = credits.iter().filter(|cr| cr.reason.code() != "reversal").map(|cr| cr.amount.units()).sum();
                let reversed: u128 = credits.iter().filter(|cr| cr.reason.code() == "reversal").map(|cr| cr.amount.units()).sum();
                let counted = c.level(k).earned_in_window.units();
                prop_assert!(counted <= earned - reversed, "counts {counted} of {earned} earned, {reversed} reversed");
            }
        }
    }
}

/// Found by the `actions` fuzz target: TICA's membership policy sent to a brand chain
/// (which runs no membership) used to pass its rule and then panic while writing, which
/// would stop the chain's writer. Now each is refused there with nothing changed.
#[test]
fn membership_policy_on_a_brand_chain_is_refused_not_a_crash() {
    let mut c = Center::brand("cinema");
    let operator = demo_key("operator");
    let rules = EarningRules {
        check_in: Amount::new(LZM),
        per_1000_krw_traded: Amount::new(LZM),
        per_1000_krw_coupon: Amount::new(LZM),
        per_mlk_burned: Amount::new(LZM),
        daily_cap: Amount::new(10 * LZM),
    };
    let set_rules = Action::Membership(MembershipAction::SetEarningRules { rules });
    assert_eq!(c.run(&operator, set_rules), Err("not_on_this_chain"));
    let floor = Action::Membership(MembershipAction::SetLevelFloor {
        user: demo_key("alice").address(),
        level: 1,
        reason: "test".into(),
    });
    let refused = c.run(&operator, floor).unwrap_err();
    assert!(
        ["not_on_this_chain", "no_membership"].contains(&refused),
        "{refused}"
    );
    c.state.check_conservation().unwrap();
}
