//! The app's pool: the envelope's pool of the domains' transactions, applied to the chain
//! state, which also tells each sender's standing.

use crate::Address;
use crate::error::TxError;
use crate::state::ChainState;
use crate::tx::{Action, Transaction};

pub use crate::envelope::pool::{Machine, MempoolError, PoolLimits, Share, Standing};

/// The bounded pool of verified transactions waiting for a block.
pub type Mempool = crate::envelope::pool::Mempool<Action>;
/// What a block takes from the pool.
pub type Selection = crate::envelope::pool::Selection<Action, TxError>;

impl Machine<Action> for ChainState {
    type Error = TxError;

    fn next_sequence(&self, account: &Address) -> u64 {
        ChainState::next_sequence(self, account)
    }

    fn apply(&mut self, tx: &Transaction, now_ms: u64) -> Result<(), TxError> {
        ChainState::apply(self, tx, now_ms)
    }
}

impl ChainState {
    /// What the chain says of `tx`'s sender for the pool, given its `share`, as `tx` arrives
    /// at `arrived_ms`: its committed sequence, whether it is a fresh key (holds nothing
    /// here, sent nothing), and what it holds of the asset `tx` plainly moves.
    pub fn standing(&self, tx: &Transaction, share: Share, arrived_ms: u64) -> Standing {
        use crate::envelope::Payload;
        let sender = &tx.sender;
        let next_sequence = self.next_sequence(sender);
        let holds_nothing = || {
            self.assets()
                .all(|(a, _)| self.balance(sender, &a.symbol).is_zero())
        };
        Standing {
            next_sequence,
            fresh: !share.known && next_sequence == 0 && holds_nothing(),
            holds: (tx.action.spends()).and_then(|(asset, _)| {
                let decimals = self.asset(asset)?.decimals;
                let held = self.balance(sender, asset).units();
                Some(crate::amount::Whole::new(held, decimals))
            }),
            share,
            arrived_ms,
        }
    }

    /// Whether `account` issues one of this chain's assets (a partner's issuer key).
    pub fn is_issuer(&self, account: &Address) -> bool {
        self.assets().any(|(a, _)| a.issuer == Some(*account))
    }
}
