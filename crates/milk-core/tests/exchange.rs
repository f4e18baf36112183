//! The exchange's rules across two chains (the center chain and a brand chain of the demo
//! network): pricing with MLK's oracle price, escrow on both sides, each bad order refused
//! with its code and nothing moved, and, over random histories with steps cut short,
//! conservation on both chains and every trade ending with both legs or neither.

use milk_core::exchange::{ESCROW, TradeStatus};
use milk_core::exchange::{EscrowStatus, driver};
use milk_core::genesis::{Genesis, demo_key};
use milk_core::state::ChainState;
use milk_core::tx::{Action, OrderSize, SignedTransaction, Transaction, TxId};
use milk_core::tx::{AllianceAction, BrandAction, ExchangeAction, TokenAction, TokenomicsAction};
use milk_core::{Address, Amount, ChainId, Keypair, Symbol};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// KRW 1,000 per MLK.
const MLK_KRW_E4: u64 = 10_000_000;

fn sym(s: &str) -> Symbol {
    s.parse().unwrap()
}

/// The demo network's center chain and cinema chain, applied to directly.
struct Net {
    g: Genesis,
    center: ChainState,
    brand: ChainState,
    now: u64,
    seqs: BTreeMap<(String, Address), u64>,
}

impl Net {
    fn new() -> Net {
        Net::with(|_| {})
    }

    /// The demo network, changed by `change` first.
    fn with(change: impl FnOnce(&mut Genesis)) -> Net {
        let mut g = Genesis::demo();
        change(&mut g);
        let (_, center) = g.genesis_block(g.center()).unwrap();
        let cinema = g.chain(&"cinema".parse().unwrap()).unwrap().clone();
        let (_, brand) = g.genesis_block(&cinema).unwrap();
        let now = g.genesis_time_ms + 1_000;
        let mut net = Net {
            g,
            center,
            brand,
            now,
            seqs: BTreeMap::new(),
        };
        net.oracle(MLK_KRW_E4).unwrap();
        net
    }

    fn sign(&mut self, chain: &str, key: &Keypair, action: Action) -> SignedTransaction {
        let seq = self
            .seqs
            .entry((chain.to_owned(), key.address()))
            .or_default();
        let tx = Transaction {
            chain: chain.parse().unwrap(),
            sender: key.address(),
            sequence: *seq,
            expires_at_ms: self.now + 60_000,
            action,
        };
        tx.sign(key)
    }

    /// Verifies a signed transaction (its own signature and those it embeds), then applies
    /// it to its chain; on refusal nothing may have changed.
    fn apply(&mut self, tx: &SignedTransaction) -> Result<(), &'static str> {
        if let Err((_, e)) = tx.clone().verify() {
            return Err(e.code());
        }
        let state = if tx.tx.chain == ChainId::center() {
            &mut self.center
        } else {
            &mut self.brand
        };
        let result = state.apply(&tx.tx, self.now);
        let delta = state.take_delta();
        match result {
            Ok(()) => {
                *self
                    .seqs
                    .entry((tx.tx.chain.to_string(), tx.tx.sender))
                    .or_default() += 1;
                Ok(())
            }
            Err(e) => {
                assert_eq!(delta, Default::default(), "{} changed state", e.code());
                Err(e.code())
            }
        }
    }

    fn run(&mut self, chain: &str, key: &Keypair, action: Action) -> Result<TxId, &'static str> {
        let tx = self.sign(chain, key, action);
        self.apply(&tx).map(|()| tx.tx.id())
    }

    fn oracle(&mut self, krw_e4: u64) -> Result<TxId, &'static str> {
        let now = self.now;
        self.run(
            "center",
            &demo_key("operator"),
            Action::Exchange(ExchangeAction::OraclePrice {
                krw_e4,
                observed_at_ms: now,
            }),
        )
    }

    fn mlk(&self, who: &Address) -> u128 {
        self.center.balance(who, &sym("MLK")).units()
    }

    fn cine(&self, who: &Address) -> u128 {
        self.brand.balance(who, &sym("CINE")).units()
    }

    fn position(&self) -> u128 {
        self.market().curve.position
    }

    fn market(&self) -> milk_core::exchange::Market {
        self.center
            .exchange()
            .unwrap()
            .market(&sym("CINE"))
            .unwrap()
            .market
    }

    fn buy(&mut self, user: &Keypair, size: OrderSize, max_in: u128) -> Result<TxId, &'static str> {
        self.run(
            "center",
            user,
            Action::Exchange(ExchangeAction::Buy {
                asset: sym("CINE"),
                pay: sym("MLK"),
                size,
                max_in: Amount::new(max_in),
            }),
        )
    }

    fn sell(
        &mut self,
        user: &Keypair,
        amount: u128,
        min_out: u128,
    ) -> Result<SignedTransaction, &'static str> {
        let tx = self.sign(
            "cinema",
            user,
            Action::Exchange(ExchangeAction::Sell {
                amount: Amount::new(amount),
                min_out: Amount::new(min_out),
            }),
        );
        self.apply(&tx).map(|()| tx)
    }

    fn operator(&mut self, chain: &str, action: Action) -> Result<TxId, &'static str> {
        self.run(chain, &demo_key("operator"), action)
    }

    /// TICA's batch of settlement steps on `chain`; its transaction id.
    fn settle_batch(
        &mut self,
        chain: &str,
        steps: Vec<ExchangeAction>,
    ) -> Result<TxId, &'static str> {
        self.operator(
            chain,
            Action::Exchange(ExchangeAction::SettleBatch { steps }),
        )
    }

    fn conserved(&self) {
        self.center.check_conservation().unwrap();
        self.brand.check_conservation().unwrap();
    }
}

#[test]
fn a_sale_and_a_purchase_settle_across_both_chains() {
    let mut net = Net::new();
    let alice = demo_key("alice");
    let (liquidity, fees) = {
        let c = net.g.exchange.as_ref().unwrap();
        (c.liquidity, c.fees)
    };
    let inventory = net.g.tica_inventory;
    let (mlk0, cine0, reserve0, inv0) = (
        net.mlk(&alice.address()),
        net.cine(&alice.address()),
        net.mlk(&liquidity),
        net.cine(&inventory),
    );

    // Alice sells 100.00 CINE: locked on the cinema chain, paid on the center chain,
    // released to TICA's inventory.
    let order = net.sell(&alice, 10_000, 1).unwrap();
    let id = order.tx.id();
    assert_eq!(net.cine(&ESCROW), 10_000);
    assert_eq!(net.cine(&alice.address()), cine0 - 10_000);
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::SettleSell {
            order: Box::new(order.clone()),
        }),
    )
    .unwrap();
    let trade = net.center.exchange().unwrap().trade(&id).unwrap().clone();
    assert_eq!(trade.status, TradeStatus::Filled);
    // 100 tokens at about 8.75 KRW is 875 KRW: 0.875 MLK, less 1.5 %.
    assert_eq!(trade.gross, 87_499_625);
    assert_eq!(trade.fee, 1_312_495);
    // Plus her reward for trading: 0.1 % of the value, from the user-distribution bucket.
    assert_eq!(
        net.mlk(&alice.address()),
        mlk0 + trade.total + trade.gross / 1_000
    );
    assert_eq!(net.mlk(&fees), trade.fee);
    assert_eq!(net.mlk(&liquidity), reserve0 - trade.gross);
    // Settling twice, or releasing twice, does nothing more.
    assert_eq!(
        net.operator(
            "center",
            Action::Exchange(ExchangeAction::SettleSell {
                order: Box::new(order)
            })
        ),
        Err("trade_closed")
    );
    net.operator(
        "cinema",
        Action::Exchange(ExchangeAction::ReleaseSell {
            trade: id,
            filled: true,
        }),
    )
    .unwrap();
    assert_eq!(
        net.operator(
            "cinema",
            Action::Exchange(ExchangeAction::ReleaseSell {
                trade: id,
                filled: true
            })
        ),
        Err("trade_closed")
    );
    assert_eq!(net.cine(&ESCROW), 0);
    assert_eq!(net.cine(&inventory), inv0 + 10_000);
    assert_eq!(net.position(), 100_010_000);

    // She buys 50.00 CINE back: MLK locked in escrow, tokens delivered, escrow paid out.
    let before = net.mlk(&alice.address());
    let buy = net
        .buy(&alice, OrderSize::Tokens(Amount::new(5_000)), u128::MAX)
        .unwrap();
    let t = net.center.exchange().unwrap().trade(&buy).unwrap().clone();
    assert_eq!(t.status, TradeStatus::Pending);
    assert_eq!(net.mlk(&ESCROW), t.total);
    assert_eq!(net.mlk(&alice.address()), before - t.total);
    net.operator(
        "cinema",
        Action::Exchange(ExchangeAction::DeliverBuy {
            trade: buy,
            to: alice.address(),
            amount: Amount::new(5_000),
        }),
    )
    .unwrap();
    assert_eq!(
        net.operator(
            "cinema",
            Action::Exchange(ExchangeAction::DeliverBuy {
                trade: buy,
                to: alice.address(),
                amount: Amount::new(5_000)
            }),
        ),
        Err("trade_closed")
    );
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::CompleteBuy {
            trade: buy,
            delivered: true,
        }),
    )
    .unwrap();
    assert_eq!(
        net.operator(
            "center",
            Action::Exchange(ExchangeAction::CompleteBuy {
                trade: buy,
                delivered: true
            })
        ),
        Err("trade_closed")
    );
    assert_eq!(net.mlk(&ESCROW), 0);
    assert_eq!(net.mlk(&fees), trade.fee + t.fee);
    assert_eq!(net.cine(&alice.address()), cine0 - 10_000 + 5_000);
    // The round trip cost her: what she got for 100 is less than 2 × what 50 cost.
    assert!(trade.total < 2 * t.total);
    net.conserved();
    // The price points for charts: two filled trades.
    let ticks = net
        .center
        .records()
        .into_iter()
        .filter(|(k, _)| k.starts_with(&milk_core::exchange::record::ticks(&sym("CINE"))))
        .count();
    assert_eq!(ticks, 2);

    // An MLK-sized buy spends at most its budget.
    let budget = 100_000_000; // 1 MLK
    let b = net
        .buy(&alice, OrderSize::Mlk(Amount::new(budget)), budget)
        .unwrap();
    let t = net.center.exchange().unwrap().trade(&b).unwrap();
    assert!(t.total <= budget && t.tokens > 0, "{t:?}");
}

