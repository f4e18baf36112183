//! The producer set's rule: only TICA changes it, to a set of usable keys that keeps the
//! genesis producer.

use super::action::ProducersAction;
use crate::error::{LedgerError, TxError};
use crate::state::{ChainState, Change};
use crate::tx::Transaction;

impl ChainState {
    /// Checks a change of the producer set and works out the record it writes.
    pub(crate) fn check_producers(
        &self,
        tx: &Transaction,
        action: &ProducersAction,
    ) -> Result<Change, TxError> {
        let ProducersAction::SetProducers { producers } = action;
        if self.producers.authority() != Some(&tx.sender) {
            return Err(TxError::Ledger(LedgerError::NotOperator));
        }
        self.producers.check_change(producers)?;
        Ok(Change {
            producers: Some(producers.clone()),
            ..Change::default()
        })
    }
}
