//! The bridge's records: withdrawals, batches and deposits by key, each account's daily
//! total, and the policy once TICA changed it.

use super::{Batch, Bridge, BridgePolicy, Deposit, DepositKey, DepositStatus, Withdrawal};
use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use crate::ledger::DomainRecords;
use crate::{Address, Amount};

/// The bridge's record namespaces (center chain).
pub mod record {
    use super::DepositKey;

    /// `WITHDRAWAL ‖ number (u64)` → the withdrawal.
    pub const WITHDRAWAL: u8 = 64;
    /// `BATCH ‖ number (u64)` → the batch.
    pub const BATCH: u8 = 65;
    /// `DEPOSIT ‖ main-chain tx (32) ‖ log index (u64)` → the deposit.
    pub const DEPOSIT: u8 = 66;
    /// `DAILY ‖ account (32)` → the UTC day (u64) and what the account withdrew on it.
    pub const DAILY: u8 = 67;
    /// `POLICY` → the policy TICA set last.
    pub const POLICY: u8 = 68;
    /// `TOTALS` → the queue's and the totals' state ([`super::Totals`]), so a reader finds
    /// the next withdrawal without scanning them.
    pub const TOTALS: u8 = 69;
    /// `WITHDRAWAL_ID ‖ id (32)` → the withdrawal's number (u64): the vault names a
    /// withdrawal by its id.
    pub const WITHDRAWAL_ID: u8 = 70;
    /// `DEPOSIT_NUMBER ‖ number (u64)` → the deposit's key, in the order deposits were
    /// recorded.
    pub const DEPOSIT_NUMBER: u8 = 71;
    /// `ACCOUNT ‖ account (32) ‖ kind (1) ‖ number (u64)` → nothing: one account's
    /// withdrawals ([`ACCOUNT_WITHDRAWAL`]) and credited deposits ([`ACCOUNT_DEPOSIT`]),
    /// each a key range, so listing them reads only theirs.
    pub const ACCOUNT: u8 = 72;
    /// The kind of an [`ACCOUNT`] record naming a withdrawal.
    pub const ACCOUNT_WITHDRAWAL: u8 = 0;
    /// The kind of an [`ACCOUNT`] record naming a deposit, by its number.
    pub const ACCOUNT_DEPOSIT: u8 = 1;
    /// The bridge's namespaces.
    pub const NAMESPACES: &[u8] = &[
        WITHDRAWAL,
        BATCH,
        DEPOSIT,
        DAILY,
        POLICY,
        TOTALS,
        WITHDRAWAL_ID,
        DEPOSIT_NUMBER,
        ACCOUNT,
    ];

    /// A numbered record's key.
    pub fn numbered(ns: u8, number: u64) -> Vec<u8> {
        let mut k = vec![ns];
        k.extend_from_slice(&number.to_be_bytes());
        k
    }

    /// The deposit a record's key names, if it is a deposit's.
    pub fn deposit_key(key: &[u8]) -> Option<DepositKey> {
        let rest = key.strip_prefix(&[DEPOSIT])?;
        let (tx, index) = (
            rest.get(..32)?.try_into().ok()?,
            rest.get(32..)?.try_into().ok()?,
        );
        Some(DepositKey {
            tx: crate::Hash(tx),
            log_index: u64::from_be_bytes(index),
        })
    }

    /// A deposit's key.
    pub fn deposit(key: &DepositKey) -> Vec<u8> {
        let mut k = vec![DEPOSIT];
        k.extend_from_slice(&key.tx.0);
        k.extend_from_slice(&key.log_index.to_be_bytes());
        k
    }

    /// The key of the record giving withdrawal `id`'s number.
    pub fn withdrawal_id(id: &crate::Hash) -> Vec<u8> {
        let mut k = vec![WITHDRAWAL_ID];
        k.extend_from_slice(&id.0);
        k
    }

    /// The prefix of one account's records of one kind; append a number (big-endian) for
    /// one record's key.
    pub fn account(account: &crate::Address, kind: u8) -> Vec<u8> {
        let mut k = vec![ACCOUNT];
        k.extend_from_slice(account.as_bytes());
        k.push(kind);
        k
    }

    /// The number at the end of an [`ACCOUNT`] or numbered record's key.
    pub fn trailing_number(key: &[u8]) -> Option<u64> {
        let at = key.len().checked_sub(8)?;
        Some(u64::from_be_bytes(key[at..].try_into().ok()?))
    }