#[test]
fn a_release_that_contradicts_the_center_chain_is_caught_by_the_cross_check() {
    let mut net = Net::new();
    let bob = demo_key("bob");
    // A sale the center refused, but whose escrow goes to TICA's inventory all the same:
    // the brand chain takes TICA's word, the cross-check does not.
    let order = net.sell(&bob, 10_000, u128::MAX).unwrap();
    let id = order.tx.id();
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::SettleSell {
            order: Box::new(order),
        }),
    )
    .unwrap();
    let cinema: ChainId = "cinema".parse().unwrap();
    assert!(milk_core::exchange::audit::cross_check(&net.center, &cinema, &net.brand).is_empty());
    net.operator(
        "cinema",
        Action::Exchange(ExchangeAction::ReleaseSell {
            trade: id,
            filled: true,
        }),
    )
    .unwrap();
    let problems = milk_core::exchange::audit::cross_check(&net.center, &cinema, &net.brand);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains(&id.to_hex()), "{problems:?}");
    // And a delivery for a buy the center never recorded.
    let mut net = Net::new();
    net.operator(
        "cinema",
        Action::Exchange(ExchangeAction::DeliverBuy {
            trade: TxId::ZERO,
            to: bob.address(),
            amount: Amount::new(5),
        }),
    )
    .unwrap();
    let problems = milk_core::exchange::audit::cross_check(&net.center, &cinema, &net.brand);
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn failures_after_a_lock_give_everything_back() {
    let mut net = Net::new();
    let bob = demo_key("bob");
    let (mlk0, cine0) = (net.mlk(&bob.address()), net.cine(&bob.address()));
    let position = net.position();

    // A sale the center refuses (limit missed) is recorded, and the tokens go back.
    let order = net.sell(&bob, 10_000, u128::MAX).unwrap();
    let id = order.tx.id();
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::SettleSell {
            order: Box::new(order),
        }),
    )
    .unwrap();
    assert_eq!(
        net.center.exchange().unwrap().trade(&id).unwrap().status,
        TradeStatus::Refused("limit_missed".into())
    );
    net.operator(
        "cinema",
        Action::Exchange(ExchangeAction::ReleaseSell {
            trade: id,
            filled: false,
        }),
    )
    .unwrap();
    assert_eq!(net.cine(&bob.address()), cine0);
    assert_eq!(
        net.brand.desk().unwrap().escrow(&id).unwrap().status,
        EscrowStatus::Returned
    );

    // A buy TICA cannot deliver (the operator's call after the brand chain refused) is
    // refunded, and the price goes back where it was.
    let buy = net
        .buy(&bob, OrderSize::Tokens(Amount::new(5_000)), u128::MAX)
        .unwrap();
    assert!(net.position() < position);
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::CompleteBuy {
            trade: buy,
            delivered: false,
        }),
    )
    .unwrap();
    assert_eq!(net.mlk(&bob.address()), mlk0);
    assert_eq!(net.position(), position);
    assert_eq!(
        net.center.exchange().unwrap().trade(&buy).unwrap().status,
        TradeStatus::Refunded
    );
    net.conserved();
}

#[test]
fn every_bad_order_is_refused_with_its_code_and_moves_nothing() {
    let mut net = Net::new();
    let alice = demo_key("alice");
    let tokens = |n: u128| OrderSize::Tokens(Amount::new(n));

    // LZM never pays; an unknown market; zero.
    assert_eq!(
        net.run(
            "center",
            &alice,
            Action::Exchange(ExchangeAction::Buy {
                asset: sym("CINE"),
                pay: sym("LZM"),
                size: tokens(100),
                max_in: Amount::new(u128::MAX)
            })
        ),
        Err("payment_not_accepted")
    );
    assert_eq!(
        net.run(
            "center",
            &alice,
            Action::Exchange(ExchangeAction::Buy {
                asset: sym("NOPE"),
                pay: sym("MLK"),
                size: tokens(100),
                max_in: Amount::new(u128::MAX)
            })
        ),
        Err("unknown_market")
    );
    assert_eq!(net.buy(&alice, tokens(0), u128::MAX), Err("zero_amount"));
    // A limit price missed; too large; over the daily volume.
    assert_eq!(net.buy(&alice, tokens(100), 1), Err("limit_missed"));
    assert_eq!(
        net.buy(&alice, tokens(1_000_001), u128::MAX),
        Err("order_too_large")
    );
    for _ in 0..5 {
        net.now += 1;
        let id = net.buy(&alice, tokens(1_000_000), u128::MAX).unwrap();
        net.operator(
            "center",
            Action::Exchange(ExchangeAction::CompleteBuy {
                trade: id,
                delivered: false,
            }),
        )
        .unwrap();
    }
    net.now += 1;
    assert_eq!(net.buy(&alice, tokens(1), u128::MAX), Err("daily_volume"));
    // Not enough MLK.
    let carol = demo_key("carol");
    assert_eq!(
        net.buy(&carol, OrderSize::Tokens(Amount::new(1_000_000)), u128::MAX)
            .and(Ok(())),
        Ok(())
    );
    let poor = Keypair::from_label("poor");
    net.now += 1;
    assert_eq!(
        net.buy(&poor, tokens(100), u128::MAX),
        Err("insufficient_balance")
    );
    // Selling more than one has, or tokens on a chain they are not on.
    assert_eq!(
        net.sell(&alice, u128::MAX / 2, 0).map(|_| ()),
        Err("insufficient_balance")
    );

    // Only the oracle prices MLK, only forward in time; a stale price halts trading.
    assert_eq!(
        net.run(
            "center",
            &alice,
            Action::Exchange(ExchangeAction::OraclePrice {
                krw_e4: 1,
                observed_at_ms: net.now
            })
        ),
        Err("not_oracle")
    );
    let last = net
        .center
        .exchange()
        .unwrap()
        .oracle()
        .unwrap()
        .observed_at_ms;
    let again = Action::Exchange(ExchangeAction::OraclePrice {
        krw_e4: MLK_KRW_E4,
        observed_at_ms: last,
    });
    assert_eq!(net.operator("center", again), Err("oracle_not_newer"));
    net.now += 61_000;
    assert_eq!(net.buy(&alice, tokens(100), u128::MAX), Err("oracle_stale"));
    let order = net.sell(&alice, 100, 0).unwrap();
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::SettleSell {
            order: Box::new(order.clone()),
        }),
    )
    .unwrap();
    assert_eq!(
        net.center
            .exchange()
            .unwrap()
            .trade(&order.tx.id())
            .unwrap()
            .status,
        TradeStatus::Refused("oracle_stale".into())
    );
    net.oracle(MLK_KRW_E4).unwrap();

    // An order that expired before it settled is refused, and recorded as such.
    let late = net.sell(&alice, 100, 0).unwrap();
    net.now += 61_000;
    net.oracle(MLK_KRW_E4).unwrap();
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::SettleSell {
            order: Box::new(late.clone()),
        }),
    )
    .unwrap();
    assert_eq!(
        net.center
            .exchange()
            .unwrap()
            .trade(&late.tx.id())
            .unwrap()
            .status,
        TradeStatus::Refused("order_expired".into())
    );

    // A forged order (signature of someone else) is not settled at all: the settling
    // transaction does not verify.
    let mut forged = net.sign(
        "cinema",
        &alice,
        Action::Exchange(ExchangeAction::Sell {
            amount: Amount::new(100),
            min_out: Amount::ZERO,
        }),
    );
    forged.signature = demo_key("bob").sign(&forged.tx.id().0);
    assert_eq!(
        net.operator(
            "center",
            Action::Exchange(ExchangeAction::SettleSell {
                order: Box::new(forged)
            })
        ),
        Err("bad_order_signature")
    );
    // Nor is anything else dressed as an order, nor anything from a customer.
    let transfer = net.sign(
        "cinema",
        &alice,
        Action::Token(TokenAction::Transfer {
            to: alice.address(),
            asset: sym("CINE"),
            amount: Amount::new(1),
            memo: String::new(),
        }),
    );
    assert_eq!(
        net.operator(
            "center",
            Action::Exchange(ExchangeAction::SettleSell {
                order: Box::new(transfer)
            })
        ),
        Err("not_a_sale")
    );
    let another = net.sign(
        "cinema",
        &alice,
        Action::Exchange(ExchangeAction::Sell {
            amount: Amount::new(1),
            min_out: Amount::ZERO,
        }),
    );
    assert_eq!(
        net.run(
            "center",
            &alice,
            Action::Exchange(ExchangeAction::SettleSell {
                order: Box::new(another)
            })
        ),
        Err("not_operator")
    );
    assert_eq!(
        net.run(
            "cinema",
            &alice,
            Action::Exchange(ExchangeAction::DeliverBuy {
                trade: TxId::ZERO,
                to: alice.address(),
                amount: Amount::new(1)
            })
        ),
        Err("not_operator")
    );
    assert_eq!(
        net.operator(
            "center",
            Action::Exchange(ExchangeAction::CompleteBuy {
                trade: TxId::ZERO,
                delivered: true
            })
        ),
        Err("unknown_trade")
    );
    assert_eq!(
        net.operator(
            "cinema",
            Action::Exchange(ExchangeAction::ReleaseSell {
                trade: TxId::ZERO,
                filled: true
            })
        ),
        Err("unknown_trade")
    );

    // TICA short of inventory: a delivery larger than it holds moves nothing and is
    // recorded as short, so the buy is refunded.
    let inventory = net.cine(&net.g.tica_inventory);
    let short = net.buy(&demo_key("bob"), tokens(100), u128::MAX).unwrap();
    net.operator(
        "cinema",
        Action::Exchange(ExchangeAction::DeliverBuy {
            trade: short,
            to: alice.address(),
            amount: Amount::new(inventory + 1),
        }),
    )
    .unwrap();
    assert_eq!(net.cine(&net.g.tica_inventory), inventory);
    assert!(
        !net.brand
            .desk()
            .unwrap()
            .delivery(&short)
            .unwrap()
            .delivered
    );
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::CompleteBuy {
            trade: short,
            delivered: false,
        }),
    )
    .unwrap();

    // A suspended partner's token does not trade; reinstated, it does again.
    let operator = demo_key("operator");
    net.run(
        "center",
        &operator,
        Action::Alliance(AllianceAction::Suspend {
            chain: "cinema".parse().unwrap(),
        }),
    )
    .unwrap();
    assert_eq!(
        net.buy(&demo_key("bob"), tokens(100), u128::MAX),
        Err("partner_suspended")
    );
    net.run(
        "center",
        &operator,
        Action::Alliance(AllianceAction::Reinstate {
            chain: "cinema".parse().unwrap(),
        }),
    )
    .unwrap();
    net.buy(&demo_key("bob"), tokens(100), u128::MAX).unwrap();
    net.conserved();
}

