//! The rules of transfers, mints and burns, on any chain.

use super::action::TokenAction;
use super::needs::TokenNeeds;
use crate::error::TxError;
use crate::error::{BrandError, LedgerError};
use crate::state::{ChainState, Change, nonzero};
use crate::tx::Transaction;
use crate::{Address, Amount, Symbol};

impl ChainState {
    /// Checks a token action at block time `now_ms` and works out what it changes.
    pub(crate) fn check_token(
        &self,
        tx: &Transaction,
        action: &TokenAction,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let asset = *action.asset();
        let spec = self
            .asset(&asset)
            .ok_or(TxError::Ledger(LedgerError::UnknownAsset { asset }))?;
        let mut change = Change::default();
        match action {
            TokenAction::Transfer { to, amount, .. } => {
                nonzero(*amount)?;
                if *to == tx.sender {
                    return Err(TxError::Ledger(LedgerError::SelfTransfer));
                }
                if !self.transfers_allowed() {
                    return Err(TxError::Brand(BrandError::TransfersDisabled));
                }
                self.spend(&mut change, &tx.sender, Some(*to), &asset, *amount, now_ms)?;
                change.postings.moves.push((tx.sender, *to, asset, *amount));
            }
            TokenAction::Mint { to, amount, .. } => {
                nonzero(*amount)?;
                if spec.issuer != Some(tx.sender) {
                    return Err(TxError::Ledger(LedgerError::NotIssuer { asset }));
                }
                change.postings.mints.push((*to, asset, *amount));
            }
            TokenAction::Burn { amount, .. } => {
                self.plan_burn(&mut change, &tx.sender, &asset, *amount, now_ms)?;
            }
        }
        Ok(change)
    }

    /// Plans destroying `amount` of the sender's own `asset`, whatever the reason.
    pub(crate) fn plan_burn(
        &self,
        change: &mut Change,
        sender: &Address,
        asset: &Symbol,
        amount: Amount,
        now_ms: u64,
    ) -> Result<(), TxError> {
        nonzero(amount)?;
        self.spend(change, sender, None, asset, amount, now_ms)?;
        change.postings.burns.push((*sender, *asset, amount));
        Ok(())
    }

    /// Checks that `account` can spend `amount`: it holds that much, and on a brand chain
    /// whose tokens expire, that much unexpired (the lots taken are planned into `change`).
    fn spend(
        &self,
        change: &mut Change,
        account: &Address,
        to: Option<Address>,
        asset: &Symbol,
        amount: Amount,
        now_ms: u64,
    ) -> Result<(), TxError> {
        let available = self.balance(account, asset);
        let short = |available| TxError::Ledger(self.ledger().short(*asset, available, amount));
        if available < amount {
            return Err(short(available));
        }
        let lots = self.plan_lots(account, to, available, amount, now_ms);
        change.brand.extend(lots.map_err(short)?);
        Ok(())
    }
}
