//! Anchoring's rule: only TICA records a brand chain's block hash, and only at a height
//! above the last one anchored.

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
        let AnchorAction::Anchor {
            chain,
            height,
            hash,
        } = action;
        if self.operator != Some(tx.sender) || !self.center_chain() {
            return Err(TxError::Ledger(LedgerError::NotOperator));
        }
        self.anchors.check(chain, *height)?;
        Ok(Change {
            anchor: Some((chain.clone(), *height, *hash)),
            ..Change::default()
        })
    }
}