#[test]
fn a_reserve_too_small_refuses_sales_and_gives_the_tokens_back() {
    let mut net = Net::with(|g| {
        let liquidity = g.chains[0]
            .allocations
            .iter_mut()
            .find(|a| a.label == "liquidity")
            .unwrap();
        liquidity.amount = Amount::new(1_000);
    });
    let alice = demo_key("alice");
    let cine0 = net.cine(&alice.address());
    let order = net.sell(&alice, 10_000, 1).unwrap();
    let id = order.tx.id();
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::SettleSell {
            order: Box::new(order),
        }),
    )
    .unwrap();
    assert_eq!(
        net.center.exchange().unwrap().trade(&id).unwrap().status,
        TradeStatus::Refused("reserve_short".into())
    );
    net.operator(
        "cinema",
        Action::Exchange(ExchangeAction::ReleaseSell {
            trade: id,
            filled: false,
        }),
    )
    .unwrap();
    assert_eq!(net.cine(&alice.address()), cine0);
    net.conserved();
}

#[test]
fn an_order_is_bound_to_its_market() {
    // A sale signed for the cinema chain does nothing on any other chain.
    let mut net = Net::new();
    let alice = demo_key("alice");
    let order = net.sign(
        "cinema",
        &alice,
        Action::Exchange(ExchangeAction::Sell {
            amount: Amount::new(100),
            min_out: Amount::ZERO,
        }),
    );
    let g = net.g.clone();
    let skyway = g.chain(&"skyway".parse().unwrap()).unwrap();
    let (_, mut sky) = g.genesis_block(skyway).unwrap();
    assert_eq!(
        sky.apply(&order.tx, net.now).map_err(|e| e.code()),
        Err("wrong_chain")
    );
    // Settled on the center chain, it is priced in the cinema market only.
    net.apply(&order).unwrap();
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::SettleSell {
            order: Box::new(order.clone()),
        }),
    )
    .unwrap();
    let t = net
        .center
        .exchange()
        .unwrap()
        .trade(&order.tx.id())
        .unwrap()
        .clone();
    assert_eq!((t.asset, t.status), (sym("CINE"), TradeStatus::Filled));
}

#[test]
fn markets_open_and_deepen_under_the_rules() {
    let mut net = Net::new();
    let set = |capacity: u128, position: Option<u128>, max_order: u128| {
        Action::Exchange(ExchangeAction::SetMarket {
            asset: sym("CINE"),
            capacity: Amount::new(capacity),
            position: position.map(Amount::new),
            max_order: Amount::new(max_order),
            user_daily_limit: Amount::new(5_000_000),
        })
    };
    let price = |net: &Net| {
        net.center
            .exchange()
            .unwrap()
            .market(&sym("CINE"))
            .unwrap()
            .market
            .curve
            .price_krw_e4()
    };
    let before = price(&net);
    // Twice as deep would put TICA's position above the stock its inventory holds.
    assert_eq!(
        net.operator("center", set(400_000_000, None, 1_000_000)),
        Err("depth_exceeds_stock")
    );
    // Half as deep, same price; then back, within the stock; an odd depth would move the
    // price; too large an order is unsafe.
    net.operator("center", set(100_000_000, None, 1_000_000))
        .unwrap();
    assert_eq!((price(&net), net.position()), (before, 50_000_000));
    net.operator("center", set(200_000_000, None, 1_000_000))
        .unwrap();
    assert_eq!((price(&net), net.position()), (before, 100_000_000));
    assert_eq!(
        net.operator("center", set(200_000_001, None, 1_000_000)),
        Err("depth_would_move_price")
    );
    assert_eq!(
        net.operator("center", set(200_000_000, None, 32_000_001)),
        Err("max_order_unsafe")
    );
    assert_eq!(
        net.operator("center", set(200_000_000, Some(1), 1_000_000)),
        Err("invalid_market")
    );
    assert_eq!(
        net.run(
            "center",
            &demo_key("alice"),
            set(200_000_000, None, 1_000_000)
        ),
        Err("not_operator")
    );
    // A market needs a member's token.
    assert_eq!(
        net.operator(
            "center",
            Action::Exchange(ExchangeAction::SetMarket {
                asset: sym("NOPE"),
                capacity: Amount::new(10),
                position: Some(Amount::new(5)),
                max_order: Amount::new(1),
                user_daily_limit: Amount::new(1),
            })
        ),
        Err("unknown_market")
    );
    // A shallow market: at its bound, buying is refused with the largest size allowed.
    let shallow = |max_order: u128| {
        Action::Exchange(ExchangeAction::SetMarket {
            asset: sym("CINE"),
            capacity: Amount::new(1_000),
            position: None,
            max_order: Amount::new(max_order),
            user_daily_limit: Amount::new(u128::MAX),
        })
    };
    // (The bound counts the fee net of the 0.1 % trade reward: 149 on this curve.)
    assert_eq!(
        net.operator("center", shallow(150)),
        Err("max_order_unsafe")
    );
    net.operator("center", shallow(149)).unwrap();
    assert_eq!(net.position(), 500);
    let alice = demo_key("alice");
    let tokens = |n: u128| OrderSize::Tokens(Amount::new(n));
    // Each direction takes at most the largest order per block.
    net.buy(&alice, tokens(149), u128::MAX).unwrap();
    assert_eq!(net.buy(&alice, tokens(1), u128::MAX), Err("block_full"));
    for size in [149, 149, 33] {
        net.now += 1;
        net.buy(&alice, tokens(size), u128::MAX).unwrap();
    }
    assert_eq!(net.position(), 20);
    net.now += 1;
    assert_eq!(net.buy(&alice, tokens(21), u128::MAX), Err("bound_reached"));
    let order = net.sign(
        "center",
        &alice,
        Action::Exchange(ExchangeAction::Buy {
            asset: sym("CINE"),
            pay: sym("MLK"),
            size: tokens(21),
            max_in: Amount::new(u128::MAX),
        }),
    );
    let refused = net.center.apply(&order.tx, net.now);
    assert_eq!(
        refused.map_err(|e| e.to_string()),
        Err(
            "the order would cross the price bound; the largest size allowed now is 0.2 tokens"
                .into()
        )
    );
    net.buy(&alice, tokens(20), u128::MAX).unwrap();
    assert_eq!(net.buy(&alice, tokens(1), u128::MAX), Err("bound_reached"));
    // At the maximum price now: 95 % of R.
    let curve = net
        .center
        .exchange()
        .unwrap()
        .market(&sym("CINE"))
        .unwrap()
        .market
        .curve;
    assert_eq!(curve.price_krw_e4(), 95_000);
    net.conserved();
}