    /// A deposit key as a [`DEPOSIT_NUMBER`] record's value holds it.
    pub fn deposit_key_bytes(key: &DepositKey) -> Vec<u8> {
        deposit(key)[1..].to_vec()
    }

    /// The deposit key a [`DEPOSIT_NUMBER`] record's value holds.
    pub fn deposit_key_from_value(value: &[u8]) -> Option<DepositKey> {
        let mut k = vec![DEPOSIT];
        k.extend_from_slice(value);
        (k.len() == 41).then(|| deposit_key(&k)).flatten()
    }
}

/// A record a block changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Touched {
    Withdrawal(u64),
    Batch(u64),
    Deposit(DepositKey),
    Daily(Address),
    Policy,
    Totals,
    /// A new withdrawal's id, and its number.
    WithdrawalId(crate::Hash, u64),
    /// A new deposit's number, and its key.
    DepositNumber(u64, DepositKey),
    /// One account's withdrawal or deposit: the kind, and its number.
    Account(Address, u8, u64),
}

/// Where the queue stands and what crossed, as one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// The number the next withdrawal takes.
    pub next_withdrawal: u64,
    /// The first withdrawal no batch sealed.
    pub first_unsealed: u64,
    /// The number the next batch takes.
    pub next_batch: u64,
    /// MLK that left (withdrawals and refunds), base units.
    pub out_total: Amount,
    /// MLK whose release TICA recorded, base units.
    pub released_total: Amount,
    /// Deposits recorded, base units.
    pub in_total: Amount,
    /// The number the next deposit takes.
    pub next_deposit: u64,
    /// Deposits held (their milk address not a usable key), base units.
    pub held_total: Amount,
    /// Refunds of held deposits (part of `out_total`, burning nothing here), base units.
    pub refund_total: Amount,
}

impl Totals {
    /// Whether a deposit of `amount` keeps deposits within what ever left (with the main
    /// chain's starting float); if not, what deposits would reach and the bound.
    pub fn admits_deposit(
        &self,
        main_float: Amount,
        amount: Amount,
    ) -> Result<(), (Amount, Amount)> {
        let bound = self
            .out_total
            .checked_add(main_float)
            .unwrap_or(Amount::MAX);
        match self.in_total.checked_add(amount) {
            Some(would_be) if would_be <= bound => Ok(()),
            would_be => Err((would_be.unwrap_or(Amount::MAX), bound)),
        }
    }
}

impl Encode for Totals {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.next_withdrawal)
            .u64(self.first_unsealed)
            .u64(self.next_batch);
        w.put(&self.out_total)
            .put(&self.released_total)
            .put(&self.in_total)
            .u64(self.next_deposit)
            .put(&self.held_total)
            .put(&self.refund_total);
    }
}

impl Decode for Totals {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Totals {
            next_withdrawal: r.u64()?,
            first_unsealed: r.u64()?,
            next_batch: r.u64()?,
            out_total: r.get()?,
            released_total: r.get()?,
            in_total: r.get()?,
            next_deposit: r.u64()?,
            held_total: r.get()?,
            refund_total: r.get()?,
        })
    }
}

impl Encode for BridgePolicy {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.fee).put(&self.minimum).put(&self.daily_limit);
    }
}

impl Decode for BridgePolicy {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(BridgePolicy {
            fee: r.get()?,
            minimum: r.get()?,
            daily_limit: r.get()?,
        })
    }
}

fn put_option_u64(w: &mut Writer, v: Option<u64>) {
    match v {
        Some(v) => w.u8(1).u64(v),
        None => w.u8(0),
    };
}

fn get_option<T>(
    r: &mut Reader<'_>,
    get: impl FnOnce(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<Option<T>, DecodeError> {
    match r.u8()? {
        0 => Ok(None),
        1 => get(r).map(Some),
        tag => Err(DecodeError::UnknownTag {
            what: "option",
            tag,
        }),
    }
}

impl Encode for Withdrawal {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.id).fixed(self.account.as_bytes()).put(&self.to);
        w.put(&self.amount)
            .put(&self.fee)
            .u64(self.at_ms)
            .u8(u8::from(self.refund));
        put_option_u64(w, self.batch);
        match &self.released {
            Some(h) => w.u8(1).put(h),
            None => w.u8(0),
        };
    }
}

impl Decode for Withdrawal {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Withdrawal {
            id: r.get()?,
            account: Address::from_stored(r.array()?),
            to: r.get()?,
            amount: r.get()?,
            fee: r.get()?,
            at_ms: r.u64()?,
            refund: r.u8()? == 1,
            batch: get_option(r, |r| r.u64())?,
            released: get_option(r, |r| r.get())?,
        })
    }
}

