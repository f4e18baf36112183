//! Genesis: the chains, assets, allocations and keys a network starts from.
//!
//! A genesis file is JSON. [`Genesis::demo`] builds the embedded demo network
//! deterministically, so every fresh demo node starts from the same blocks.

use crate::alliance::{Alliance, Application, Member};
use crate::block::{Block, BlockHeader};
use crate::brand::BrandPolicy;
use crate::bridge::{Bridge, BridgeConfig, BridgePolicy};
use crate::exchange::curve::Curve;
use crate::exchange::{Exchange, ExchangeConfig, Market, MarketEntry, MarketSpec};
use crate::keys::{Keypair, Signature};
use crate::membership::{EarningRules, LevelSpec, Membership, MembershipConfig};
use crate::merkle;
use crate::producers::Producers;
use crate::state::{AssetSpec, ChainState, StateDelta, state_root};
use crate::tokenomics::{AccountRole, LockRule, Role};
use crate::{Address, Amount, ChainId, Hash, Symbol, amount::MAX_DECIMALS};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The demo's allocation roles: SPEC §7's MLK locks (from the genesis, standing in for the
/// listing date) and §6's LZM release order.
fn demo_roles(_operator: Address, mlk: Symbol, lzm: Symbol) -> Vec<AccountRole> {
    const YEAR_MS: u64 = 365 * crate::brand::DAY_MS;
    let role = |label: &str, key: &str, asset: Symbol, role: Role| AccountRole {
        label: label.to_owned(),
        account: demo_key(key).address(),
        asset,
        role,
    };
    let until = |years: u64| Role::Locked {
        rule: LockRule::Until {
            until_ms: DEMO_GENESIS_TIME_MS + years * YEAR_MS,
        },
    };
    vec![
        role(
            "liquidity",
            "alloc:liquidity",
            mlk,
            Role::Locked {
                rule: LockRule::ExchangeOnly,
            },
        ),
        role(
            "user-distribution",
            "alloc:user-distribution",
            mlk,
            Role::Reserve,
        ),
        role(
            "partner-allocation",
            "alloc:partner-allocation",
            mlk,
            until(3),
        ),
        role(
            "partner-allocation-b",
            "alloc:partner-allocation-b",
            mlk,
            Role::Reserve,
        ),
        role(
            "long-term-operation",
            "alloc:long-term-operation",
            mlk,
            Role::TicaHeld,
        ),
        role(
            "initial-construction",
            "alloc:initial-construction",
            mlk,
            until(2),
        ),
        role("exchange-fees", "tica:fees", mlk, Role::TicaHeld),
        role("lzm:user-activity", "lzm:user-activity", lzm, Role::Reserve),
        role("lzm:mlk-burn", "lzm:mlk-burn", lzm, Role::Reserve),
        role(
            "lzm:team",
            "lzm:team",
            lzm,
            Role::Locked {
                rule: LockRule::AfterUserPools,
            },
        ),
        role(
            "lzm:long-term-reserve",
            "lzm:long-term-reserve",
            lzm,
            Role::Locked {
                rule: LockRule::Last,
            },
        ),
    ]
}

/// Which role a chain plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainKind {
    /// The center chain: MLK, LZM and everything that crosses chains.
    Center,
    /// One partner's brand chain: that partner's Brand Token only.
    Brand,
}

/// The partner company behind a brand chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerInfo {
    /// The company's display name.
    pub name: String,
    /// Its industry sector; one partner per sector.
    pub sector: String,
    /// Its rules for its Brand Token.
    pub policy: BrandPolicy,
}

/// An initial balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// What the account is for (`liquidity`, `user:alice`, …).
    pub label: String,
    /// Who holds it.
    pub account: Address,
    /// The asset.
    pub asset: Symbol,
    /// How much, in base units.
    pub amount: Amount,
}

/// One chain as it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainSpec {
    /// Its id.
    pub id: ChainId,
    /// Center or brand.
    pub kind: ChainKind,
    /// A display name.
    pub name: String,
    /// The key that produces and signs its blocks.
    pub producer: Address,
    /// The partner, for a brand chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<PartnerInfo>,
    /// The assets that live on it.
    pub assets: Vec<AssetSpec>,
    /// The initial balances; they make up each asset's whole initial supply.
    pub allocations: Vec<Allocation>,
    /// When the chain started (Unix ms), for a chain created after the genesis (a partner
    /// admitted later); `None`: at the genesis time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_ms: Option<u64>,
}