/// TICA's stock on the center chain is its inventory on the brand chain, give or take the
/// trades between their legs: plus the sales filled but not yet released into the inventory,
/// less the buys priced but not yet delivered out of it. The position never exceeds it, and
/// what awaits delivery is exactly the buys still open.
fn stock_is_the_inventory(net: &Net) -> Result<(), TestCaseError> {
    let m = net.market();
    let exchange = net.center.exchange().unwrap();
    let desk = net.brand.desk().unwrap();
    let (mut undelivered, mut awaiting, mut unreleased) = (0u128, 0u128, 0u128);
    for (k, _) in net.center.records() {
        if k.first() != Some(&milk_core::exchange::record::TRADE) {
            continue;
        }
        let id = milk_core::Hash(k[1..].try_into().unwrap());
        let t = exchange.trade(&id).unwrap();
        match (t.side, &t.status) {
            (milk_core::exchange::curve::Side::Buy, TradeStatus::Pending) => {
                awaiting += t.tokens;
                if !desk.delivery(&id).is_some_and(|d| d.delivered) {
                    undelivered += t.tokens;
                }
            }
            (milk_core::exchange::curve::Side::Sell, TradeStatus::Filled)
                if desk.escrow(&id).unwrap().status == EscrowStatus::Locked =>
            {
                unreleased += t.tokens;
            }
            _ => {}
        }
    }
    let inventory = net.cine(&net.g.tica_inventory);
    prop_assert!(
        m.curve.position <= m.stock,
        "position {} above stock {}",
        m.curve.position,
        m.stock
    );
    prop_assert_eq!(m.stock + undelivered, inventory + unreleased);
    prop_assert_eq!(m.awaiting, awaiting);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random trades by random customers, each cut short after a random step, then finished
    /// the way recovery finishes them: both chains conserve every asset at every step, the
    /// escrows hold exactly what open trades locked, and in the end every trade has both
    /// legs or neither.
    #[test]
    fn trades_cut_short_end_with_both_legs_or_neither(
        ops in proptest::collection::vec((any::<bool>(), 0usize..3, 1u128..3_000_000, 0u8..4, any::<bool>()), 1..24)
    ) {
        let mut net = Net::new();
        let users = ["alice", "bob", "carol"].map(demo_key);
        let inventory = net.g.tica_inventory;
        let liquidity = net.g.exchange.as_ref().unwrap().liquidity;
        let fees = net.g.exchange.as_ref().unwrap().fees;
        let bucket = net.g.membership.as_ref().unwrap().rewards.user_bucket;
        let totals = |net: &Net| {
            let mlk: u128 = users.iter().map(|u| net.mlk(&u.address())).sum::<u128>()
                + net.mlk(&liquidity) + net.mlk(&fees) + net.mlk(&ESCROW) + net.mlk(&bucket);
            let cine: u128 = users.iter().map(|u| net.cine(&u.address())).sum::<u128>()
                + net.cine(&inventory) + net.cine(&ESCROW);
            (mlk, cine)
        };
        let start = totals(&net);
        // Open trades: (is a sale, id, the order) for what recovery must finish.
        let mut open: Vec<(bool, TxId, Option<SignedTransaction>, u128, Address)> = Vec::new();
        for (sell, who, size, steps, limit_ok) in ops {
            let user = &users[who];
            net.now += 1_000;
            net.oracle(MLK_KRW_E4).unwrap();
            if sell {
                let min_out = if limit_ok { 0 } else { u128::MAX };
                let Ok(order) = net.sell(user, size, min_out) else { continue };
                let id = order.tx.id();
                if steps >= 1 {
                    net.operator("center", Action::Exchange(ExchangeAction::SettleSell { order: Box::new(order.clone()) })).unwrap();
                }
                if steps >= 2 {
                    let filled = net.center.exchange().unwrap().trade(&id).unwrap().status == TradeStatus::Filled;
                    net.operator("cinema", Action::Exchange(ExchangeAction::ReleaseSell { trade: id, filled })).unwrap();
                } else {
                    open.push((true, id, Some(order), size, user.address()));
                }
            } else {
                let max_in = if limit_ok { u128::MAX } else { 1 };
                let Ok(id) = net.buy(user, OrderSize::Tokens(Amount::new(size)), max_in) else { continue };
                                let delivered = steps >= 1 && {
                    net.operator(
                        "cinema",
                        Action::Exchange(ExchangeAction::DeliverBuy { trade: id, to: user.address(), amount: Amount::new(size) }),
                    ).unwrap();
                    net.brand.desk().unwrap().delivery(&id).unwrap().delivered
                };
                if steps >= 2 {
                    net.operator("center", Action::Exchange(ExchangeAction::CompleteBuy { trade: id, delivered })).unwrap();
                } else {
                    open.push((false, id, None, size, user.address()));
                }
            }
            net.conserved();
            prop_assert_eq!(totals(&net), start);
            stock_is_the_inventory(&net)?;
            // The escrows hold exactly what open trades locked.
            let locked_cine: u128 = open.iter().filter(|o| o.0)
                .filter(|o| net.brand.desk().unwrap().escrow(&o.1).is_some_and(|e| e.status == EscrowStatus::Locked))
                .map(|o| o.3).sum();
            prop_assert_eq!(net.cine(&ESCROW), locked_cine);
            let locked_mlk: u128 = open.iter().filter(|o| !o.0)
                .filter_map(|o| net.center.exchange().unwrap().trade(&o.1))
                .filter(|t| t.status == TradeStatus::Pending)
                .map(|t| t.total).sum();
                        prop_assert_eq!(net.mlk(&ESCROW), locked_mlk);
            // Recovery's index: a marker for each open trade, and nothing else.
            let markers = |state: &ChainState, ns: u8| {
                state.records().iter().filter(|(k, _)| k[0] == ns).count()
            };
            let pending = open.iter().filter(|o| !o.0)
                .filter_map(|o| net.center.exchange().unwrap().trade(&o.1))
                .filter(|t| t.status == TradeStatus::Pending)
                .count();
            prop_assert_eq!(markers(&net.center, milk_core::exchange::record::OPEN_BUY), pending);
            let locked = open.iter().filter(|o| o.0)
                .filter(|o| net.brand.desk().unwrap().escrow(&o.1).is_some_and(|e| e.status == EscrowStatus::Locked))
                .count();
            prop_assert_eq!(markers(&net.brand, milk_core::exchange::desk::record::OPEN_ESCROW), locked);
        }
        // Recovery: finish every open trade from what the chains recorded, step by step as
        // the node's settlement driver decides them (`exchange::driver`).
        net.now += 1_000;
        net.oracle(MLK_KRW_E4).unwrap();
        let cinema: ChainId = "cinema".parse().unwrap();
        for (sell, id, order, _, _) in open {
            for _ in 0..=driver::MAX_STEPS {
                let trade = net.center.exchange().unwrap().trade(&id);
                let desk = net.brand.desk().unwrap();
                let next = match &order {
                    Some(order) if sell => {
                        let sale = driver::Sale { id, chain: &cinema, order };
                        driver::next_for_sale(sale, trade, desk.escrow(&id))
                    }
                    _ => driver::next_for_purchase(&id, trade, &cinema, desk.delivery(&id).as_ref()),
                };
                let Some(step) = next else { break };
                net.operator(step.chain.as_str(), Action::Exchange(step.action)).unwrap();
            }
        }
        net.conserved();
        prop_assert_eq!(totals(&net), start);
        stock_is_the_inventory(&net)?;
        prop_assert_eq!(net.market().awaiting, 0);
        prop_assert_eq!(net.market().stock, net.cine(&inventory));
        prop_assert_eq!(net.cine(&ESCROW), 0);
        prop_assert_eq!(net.mlk(&ESCROW), 0);
                // Each chain's side of every trade agrees with the other's.
        let problems = milk_core::exchange::audit::cross_check(&net.center, &"cinema".parse().unwrap(), &net.brand);
        prop_assert!(problems.is_empty(), "{problems:?}");
        // Both chains' records restore to the same state.
        for (spec, state) in [(net.g.center().clone(), &net.center), (net.g.chain(&"cinema".parse().unwrap()).unwrap().clone(), &net.brand)] {
            let mut restored = net.g.empty_state(&spec);
            restored.restore(state.records()).unwrap();
            prop_assert_eq!(restored.records(), state.records());
        }
        // Both legs or neither: every filled sale's tokens reached TICA, every refused one's
        // came back; every filled buy was delivered, every refunded one was not.
        let exchange = net.center.exchange().unwrap();
        let brand = net.brand.desk().unwrap();
        for (k, _) in net.center.records() {
            if k.first() != Some(&milk_core::exchange::record::TRADE) { continue }
            let id = milk_core::Hash(k[1..].try_into().unwrap());
            let t = exchange.trade(&id).unwrap();
            match t.side {
                milk_core::exchange::curve::Side::Sell => {
                    let e = brand.escrow(&id).unwrap();
                    let expect = if t.status == TradeStatus::Filled { EscrowStatus::Released } else { EscrowStatus::Returned };
                    prop_assert_eq!(e.status, expect);
                }
                                milk_core::exchange::curve::Side::Buy => {
                    let delivered = brand.delivery(&id).is_some_and(|d| d.delivered);
                    prop_assert_eq!(delivered, t.status == TradeStatus::Filled);
                }
            }
        }
    }
}

#[test]
fn a_filled_trade_earns_lzm_by_its_krw_volume_and_a_refunded_one_nothing() {
    let mut net = Net::new();
    let carol = demo_key("carol");
    let lzm = |net: &Net| net.center.balance(&carol.address(), &sym("LZM")).units();
    // 4,000 CINE sold: about KRW 35,000, at 1 LZM per KRW 1,000.
    let order = net.sell(&carol, 400_000, 1).unwrap();
    let id = order.tx.id();
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::SettleSell {
            order: Box::new(order),
        }),
    )
    .unwrap();
    let t = net.center.exchange().unwrap().trade(&id).unwrap().clone();
    let krw = t.gross * u128::from(t.mlk_krw_e4) / 1_000_000_000_000;
    assert!(krw > 30_000, "{krw}");
    assert_eq!(lzm(&net), krw / 1_000 * 100_000_000);
    // A buy TICA could not deliver is refunded, and earns nothing.
    let before = lzm(&net);
    let buy = net
        .buy(&carol, OrderSize::Tokens(Amount::new(1_000_000)), u128::MAX)
        .unwrap();
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::CompleteBuy {
            trade: buy,
            delivered: false,
        }),
    )
    .unwrap();
    assert_eq!(lzm(&net), before);
    net.conserved();
}

#[test]
fn partners_earn_a_falling_share_of_their_customers_volume_each_epoch() {
    let mut net = Net::new();
    let carol = demo_key("carol");
    let rewards = net.g.membership.as_ref().unwrap().rewards.clone();
    let cinema: ChainId = "cinema".parse().unwrap();
    let issuer = demo_key("partner:cinema").address();
    // The schedule: 1 % in year one, less each year, nothing after the last.
    let year = 365 * milk_core::brand::DAY_MS;
    let epoch_at = |t: u64| t / rewards.epoch_ms;
    assert_eq!(rewards.rate_bps(epoch_at(rewards.schedule_start_ms)), 100);
    assert_eq!(
        rewards.rate_bps(epoch_at(
            rewards.schedule_start_ms + year + rewards.epoch_ms
        )),
        80
    );
    assert_eq!(
        rewards.rate_bps(epoch_at(rewards.schedule_start_ms + 30 * year)),
        0
    );

    let order = net.sell(&carol, 400_000, 1).unwrap();
    net.operator(
        "center",
        Action::Exchange(ExchangeAction::SettleSell {
            order: Box::new(order.clone()),
        }),
    )
    .unwrap();
    let t = net
        .center
        .exchange()
        .unwrap()
        .trade(&order.tx.id())
        .unwrap()
        .clone();
    let epoch = epoch_at(net.now);
    assert_eq!(
        net.center.tokenomics().unwrap().volume(&cinema, epoch),
        t.gross
    );
    let pay = Action::Tokenomics(TokenomicsAction::PayContribution {
        chain: cinema.clone(),
        epoch,
    });
    assert_eq!(net.operator("center", pay.clone()), Err("pack_refused"));
    // The last epoch never ends (found by the `actions` fuzz target: its end overflowed).
    let last = Action::Tokenomics(TokenomicsAction::PayContribution {
        chain: cinema.clone(),
        epoch: u64::MAX,
    });
    assert_eq!(net.operator("center", last), Err("pack_refused"));
    net.now = (epoch + 1) * rewards.epoch_ms;
    net.oracle(MLK_KRW_E4).unwrap();
    let before = net.mlk(&issuer);
    assert_eq!(net.run("center", &carol, pay.clone()), Err("not_operator"));
    net.operator("center", pay.clone()).unwrap();
    assert_eq!(net.mlk(&issuer), before + t.gross / 100);
    assert_eq!(net.operator("center", pay), Err("trade_closed"));
    // Linking rewards: once per link, from the user-distribution bucket, naming the link
    // by its seal, not the partner.
    let customer = milk_core::brand::customer_hash("salt", "C-9");
    let seal = milk_core::brand::link_seal(&cinema, &carol.address(), &customer);
    assert_ne!(
        seal,
        milk_core::brand::link_seal(&"skyway".parse().unwrap(), &carol.address(), &customer)
    );
    let link = Action::Tokenomics(TokenomicsAction::RewardLink {
        user: carol.address(),
        link: seal,
    });
    let mlk = net.mlk(&carol.address());
    net.operator("center", link.clone()).unwrap();
    assert_eq!(net.mlk(&carol.address()), mlk + rewards.link_reward.units());
    assert_eq!(net.operator("center", link), Err("trade_closed"));
    net.conserved();
}