impl Encode for Batch {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.first)
            .u32(self.count)
            .put(&self.root)
            .u64(self.at_ms);
    }
}

impl Decode for Batch {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Batch {
            first: r.u64()?,
            count: r.u32()?,
            root: r.get()?,
            at_ms: r.u64()?,
        })
    }
}

impl Encode for Deposit {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.number)
            .put(&self.from)
            .put(&self.milk)
            .put(&self.amount)
            .u64(self.block)
            .u64(self.at_ms);
        match self.status {
            DepositStatus::Credited => w.u8(0),
            DepositStatus::Held => w.u8(1),
            DepositStatus::Refunded { withdrawal } => w.u8(2).u64(withdrawal),
        };
    }
}

impl Decode for Deposit {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Deposit {
            number: r.u64()?,
            from: r.get()?,
            milk: r.get()?,
            amount: r.get()?,
            block: r.u64()?,
            at_ms: r.u64()?,
            status: match r.u8()? {
                0 => DepositStatus::Credited,
                1 => DepositStatus::Held,
                2 => DepositStatus::Refunded {
                    withdrawal: r.u64()?,
                },
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "deposit status",
                        tag,
                    });
                }
            },
        })
    }
}

impl Bridge {
    fn record(&self, t: Touched) -> (Vec<u8>, Option<Vec<u8>>) {
        match t {
            Touched::Withdrawal(n) => (
                record::numbered(record::WITHDRAWAL, n),
                self.withdrawals.get(&n).map(Encode::to_bytes),
            ),
            Touched::Batch(n) => (
                record::numbered(record::BATCH, n),
                self.batches.get(&n).map(Encode::to_bytes),
            ),
            Touched::Deposit(k) => (
                record::deposit(&k),
                self.deposits.get(&k).map(Encode::to_bytes),
            ),
            Touched::Daily(a) => {
                let mut k = vec![record::DAILY];
                k.extend_from_slice(a.as_bytes());
                let value = self.daily.get(&a).map(|(day, used)| {
                    let mut w = Writer::default();
                    w.u64(*day).put(used);
                    w.into_bytes()
                });
                (k, value)
            }
            Touched::Policy => (vec![record::POLICY], Some(self.policy.to_bytes())),
            Touched::Totals => (vec![record::TOTALS], Some(self.totals().to_bytes())),
            Touched::WithdrawalId(id, n) => (record::withdrawal_id(&id), Some(n.to_bytes())),
            Touched::DepositNumber(n, k) => (
                record::numbered(record::DEPOSIT_NUMBER, n),
                Some(record::deposit_key_bytes(&k)),
            ),
            Touched::Account(a, kind, n) => {
                let mut k = record::account(&a, kind);
                k.extend_from_slice(&n.to_be_bytes());
                (k, Some(Vec::new()))
            }
        }
    }

    fn every_touched(&self) -> Vec<Touched> {
        let mut all: Vec<Touched> = (self.withdrawals.keys().map(|n| Touched::Withdrawal(*n)))
            .chain(self.batches.keys().map(|n| Touched::Batch(*n)))
            .chain(self.deposits.keys().map(|k| Touched::Deposit(*k)))
            .chain(self.daily.keys().map(|a| Touched::Daily(*a)))
            .chain(self.withdrawals.iter().flat_map(|(n, w)| w.indexes(*n)))
            .chain(self.deposits.iter().flat_map(|(k, d)| d.indexes(k)))
            .collect();
        if self.policy != self.config.policy {
            all.push(Touched::Policy);
        }
        if !(self.withdrawals.is_empty() && self.deposits.is_empty()) {
            all.push(Touched::Totals);
        }
        all
    }