impl ChainSpec {
    /// The chain's state before any allocation: its assets, and on a brand chain the
    /// partner's policy. Persisted records are restored into this.
    pub fn empty_state(&self) -> ChainState {
        let state = ChainState::new(self.id.clone(), self.assets.clone());
        match (&self.partner, self.assets.first()) {
            (Some(p), Some(asset)) => state.with_brand(asset.symbol, p.policy.clone()),
            _ => state,
        }
    }
}

pub use crate::brand::check_policy;

pub use crate::exchange::curve::MAX_PRICE_BPS;

/// A whole network's starting point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// A name for the network (`milk-demo`, …).
    pub network: String,
    /// The time of every genesis block, Unix milliseconds.
    pub genesis_time_ms: u64,
    /// TICA's operator key.
    pub operator: Address,
    /// TICA's account holding its inventory of every Brand Token (the exchange's stock).
    pub tica_inventory: Address,
    /// Approvals a newcomer needs from member partners; absent: every member's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission_quorum: Option<u32>,
    /// The shortest notice a leaving partner gives before its final date, ms; absent: 30
    /// days (`alliance::DEFAULT_EXIT_NOTICE_MS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_notice_ms: Option<u64>,
    /// The exchange: its accounts, fee, oracle and the markets open at genesis; absent: no
    /// trading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<ExchangeConfig>,
    /// Membership: the LZM pools, earning rules and levels; absent: no membership.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership: Option<MembershipConfig>,
    /// Allocation accounts' roles on the center chain: locks (which the chain enforces)
    /// and classes for the circulating supply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<AccountRole>,
    /// The bridge to the main chain, where exchanges trade MLK: the coin that crosses, the
    /// withdrawal policy; absent: no bridge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<BridgeConfig>,
    /// The chains, center first.
    pub chains: Vec<ChainSpec>,
}

impl Genesis {
    /// The alliance at genesis: the genesis's own partners, admitted. Chains created later
    /// (admitted partners) are in the center's records, not here.
    pub fn alliance(&self) -> Alliance {
        let founding = self.chains.iter().filter(|c| c.created_ms.is_none());
        let partners = founding
            .filter_map(|c| {
                let (p, asset) = (c.partner.as_ref()?, c.assets.first()?);
                let application = Application {
                    chain: c.id.clone(),
                    name: p.name.clone(),
                    sector: p.sector.clone(),
                    symbol: asset.symbol,
                    decimals: asset.decimals,
                    policy: p.policy.clone(),
                    initial_float: Amount::ZERO,
                };
                Some((application, asset.issuer?))
            })
            .collect();
        let notice = (self.exit_notice_ms).unwrap_or(crate::alliance::DEFAULT_EXIT_NOTICE_MS);
        Alliance::founding(partners, self.admission_quorum, notice)
    }

    /// Checks the rules a genesis must meet, naming the first it breaks.
    pub fn validate(&self) -> Result<(), String> {
        let centers = self
            .chains
            .iter()
            .filter(|c| c.kind == ChainKind::Center)
            .count();
        if centers != 1 {
            return Err(format!("exactly one center chain needed, found {centers}"));
        }
        if (self.exit_notice_ms).is_some_and(|n| n > crate::alliance::MAX_EXIT_NOTICE_MS) {
            return Err("exit_notice_ms must be at most a year".into());
        }
        let mut ids = BTreeSet::new();
        let mut symbols = BTreeSet::new();
        let mut sectors = BTreeSet::new();
        for chain in &self.chains {
            if !ids.insert(&chain.id) {
                return Err(format!("chain {} defined twice", chain.id));
            }
            match (&chain.kind, &chain.partner) {
                (ChainKind::Brand, None) => {
                    return Err(format!("brand chain {} names no partner", chain.id));
                }
                (ChainKind::Brand, Some(p))
                    if !sectors.insert(crate::alliance::sector_key(&p.sector)) =>
                {
                    return Err(format!(
                        "sector {:?} already has a partner; one partner per sector",
                        p.sector
                    ));
                }
                (ChainKind::Center, Some(_)) => {
                    return Err("the center chain has no partner".to_owned());
                }
                _ => {}
            }
            if let Some(p) = &chain.partner {
                if chain.assets.len() != 1 || chain.assets[0].issuer.is_none() {
                    return Err(format!(
                        "brand chain {} must have exactly one asset, with the partner as issuer",
                        chain.id
                    ));
                }
                check_policy(&p.policy).map_err(|e| format!("brand chain {}: {e}", chain.id))?;
            }
            for asset in &chain.assets {
                if !symbols.insert(&asset.symbol) {
                    return Err(format!("asset {} defined twice", asset.symbol));
                }
                if asset.decimals > MAX_DECIMALS {
                    return Err(format!(
                        "asset {} has {} decimals, at most {MAX_DECIMALS} allowed",
                        asset.symbol, asset.decimals
                    ));
                }
            }
            self.initial_state(chain)?;
        }
        self.validate_bridge()?;
        self.validate_exchange()
    }