/// The demo network with a thin cinema market: TICA's inventory holds 1,000 base units, the
/// curve is 10,000 deep with TICA at 1,000, the largest order 1,490.
fn thin_cinema() -> Net {
    Net::with(|g| {
        let inventory = g.tica_inventory;
        let cinema = g
            .chains
            .iter_mut()
            .find(|c| c.id == "cinema".parse().unwrap())
            .unwrap();
        let float = cinema
            .allocations
            .iter_mut()
            .find(|a| a.account == inventory)
            .unwrap();
        float.amount = Amount::new(1_000);
        let m = (g.exchange.as_mut().unwrap().markets.iter_mut())
            .find(|m| m.asset == sym("CINE"))
            .unwrap();
        (m.capacity, m.position) = (Amount::new(10_000), Amount::new(1_000));
        m.max_order = Amount::new(1_490);
    })
}

#[test]
fn tica_cannot_be_made_to_price_tokens_it_does_not_hold() {
    // A genesis whose position exceeds the inventory is refused.
    let mut g = Genesis::demo();
    let m = (g.exchange.as_mut().unwrap().markets.iter_mut())
        .find(|m| m.asset == sym("CINE"))
        .unwrap();
    m.position = Amount::new(m.position.units() * 10);
    m.capacity = Amount::new(m.capacity.units() * 10);
    let refused = g.validate().unwrap_err();
    assert!(refused.contains("exceeds"), "{refused}");

    let mut net = thin_cinema();
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let inventory = demo_key("tica:inventory");
    // The inventory's tokens leave by no other way than a delivery, whoever signs.
    let away = Action::Token(TokenAction::Transfer {
        to: bob.address(),
        asset: sym("CINE"),
        amount: Amount::new(1),
        memo: String::new(),
    });
    assert_eq!(
        net.run("cinema", &inventory, away),
        Err("inventory_reserved")
    );
    // Buys are bounded by the position, which never exceeds the stock: a buy past it is
    // refused and moves nothing.
    let tokens = |n: u128| OrderSize::Tokens(Amount::new(n));
    assert_eq!(
        net.buy(&bob, tokens(1_001), u128::MAX),
        Err("bound_reached")
    );
    assert_eq!((net.position(), net.market().stock), (1_000, 1_000));
    // The depth cannot grow past the stock either.
    let depth = |capacity: u128| {
        Action::Exchange(ExchangeAction::SetMarket {
            asset: sym("CINE"),
            capacity: Amount::new(capacity),
            position: None,
            max_order: Amount::new(1_490),
            user_daily_limit: Amount::new(u128::MAX),
        })
    };
    assert_eq!(
        net.operator("center", depth(20_000)),
        Err("depth_exceeds_stock")
    );

    // Sales filled but not yet released add to the stock before the inventory has the
    // tokens (one a block: each direction takes at most the largest order per block).
    let settle = |net: &mut Net, sale: &SignedTransaction| {
        let settle = ExchangeAction::SettleSell {
            order: Box::new(sale.clone()),
        };
        net.operator("center", Action::Exchange(settle)).unwrap();
        net.center
            .exchange()
            .unwrap()
            .trade(&sale.tx.id())
            .unwrap()
            .clone()
    };
    for _ in 0..6 {
        net.now += 1;
        let sale = net.sell(&alice, 1_490, 0).unwrap();
        assert_eq!(settle(&mut net, &sale).status, TradeStatus::Filled);
    }
    assert_eq!((net.position(), net.market().stock), (9_940, 9_940));
    // A buy of more than the inventory holds now finds it short.
    net.now += 1;
    let price_before = net.market().curve.price_krw_e4();
    let buy = net.buy(&bob, tokens(1_400), u128::MAX).unwrap();
    assert_eq!((net.position(), net.market().awaiting), (8_540, 1_400));
    // While it awaits delivery, a sale cannot take the room the buy would need back, and
    // the depth does not change.
    let too_big = net.sell(&alice, 61, 0).unwrap();
    let t = settle(&mut net, &too_big);
    assert_eq!(t.status, TradeStatus::Refused("bound_reached".into()));
    assert_eq!(net.operator("center", depth(5_000)), Err("buys_settling"));
    // The delivery finds the inventory short; voided, the price returns exactly.
    let deliver = ExchangeAction::DeliverBuy {
        trade: buy,
        to: bob.address(),
        amount: Amount::new(1_400),
    };
    net.operator("cinema", Action::Exchange(deliver)).unwrap();
    assert!(!net.brand.desk().unwrap().delivery(&buy).unwrap().delivered);
    let complete = ExchangeAction::CompleteBuy {
        trade: buy,
        delivered: false,
    };
    net.operator("center", Action::Exchange(complete)).unwrap();
    let m = net.market();
    assert_eq!((m.curve.position, m.stock, m.awaiting), (9_940, 9_940, 0));
    assert_eq!(m.curve.price_krw_e4(), price_before);
    // An MLK budget larger than the largest order is refused, not trimmed.
    let budget = OrderSize::Mlk(Amount::new(1_000_000_000_000));
    assert_eq!(net.buy(&bob, budget, u128::MAX), Err("order_too_large"));
    net.conserved();
}

#[test]
fn a_sale_on_a_partner_chain_without_a_market_is_refused_and_given_back() {
    let mut net = Net::with(|g| {
        g.exchange
            .as_mut()
            .unwrap()
            .markets
            .retain(|m| m.asset != sym("CINE"));
    });
    let alice = demo_key("alice");
    let before = net.cine(&alice.address());
    let sale = net.sell(&alice, 1_000, 0).unwrap();
    let id = sale.tx.id();
    let settle = ExchangeAction::SettleSell {
        order: Box::new(sale),
    };
    net.operator("center", Action::Exchange(settle)).unwrap();
    let t = net.center.exchange().unwrap().trade(&id).unwrap().clone();
    assert_eq!(
        (t.asset, t.status),
        (sym("CINE"), TradeStatus::Refused("unknown_market".into()))
    );
    let release = ExchangeAction::ReleaseSell {
        trade: id,
        filled: false,
    };
    net.operator("cinema", Action::Exchange(release)).unwrap();
    assert_eq!(net.cine(&alice.address()), before);
    assert_eq!(net.cine(&ESCROW), 0);
    net.conserved();
}

/// Settles a sale on both chains; returns its trade.
fn settle_sale(net: &mut Net, user: &Keypair, amount: u128) -> milk_core::exchange::Trade {
    let sale = net.sell(user, amount, 0).unwrap();
    let id = sale.tx.id();
    let settle = ExchangeAction::SettleSell {
        order: Box::new(sale),
    };
    net.operator("center", Action::Exchange(settle)).unwrap();
    let t = net.center.exchange().unwrap().trade(&id).unwrap().clone();
    let filled = t.status == TradeStatus::Filled;
    let release = ExchangeAction::ReleaseSell { trade: id, filled };
    net.operator("cinema", Action::Exchange(release)).unwrap();
    t
}

/// Prices, delivers and completes a buy; returns what it cost in MLK.
fn settle_buy(net: &mut Net, user: &Keypair, tokens: u128) -> u128 {
    let id = net
        .buy(user, OrderSize::Tokens(Amount::new(tokens)), u128::MAX)
        .unwrap();
    finish_buy(net, user, id, tokens);
    net.center.exchange().unwrap().trade(&id).unwrap().total
}

#[test]
fn knowing_where_the_oracle_is_going_earns_nothing() {
    let mut net = Net::new();
    let alice = demo_key("alice");
    // MLK falls 1.9 % (within the band): a buy at the old price, sold back at the new one,
    // would gain 1.9 % of its value less the fees. The sale is priced at the window's
    // highest price, the old one: it loses.
    let paid = settle_buy(&mut net, &alice, 100_000);
    net.now += 10_000;
    net.oracle(MLK_KRW_E4 / 1_000 * 981).unwrap();
    let got = settle_sale(&mut net, &alice, 100_000).total;
    assert!(
        got < paid,
        "a round trip across the move paid {got} for {paid}"
    );
    // MLK falls 3 % more (beyond the band): trading halts both ways until the move settles
    // or TICA confirms it.
    net.now += 10_000;
    let fallen = MLK_KRW_E4 / 1_000 * 951;
    net.oracle(fallen).unwrap();
    let tokens = OrderSize::Tokens(Amount::new(100_000));
    assert_eq!(net.buy(&alice, tokens, u128::MAX), Err("oracle_unsettled"));
    let confirm = |krw_e4| Action::Exchange(ExchangeAction::ConfirmPrice { krw_e4 });
    assert_eq!(
        net.operator("center", confirm(fallen + 1)),
        Err("nothing_to_confirm")
    );
    assert_eq!(
        net.run("center", &alice, confirm(fallen)),
        Err("not_operator")
    );
    net.operator("center", confirm(fallen)).unwrap();
    // A buy at the new low, sold back while the old prices are in the window, loses too.
    let paid = settle_buy(&mut net, &alice, 100_000);
    let got = settle_sale(&mut net, &alice, 100_000).total;
    assert!(got < paid, "{got} for {paid}");
    net.conserved();
}

