//! The alliance on the center chain: which partners are members, and how a new one joins.
//!
//! A company applies with its brand chain, sector, token and policy, signing with the key
//! that will issue its token. Each member partner approves with its own issuer key; once a
//! quorum has (default: every member at the time of the application), TICA signs the
//! service agreement and the applicant is admitted. Only one partner per sector: a sector
//! held by a member or a pending applicant is refused. TICA can suspend a member (trading
//! halts, redemptions go on) and reinstate it.
//!
//! A member leaves with notice: it (or TICA, for cause) starts its exit, naming the final
//! date until which it honours redemptions, at least the alliance's notice period away.
//! From then on its chain converts nothing and its market only buys back (customers sell,
//! never buy); at the final date the market closes. Once no buy is open, TICA finishes the
//! exit: the stake comes back, rewards stop for good, and the sector is free again. The
//! brand chain stays: readable and verifiable by those who could read it before.

pub mod action;
pub mod error;
pub(crate) mod needs;
pub(crate) mod rules;
use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use crate::{Address, Amount, ChainId, Symbol};
use error::AllianceError;
use needs::{BrandPolicy, check_policy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The longest partner name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// Whether two sector names name one sector: case and surrounding spaces aside
/// (`Fitness` is `fitness`).
pub fn same_sector(a: &str, b: &str) -> bool {
    sector_key(a) == sector_key(b)
}

/// A sector name as sectors are told apart.
pub fn sector_key(sector: &str) -> String {
    sector.trim().to_lowercase()
}

/// The longest sector name, in bytes.
pub const MAX_SECTOR_BYTES: usize = 32;

/// What an applicant asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    /// The brand chain to create.
    pub chain: ChainId,
    /// The company's display name.
    pub name: String,
    /// Its industry sector; one partner per sector.
    pub sector: String,
    /// Its Brand Token's ticker.
    pub symbol: Symbol,
    /// Its Brand Token's decimals.
    pub decimals: u8,
    /// Its rules for the token.
    pub policy: BrandPolicy,
    /// Tokens issued to TICA's inventory when the chain is created, base units.
    pub initial_float: Amount,
}

impl Encode for BrandPolicy {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.redemption_value_krw)
            .u32(u32::from(self.min_price_bps))
            .u64(self.units_per_mileage)
            .put(&self.min_conversion)
            .put(&self.max_conversion)
            .put(&self.daily_user_limit)
            .u8(u8::from(self.transfers_allowed));
        match self.expiry_days {
            Some(d) => w.u8(1).u32(d),
            None => w.u8(0),
        };
    }
}

impl Decode for BrandPolicy {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let invalid = |what: &'static str| DecodeError::Invalid {
            what,
            reason: "out of range".into(),
        };
        Ok(BrandPolicy {
            redemption_value_krw: r.u64()?,
            min_price_bps: u16::try_from(r.u32()?).map_err(|_| invalid("min price"))?,
            units_per_mileage: r.u64()?,
            min_conversion: r.get()?,
            max_conversion: r.get()?,
            daily_user_limit: r.get()?,
            transfers_allowed: match r.u8()? {
                0 => false,
                1 => true,
                _ => return Err(invalid("transfers allowed")),
            },
            expiry_days: match r.u8()? {
                0 => None,
                1 => Some(r.u32()?),
                _ => return Err(invalid("expiry")),
            },
        })
    }
}

impl Encode for Application {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.chain)
            .str(&self.name)
            .str(&self.sector)
            .put(&self.symbol)
            .u8(self.decimals)
            .put(&self.policy)
            .put(&self.initial_float);
    }
}

impl Decode for Application {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Application {
            chain: r.get()?,
            name: r.str("partner name", MAX_NAME_BYTES)?.to_owned(),
            sector: r.str("sector", MAX_SECTOR_BYTES)?.to_owned(),
            symbol: r.get()?,
            decimals: r.u8()?,
            policy: r.get()?,
            initial_float: r.get()?,
        })
    }
}