    /// The bridge's coin is a center-chain asset and its policy is consistent.
    fn validate_bridge(&self) -> Result<(), String> {
        let Some(b) = &self.bridge else {
            return Ok(());
        };
        if !self.center().assets.iter().any(|a| a.symbol == b.asset) {
            return Err(format!(
                "the bridge's asset {} is not on the center chain",
                b.asset
            ));
        }
        crate::bridge::rules::check_policy(&b.policy).map_err(|e| format!("bridge policy: {e}"))
    }

    /// The center chain's spec.
    pub fn center(&self) -> &ChainSpec {
        self.chains
            .iter()
            .find(|c| c.kind == ChainKind::Center)
            .expect("validated genesis has a center chain")
    }

    /// One chain's spec.
    pub fn chain(&self, id: &ChainId) -> Option<&ChainSpec> {
        self.chains.iter().find(|c| &c.id == id)
    }

    /// The brand chain of a partner admitted after the genesis, as it starts: derived from
    /// its application on the center chain alone, so every node and verifier builds the same
    /// genesis block. It starts at the admitting block's time; its producer is the center
    /// chain's; the application's initial float is issued to TICA's inventory. `None` until
    /// TICA has signed the agreement, and for the genesis's own partners.
    pub fn admitted_chain(&self, member: &Member) -> Option<ChainSpec> {
        let created_ms = member.admitted_at_ms?;
        let a = &member.application;
        let allocations = if a.initial_float.is_zero() {
            Vec::new()
        } else {
            vec![Allocation {
                label: "tica-inventory".to_owned(),
                account: self.tica_inventory,
                asset: a.symbol,
                amount: a.initial_float,
            }]
        };
        Some(ChainSpec {
            id: a.chain.clone(),
            kind: ChainKind::Brand,
            name: format!("{} brand chain", a.name),
            producer: self.center().producer,
            partner: Some(PartnerInfo {
                name: a.name.clone(),
                sector: a.sector.clone(),
                policy: a.policy.clone(),
            }),
            assets: vec![AssetSpec {
                symbol: a.symbol,
                name: format!("{} points", a.name),
                decimals: a.decimals,
                issuer: Some(member.issuer),
            }],
            allocations,
            created_ms: Some(created_ms),
        })
    }