#[test]
fn the_reserve_pays_out_at_most_its_limit_per_window() {
    // A limit of 20 MLK an hour; each sale pays about 8.6.
    let mut net = Net::with(|g| {
        g.exchange.as_mut().unwrap().max_outflow = Amount::new(20 * 100_000_000);
    });
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let first = settle_sale(&mut net, &alice, 100_000);
    assert_eq!(first.status, TradeStatus::Filled);
    let mut paid = first.gross;
    let refused = loop {
        let t = settle_sale(&mut net, &alice, 100_000);
        if t.status != TradeStatus::Filled {
            break t;
        }
        paid += t.gross;
    };
    assert_eq!(
        refused.status,
        TradeStatus::Refused("outflow_paused".into())
    );
    assert!(paid <= 20 * 100_000_000, "{paid}");
    // What buyers pay in makes room again, within the window.
    settle_buy(&mut net, &bob, 300_000);
    assert_eq!(
        settle_sale(&mut net, &alice, 100_000).status,
        TradeStatus::Filled
    );
    // The next window starts afresh.
    net.now += 3_600_000;
    net.oracle(MLK_KRW_E4).unwrap();
    assert_eq!(
        settle_sale(&mut net, &alice, 100_000).status,
        TradeStatus::Filled
    );
    net.conserved();
}

#[test]
fn tica_halts_a_market_changes_the_fee_and_a_partner_agrees_a_new_floor() {
    let mut net = Net::new();
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let exchange = |a| Action::Exchange(a);
    let halt = |halted| {
        exchange(ExchangeAction::HaltMarket {
            asset: sym("CINE"),
            halted,
        })
    };
    assert_eq!(net.run("center", &alice, halt(true)), Err("not_operator"));
    net.operator("center", halt(true)).unwrap();
    // Halted: a buy is refused, a sale is refused and given back.
    let tokens = OrderSize::Tokens(Amount::new(10_000));
    assert_eq!(net.buy(&bob, tokens, u128::MAX), Err("market_halted"));
    let before = net.cine(&alice.address());
    let refused = settle_sale(&mut net, &alice, 10_000);
    assert_eq!(refused.status, TradeStatus::Refused("market_halted".into()));
    assert_eq!(net.cine(&alice.address()), before);
    net.operator("center", halt(false)).unwrap();
    assert_eq!(
        settle_sale(&mut net, &alice, 10_000).status,
        TradeStatus::Filled
    );

    // The fee: never so low that the largest order could be sandwiched, applied at once.
    let fee = |fee_bps| exchange(ExchangeAction::SetFee { fee_bps });
    assert_eq!(net.operator("center", fee(0)), Err("max_order_unsafe"));
    assert_eq!(net.operator("center", fee(10_000)), Err("invalid_market"));
    assert_eq!(net.run("center", &alice, fee(300)), Err("not_operator"));
    net.operator("center", fee(300)).unwrap();
    let t = settle_sale(&mut net, &alice, 10_000);
    assert_eq!(t.fee, (t.gross * 300).div_ceil(10_000));

    // The floor moves only with the partner's signature over that very change.
    let partner = demo_key("partner:cinema");
    let old = net.market().curve.min_bps;
    let new = old - 1_000;
    let message = milk_core::exchange::floor_message(&sym("CINE"), old, new);
    let floor = |signer: &Keypair| {
        exchange(ExchangeAction::SetFloor {
            asset: sym("CINE"),
            min_bps: new,
            partner_signature: signer.sign(&message.0),
        })
    };
    assert_eq!(
        net.operator("center", floor(&alice)),
        Err("bad_partner_signature")
    );
    let price = net.market().curve.price_krw_e4();
    net.operator("center", floor(&partner)).unwrap();
    assert_eq!(net.market().curve.min_bps, new);
    assert!(net.market().curve.price_krw_e4() < price);
    // The same signature cannot be used again from the new floor.
    assert_eq!(
        net.operator("center", floor(&partner)),
        Err("bad_partner_signature")
    );

    // The maximum: TICA's alone, never above 95 % of R nor below the floor.
    let max = |max_bps| {
        exchange(ExchangeAction::SetMaxPrice {
            asset: sym("CINE"),
            max_bps,
        })
    };
    assert_eq!(net.operator("center", max(9_501)), Err("invalid_market"));
    assert_eq!(net.operator("center", max(new - 1)), Err("invalid_market"));
    assert_eq!(net.run("center", &alice, max(9_000)), Err("not_operator"));
    net.operator("center", max(9_000)).unwrap();
    let curve = net.market().curve;
    assert_eq!(curve.max_bps, 9_000);
    // R is KRW 10: at TICA's empty position the price is now 90 % of it.
    let empty = milk_core::exchange::curve::Curve {
        position: 0,
        ..curve
    };
    assert_eq!(empty.price_krw_e4(), 90_000);
    net.conserved();
}

#[test]
fn a_trade_left_open_past_its_deadline_is_reported_until_recovery_ends_it() {
    use milk_core::exchange::{SETTLE_GRACE_MS, audit};
    let mut net = Net::new();
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let cinema: ChainId = "cinema".parse().unwrap();
    let sale = net.sell(&alice, 10_000, 0).unwrap();
    let buy = net
        .buy(&bob, OrderSize::Tokens(Amount::new(10_000)), u128::MAX)
        .unwrap();
    let overdue = |net: &Net| audit::overdue(&net.center, net.now, &cinema, &net.brand, net.now);
    assert!(overdue(&net).is_empty());
    // Nobody settles them; an hour after the sale's order expired, both are overdue.
    net.now = sale.tx.expires_at_ms + SETTLE_GRACE_MS + 1;
    let found = overdue(&net);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found.iter().any(|p| p.contains(&sale.tx.id().to_hex())),
        "{found:?}"
    );
    assert!(found.iter().any(|p| p.contains(&buy.to_hex())), "{found:?}");
    // Recovery ends them: the expired sale is refused and given back, the buy delivered.
    net.oracle(MLK_KRW_E4).unwrap();
    let settle = ExchangeAction::SettleSell {
        order: Box::new(sale.clone()),
    };
    net.operator("center", Action::Exchange(settle)).unwrap();
    let t = net
        .center
        .exchange()
        .unwrap()
        .trade(&sale.tx.id())
        .unwrap()
        .clone();
    assert_eq!(t.status, TradeStatus::Refused("order_expired".into()));
    let release = ExchangeAction::ReleaseSell {
        trade: sale.tx.id(),
        filled: false,
    };
    net.operator("cinema", Action::Exchange(release)).unwrap();
    let deliver = ExchangeAction::DeliverBuy {
        trade: buy,
        to: bob.address(),
        amount: Amount::new(10_000),
    };
    net.operator("cinema", Action::Exchange(deliver)).unwrap();
    let complete = ExchangeAction::CompleteBuy {
        trade: buy,
        delivered: true,
    };
    net.operator("center", Action::Exchange(complete)).unwrap();
    assert!(overdue(&net).is_empty(), "{:?}", overdue(&net));
    net.conserved();
}

#[test]
fn a_sandwich_at_the_largest_order_loses_money_after_every_reward() {
    let (attacker, victim, other) = (demo_key("alice"), demo_key("bob"), demo_key("carol"));
    // Both customers can afford the largest orders: a million MLK each, from the users'
    // bucket.
    let mut net = Net::with(|g| {
        let each = Amount::new(1_000_000 * 100_000_000);
        let center = &mut g.chains[0];
        let bucket = (center.allocations.iter_mut())
            .find(|a| a.label == "user-distribution")
            .unwrap();
        bucket.amount = Amount::new(bucket.amount.units() - 2 * each.units());
        for who in ["alice", "bob"] {
            center.allocations.push(milk_core::genesis::Allocation {
                label: format!("rich:{who}"),
                account: demo_key(who).address(),
                asset: sym("MLK"),
                amount: each,
            });
        }
    });
    // The largest order TICA may set: the bound at the fee net of the trade reward.
    let net_fee = milk_core::exchange::curve::DEFAULT_FEE_BPS - 10;
    let max = net.market().curve.sandwich_safe_max_order(net_fee);
    let widest = Action::Exchange(ExchangeAction::SetMarket {
        asset: sym("CINE"),
        capacity: Amount::new(net.market().curve.capacity),
        position: None,
        max_order: Amount::new(max),
        user_daily_limit: Amount::new(u128::MAX),
    });
    net.operator("center", widest).unwrap();
    let too_wide = Action::Exchange(ExchangeAction::SetMarket {
        asset: sym("CINE"),
        capacity: Amount::new(net.market().curve.capacity),
        position: None,
        max_order: Amount::new(max + 1),
        user_daily_limit: Amount::new(u128::MAX),
    });
    assert_eq!(net.operator("center", too_wide), Err("max_order_unsafe"));

    let mlk = |net: &Net| net.mlk(&attacker.address());
    // In one block the attacker's front-run and its victims together buy at most the
    // largest order: a second victim waits for the next block.
    let before = mlk(&net);
    settle_buy(&mut net, &attacker, max / 2);
    settle_buy(&mut net, &victim, max / 2);
    let tokens = OrderSize::Tokens(Amount::new(1));
    assert_eq!(net.buy(&other, tokens, u128::MAX), Err("block_full"));
    net.now += 1;
    settle_sale(&mut net, &attacker, max / 2);
    // Its MLK balance counts the 0.1 % trade reward of both legs: still a loss.
    assert!(mlk(&net) < before, "{} after {before}", mlk(&net));
    // Across blocks, each order the largest allowed: a loss too.
    let before = mlk(&net);
    for (who, buys) in [(&attacker, true), (&victim, true), (&attacker, false)] {
        net.now += 1;
        if buys {
            settle_buy(&mut net, who, max);
        } else {
            settle_sale(&mut net, who, max);
        }
    }
    assert!(mlk(&net) < before, "{} after {before}", mlk(&net));
    net.conserved();
}

