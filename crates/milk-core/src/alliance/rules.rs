//! The alliance's rules on the center chain: who may apply, approve, admit, suspend,
//! reinstate and leave, and what each records.

use super::action::AllianceAction;
use super::needs::AllianceNeeds;
use super::{AllianceWrite, Applied, Exited, Status};
use crate::ChainId;
use crate::error::TxError;
use crate::error::{AllianceError, LedgerError};
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
            AllianceAction::StartExit { .. } | AllianceAction::FinishExit { .. } => {
                self.check_exit(tx, action, alliance, now_ms)?
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
        // Tokenomics gives a partner that has left its stake back.
        if let AllianceWrite::Status(chain, Status::Exited, _) = &write {
            let issuer = (alliance.member(chain)).map(|m| m.issuer);
            if let Some(issuer) = issuer {
                let chain = chain.clone();
                change.events.push(Event::Exited(Exited { chain, issuer }));
            }
        }
        change.alliance = Some(write);
        Ok(change)
    }

    /// Checks the start of a member's exit (its issuer's, or TICA's for cause) or its finish
    /// (TICA's, from the final date, once no buy of its token is open).
    fn check_exit(
        &self,
        tx: &Transaction,
        action: &AllianceAction,
        alliance: &super::Alliance,
        now_ms: u64,
    ) -> Result<AllianceWrite, TxError> {
        match action {
            AllianceAction::StartExit { chain, final_ms } => {
                let by_operator = self.operator_only(tx).is_ok();
                let (sender, at) = (&tx.sender, now_ms);
                let exit =
                    (alliance).check_start_exit(chain, sender, by_operator, *final_ms, at)?;
                Ok(AllianceWrite::StartExit(chain.clone(), exit))
            }
            AllianceAction::FinishExit { chain } => {
                self.operator_only(tx)?;
                alliance.check_finish_exit(chain, now_ms)?;
                let open = self.open_buys(chain);
                if open > 0 {
                    return Err(TxError::Alliance(AllianceError::TradesOpen { open }));
                }
                Ok(AllianceWrite::Status(chain.clone(), Status::Exited, now_ms))
            }
            _ => unreachable!("check_alliance sends only exits here"),
        }
    }
}