    /// The network as it stands: this genesis with the chains of the partners admitted since
    /// appended (given the center chain's alliance records), so that each of those chains'
    /// genesis blocks can be rebuilt and verified like any other.
    pub fn with_admitted<'a>(&self, members: impl IntoIterator<Item = &'a Member>) -> Genesis {
        let mut g = self.clone();
        for m in members {
            if g.chain(&m.application.chain).is_none()
                && let Some(spec) = self.admitted_chain(m)
            {
                g.chains.push(spec);
            }
        }
        g
    }

    /// A chain's state before any allocation: [`ChainSpec::empty_state`], its producer set
    /// (the chain's producer, which TICA may replace), and on the center chain the operator
    /// who anchors brand chains. Persisted records are restored into it.
    pub fn empty_state(&self, chain: &ChainSpec) -> ChainState {
        let producers = Producers::new(chain.producer, self.operator);
        let state = chain.empty_state().with_producers(producers);
        match chain.kind {
            ChainKind::Center => {
                let state = state.with_membership(
                    self.membership.clone().map(Membership::new),
                    self.roles.clone(),
                );
                let state = match &self.exchange {
                    Some(config) => state
                        .with_exchange(Exchange::new(config.clone(), self.genesis_markets(config))),
                    None => state,
                };
                // Only the genesis's own chains: admitted ones come from the center's records.
                let symbols = self
                    .chains
                    .iter()
                    .filter(|c| c.created_ms.is_none())
                    .flat_map(|c| c.assets.iter().map(|a| a.symbol))
                    .collect();
                let state = match &self.bridge {
                    Some(config) => state.with_bridge(Bridge::new(config.clone())),
                    None => state,
                };
                state
                    .with_operator(self.operator)
                    .with_alliance(self.alliance(), symbols)
            }
            ChainKind::Brand if self.exchange.is_some() => state
                .with_operator(self.operator)
                .with_inventory(self.tica_inventory),
            ChainKind::Brand => state,
        }
    }

    /// The markets the genesis opens, on its own partners' tokens (unknown tokens are left
    /// out here and refused by [`Genesis::validate`]).
    fn genesis_markets(&self, config: &ExchangeConfig) -> BTreeMap<Symbol, MarketEntry> {
        config
            .markets
            .iter()
            .filter_map(|m| {
                let chain = self.chains.iter().find(|c| {
                    c.partner.is_some() && c.assets.first().is_some_and(|a| a.symbol == m.asset)
                })?;
                let (p, asset) = (chain.partner.as_ref()?, chain.assets.first()?);
                let market = Market {
                    curve: Curve {
                        redemption_value_krw: p.policy.redemption_value_krw,
                        decimals: asset.decimals,
                        min_bps: p.policy.min_price_bps,
                        max_bps: crate::exchange::curve::MAX_PRICE_BPS,
                        capacity: m.capacity.units(),
                        position: m.position.units(),
                    },
                    max_order: m.max_order.units(),
                    user_daily_limit: m.user_daily_limit.units(),
                    // TICA's stock starts at its position: the center chain's genesis
                    // cannot depend on a brand chain's private balances (validation checks
                    // the inventory holds it).
                    stock: m.position.units(),
                    awaiting: 0,
                    halted: false,
                    block: (0, 0, 0),
                };
                Some((
                    m.asset,
                    MarketEntry {
                        chain: chain.id.clone(),
                        market,
                    },
                ))
            })
            .collect()
    }

    fn validate_exchange(&self) -> Result<(), String> {
        let Some(config) = &self.exchange else {
            return Ok(());
        };
        if !self
            .center()
            .assets
            .iter()
            .any(|a| a.symbol == config.currency)
        {
            return Err(format!(
                "exchange currency {} is not a center chain asset",
                config.currency
            ));
        }
        if u128::from(config.fee_bps) >= crate::exchange::curve::BPS {
            return Err("the exchange fee must be under 10,000 basis points".into());
        }
        if config.oracle_band_bps == 0
            || u128::from(config.oracle_band_bps) >= crate::exchange::curve::BPS
        {
            return Err("the oracle's band must be 1 to 9,999 basis points".into());
        }
        if config.oracle_window_ms < config.oracle_max_age_ms || config.outflow_window_ms == 0 {
            return Err(
                "the oracle's window must be at least its maximum age, and the outflow window \
                 more than zero"
                    .into(),
            );
        }
        let markets = self.genesis_markets(config);
        for m in &config.markets {
            let entry = markets
                .get(&m.asset)
                .ok_or_else(|| format!("market {}: no genesis partner issues it", m.asset))?;
            let curve = entry.market.curve;
            curve
                .check()
                .map_err(|e| format!("market {}: {e}", m.asset))?;
            // A genesis served without the brand chains' private balances cannot be
            // checked here; the node that starts from the whole file checks it.
            let allocations = self.chain(&entry.chain).map(|c| &c.allocations);
            let held = allocations.map_or(0, |list| {
                (list.iter())
                    .filter(|a| a.account == self.tica_inventory && a.asset == m.asset)
                    .fold(0u128, |sum, a| sum.saturating_add(a.amount.units()))
            });
            if allocations.is_some_and(|l| !l.is_empty()) && curve.position > held {
                return Err(format!(
                    "market {}: TICA's position {} exceeds the {held} base units its \
                     inventory holds on {}",
                    m.asset, curve.position, entry.chain
                ));
            }
            // The trade reward pays part of the fee back to whoever trades.
            let reward = (self.membership.as_ref()).map_or(0, |m| m.rewards.trade_reward_bps);
            let bound = curve.sandwich_safe_max_order(config.fee_bps.saturating_sub(reward));
            if m.max_order.is_zero() || m.max_order.units() > bound {
                return Err(format!(
                    "market {}: the largest order must be 1 to {bound} base units",
                    m.asset
                ));
            }
        }
        Ok(())
    }

    /// A chain's state at genesis and the delta that builds it.
    pub fn initial_state(&self, chain: &ChainSpec) -> Result<(ChainState, StateDelta), String> {
        let mut state = self.empty_state(chain);
        for a in &chain.allocations {
            state
                .allocate(a.account, &a.asset, a.amount)
                .map_err(|e| format!("chain {} allocation {:?}: {e}", chain.id, a.label))?;
        }
        let delta = state.take_delta();
        Ok((state, delta))
    }

    /// A chain's genesis block and state. The block carries no signature: it is checked by
    /// rebuilding it from this file.
    pub fn genesis_block(&self, chain: &ChainSpec) -> Result<(Block, ChainState), String> {
        let (state, delta) = self.initial_state(chain)?;
        let header = BlockHeader {
            chain: chain.id.clone(),
            height: 0,
            prev_hash: Hash::ZERO,
            time_ms: chain.created_ms.unwrap_or(self.genesis_time_ms),
            tx_count: 0,
            tx_root: merkle::root(&[]),
            state_root: state_root(&Hash::ZERO, 0, &delta),
            producer: chain.producer,
        };
        let block = Block {
            header,
            signature: Signature::NONE,
            txs: Vec::new(),
        };
        Ok((block, state))
    }

    /// The embedded demo network: the center chain and three partners' brand chains.
    ///
    /// Every key is derived from a public label ([`demo_key`]): anyone can spend demo
    /// funds, which is the point of a demo and why it must never hold value.
    pub fn demo() -> Genesis {
        let operator = demo_key("operator").address();
        let mlk: Symbol = "MLK".parse().expect("valid");
        let lzm: Symbol = "LZM".parse().expect("valid");
        let users: Vec<(&str, Address)> = DEMO_USERS
            .iter()
            .map(|u| (*u, demo_key(u).address()))
            .collect();
        let center_allocs = demo_center_allocations(&users, &mlk, &lzm);
        let mut chains = vec![ChainSpec {
            id: ChainId::center(),
            kind: ChainKind::Center,
            name: "MiL.k center chain".to_owned(),
            producer: operator,
            partner: None,
            assets: vec![
                AssetSpec {
                    symbol: mlk,
                    name: "MiL.k Coin".to_owned(),
                    decimals: MLK_DECIMALS,
                    issuer: None,
                },
                AssetSpec {
                    symbol: lzm,
                    name: "LZM membership token".to_owned(),
                    decimals: LZM_DECIMALS,
                    issuer: None,
                },
            ],
            allocations: center_allocs,
            created_ms: None,
        }];
        for partner in DEMO_PARTNERS {
            chains.push(demo_partner_chain(&partner, operator, &users));
        }
        Genesis {
            network: "milk-demo".to_owned(),
            genesis_time_ms: DEMO_GENESIS_TIME_MS,
            operator,
            tica_inventory: demo_key("tica:inventory").address(),
            admission_quorum: None,
            exit_notice_ms: Some(DEMO_EXIT_NOTICE_MS),
            membership: Some(demo_membership(lzm)),
            roles: demo_roles(operator, mlk, lzm),
            exchange: Some(demo_exchange(mlk, operator)),
            bridge: Some(demo_bridge(mlk)),
            chains,
        }
    }
}