#[test]
fn selling_expiring_points_and_buying_them_back_keeps_their_expiry() {
    // Cinema points that expire 30 days after they are earned.
    let mut net = Net::with(|g| {
        let cinema = (g.chains.iter_mut())
            .find(|c| c.id == "cinema".parse().unwrap())
            .unwrap();
        cinema.partner.as_mut().unwrap().policy.expiry_days = Some(30);
    });
    let (alice, partner) = (demo_key("alice"), demo_key("partner:cinema"));
    let cinema: ChainId = "cinema".parse().unwrap();
    let hash = milk_core::Hash([7; 32]);
    let message = milk_core::brand::link_message(&cinema, &alice.address(), &hash);
    let link = Action::Brand(milk_core::tx::BrandAction::Link {
        customer_hash: hash,
        partner_signature: partner.sign(&message.0),
    });
    net.run("cinema", &alice, link).unwrap();
    let convert = Action::Brand(milk_core::tx::BrandAction::Convert {
        to: alice.address(),
        mileage: 100,
        reference: "expiring-1".into(),
    });
    net.run("cinema", &partner, convert).unwrap();
    let lots = |net: &Net, who: &Address| -> Vec<(u64, u128)> {
        (net.brand.brand().unwrap().lots(who))
            .map(|(d, a)| (d, a.units()))
            .collect()
    };
    let earned = lots(&net, &alice.address());
    assert_eq!(earned.len(), 1, "{earned:?}");
    let (day, amount) = earned[0];
    // Sold to TICA, the lot goes with the tokens into its stock...
    let sale = settle_sale(&mut net, &alice, amount);
    assert_eq!(sale.status, TradeStatus::Filled);
    assert_eq!(lots(&net, &alice.address()), []);
    assert_eq!(lots(&net, &net.g.tica_inventory), [(day, amount)]);
    // ...and bought back, the soonest-expiring lot comes out first: the same expiry.
    net.now += 1;
    settle_buy(&mut net, &alice, amount);
    assert_eq!(lots(&net, &alice.address()), [(day, amount)]);
    assert_eq!(lots(&net, &net.g.tica_inventory), []);
    net.conserved();
}

/// A buy priced, delivered and completed, or why it was refused.
fn try_buy(net: &mut Net, user: &Keypair, tokens: u128) -> Result<(), &'static str> {
    let id = net.buy(user, OrderSize::Tokens(Amount::new(tokens)), u128::MAX)?;
    let deliver = ExchangeAction::DeliverBuy {
        trade: id,
        to: user.address(),
        amount: Amount::new(tokens),
    };
    net.operator("cinema", Action::Exchange(deliver))?;
    let delivered = net.brand.desk().unwrap().delivery(&id).unwrap().delivered;
    let complete = ExchangeAction::CompleteBuy {
        trade: id,
        delivered,
    };
    net.operator("center", Action::Exchange(complete))
        .map(|_| ())
}

/// A sale locked, settled and released; whether it filled.
fn try_sell(net: &mut Net, user: &Keypair, tokens: u128) -> Result<bool, &'static str> {
    let sale = net.sell(user, tokens, 0)?;
    let id = sale.tx.id();
    let settle = ExchangeAction::SettleSell {
        order: Box::new(sale),
    };
    net.operator("center", Action::Exchange(settle))?;
    let filled = net.center.exchange().unwrap().trade(&id).unwrap().status == TradeStatus::Filled;
    let release = ExchangeAction::ReleaseSell { trade: id, filled };
    net.operator("cinema", Action::Exchange(release))?;
    Ok(filled)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Within one oracle window, whatever customers trade, however the oracle moves inside
    /// its band and however TICA changes the depth: once every customer holds the Brand
    /// Tokens they started with, their MLK, trade rewards included, has not grown (the
    /// bound stated in ARCHITECTURE.md for round trips inside the window); TICA's stock is
    /// its inventory; and no escrow is left open.
    #[test]
    fn customers_cannot_gain_mlk_by_trading_in_and_out(
        ops in proptest::collection::vec((0u8..4, 0usize..3, 1u128..200_000, -199i64..=199), 1..20)
    ) {
        let mut net = Net::new();
        let users = ["alice", "bob", "carol"].map(demo_key);
        let start: Vec<(u128, u128)> = users
            .iter()
            .map(|u| (net.mlk(&u.address()), net.cine(&u.address())))
            .collect();
        let mut price = MLK_KRW_E4;
        for (kind, who, size, move_bps) in ops {
            net.now += 1_000;
            let user = &users[who];
            match kind {
                0 => { let _ = try_buy(&mut net, user, size); }
                1 => {
                    let held = net.cine(&user.address());
                    if held > 0 { let _ = try_sell(&mut net, user, size.min(held)); }
                }
                2 => {
                    price = (i128::from(price) * (10_000 + i128::from(move_bps)) / 10_000) as u64;
                    net.oracle(price).unwrap();
                    prop_assert!(net.center.exchange().unwrap().oracle_state().jump.is_none());
                }
                _ => {
                    let m = net.market();
                    let capacity = if move_bps >= 0 { m.curve.capacity * 2 } else { m.curve.capacity / 2 };
                    let depth = Action::Exchange(ExchangeAction::SetMarket {
                        asset: sym("CINE"),
                        capacity: Amount::new(capacity),
                        position: None,
                        max_order: Amount::new(m.max_order.min(m.curve.capacity / 8)),
                        user_daily_limit: Amount::new(m.user_daily_limit),
                    });
                    let _ = net.operator("center", depth);
                }
            }
            stock_is_the_inventory(&net)?;
        }
        // Every customer back to the tokens they started with, a block at a time.
        for (user, (_, cine0)) in users.iter().zip(&start) {
            loop {
                net.now += 1_000;
                let held = net.cine(&user.address());
                let chunk = |d: u128| d.min(100_000);
                let done = match held.cmp(cine0) {
                    std::cmp::Ordering::Greater => try_sell(&mut net, user, chunk(held - cine0)).map(|_| ()),
                    std::cmp::Ordering::Less => try_buy(&mut net, user, chunk(cine0 - held)),
                    std::cmp::Ordering::Equal => break,
                };
                prop_assume!(done.is_ok());
            }
        }
        let before: u128 = start.iter().map(|s| s.0).sum();
        let after: u128 = users.iter().map(|u| net.mlk(&u.address())).sum();
        prop_assert!(after <= before, "customers gained {} MLK base units", after - before);
        stock_is_the_inventory(&net)?;
        prop_assert_eq!(net.cine(&ESCROW), 0);
        prop_assert_eq!(net.mlk(&ESCROW), 0);
        net.conserved();
    }
}

/// The partner's standing as the center chain records it.
fn cinema_status(net: &Net) -> milk_core::alliance::Status {
    let alliance = net.center.alliance().unwrap();
    alliance.member(&"cinema".parse().unwrap()).unwrap().status
}

fn cinema_brand(action: BrandAction) -> Action {
    Action::Brand(action)
}

#[test]
fn a_leaving_partner_winds_its_market_down_and_its_customers_keep_their_points() {
    use milk_core::alliance::Status;
    let mut net = Net::new();
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let partner = demo_key("partner:cinema");
    let cinema: ChainId = "cinema".parse().unwrap();
    settle_buy(&mut net, &alice, 5_000);
    // An allocation A share, locked three years: it outlives the exit.
    let allocate = TokenomicsAction::AllocatePartner {
        chain: cinema.clone(),
        amount: Amount::new(1_000),
    };
    net.operator("center", Action::Tokenomics(allocate))
        .unwrap();
    // A buy priced before the exit, its tokens not yet delivered.
    let open_buy = (net.buy(&alice, OrderSize::Tokens(Amount::new(700)), u128::MAX)).unwrap();

    let notice = milk_core::genesis::DEMO_EXIT_NOTICE_MS;
    let exit = |final_ms| {
        Action::Alliance(AllianceAction::StartExit {
            chain: "cinema".parse().unwrap(),
            final_ms,
        })
    };
    assert_eq!(apply_in_cinemas_sector(&mut net), Err("sector_occupied"));
    let now = net.now;
    assert_eq!(
        net.run("center", &alice, exit(now + notice)),
        Err("not_the_partner")
    );
    assert_eq!(
        net.run("center", &partner, exit(now + notice - 1)),
        Err("exit_date")
    );
    let final_ms = now + notice;
    net.run("center", &partner, exit(final_ms)).unwrap();
    assert_eq!(cinema_status(&net), Status::Exiting);
    assert_eq!(
        net.run("center", &partner, exit(final_ms)),
        Err("wrong_partner_status")
    );

    // Customers may sell, not buy; the partner converts nothing but honours redemptions.
    let buy = net.buy(&bob, OrderSize::Tokens(Amount::new(10)), u128::MAX);
    assert_eq!(buy, Err("market_winding_down"));
    assert_eq!(
        settle_sale(&mut net, &alice, 1_000).status,
        TradeStatus::Filled
    );
    let recorded = BrandAction::SetExit {
        final_ms,
        closed: false,
    };
    net.operator("cinema", cinema_brand(recorded.clone()))
        .unwrap();
    assert_eq!(
        net.operator("cinema", cinema_brand(recorded)),
        Err("exit_recorded")
    );
    let convert = BrandAction::Convert {
        to: alice.address(),
        mileage: 10,
        reference: "after-notice".into(),
    };
    assert_eq!(
        net.run("cinema", &partner, cinema_brand(convert)),
        Err("partner_exiting")
    );
    let redeem = |order: &str| {
        cinema_brand(BrandAction::Redeem {
            amount: Amount::new(500),
            order_id: order.into(),
        })
    };
    net.run("cinema", &alice, redeem("before-final")).unwrap();
    net.now = final_ms - 1;
    let finish = || {
        Action::Alliance(AllianceAction::FinishExit {
            chain: "cinema".parse().unwrap(),
        })
    };
    assert_eq!(net.operator("center", finish()), Err("exit_not_due"));
    net.now = final_ms;
    // Final date: no sale, no redemption; the open buy holds the exit until it is done.
    let late_sale = net.sell(&alice, 10, 0).unwrap();
    assert_eq!(
        net.run("cinema", &alice, redeem("at-final")),
        Err("redemptions_closed")
    );
    assert_eq!(net.operator("center", finish()), Err("trades_open"));
    finish_buy(&mut net, &alice, open_buy, 700);
    assert_eq!(net.run("center", &bob, finish()), Err("not_operator"));
    net.operator("center", finish()).unwrap();
    assert_eq!(cinema_status(&net), Status::Exited);
    wind_down_closes(&mut net, late_sale, final_ms);
}

