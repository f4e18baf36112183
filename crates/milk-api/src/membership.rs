//! Membership: levels, credits, consents, offers, earning rules and the circulating supply.

use milk_core::membership::{self, EarningRules};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A consenting member as a partner sees them: a pseudonym, never an address.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct SegmentMember {
    /// The member's pseudonym for this partner (it differs per partner).
    pub member: String,
    /// The level's name, if the member shares it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// LZM earned in the window by category (`check_in`, `trade`, `coupon`, `mlk_burn`),
    /// base units, if the member shares activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub activity: Option<std::collections::BTreeMap<String, String>>,
    /// What the member consented to it for.
    pub purpose: String,
    /// How long the partner may keep this, days.
    pub retention_days: u32,
}

/// A premium offer.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct OfferView {
    /// The partner's brand chain.
    pub chain: String,
    /// The offer's id.
    pub id: String,
    /// What it is.
    pub title: String,
    /// The lowest level that may buy it, by index and name.
    pub level: u8,
    /// See `level`.
    pub level_name: String,
    /// Its price, LZM base units.
    pub price: String,
    /// How many are left.
    pub left: u32,
    /// When it opens and closes, Unix ms.
    pub opens_ms: u64,
    /// See `opens_ms`.
    pub closes_ms: u64,
}

/// A member's level and what makes it.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct MemberView {
    /// The account.
    pub address: String,
    /// The level's index (0 = the first).
    pub level: u8,
    /// Its name.
    pub level_name: String,
    /// LZM base units earned in the window.
    pub earned_in_window: String,
    /// LZM base units owed from refunded coupon payments whose LZM was already spent: the
    /// next credits settle it before any counts.
    pub owed: String,
    /// The window, days.
    pub window_days: u32,
    /// The next level, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_level: Option<String>,
    /// LZM base units still needed for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed: Option<String>,
    /// TICA's floor under the level, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<FloorView>,
    /// When earnings leave the window, soonest first.
    pub leaving: Vec<LeavingView>,
    /// The latest credits (at most 100), newest first.
    pub credits: Vec<CreditView>,
    /// The member's data-sharing consents, by partner: kept on each partner's own chain,
    /// so shown only to the member (a read signed with their key) and to TICA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consents: Option<Vec<ConsentView>>,
    /// Every read of the member's data by a partner, newest first (at most 100): shown only
    /// to the member and to TICA, like the consents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<Vec<AccessView>>,
    /// The MiL.k Pack: the season in force and what the member committed to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackView>,
}

/// The MiL.k Pack as a member sees it.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct PackView {
    /// The season in force.
    pub season: u32,
    /// When its first week starts, Unix ms.
    pub starts_ms: u64,
    /// How many weeks it runs.
    pub weeks: u32,
    /// MLK shared among the members each week, pro rata, base units.
    pub weekly_reward: String,
    /// LZM each member earns a week, base units.
    pub lzm_per_week: String,
    /// MLK the member committed, base units (absent: not in the Pack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed: Option<String>,
    /// Since when, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<u64>,
    /// LZM the member earned from Pack weeks (among the credits), base units.
    pub lzm_earned: String,
}

/// A consent as its member sees it.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ConsentView {
    /// The partner's brand chain.
    pub chain: String,
    /// What for.
    pub purpose: String,
    /// Which data items.
    pub items: Vec<String>,
    /// How long the partner may keep what it reads, days.
    pub retention_days: u32,
    /// When given, Unix ms.
    pub granted_ms: u64,
    /// When withdrawn, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_ms: Option<u64>,
}

/// One read of a member's data.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct AccessView {
    /// When, Unix ms.
    pub time_ms: u64,
    /// Which partner.
    pub chain: String,
}

/// TICA's floor under a member's level.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct FloorView {
    /// The level's index.
    pub level: u8,
    /// Why.
    pub reason: String,
}

/// Earnings that leave the window at a time.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct LeavingView {
    /// When, Unix ms.
    pub at_ms: u64,
    /// LZM base units.
    pub amount: String,
}

/// One LZM credit.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct CreditView {
    /// When (block time), Unix ms.
    pub time_ms: u64,
    /// `check_in`, `trade`, `coupon` or `mlk_burn`.
    pub reason: String,
    /// LZM base units.
    pub amount: String,
    /// The source: a transaction or trade id, or `chain:coupon`.
    pub reference: String,
}

/// The earning rules in force, and the levels.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct RulesView {
    /// The rules (LZM base units).
    #[schema(value_type = Object)]
    pub rules: EarningRules,
    /// The levels, lowest first: each a name and a threshold (LZM base units earned in the
    /// window).
    #[schema(value_type = Vec<Object>)]
    pub levels: Vec<membership::LevelSpec>,
    /// The window, days.
    pub window_days: u32,
}

/// One asset's circulating supply.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct SupplyView {
    /// The asset.
    pub asset: String,
    /// All of it, base units.
    pub total: String,
    /// In allocations whose lock is in force.
    pub locked: String,
    /// In reserves: the exchange's liquidity, reward pools not paid out, escrow.
    pub reserve: String,
    /// Held by TICA.
    pub tica_held: String,
    /// Total less the three above.
    pub circulating: String,
    /// Each excluded bucket.
    pub buckets: Vec<BucketView>,
    /// For the coin that crosses to the main chain (MLK): where the rest of its supply is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridged: Option<BridgedView>,
}

/// MLK across both chains, as the center chain's bridge records count it.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct BridgedView {
    /// On the main chain outside the vault: its starting float, plus releases recorded,
    /// less deposits recorded; base units.
    pub outside_vault: String,
    /// Burned here, not yet recorded as released there.
    pub in_transit_out: String,
    /// Deposited there, held here (naming no usable key) until TICA refunds them.
    pub held_deposits: String,
    /// The center chain's total plus the three above: the coin in existence on both chains.
    pub across_both_chains: String,
    /// Burned here for good, not to cross (for LZM, or by its holder); base units.
    pub burned_for_good: String,
    /// `across_both_chains` plus `burned_for_good`: always the supply genesis made on both
    /// chains (1.3 billion MLK), whatever crossed or was burned.
    pub genesis: String,
}

/// One excluded bucket.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct BucketView {
    /// Its label.
    pub label: String,
    /// `locked`, `reserve` or `tica_held`.
    pub class: String,
    /// Its balance, base units.
    pub amount: String,
}