/// The demo's bridge: a withdrawal costs 1 MLK, is at least 10 MLK and at most 5,000 MLK a
/// day per account; TICA moved the whole main-chain supply into the vault.
fn demo_bridge(mlk: Symbol) -> BridgeConfig {
    BridgeConfig {
        asset: mlk,
        policy: BridgePolicy {
            fee: whole(1, MLK_DECIMALS),
            minimum: whole(10, MLK_DECIMALS),
            daily_limit: whole(5_000, MLK_DECIMALS),
        },
        main_float: Amount::ZERO,
    }
}

/// MLK's decimals.
pub const MLK_DECIMALS: u8 = 8;
/// LZM's decimals.
pub const LZM_DECIMALS: u8 = 8;
/// The demo Brand Tokens' decimals: points are counted to the hundredth.
pub const BT_DECIMALS: u8 = 2;
/// 2026-01-01T00:00:00Z.
pub const DEMO_GENESIS_TIME_MS: u64 = 1_767_225_600_000;
/// The demo network's funded users.
pub const DEMO_USERS: [&str; 3] = ["alice", "bob", "carol"];

/// The demo network's shortest exit notice: 10 s, so a partner's exit can be watched to
/// its end (a real network gives weeks).
pub const DEMO_EXIT_NOTICE_MS: u64 = 10_000;