/// Delivers and completes a buy priced earlier.
fn finish_buy(net: &mut Net, user: &Keypair, id: TxId, tokens: u128) {
    let deliver = ExchangeAction::DeliverBuy {
        trade: id,
        to: user.address(),
        amount: Amount::new(tokens),
    };
    net.operator("cinema", Action::Exchange(deliver)).unwrap();
    let complete = ExchangeAction::CompleteBuy {
        trade: id,
        delivered: true,
    };
    net.operator("center", Action::Exchange(complete)).unwrap();
}

/// After the exit: the sale locked at the final date is refused and given back, TICA's
/// stock is burned, customers keep their tokens, the allocation unlocks on its own date,
/// and the sector takes a new applicant.
fn wind_down_closes(net: &mut Net, late_sale: SignedTransaction, final_ms: u64) {
    let alice = demo_key("alice");
    let locked = late_sale.tx.id();
    let settle = ExchangeAction::SettleSell {
        order: Box::new(late_sale),
    };
    net.operator("center", Action::Exchange(settle)).unwrap();
    let trade = net
        .center
        .exchange()
        .unwrap()
        .trade(&locked)
        .unwrap()
        .clone();
    assert_eq!(trade.status, TradeStatus::Refused("market_closed".into()));
    let release = ExchangeAction::ReleaseSell {
        trade: locked,
        filled: false,
    };
    net.operator("cinema", Action::Exchange(release)).unwrap();
    let held = net.cine(&alice.address());
    assert!(held > 0);
    let buy = net.buy(&alice, OrderSize::Tokens(Amount::new(10)), u128::MAX);
    assert_eq!(buy, Err("market_closed"));
    let inventory = net.g.tica_inventory;
    let supply = net.brand.supply(&sym("CINE")).unwrap().units();
    let stock = net.cine(&inventory);
    let close = BrandAction::SetExit {
        final_ms,
        closed: true,
    };
    net.operator("cinema", cinema_brand(close.clone())).unwrap();
    assert_eq!(net.cine(&inventory), 0);
    assert_eq!(
        net.brand.supply(&sym("CINE")).unwrap().units(),
        supply - stock
    );
    assert_eq!(net.cine(&alice.address()), held);
    assert_eq!(
        net.operator("cinema", cinema_brand(close)),
        Err("exit_recorded")
    );
    // The allocation stays locked until its own date, then the partner claims it.
    let claim = Action::Tokenomics(TokenomicsAction::ClaimAllocation {
        chain: "cinema".parse().unwrap(),
    });
    let partner = demo_key("partner:cinema");
    assert_eq!(
        net.run("center", &partner, claim.clone()),
        Err("allocation_locked")
    );
    net.now += 3 * 365 * 86_400_000;
    net.oracle(MLK_KRW_E4).unwrap();
    let before = net.mlk(&partner.address());
    net.run("center", &partner, claim).unwrap();
    assert_eq!(net.mlk(&partner.address()), before + 1_000);
    // Rewards stopped: no contribution for the epoch in which the exit started.
    let epoch_ms = net.g.membership.as_ref().unwrap().rewards.epoch_ms;
    let contribution = TokenomicsAction::PayContribution {
        chain: "cinema".parse().unwrap(),
        epoch: final_ms / epoch_ms,
    };
    assert_eq!(
        net.operator("center", Action::Tokenomics(contribution)),
        Err("partner_leaving")
    );
    apply_in_cinemas_sector(net).unwrap();
    net.conserved();
    let cinema = net.g.chain(&"cinema".parse().unwrap()).unwrap().clone();
    for (state, spec) in [(&net.center, net.g.center()), (&net.brand, &cinema)] {
        let mut restored = net.g.empty_state(spec);
        restored.restore(state.records()).unwrap();
        assert_eq!(restored.records(), state.records());
    }
}

/// A newcomer applies for cinema's sector.
fn apply_in_cinemas_sector(net: &mut Net) -> Result<TxId, &'static str> {
    let sector = net.g.chain(&"cinema".parse().unwrap()).unwrap();
    let sector = sector.partner.as_ref().unwrap().sector.clone();
    let policy = net.g.chain(&"cinema".parse().unwrap()).unwrap();
    let policy = policy.partner.as_ref().unwrap().policy.clone();
    let application = milk_core::alliance::Application {
        chain: "screens".parse().unwrap(),
        name: "Nine Screens".into(),
        sector,
        symbol: sym("SCRN"),
        decimals: 2,
        policy,
        initial_float: Amount::new(1_000_000),
    };
    let apply = Action::Alliance(AllianceAction::Apply { application });
    net.run("center", &Keypair::from_label("nine-screens"), apply)
}

/// Two customers' sales and a purchase settled step by step on one network, and in batches
/// on another: every trade, balance and escrow ends the same, and the batch records only
/// the steps that changed nothing (one done already, one of no trade), holding back none.
#[test]
fn a_batch_settles_each_step_exactly_as_if_sent_alone() {
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let (mut one, mut batched) = (Net::new(), Net::new());
    let mut orders = Vec::new();
    for net in [&mut one, &mut batched] {
        orders = vec![
            net.sell(&alice, 10_000, 1).unwrap(),
            net.sell(&bob, 4_000, 1).unwrap(),
        ];
    }
    let settle = |o: &SignedTransaction| ExchangeAction::SettleSell {
        order: Box::new(o.clone()),
    };
    let release = |o: &SignedTransaction| ExchangeAction::ReleaseSell {
        trade: o.tx.id(),
        filled: true,
    };
    for o in &orders {
        one.operator("center", Action::Exchange(settle(o))).unwrap();
        one.operator("cinema", Action::Exchange(release(o)))
            .unwrap();
    }
    let unknown = milk_core::Hash([9; 32]);
    let steps = vec![
        settle(&orders[0]),
        settle(&orders[1]),
        settle(&orders[0]),
        ExchangeAction::CompleteBuy {
            trade: unknown,
            delivered: true,
        },
    ];
    let batch = batched.settle_batch("center", steps).unwrap();
    let refused = batched.center.settlement_refusals(&batch).unwrap();
    let codes: Vec<_> = refused.iter().map(|r| (r.index, r.code.as_str())).collect();
    assert_eq!(codes, [(2, "trade_closed"), (3, "unknown_trade")]);
    let releases = orders.iter().map(release).collect();
    let batch = batched.settle_batch("cinema", releases).unwrap();
    assert!(batched.brand.settlement_refusals(&batch).is_none());

    // The purchase: delivered on the brand chain, completed on the center chain.
    let mut buys = Vec::new();
    for net in [&mut one, &mut batched] {
        let id = net.buy(&bob, OrderSize::Tokens(Amount::new(3_000)), u128::MAX);
        buys.push(id.unwrap());
    }
    let deliver = ExchangeAction::DeliverBuy {
        trade: buys[0],
        to: bob.address(),
        amount: Amount::new(3_000),
    };
    let complete = ExchangeAction::CompleteBuy {
        trade: buys[0],
        delivered: true,
    };
    one.operator("cinema", Action::Exchange(deliver.clone()))
        .unwrap();
    one.operator("center", Action::Exchange(complete.clone()))
        .unwrap();
    batched.settle_batch("cinema", vec![deliver]).unwrap();
    batched.settle_batch("center", vec![complete]).unwrap();

    let ids = orders.iter().map(|o| o.tx.id()).chain([buys[0]]);
    for id in ids {
        let trade = |net: &Net| net.center.exchange().unwrap().trade(&id).cloned();
        assert_eq!(trade(&one), trade(&batched));
        assert_eq!(trade(&batched).unwrap().status, TradeStatus::Filled);
    }
    let (c, e) = (one.g.exchange.as_ref().unwrap(), *ESCROW);
    for who in [alice.address(), bob.address(), c.liquidity, c.fees, e] {
        assert_eq!(one.mlk(&who), batched.mlk(&who), "MLK of {who}");
        assert_eq!(one.cine(&who), batched.cine(&who), "CINE of {who}");
    }
    assert_eq!(one.position(), batched.position());
    batched.conserved();
}

/// A batch is TICA's, of 1 to 512 settlement steps, each order in it signed by its
/// customer; anything else is refused whole and changes nothing.
#[test]
fn a_bad_batch_is_refused_whole() {
    let mut net = Net::new();
    let alice = demo_key("alice");
    let order = net.sell(&alice, 1_000, 1).unwrap();
    let step = ExchangeAction::SettleSell {
        order: Box::new(order.clone()),
    };
    let batch = |steps| Action::Exchange(ExchangeAction::SettleBatch { steps });
    assert_eq!(
        net.run("center", &alice, batch(vec![step.clone()])),
        Err("not_operator")
    );
    assert_eq!(net.operator("center", batch(Vec::new())), Err("batch_size"));
    let too_many = vec![step.clone(); 513];
    assert_eq!(net.operator("center", batch(too_many)), Err("batch_size"));
    let not_a_step = ExchangeAction::SetFee { fee_bps: 10 };
    assert_eq!(
        net.operator("center", batch(vec![step.clone(), not_a_step])),
        Err("not_a_step")
    );
    let mut forged = order.clone();
    forged.signature = demo_key("bob").sign(&forged.tx.id().0);
    let forged = ExchangeAction::SettleSell {
        order: Box::new(forged),
    };
    assert_eq!(
        net.operator("center", batch(vec![step.clone(), forged])),
        Err("bad_order_signature")
    );
    // Nothing of these settled the sale: a good batch still does.
    assert!(
        net.center
            .exchange()
            .unwrap()
            .trade(&order.tx.id())
            .is_none()
    );
    net.settle_batch("center", vec![step]).unwrap();
    let trade = net
        .center
        .exchange()
        .unwrap()
        .trade(&order.tx.id())
        .cloned();
    assert_eq!(trade.unwrap().status, TradeStatus::Filled);
    net.conserved();
}
