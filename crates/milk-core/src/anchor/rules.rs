//! Anchoring's rule: only TICA records a seal of a brand chain's block, numbered after the
//! chain's last anchor, and never the same seal twice in a row.

use super::action::AnchorAction;
use super::needs::AnchorNeeds;
use crate::error::{LedgerError, TxError};
use crate::state::{ChainState, Change};
use crate::tx::Transaction;

impl ChainState {
    /// Checks an anchor and works out the record it writes.
    pub(crate) fn check_anchor(
        &self,
        tx: &Transaction,
        action: &AnchorAction,
    ) -> Result<Change, TxError> {
        let AnchorAction::Anchor { chain, seal } = action;
        if self.operator != Some(tx.sender) || !self.center_chain() {
            return Err(TxError::Ledger(LedgerError::NotOperator));
        }
        let number = self.anchors.check(chain, seal)?;
        Ok(Change {
            anchor: Some((chain.clone(), number, *seal)),
            ..Change::default()
        })
    }
}