/// The partner the demo network admits while it runs.
pub const DEMO_NEWCOMER: &str = "bookshop";

/// The labels of the demo keys a person may import: the users, TICA's operator, and each
/// demo partner's issuer key (the newcomer's included).
pub fn demo_labels() -> Vec<String> {
    let users = DEMO_USERS.iter().map(|u| (*u).to_owned());
    let partners = (DEMO_PARTNERS.iter().map(|p| p.chain))
        .chain([DEMO_NEWCOMER])
        .map(|c| format!("partner:{c}"));
    users
        .chain(["operator".to_owned()])
        .chain(partners)
        .collect()
}

struct DemoPartner {
    chain: &'static str,
    name: &'static str,
    sector: &'static str,
    symbol: &'static str,
    redemption_value_krw: u64,
    expiry_days: Option<u32>,
}

const DEMO_PARTNERS: [DemoPartner; 3] = [
    DemoPartner {
        chain: "skyway",
        name: "Skyway Air",
        sector: "travel",
        symbol: "SKY",
        redemption_value_krw: 15,
        // Airline miles expire three years after they are earned.
        expiry_days: Some(3 * 365),
    },
    DemoPartner {
        chain: "cinema",
        name: "Starlight Cinema",
        sector: "culture",
        symbol: "CINE",
        redemption_value_krw: 10,
        expiry_days: None,
    },
    DemoPartner {
        chain: "dailymart",
        name: "DailyMart",
        sector: "retail",
        symbol: "MART",
        redemption_value_krw: 1,
        expiry_days: None,
    },
];

/// An allocation of genesis.
fn alloc(label: &str, account: Address, asset: &Symbol, amount: Amount) -> Allocation {
    Allocation {
        label: label.to_owned(),
        account,
        asset: *asset,
        amount,
    }
}

/// `n` whole units at `decimals`.
fn whole(n: u128, decimals: u8) -> Amount {
    Amount::from_whole(n, decimals).expect("fits")
}

/// The demo center chain's allocations: MLK and LZM split as SPEC §7, and the demo users'
/// MLK.
fn demo_center_allocations(
    users: &[(&str, Address)],
    mlk: &Symbol,
    lzm: &Symbol,
) -> Vec<Allocation> {
    // MLK: 1.3 billion, split as SPEC §7. Demo users are paid out of the user
    // distribution bucket, as the rewards they would have earned.
    let mlk_total = whole(1_300_000_000, MLK_DECIMALS);
    let pct = |p: u128| Amount::new(mlk_total.units() / 100 * p);
    let user_funds = whole(10_000, MLK_DECIMALS);
    let mut center_allocs = vec![
        alloc(
            "liquidity",
            demo_key("alloc:liquidity").address(),
            mlk,
            pct(28),
        ),
        alloc(
            "user-distribution",
            demo_key("alloc:user-distribution").address(),
            mlk,
            Amount::new(pct(11).units() - user_funds.units() * users.len() as u128),
        ),
        // Partner allocation A (52 %, locked per partner) and B (48 %, contribution
        // rewards).
        alloc(
            "partner-allocation",
            demo_key("alloc:partner-allocation").address(),
            mlk,
            Amount::new(pct(37).units() / 100 * 52),
        ),
        alloc(
            "partner-allocation-b",
            demo_key("alloc:partner-allocation-b").address(),
            mlk,
            Amount::new(pct(37).units() - pct(37).units() / 100 * 52),
        ),
        alloc(
            "long-term-operation",
            demo_key("alloc:long-term-operation").address(),
            mlk,
            pct(14),
        ),
        alloc(
            "initial-construction",
            demo_key("alloc:initial-construction").address(),
            mlk,
            pct(10),
        ),
    ];
    for (name, address) in users {
        center_allocs.push(alloc(&format!("user:{name}"), *address, mlk, user_funds));
    }
    // LZM: 1 billion; 85% for users (activity 65%, MLK burning 20%), the team's 8.5%
    // (10% of what users can receive), and the long-term reserve's 6.5%.
    let lzm_total = whole(1_000_000_000, LZM_DECIMALS);
    let lzm_pct = |tenths: u128| Amount::new(lzm_total.units() / 1000 * tenths);
    for (label, tenths) in [
        ("lzm:user-activity", 650),
        ("lzm:mlk-burn", 200),
        ("lzm:team", 85),
        ("lzm:long-term-reserve", 65),
    ] {
        center_allocs.push(alloc(
            label,
            demo_key(label).address(),
            lzm,
            lzm_pct(tenths),
        ));
    }
    center_allocs
}

