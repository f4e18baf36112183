//! The rules of a partner's brand chain: links, conversions, redemptions, refunds, expiry.

use super::action::{BrandAction, ConversionItem};
use super::needs::BrandNeeds;
use super::{BrandState, BrandWrite, ExitRecord, link_message};
use crate::Symbol;
use crate::error::TxError;
use crate::error::{BrandError, LedgerError};
use crate::keys;
use crate::state::{ChainState, Change, nonzero};
use crate::tx::Transaction;

impl ChainState {
    /// Checks a brand action at block time `now_ms` and works out what it changes.
    pub(crate) fn check_brand(
        &self,
        tx: &Transaction,
        action: &BrandAction,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let (asset, brand) = self.brand_or_err()?;
        let spec = self
            .asset(&asset)
            .ok_or(TxError::Ledger(LedgerError::UnknownAsset { asset }))?;
        let by_issuer = || match spec.issuer == Some(tx.sender) {
            true => Ok(()),
            false => Err(TxError::Ledger(LedgerError::NotIssuer { asset })),
        };
        let mut change = Change::default();
        match action {
            BrandAction::Link {
                customer_hash,
                partner_signature,
            } => {
                let issuer = spec
                    .issuer
                    .ok_or(TxError::Brand(BrandError::NotBrandChain))?;
                let link = (*customer_hash, *partner_signature);
                change
                    .brand
                    .push(self.check_link(tx, &issuer, link, brand)?);
            }
            BrandAction::Convert { .. }
            | BrandAction::ConvertBatch { .. }
            | BrandAction::Redeem { .. }
            | BrandAction::Refund { .. }
            | BrandAction::SetPolicy { .. }
            | BrandAction::Expire { .. } => {
                self.check_points(tx, action, (asset, brand), &by_issuer, &mut change, now_ms)?;
            }
            BrandAction::SetStanding { suspended } => {
                self.operator_only(tx)?;
                change.brand.push(BrandWrite::Standing(*suspended));
            }
            BrandAction::GrantConsent { .. }
            | BrandAction::WithdrawConsent { .. }
            | BrandAction::LogAccess { .. } => {
                self.check_sharing(tx, action, brand, &mut change, now_ms)?;
            }
            BrandAction::ReportCoupon { .. } | BrandAction::RefundCoupon { .. } => {
                by_issuer()?;
                let write = self.check_coupon(tx, action, brand, now_ms)?;
                change.brand.push(write);
            }
            BrandAction::SetExit { final_ms, closed } => {
                self.operator_only(tx)?;
                let exit = ExitRecord {
                    final_ms: *final_ms,
                    closed: *closed,
                };
                self.check_exit_record(exit, brand, asset, &mut change, now_ms)?;
            }
        }
        Ok(change)
    }

    /// Checks recording the partner's exit; closing it burns TICA's remaining stock.
    fn check_exit_record(
        &self,
        exit: ExitRecord,
        brand: &BrandState,
        asset: Symbol,
        change: &mut Change,
        now_ms: u64,
    ) -> Result<(), TxError> {
        change.brand.push(brand.plan_exit(exit, now_ms)?);
        if exit.closed {
            self.plan_stock_burn(change, asset, now_ms)?;
        }
        Ok(())
    }

    /// Checks what mints, burns or governs the points: conversions, redemptions, refunds,
    /// the partner's terms and expiry sweeps (`by_issuer` refuses anyone but the issuer).
    fn check_points(
        &self,
        tx: &Transaction,
        action: &BrandAction,
        (asset, brand): (Symbol, &BrandState),
        by_issuer: &dyn Fn() -> Result<(), TxError>,
        change: &mut Change,
        now_ms: u64,
    ) -> Result<(), TxError> {
        match action {
            BrandAction::Convert {
                to,
                mileage,
                reference,
            } => {
                by_issuer()?;
                let decimals = self.ledger().decimals(&asset);
                let item = ConversionItem {
                    to: *to,
                    mileage: *mileage,
                    reference: reference.clone(),
                };
                let write = brand.plan_convert(&item, tx.id(), now_ms, decimals)?;
                let BrandWrite::Convert { conversion, .. } = &write else {
                    unreachable!("plan_convert plans a conversion")
                };
                change.postings.mints.push((*to, asset, conversion.amount));
                change.brand.push(write);
            }
            BrandAction::ConvertBatch { items } => {
                by_issuer()?;
                let decimals = self.ledger().decimals(&asset);
                let plan = brand.plan_convert_batch(items, tx.id(), now_ms, decimals)?;
                let mints = plan.mints.into_iter().map(|(to, a)| (to, asset, a));
                change.postings.mints.extend(mints);
                change.brand.extend(plan.writes);
            }
            BrandAction::Redeem { amount, order_id } => {
                nonzero(*amount)?;
                change
                    .brand
                    .push(brand.plan_redeem(&tx.sender, *amount, order_id, now_ms)?);
                self.plan_token_burn(change, &tx.sender, &asset, *amount, now_ms)?;
            }
            BrandAction::Refund { order_id } => {
                by_issuer()?;
                let (redemption, write) = brand.plan_refund(order_id, now_ms)?;
                let to = redemption.redeemer;
                change.postings.mints.push((to, asset, redemption.amount));
                change.brand.push(write);
            }
            BrandAction::SetPolicy { terms } => {
                by_issuer()?;
                change.brand.push(brand.plan_terms(*terms)?);
            }
            BrandAction::Expire { account } => {
                by_issuer()?;
                let (amount, write) = brand.plan_expire(account, now_ms)?;
                change.postings.burns.push((*account, asset, amount));
                change.brand.push(write);
            }
            _ => unreachable!("check_brand sends only the points' actions here"),
        }
        Ok(())
    }