/// Where a partner stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Applied; waiting for approvals and TICA's signature.
    Applied,
    /// A member.
    Admitted,
    /// A member whose trading is halted; redemptions go on.
    Suspended,
    /// Leaving: no conversions, its market only buys back, redemptions go on until the
    /// exit's final date.
    Exiting,
    /// Gone: its sector is free; its chain stays readable.
    Exited,
}

impl Status {
    /// Whether a partner in this status is (still) a member: admitted, suspended or leaving.
    pub fn is_member(self) -> bool {
        matches!(self, Status::Admitted | Status::Suspended | Status::Exiting)
    }

    /// Whether it has a say in the alliance (approves newcomers, counts in a quorum).
    pub fn votes(self) -> bool {
        matches!(self, Status::Admitted | Status::Suspended)
    }

    fn tag(self) -> u8 {
        match self {
            Status::Applied => 0,
            Status::Admitted => 1,
            Status::Suspended => 2,
            Status::Exiting => 3,
            Status::Exited => 4,
        }
    }

    fn from_tag(tag: u8) -> Result<Status, DecodeError> {
        Ok(match tag {
            0 => Status::Applied,
            1 => Status::Admitted,
            2 => Status::Suspended,
            3 => Status::Exiting,
            4 => Status::Exited,
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "partner status",
                    tag,
                });
            }
        })
    }
}

/// A partner's exit, as it was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    /// When it started (block time, Unix ms): conversions and buys stopped then.
    pub started_ms: u64,
    /// The final date the partner committed to (Unix ms): redemptions and sales until then.
    pub final_ms: u64,
    /// Whether TICA started it, for cause, rather than the partner.
    pub for_cause: bool,
}

impl Encode for Exit {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.started_ms)
            .u64(self.final_ms)
            .u8(u8::from(self.for_cause));
    }
}

impl Decode for Exit {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Exit {
            started_ms: r.u64()?,
            final_ms: r.u64()?,
            for_cause: match r.u8()? {
                0 => false,
                1 => true,
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "exit cause",
                        tag,
                    });
                }
            },
        })
    }
}

/// The shortest notice a partner gives before its final date, unless the genesis says
/// otherwise: 30 days.
pub const DEFAULT_EXIT_NOTICE_MS: u64 = 30 * 86_400_000;
/// The furthest final date from an exit's start: one year.
pub const MAX_EXIT_NOTICE_MS: u64 = 365 * 86_400_000;

/// A partner, or an applicant, as the center chain records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// What it applied for (for genesis partners: what genesis says).
    pub application: Application,
    /// Its issuer key.
    pub issuer: Address,
    /// Where it stands.
    pub status: Status,
    /// Members that approved its application.
    pub approvals: BTreeSet<Address>,
    /// Approvals it needs before TICA may sign.
    pub quorum: u32,
    /// When TICA signed its agreement (block time, Unix ms); its brand chain starts then.
    /// `None` for applicants and for the partners of the genesis.
    pub admitted_at_ms: Option<u64>,
    /// Its exit, once started (statuses `exiting` and `exited`).
    pub exit: Option<Exit>,
}

impl Encode for Member {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.application)
            .put(&self.issuer)
            .u8(self.status.tag());
        w.u32(self.quorum).u32(self.approvals.len() as u32);
        for a in &self.approvals {
            w.put(a);
        }
        match self.admitted_at_ms {
            Some(t) => w.u8(1).u64(t),
            None => w.u8(0),
        };
        // Only a leaving or gone partner has an exit: records written before exits existed
        // read as they were.
        if let Some(exit) = &self.exit {
            w.put(exit);
        }
    }
}

impl Decode for Member {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let application = r.get()?;
        let issuer = r.get()?;
        let status = Status::from_tag(r.u8()?)?;
        let quorum = r.u32()?;
        let n = r.u32()?;
        let approvals = (0..n).map(|_| r.get()).collect::<Result<_, _>>()?;
        let admitted_at_ms = match r.u8()? {
            0 => None,
            1 => Some(r.u64()?),
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "admission time",
                    tag,
                });
            }
        };
        let exit = match status {
            Status::Exiting | Status::Exited => Some(r.get()?),
            _ => None,
        };
        Ok(Member {
            application,
            issuer,
            status,
            approvals,
            quorum,
            admitted_at_ms,
            exit,
        })
    }
}