/// A demo partner's brand chain: TICA's inventory, the demo users' points, its policy.
fn demo_partner_chain(
    partner: &DemoPartner,
    operator: Address,
    users: &[(&str, Address)],
) -> ChainSpec {
    let symbol: Symbol = partner.symbol.parse().expect("valid");
    let issuer = demo_key(&format!("partner:{}", partner.chain)).address();
    let mut allocations = vec![alloc(
        "tica-inventory",
        demo_key("tica:inventory").address(),
        &symbol,
        whole(1_000_000, BT_DECIMALS),
    )];
    for (name, address) in users {
        allocations.push(alloc(
            &format!("user:{name}"),
            *address,
            &symbol,
            whole(5_000, BT_DECIMALS),
        ));
    }
    ChainSpec {
        id: partner.chain.parse().expect("valid"),
        kind: ChainKind::Brand,
        name: format!("{} brand chain", partner.name),
        producer: operator,
        partner: Some(PartnerInfo {
            name: partner.name.to_owned(),
            sector: partner.sector.to_owned(),
            policy: BrandPolicy {
                redemption_value_krw: partner.redemption_value_krw,
                min_price_bps: 8_000,
                units_per_mileage: 100,
                min_conversion: whole(10, BT_DECIMALS),
                max_conversion: whole(100_000, BT_DECIMALS),
                daily_user_limit: whole(200_000, BT_DECIMALS),
                transfers_allowed: true,
                expiry_days: partner.expiry_days,
            },
        }),
        assets: vec![AssetSpec {
            symbol,
            name: format!("{} points", partner.name),
            decimals: BT_DECIMALS,
            issuer: Some(issuer),
        }],
        allocations,
        created_ms: None,
    }
}

/// The demo's membership: LZM's pools, earning rules, levels and rewards.
fn demo_membership(lzm: Symbol) -> MembershipConfig {
    MembershipConfig {
        token: lzm,
        activity_pool: demo_key("lzm:user-activity").address(),
        burn_pool: demo_key("lzm:mlk-burn").address(),
        team: demo_key("lzm:team").address(),
        reserve: demo_key("lzm:long-term-reserve").address(),
        rules: EarningRules {
            check_in: whole(10, LZM_DECIMALS),
            per_1000_krw_traded: whole(1, LZM_DECIMALS),
            per_1000_krw_coupon: whole(2, LZM_DECIMALS),
            per_mlk_burned: whole(5, LZM_DECIMALS),
            daily_cap: whole(1_000, LZM_DECIMALS),
        },
        levels: [
            ("Basic", 0),
            ("Silver", 100),
            ("Gold", 1_000),
            ("VIP", 10_000),
        ]
        .into_iter()
        .map(|(name, lzm)| LevelSpec {
            name: name.to_owned(),
            threshold: whole(lzm, LZM_DECIMALS),
        })
        .collect(),
        window_days: 90,
        pack_rewards_from: demo_key("alloc:user-distribution").address(),
        rewards: crate::membership::RewardConfig {
            partner_b: demo_key("alloc:partner-allocation-b").address(),
            user_bucket: demo_key("alloc:user-distribution").address(),
            epoch_ms: 7 * crate::brand::DAY_MS,
            schedule_start_ms: DEMO_GENESIS_TIME_MS,
            // 1 % of the volume in year one, falling by a fifth each year, to none
            // after year seven.
            schedule_bps: vec![100, 80, 64, 51, 41, 33, 26],
            partner_a: demo_key("alloc:partner-allocation").address(),
            partner_lock_ms: 3 * 365 * crate::brand::DAY_MS,
            link_reward: whole(1, MLK_DECIMALS),
            trade_reward_bps: 10,
        },
    }
}