    /// Checks a customer's link, countersigned by the partner's issuer key `issuer`.
    fn check_link(
        &self,
        tx: &Transaction,
        issuer: &crate::Address,
        (customer_hash, partner_signature): (crate::Hash, crate::Signature),
        brand: &BrandState,
    ) -> Result<BrandWrite, TxError> {
        let message = link_message(self.chain(), &tx.sender, &customer_hash);
        if !keys::verify(issuer, &message.0, &partner_signature) {
            return Err(TxError::Brand(BrandError::BadPartnerSignature));
        }
        brand.check_link(&tx.sender, &customer_hash)?;
        Ok(BrandWrite::Link(tx.sender, customer_hash))
    }

    /// Checks a coupon payment's report or refund (the issuer's, checked by the caller):
    /// once each, until the partner's final date; a report gets its seal.
    fn check_coupon(
        &self,
        tx: &Transaction,
        action: &BrandAction,
        brand: &BrandState,
        now_ms: u64,
    ) -> Result<BrandWrite, TxError> {
        brand.check_honoured(now_ms)?;
        let (id, report) = match action {
            BrandAction::ReportCoupon {
                user,
                krw,
                coupon_id,
            } => {
                BrandState::check_reference(coupon_id)?;
                let seal = super::coupon::coupon_seal(self.chain(), &tx.id());
                brand.coupons().plan_report(*user, *krw, coupon_id, seal)?
            }
            BrandAction::RefundCoupon { user, coupon_id } => {
                brand.coupons().plan_refund(user, coupon_id)?
            }
            _ => unreachable!("check_brand sends only coupon actions here"),
        };
        Ok(BrandWrite::Coupon(id, report))
    }

    /// Plans burning what is left of TICA's stock of the token when its partner's exit
    /// finishes: nobody can buy it any more, and nobody honours it.
    fn plan_stock_burn(
        &self,
        change: &mut Change,
        asset: Symbol,
        now_ms: u64,
    ) -> Result<(), TxError> {
        match self.tica_stock(&asset) {
            Some((inventory, stock)) if !stock.is_zero() => {
                self.plan_token_burn(change, &inventory, &asset, stock, now_ms)
            }
            _ => Ok(()),
        }
    }

    /// Checks a consent, its withdrawal or a logged read: each names this chain, the
    /// partner it concerns; a leaving partner gets no new consent; only the operator logs.
    fn check_sharing(
        &self,
        tx: &Transaction,
        action: &BrandAction,
        brand: &BrandState,
        change: &mut Change,
        now_ms: u64,
    ) -> Result<(), TxError> {
        let (sharing, sender) = (brand.sharing(), tx.sender);
        let writes = match action {
            BrandAction::GrantConsent {
                chain,
                purpose,
                items,
                retention_days,
            } => {
                self.check_own_chain(chain)?;
                if brand.exit().is_some() {
                    return Err(TxError::Brand(BrandError::PartnerExiting));
                }
                vec![sharing.plan_grant(sender, purpose, items, *retention_days, now_ms)?]
            }
            BrandAction::WithdrawConsent { chain } => {
                self.check_own_chain(chain)?;
                vec![sharing.plan_withdraw(sender, now_ms)?]
            }
            BrandAction::LogAccess { chain, users } => {
                self.operator_only(tx)?;
                self.check_own_chain(chain)?;
                sharing.plan_log(users, tx.id(), now_ms)?
            }
            _ => unreachable!("check_brand sends only data-sharing actions here"),
        };
        change
            .brand
            .extend(writes.into_iter().map(BrandWrite::Sharing));
        Ok(())
    }

    /// Refuses a consent that names another partner's chain than this one.
    fn check_own_chain(&self, chain: &crate::ChainId) -> Result<(), TxError> {
        if chain == self.chain() {
            return Ok(());
        }
        Err(TxError::Brand(BrandError::InvalidConsent(format!(
            "a consent to {chain} is kept on {chain}'s own chain: send it there"
        ))))
    }

    /// This brand chain's token and partner records, or `not_brand_chain`.
    fn brand_or_err(&self) -> Result<(Symbol, &BrandState), TxError> {
        self.brand
            .as_ref()
            .map(|(s, b)| (*s, b))
            .ok_or(TxError::Brand(BrandError::NotBrandChain))
    }
}