/// The alliance's records (center chain).
#[derive(Debug, Clone, Default)]
pub struct Alliance {
    members: BTreeMap<ChainId, Member>,
    quorum: Option<u32>,
    exit_notice_ms: u64,
    touched: Vec<ChainId>,
}

/// `PARTNER ‖ chain` → the encoded [`Member`].
pub const PARTNER_RECORD: u8 = 21;
/// The alliance's namespaces.
pub const NAMESPACES: &[u8] = &[PARTNER_RECORD];

impl Alliance {
    /// The founding partners (genesis's), as admitted members, each with the application
    /// genesis makes for it and its issuer key; `quorum` approvals admit a newcomer (`None`:
    /// every member); a partner leaving gives at least `exit_notice_ms` of notice.
    pub fn founding(
        partners: Vec<(Application, Address)>,
        quorum: Option<u32>,
        exit_notice_ms: u64,
    ) -> Alliance {
        let mut members = BTreeMap::new();
        for (application, issuer) in partners {
            let chain = application.chain.clone();
            let member = Member {
                application,
                issuer,
                status: Status::Admitted,
                approvals: BTreeSet::new(),
                quorum: 0,
                admitted_at_ms: None,
                exit: None,
            };
            members.insert(chain, member);
        }
        // Genesis members are part of the genesis state (and its delta).
        let touched = members.keys().cloned().collect();
        Alliance {
            members,
            quorum,
            exit_notice_ms,
            touched,
        }
    }

    /// A partner or applicant by its chain.
    pub fn member(&self, chain: &ChainId) -> Option<&Member> {
        self.members.get(chain)
    }

    /// Every partner and applicant.
    pub fn members(&self) -> impl Iterator<Item = (&ChainId, &Member)> {
        self.members.iter()
    }

    /// The shortest notice before a leaving partner's final date, ms.
    pub fn exit_notice_ms(&self) -> u64 {
        self.exit_notice_ms
    }

    fn is_member_issuer(&self, key: &Address) -> bool {
        self.members
            .values()
            .any(|m| m.issuer == *key && m.status.votes())
    }

    /// Checks an application; `taken_symbols` are the assets that already exist.
    pub(crate) fn check_apply(
        &self,
        issuer: &Address,
        a: &Application,
        taken_symbols: &BTreeSet<Symbol>,
    ) -> Result<(), AllianceError> {
        if a.chain == ChainId::center() || self.members.contains_key(&a.chain) {
            return Err(AllianceError::ChainTaken);
        }
        if a.name.trim().is_empty() || a.sector.trim().is_empty() {
            return Err(AllianceError::InvalidApplication(
                "name and sector must not be empty".into(),
            ));
        }
        // A partner that has left frees its sector.
        if self
            .members
            .values()
            .any(|m| m.status != Status::Exited && same_sector(&m.application.sector, &a.sector))
        {
            return Err(AllianceError::SectorOccupied {
                sector: a.sector.clone(),
            });
        }
        if taken_symbols.contains(&a.symbol)
            || self
                .members
                .values()
                .any(|m| m.application.symbol == a.symbol)
        {
            return Err(AllianceError::InvalidApplication(format!(
                "symbol {} is taken",
                a.symbol
            )));
        }
        if a.decimals > crate::amount::MAX_DECIMALS {
            return Err(AllianceError::InvalidApplication(
                "too many decimals".into(),
            ));
        }
        if self.is_member_issuer(issuer) || self.members.values().any(|m| m.issuer == *issuer) {
            return Err(AllianceError::InvalidApplication(
                "this key already issues a token".into(),
            ));
        }
        check_policy(&a.policy).map_err(AllianceError::InvalidApplication)
    }

