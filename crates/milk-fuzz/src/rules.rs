//! Every domain's rules, fed any action by any account of the demo network: whatever the
//! action says (amounts up to `u128::MAX`, any address, any trade id, any policy), the rules
//! answer without panicking, a refusal changes nothing, and supply is conserved on both
//! chains after every transaction.
//!
//! The input is a sequence of transactions, each three bytes and an action in its canonical
//! encoding: the chain (even: the center chain, odd: the cinema brand chain), the sender
//! (an index into the demo network's keys), and how many seconds pass before it. The
//! envelope (chain, sender, sequence, expiry) is made right, so that what is searched is the
//! rules, not the envelope's checks (which `transaction` covers).

use milk_core::Address;
use milk_core::codec::{Decode, Reader};
use milk_core::genesis::{Genesis, demo_key, demo_labels};
use milk_core::state::ChainState;
use milk_core::tx::{Action, ExchangeAction, Transaction};
use std::sync::OnceLock;

/// At most this many transactions per input, so that one input stays fast.
const MAX_TXS: usize = 64;

/// The demo network's center and cinema chains at genesis with MLK priced, and every demo
/// account: made once, cloned for each input.
struct Start {
    center: ChainState,
    cinema: ChainState,
    senders: Vec<Address>,
    now_ms: u64,
}

fn start() -> &'static Start {
    static START: OnceLock<Start> = OnceLock::new();
    START.get_or_init(|| {
        let g = Genesis::demo();
        let (_, mut center) = g.genesis_block(g.center()).expect("the demo center chain");
        let cinema = g
            .chain(&"cinema".parse().unwrap())
            .expect("the demo cinema chain");
        let (_, cinema) = g.genesis_block(cinema).expect("the demo cinema chain");
        let now_ms = g.genesis_time_ms + 1_000;
        let operator = demo_key("operator").address();
        let price = Action::Exchange(ExchangeAction::OraclePrice {
            krw_e4: 10_000_000,
            observed_at_ms: now_ms,
        });
        let tx = envelope(&center, operator, now_ms, price);
        center.apply(&tx, now_ms).expect("the operator prices MLK");
        center.take_delta();
        let senders = demo_labels()
            .iter()
            .map(|l| demo_key(l).address())
            .collect();
        Start {
            center,
            cinema,
            senders,
            now_ms,
        }
    })
}

fn envelope(state: &ChainState, sender: Address, now_ms: u64, action: Action) -> Transaction {
    Transaction {
        chain: state.chain().clone(),
        sender,
        sequence: state.next_sequence(&sender),
        expires_at_ms: now_ms + 60_000,
        action,
    }
}

/// Applies the input's transactions in turn to the two chains; see the module's text.
pub fn actions(data: &[u8]) {
    let start = start();
    let mut chains = [start.center.clone(), start.cinema.clone()];
    let mut now_ms = start.now_ms;
    let mut r = Reader::new(data);
    for _ in 0..MAX_TXS {
        let (Ok(which), Ok(who), Ok(wait)) = (r.u8(), r.u8(), r.u8()) else {
            return;
        };
        let Ok(action) = Action::decode(&mut r) else {
            return;
        };
        now_ms += u64::from(wait) * 1_000;
        let state = &mut chains[usize::from(which % 2)];
        let sender = start.senders[usize::from(who) % start.senders.len()];
        apply(state, envelope(state, sender, now_ms, action), now_ms);
    }
}

/// One transaction: applied whole or refused with nothing changed, supply conserved.
fn apply(state: &mut ChainState, tx: Transaction, now_ms: u64) {
    let before = state.next_sequence(&tx.sender);
    let result = state.apply(&tx, now_ms);
    let delta = state.take_delta();
    match result {
        Ok(()) => assert_eq!(state.next_sequence(&tx.sender), before + 1),
        Err(e) => {
            assert_eq!(
                delta,
                Default::default(),
                "refused ({}) but changed",
                e.code()
            );
            assert_eq!(state.next_sequence(&tx.sender), before);
        }
    }
    if let Err(e) = state.check_conservation() {
        panic!(
            "{:?} on {} broke conservation: {e}",
            tx.action,
            state.chain()
        );
    }
}