/// The demo's exchange: MLK pays, a market per demo partner.
fn demo_exchange(mlk: Symbol, operator: Address) -> ExchangeConfig {
    ExchangeConfig {
        currency: mlk,
        liquidity: demo_key("alloc:liquidity").address(),
        fees: demo_key("tica:fees").address(),
        oracle: operator,
        fee_bps: crate::exchange::curve::DEFAULT_FEE_BPS,
        oracle_max_age_ms: 60_000,
        oracle_band_bps: crate::exchange::defaults::band_bps(),
        oracle_settle_ms: crate::exchange::defaults::settle_ms(),
        oracle_window_ms: crate::exchange::defaults::window_ms(),
        outflow_window_ms: crate::exchange::defaults::outflow_window_ms(),
        max_outflow: crate::exchange::defaults::max_outflow(),
        // Each market's curve spans 2,000,000 tokens with TICA half-way (87.5 % of
        // R), matching its 1,000,000 in inventory.
        markets: DEMO_PARTNERS
            .iter()
            .map(|p| MarketSpec {
                asset: p.symbol.parse().expect("valid"),
                capacity: whole(2_000_000, BT_DECIMALS),
                position: whole(1_000_000, BT_DECIMALS),
                max_order: whole(10_000, BT_DECIMALS),
                user_daily_limit: whole(50_000, BT_DECIMALS),
            })
            .collect(),
    }
}

/// The well-known key behind a demo label (`operator`, `alice`, `partner:skyway`, …).
pub fn demo_key(label: &str) -> Keypair {
    Keypair::from_label(&format!("milk-demo/{label}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_genesis_is_valid_and_matches_the_spec_numbers() {
        let g = Genesis::demo();
        g.validate().unwrap();
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(serde_json::from_str::<Genesis>(&json).unwrap(), g);
        let (block, state) = g.genesis_block(g.center()).unwrap();
        assert_eq!(block.header.height, 0);
        let mlk: Symbol = "MLK".parse().unwrap();
        let lzm: Symbol = "LZM".parse().unwrap();
        assert_eq!(
            state.supply(&mlk),
            Amount::from_whole(1_300_000_000, MLK_DECIMALS)
        );
        assert_eq!(
            state.supply(&lzm),
            Amount::from_whole(1_000_000_000, LZM_DECIMALS)
        );
        let liquidity = demo_key("alloc:liquidity").address();
        assert_eq!(
            state.balance(&liquidity, &mlk),
            Amount::from_whole(364_000_000, MLK_DECIMALS).unwrap()
        );
        state.check_conservation().unwrap();
        assert_eq!(g.chains.len(), 4);
    }

    #[test]
    fn bad_genesis_is_refused_with_a_reason() {
        let mut g = Genesis::demo();
        g.chains[2].partner.as_mut().unwrap().sector = "travel".to_owned();
        assert!(g.validate().unwrap_err().contains("one partner per sector"));

        let mut g = Genesis::demo();
        g.chains[1].allocations[0].asset = "MLK".parse().unwrap();
        assert!(g.validate().unwrap_err().contains("does not exist"));

        let mut g = Genesis::demo();
        g.chains[0].allocations[0].amount = Amount::MAX;
        assert!(g.validate().unwrap_err().contains("overflows"));

        let mut g = Genesis::demo();
        g.chains.push(g.chains[0].clone());
        assert!(g.validate().is_err());

        let policy = |f: &dyn Fn(&mut BrandPolicy)| {
            let mut g = Genesis::demo();
            f(&mut g.chains[1].partner.as_mut().unwrap().policy);
            g.validate().unwrap_err()
        };
        assert!(policy(&|p| p.min_price_bps = 9_600).contains("basis points"));
        assert!(policy(&|p| p.redemption_value_krw = 0).contains("redemption value"));
        assert!(policy(&|p| p.units_per_mileage = 0).contains("units per mileage"));
        assert!(policy(&|p| p.min_conversion = Amount::MAX).contains("minimum"));
        assert!(policy(&|p| p.daily_user_limit = Amount::ZERO).contains("daily limit"));

        let mut g = Genesis::demo();
        g.chains[1].assets[0].issuer = None;
        assert!(g.validate().unwrap_err().contains("partner as issuer"));
    }
}