    pub(crate) fn apply(&mut self, issuer: Address, a: Application) {
        let members = self.members.values().filter(|m| m.status.votes()).count() as u32;
        let quorum = self.quorum.map_or(members, |q| q.min(members));
        self.touched.push(a.chain.clone());
        self.members.insert(
            a.chain.clone(),
            Member {
                application: a,
                issuer,
                status: Status::Applied,
                approvals: BTreeSet::new(),
                quorum,
                admitted_at_ms: None,
                exit: None,
            },
        );
    }

    fn applicant(&self, chain: &ChainId) -> Result<&Member, AllianceError> {
        match self.members.get(chain) {
            Some(m) if m.status == Status::Applied => Ok(m),
            _ => Err(AllianceError::UnknownApplication),
        }
    }

    pub(crate) fn check_approve(
        &self,
        approver: &Address,
        chain: &ChainId,
    ) -> Result<(), AllianceError> {
        if !self.is_member_issuer(approver) {
            return Err(AllianceError::NotAMember);
        }
        if self.applicant(chain)?.approvals.contains(approver) {
            return Err(AllianceError::AlreadyApproved);
        }
        Ok(())
    }

    pub(crate) fn approve(&mut self, approver: Address, chain: &ChainId) {
        if let Some(m) = self.members.get_mut(chain) {
            m.approvals.insert(approver);
            self.touched.push(chain.clone());
        }
    }

    pub(crate) fn check_sign(&self, chain: &ChainId) -> Result<(), AllianceError> {
        let m = self.applicant(chain)?;
        let have = m.approvals.len() as u32;
        if have < m.quorum {
            return Err(AllianceError::QuorumNotReached {
                have,
                need: m.quorum,
            });
        }
        Ok(())
    }

    /// Sets a member's status; `from` is the status it must have.
    pub(crate) fn check_status(&self, chain: &ChainId, from: Status) -> Result<(), AllianceError> {
        match self.members.get(chain) {
            Some(m) if m.status == from => Ok(()),
            Some(_) => Err(AllianceError::WrongPartnerStatus),
            None => Err(AllianceError::UnknownApplication),
        }
    }

    pub(crate) fn set_status(&mut self, chain: &ChainId, status: Status, now_ms: u64) {
        if let Some(m) = self.members.get_mut(chain) {
            if m.status == Status::Applied && status == Status::Admitted {
                m.admitted_at_ms = Some(now_ms);
            }
            m.status = status;
            self.touched.push(chain.clone());
        }
    }

    /// Checks the start of a member's exit at block time `now_ms`, signed by `signer`
    /// (its issuer, or TICA when `by_operator`).
    pub(crate) fn check_start_exit(
        &self,
        chain: &ChainId,
        signer: &Address,
        by_operator: bool,
        final_ms: u64,
        now_ms: u64,
    ) -> Result<Exit, AllianceError> {
        let m = self
            .members
            .get(chain)
            .ok_or(AllianceError::UnknownApplication)?;
        if !by_operator && m.issuer != *signer {
            return Err(AllianceError::NotThePartner);
        }
        if !m.status.votes() {
            return Err(AllianceError::WrongPartnerStatus);
        }
        let earliest = now_ms.saturating_add(self.exit_notice_ms);
        let latest = now_ms.saturating_add(MAX_EXIT_NOTICE_MS);
        if final_ms < earliest || final_ms > latest {
            return Err(AllianceError::ExitDate {
                earliest_ms: earliest,
                latest_ms: latest,
            });
        }
        Ok(Exit {
            started_ms: now_ms,
            final_ms,
            for_cause: by_operator && m.issuer != *signer,
        })
    }

    /// Checks that a leaving member's exit may be finished at block time `now_ms`.
    pub(crate) fn check_finish_exit(
        &self,
        chain: &ChainId,
        now_ms: u64,
    ) -> Result<(), AllianceError> {
        let m = self
            .members
            .get(chain)
            .ok_or(AllianceError::UnknownApplication)?;
        match (m.status, m.exit) {
            (Status::Exiting, Some(exit)) if now_ms >= exit.final_ms => Ok(()),
            (Status::Exiting, Some(exit)) => Err(AllianceError::ExitNotDue {
                final_ms: exit.final_ms,
            }),
            _ => Err(AllianceError::WrongPartnerStatus),
        }
    }

