//! The reference model: what the supplies must be, from the committed blocks alone. Every
//! transaction in a committed block applied (the producer leaves refused ones out), so the
//! model adds each conversion's mint at the partner's rate, takes each redemption's burn and
//! gives each refund back (a reference converted twice or an order refunded twice is a
//! double mint), takes each expiry sweep's burn (exactly the account's lots that were due
//! by the block's day, as they stood before the block), and takes each MLK burned for LZM
//! off MLK's supply. Trades, transfers, rewards and fees move tokens without changing their
//! supply, so after every block each chain's supply must be exactly the model's.

use milk_core::Address;
use milk_core::block::Block;
use milk_core::ledger::DAY_MS;
use milk_core::tx::{Action, BrandAction, BridgeAction, MembershipAction};
use std::collections::{BTreeMap, BTreeSet};

/// MLK on the center chain as the model computes it: its supply, and what was burned.
pub struct Mlk {
    /// The supply.
    pub supply: u128,
    /// Burned since genesis (for LZM, and by withdrawals to the main chain).
    pub burned: u128,
}

impl Mlk {
    /// Takes in a committed block of the center chain: burns for LZM and withdrawals to
    /// the main chain take MLK away, deposits naming a usable key bring it back.
    pub fn block(&mut self, block: &Block) {
        for tx in &block.txs {
            match &tx.tx.action {
                Action::Membership(MembershipAction::BurnForLzm { amount })
                | Action::Bridge(BridgeAction::Withdraw { amount, .. }) => {
                    self.supply -= amount.units();
                    self.burned += amount.units();
                }
                Action::Bridge(BridgeAction::RecordDeposit { milk, amount, .. })
                    if milk_core::Address::from_bytes(milk.0).is_ok() =>
                {
                    self.supply += amount.units();
                }
                _ => {}
            }
        }
    }
}

/// The airline token's supply as the model computes it.
pub struct Supply {
    total: u128,
    units_per_mileage: u128,
    references: BTreeSet<String>,
    /// Redemptions: order id → (amount, refunded).
    redemptions: BTreeMap<String, (u128, bool)>,
}

impl Supply {
    /// The supply at genesis, and the partner's conversion rate.
    pub fn new(total: u128, units_per_mileage: u64) -> Supply {
        Supply {
            total,
            units_per_mileage: u128::from(units_per_mileage),
            references: BTreeSet::new(),
            redemptions: BTreeMap::new(),
        }
    }

    /// The supply.
    pub fn total(&self) -> u128 {
        self.total
    }

    /// Takes in a committed block of the airline's chain, whose accounts held `before`.
    pub fn block(&mut self, block: &Block, before: &Lots) -> Result<(), String> {
        for tx in &block.txs {
            let Action::Brand(action) = &tx.tx.action else {
                continue;
            };
            if let BrandAction::Expire { account } = action {
                let lots = before.get(account).map_or(&[][..], Vec::as_slice);
                self.total -= due(lots, block.header.time_ms);
            }
            self.action(action)?;
        }
        Ok(())
    }

    fn action(&mut self, action: &BrandAction) -> Result<(), String> {
        match action {
            BrandAction::Convert {
                mileage, reference, ..
            } => {
                if !self.references.insert(reference.clone()) {
                    return Err(format!("reference {reference} converted twice"));
                }
                self.total += u128::from(*mileage) * self.units_per_mileage;
            }
            BrandAction::Redeem { amount, order_id } => {
                self.redemptions
                    .insert(order_id.clone(), (amount.units(), false));
                self.total -= amount.units();
            }
            BrandAction::Refund { order_id } => {
                let r = self.redemptions.get_mut(order_id);
                let r = r.ok_or(format!("order {order_id} refunded but never redeemed"))?;
                if r.1 {
                    return Err(format!("order {order_id} refunded twice"));
                }
                r.1 = true;
                self.total += r.0;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Accounts' expiring lots, as `(the UTC day they expire at the start of, base units)`.
pub type Lots = BTreeMap<Address, Vec<(u64, u128)>>;

/// What of `lots` is due (has expired) on the UTC day of `time_ms`.
pub fn due(lots: &[(u64, u128)], time_ms: u64) -> u128 {
    let today = time_ms / DAY_MS;
    lots.iter()
        .filter(|(day, _)| *day <= today)
        .map(|l| l.1)
        .sum()
}
