//! The alliance's rules on the center chain: who may apply, approve, admit, suspend and
//! reinstate, and what each records.

use super::action::AllianceAction;
use super::{AllianceWrite, Applied, Status};
use crate::ChainId;
use crate::error::LedgerError;
use crate::error::TxError;
use crate::state::{ChainState, Change, Event};
use crate::tx::Transaction;

impl ChainState {
    /// Checks an alliance action at block time `now_ms` and works out what it changes.
    pub(crate) fn check_alliance(
        &self,
        tx: &Transaction,
        action: &AllianceAction,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let (alliance, symbols) = self
            .alliance
            .as_ref()
            .ok_or(TxError::Ledger(LedgerError::NotOperator))?;
        let by_operator = || self.operator_only(tx);
        let status = |chain: &ChainId, from: Status, to: Status| -> Result<_, TxError> {
            by_operator()?;
            alliance.check_status(chain, from)?;
            Ok(AllianceWrite::Status(chain.clone(), to, now_ms))
        };
        let write = match action {
            AllianceAction::Apply { application } => {
                alliance.check_apply(&tx.sender, application, symbols)?;
                AllianceWrite::Apply(tx.sender, application.clone())
            }
            AllianceAction::Approve { chain } => {
                alliance.check_approve(&tx.sender, chain)?;
                AllianceWrite::Approve(tx.sender, chain.clone())
            }
            AllianceAction::SignAgreement { chain } => {
                by_operator()?;
                alliance.check_sign(chain)?;
                AllianceWrite::Status(chain.clone(), Status::Admitted, now_ms)
            }
            AllianceAction::Suspend { chain } => {
                status(chain, Status::Admitted, Status::Suspended)?
            }
            AllianceAction::Reinstate { chain } => {
                status(chain, Status::Suspended, Status::Admitted)?
            }
        };
        let mut change = Change::default();
        // Other domains answer an application (tokenomics: in phase 2 the applicant stakes
        // MLK, held while it is a member).
        if let AllianceWrite::Apply(applicant, a) = &write {
            let applied = Applied {
                applicant: *applicant,
                chain: a.chain.clone(),
            };
            change.events.push(Event::Applied(applied));
        }
        change.alliance = Some(write);
        Ok(change)
    }
}