    fn start_exit(&mut self, chain: &ChainId, exit: Exit) {
        if let Some(m) = self.members.get_mut(chain) {
            m.status = Status::Exiting;
            m.exit = Some(exit);
            self.touched.push(chain.clone());
        }
    }

    fn key(chain: &ChainId) -> Vec<u8> {
        let mut k = vec![PARTNER_RECORD];
        k.extend_from_slice(chain.as_str().as_bytes());
        k
    }
}

/// An application to the alliance: the event that tokenomics answers (a phase-2 stake).
#[derive(Debug, Clone)]
pub(crate) struct Applied {
    /// The applicant's issuer key.
    pub(crate) applicant: Address,
    /// The chain it applies for.
    pub(crate) chain: ChainId,
}

/// A partner has left (center chain): the event that tokenomics answers (its stake back).
#[derive(Debug, Clone)]
pub(crate) struct Exited {
    /// The partner's chain.
    pub(crate) chain: ChainId,
    /// Its issuer key, which put up the stake.
    pub(crate) issuer: Address,
}

/// A change to the registry, checked.
#[derive(Debug, Clone)]
pub(crate) enum AllianceWrite {
    /// A new application by its issuer key.
    Apply(Address, Application),
    /// A member's approval.
    Approve(Address, ChainId),
    /// A new status, at block time.
    Status(ChainId, Status, u64),
    /// A member's exit starts.
    StartExit(ChainId, Exit),
}

impl Alliance {
    /// Records a checked change.
    pub(crate) fn write(&mut self, w: AllianceWrite) {
        match w {
            AllianceWrite::Apply(issuer, a) => self.apply(issuer, a),
            AllianceWrite::Approve(approver, chain) => self.approve(approver, &chain),
            AllianceWrite::Status(chain, status, now_ms) => self.set_status(&chain, status, now_ms),
            AllianceWrite::StartExit(chain, exit) => self.start_exit(&chain, exit),
        }
    }
}

impl crate::ledger::DomainRecords for Alliance {
    fn namespaces(&self) -> &'static [u8] {
        NAMESPACES
    }

    fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut chains = std::mem::take(&mut self.touched);
        chains.sort();
        chains.dedup();
        chains
            .into_iter()
            .map(|c| {
                let v = self.members.get(&c).map(Encode::to_bytes);
                (Self::key(&c), v)
            })
            .collect()
    }

    fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.members
            .iter()
            .map(|(c, m)| (Self::key(c), m.to_bytes()))
            .collect()
    }

    fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
        let Some(chain) = std::str::from_utf8(&key[1..])
            .ok()
            .and_then(|s| s.parse::<ChainId>().ok())
        else {
            return false;
        };
        match Member::from_bytes(value) {
            Ok(m) => {
                self.members.insert(chain, m);
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesis::Genesis;

    #[test]
    fn applications_and_members_round_trip_and_refuse_bad_bytes() {
        let g = Genesis::demo();
        let alliance = g.alliance();
        let (_, member) = alliance.members().next().unwrap();
        let mut member = member.clone();
        member.application.policy.expiry_days = Some(7);
        member
            .approvals
            .insert(crate::Keypair::from_label("x").address());
        let bytes = member.to_bytes();
        assert_eq!(Member::from_bytes(&bytes), Ok(member.clone()));
        // A status byte out of range is refused, not guessed.
        let status_at = member.application.to_bytes().len() + 32;
        let mut bad = bytes.clone();
        bad[status_at] = 9;
        assert!(Member::from_bytes(&bad).is_err());
        let action = crate::tx::Action::Alliance(crate::tx::AllianceAction::Apply {
            application: member.application.clone(),
        });
        let mut w = Writer::new();
        action.encode(&mut w);
        let back = crate::tx::Action::decode(&mut Reader::new(&w.into_bytes())).unwrap();
        assert_eq!(back, action);
    }
}
