//! The app's pool: the envelope's pool of the domains' transactions, applied to the chain
//! state.

use crate::Address;
use crate::error::TxError;
use crate::state::ChainState;
use crate::tx::{Action, Transaction};

pub use crate::envelope::pool::{Machine, MempoolError};

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