    fn restore_one(&mut self, key: &[u8], value: &[u8]) -> Result<(), DecodeError> {
        let (ns, rest) = key.split_first().ok_or(DecodeError::Invalid {
            what: "bridge record",
            reason: "empty key".into(),
        })?;
        let number = || Reader::new(rest).get::<u64>();
        match *ns {
            record::WITHDRAWAL => {
                let w = Withdrawal::from_bytes(value)?;
                self.out_total += w.amount.units();
                if w.refund {
                    self.refund_total += w.amount.units();
                }
                if w.released.is_some() {
                    self.released_total += w.amount.units();
                }
                self.withdrawals.insert(number()?, w);
            }
            record::BATCH => {
                self.batches.insert(number()?, Batch::from_bytes(value)?);
            }
            record::DEPOSIT => {
                let key = record::deposit_key(key).ok_or(DecodeError::Invalid {
                    what: "bridge record",
                    reason: "a deposit's key is 41 bytes".into(),
                })?;
                let d = Deposit::from_bytes(value)?;
                self.in_total += d.amount.units();
                if d.status == DepositStatus::Held {
                    self.held_total += d.amount.units();
                }
                self.deposits.insert(key, d);
            }
            record::DAILY => {
                let account = Address::from_stored(Reader::new(rest).array()?);
                let mut r = Reader::new(value);
                let day = r.u64()?;
                let used: Amount = r.get()?;
                self.daily.insert(account, (day, used));
            }
            record::POLICY => self.policy = BridgePolicy::from_bytes(value)?,
            // Derived from the others, which are restored already or will be.
            record::TOTALS => drop(Totals::from_bytes(value)?),
            record::WITHDRAWAL_ID | record::DEPOSIT_NUMBER | record::ACCOUNT => {}
            _ => {
                return Err(DecodeError::Invalid {
                    what: "bridge record",
                    reason: format!("no bridge namespace {ns}"),
                });
            }
        }
        Ok(())
    }
}

impl DomainRecords for Bridge {
    fn namespaces(&self) -> &'static [u8] {
        record::NAMESPACES
    }

    fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let touched = std::mem::take(&mut self.touched);
        touched.into_iter().map(|t| self.record(t)).collect()
    }

    fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let all = self.every_touched().into_iter().map(|t| self.record(t));
        all.filter_map(|(k, v)| Some((k, v?))).collect()
    }

    fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
        self.restore_one(key, value).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hash;
    use crate::bridge::{BridgeConfig, BridgeWrite, MainAddress};

    fn bridge() -> Bridge {
        Bridge::new(BridgeConfig {
            asset: "MLK".parse().unwrap(),
            policy: BridgePolicy {
                fee: Amount::new(5),
                minimum: Amount::new(10),
                daily_limit: Amount::new(1_000),
            },
            main_float: Amount::ZERO,
        })
    }

    /// A bridge with one of each record: a released withdrawal, its batch, a held
    /// deposit, a day's total and a policy of TICA's.
    fn one_of_each() -> Bridge {
        let mut b = bridge();
        let to: MainAddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
            .parse()
            .unwrap();
        let account = crate::Keypair::from_label("alice").address();
        let w = Withdrawal {
            id: Hash([7; 32]),
            account,
            to,
            amount: Amount::new(100),
            fee: Amount::new(5),
            at_ms: 9,
            refund: false,
            batch: Some(0),
            released: Some(Hash([8; 32])),
        };
        b.write(BridgeWrite::Withdrawal(0, w));
        let root = Hash(b.tree_of(0, 1).unwrap().root());
        b.write(BridgeWrite::Batch(
            0,
            Batch {
                first: 0,
                count: 1,
                root,
                at_ms: 9,
            },
        ));
        let key = DepositKey {
            tx: Hash([1; 32]),
            log_index: 3,
        };
        let deposit = Deposit {
            number: 0,
            from: to,
            milk: Hash(*account.as_bytes()),
            amount: Amount::new(40),
            block: 12,
            at_ms: 10,
            status: DepositStatus::Held,
        };
        b.write(BridgeWrite::Deposit(key, deposit));
        b.write(BridgeWrite::Daily(account, 1, Amount::new(100)));
        let mut p = b.policy().clone();
        p.fee = Amount::new(6);
        b.write(BridgeWrite::Policy(p));
        b
    }

    #[test]
    fn every_record_restores_to_the_same_state() {
        let mut b = one_of_each();
        let records = b.records();
        // Six records, and four indexes: the withdrawal's id and its account's line, the
        // deposit's number and its account's line.
        assert_eq!(records.len(), 10);
        let mut written: Vec<_> = b.take_records().into_iter().collect();
        written.sort();
        let mut all: Vec<_> = records
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        all.sort();
        assert_eq!(written, all, "a block writes every record, its indexes too");
        let mut back = bridge();
        for (k, v) in &records {
            assert!(back.restore(k, v), "record {} restores", hex::encode(k));
        }
        assert_eq!(back.records(), records);
        assert_eq!(back.totals(), b.totals());
        assert_eq!(
            (back.out_total(), back.in_total(), back.totals().held_total),
            (Amount::new(100), Amount::new(40), Amount::new(40))
        );
        assert_eq!(back.totals().refund_total, Amount::ZERO);
        assert!(!back.restore(&[record::WITHDRAWAL, 0], &[1, 2]));
    }
}
