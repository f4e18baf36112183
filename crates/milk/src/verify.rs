//! `milk verify`: replays a chain from genesis and checks every block.

use crate::client::Client;
use anyhow::{Context, Result, anyhow};
use indicatif::{ProgressBar, ProgressStyle};
use milk_api::export::Export;
use milk_api::export::evidence::Evidence;
use milk_core::ChainId;
use milk_core::block::Block;
use milk_core::chain::Verifier;
use milk_core::genesis::Genesis;
use milk_store::{ChainStore, RedbStore};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where the blocks come from.
pub enum Source {
    /// A node's data directory (the node must be stopped: a store has one writer).
    DataDir(PathBuf),
    /// A running node's API.
    Node(Client),
    /// An exported chain, checked offline.
    File(Box<Export>),
}

/// Reads an export file (see [`Export`]); what is wrong with it names the file.
pub fn read_export(path: &Path) -> Result<Export> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Export::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Writes a chain's genesis and blocks as an export file, with the center chain's evidence
/// about it.
pub fn write_export(
    path: &Path,
    chain: &ChainId,
    genesis: &Genesis,
    blocks: &[Block],
    center: Vec<Evidence>,
) -> Result<()> {
    let text = Export::render(chain, genesis, blocks, center);
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Every block of a chain from a node or a stopped node's data directory, and its genesis.
pub fn collect(source: &Source, chain: &ChainId) -> Result<(Genesis, Vec<Block>)> {
    let genesis = source.genesis()?;
    genesis
        .chain(chain)
        .ok_or_else(|| anyhow!("the genesis has no chain {chain}"))?;
    let mut blocks = Vec::new();
    match source {
        Source::DataDir(dir) => {
            let store = open_store(dir, chain)?;
            let head = store.head()?.map_or(0, |h| h.height);
            for h in 0..=head {
                blocks.push(
                    store
                        .block(h)?
                        .ok_or_else(|| anyhow!("block {h} is missing"))?,
                );
            }
        }
        Source::Node(c) => loop {
            let page = c.raw_blocks(chain.as_str(), blocks.len() as u64, PAGE)?;
            let done = page.len() < PAGE as usize;
            blocks.extend(page);
            if done {
                break;
            }
        },
        Source::File(e) => {
            for (h, b) in e.blocks.iter().enumerate() {
                blocks.push(b.clone().map_err(|why| anyhow!("block {h} {why}"))?);
            }
        }
    }
    if genesis
        .chain(chain)
        .is_some_and(|c| c.partner.is_some() && c.created_ms.is_none() && c.allocations.is_empty())
    {
        return Err(anyhow!(
            "chain {chain} is private: export it with its partner's, an auditor's or the operator's credential"
        ));
    }
    Ok((genesis, blocks))
}

/// The verdict on one chain.
#[derive(Debug, Serialize)]
pub struct ChainReport {
    /// The chain.
    pub chain: String,
    /// Blocks checked after genesis.
    pub blocks_checked: u64,
    /// The verified head's height.
    pub head_height: u64,
    /// The verified head's hash.
    pub head_hash: String,
    /// The first bad block, if any.
    pub bad_block: Option<u64>,
    /// Why it is bad.
    pub error: Option<String>,
    /// Why it was not checked (a private chain without a credential).
    pub skipped: Option<String>,
    /// Anchors on the center chain this brand chain was checked against.
    pub anchors_checked: u64,
}

impl ChainReport {
    /// Whether every block checked out.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

const PAGE: u64 = 500;

impl Source {
    /// The network's genesis, with the chains of partners admitted since appended: their
    /// starting definitions follow from the center chain's alliance records.
    fn genesis(&self) -> Result<Genesis> {
        match self {
            Source::DataDir(dir) => {
                let path = dir.join("genesis.json");
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let genesis: Genesis = serde_json::from_str(&text)
                    .with_context(|| format!("parsing {}", path.display()))?;
                let center = open_store(dir, &ChainId::center())?;
                let members = center
                    .records_with_prefix(&[milk_core::alliance::PARTNER_RECORD])?
                    .iter()
                    .map(|(_, v)| {
                        <milk_core::alliance::Member as milk_core::codec::Decode>::from_bytes(v)
                            .map_err(|e| anyhow!("malformed partner record: {e}"))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(genesis.with_admitted(&members))
            }
            Source::Node(c) => {
                let mut genesis = c.genesis()?;
                for m in c.alliance()? {
                    if let Some(spec) = m.chain_spec
                        && genesis.chain(&spec.id).is_none()
                    {
                        genesis.chains.push(spec);
                    }
                }
                Ok(genesis)
            }
            Source::File(e) => Ok(e.genesis.clone()),
        }
    }
}

/// Verifies the named chains, or all of the genesis's chains.
pub fn verify(source: &Source, only: Option<&ChainId>, progress: bool) -> Result<Vec<ChainReport>> {
    let genesis = source.genesis()?;
    let mut states = Vec::new();
    if let Source::File(e) = source {
        if only.is_some_and(|c| *c != e.chain) {
            return Err(anyhow!("this file exports chain {}", e.chain));
        }
        return Ok(vec![verify_chain(
            source,
            &genesis,
            &e.chain,
            progress,
            &mut states,
        )?]);
    }
    let chains: Vec<ChainId> = match only {
        Some(c) => {
            genesis
                .chain(c)
                .ok_or_else(|| anyhow!("the genesis has no chain {c}"))?;
            vec![c.clone()]
        }
        None => genesis.chains.iter().map(|c| c.id.clone()).collect(),
    };
    let mut reports = chains
        .iter()
        .map(|c| verify_chain(source, &genesis, c, progress, &mut states))
        .collect::<Result<Vec<_>>>()?;
    // With the center chain and brand chains replayed, each trade's two legs must agree.
    use milk_core::exchange::audit;
    // Every trade must also have ended by its deadline.
    if let Some((_, center, center_ms)) = states.iter().find(|s| s.0 == ChainId::center()) {
        for (chain, brand, brand_ms) in states.iter().filter(|s| s.0 != ChainId::center()) {
            let Some(report) = reports.iter_mut().find(|r| r.chain == chain.as_str()) else {
                continue;
            };
            let problems = milk_core::exchange::audit::cross_check(center, chain, brand);
            let overdue = audit::overdue(center, *center_ms, chain, brand, *brand_ms);
            if !problems.is_empty() {
                report.error = Some(format!(
                    "its trades disagree with the center chain: {}",
                    problems.join("; ")
                ));
            } else if !overdue.is_empty() {
                report.error = Some(format!(
                    "trades open past their deadline: {}",
                    overdue.join("; ")
                ));
            }
        }
    }
    check_seals(only, &states, &mut reports);
    Ok(reports)
}

/// With every chain replayed and sound, the center chain's sealed credits (linking rewards,
/// coupon credits) must each answer a link or a report on a brand chain.
fn check_seals(only: Option<&ChainId>, states: &[Verified], reports: &mut [ChainReport]) {
    let every = only.is_none() && reports.iter().all(|r| r.skipped.is_none() && r.ok());
    let center = states.iter().find(|s| s.0 == ChainId::center());
    let (true, Some((_, center, _))) = (every, center) else {
        return;
    };
    let brands: Vec<_> = (states.iter())
        .filter(|s| s.0 != ChainId::center())
        .map(|(chain, state, _)| (chain, state))
        .collect();
    let problems = crate::seals::problems(center, &brands);
    let report = reports.iter_mut().find(|r| r.chain == "center");
    if let (false, Some(report)) = (problems.is_empty(), report) {
        report.error = Some(format!(
            "its sealed credits disagree with the brand chains: {}",
            problems.join("; ")
        ));
    }
}

/// A verified chain: its id, its state and its head's block time.
type Verified = (ChainId, milk_core::state::ChainState, u64);

fn open_store(dir: &Path, chain: &ChainId) -> Result<RedbStore> {
    let path = milk_store::chain_path(dir, chain);
    if !path.exists() {
        return Err(anyhow!("{} does not exist", path.display()));
    }
    RedbStore::open(&path).with_context(|| {
        format!(
            "opening {} (is a node running on this data directory? stop it, or verify through it with --node)",
            path.display()
        )
    })
}

fn verify_chain(
    source: &Source,
    genesis: &Genesis,
    chain: &ChainId,
    progress: bool,
    states: &mut Vec<Verified>,
) -> Result<ChainReport> {
    let store = match source {
        Source::DataDir(dir) => Some(open_store(dir, chain)?),
        Source::Node(_) | Source::File(_) => None,
    };
    let mut report = ChainReport {
        chain: chain.to_string(),
        blocks_checked: 0,
        head_height: 0,
        head_hash: String::new(),
        bad_block: None,
        error: None,
        skipped: None,
        anchors_checked: 0,
    };
    // A brand chain's anchors, read first: each then names a block the replay will read.
    let anchors = match genesis.chain(chain).is_some_and(|c| c.partner.is_some()) {
        true => anchors(source, chain)?,
        false => Vec::new(),
    };
    let Some(head_height) = head_height(source, store.as_ref(), chain)? else {
        report.skipped = Some(
            "private chain: needs its partner's, an auditor's or the operator's credential (--token)".into(),
        );
        return Ok(report);
    };
    let bar = progress_bar(progress, chain, head_height + 1);
    let fetch = |from: u64| fetch_page(source, store.as_ref(), chain, from, head_height);
    let replayed = replay(genesis, chain, head_height, &fetch, &bar, &mut report)?;
    let (verifier, hashes) = match replayed {
        Ok(done) => done,
        Err((height, why)) => return fail(report, height, why, &bar),
    };
    // The stored state must be exactly what replaying the blocks produces.
    if let Some(s) = &store {
        let snapshot = s
            .snapshot()?
            .ok_or_else(|| anyhow!("store of {chain} is empty"))?;
        if snapshot.records != verifier.state().records() || snapshot.head != *verifier.head() {
            let why = "stored account state differs from the state the blocks produce";
            return fail(report, verifier.head().height, why.into(), &bar);
        }
    }
    // A brand chain must agree with every anchor the center chain recorded for it.
    if let Err((height, why)) = check_anchors(chain, &anchors, &hashes, &mut report) {
        return fail(report, height, why, &bar);
    }
    // An export's trades must agree with the center-chain legs it carries.
    if let Some(why) = export_disagreements(source, verifier.state()) {
        return fail(report, verifier.head().height, why, &bar);
    }
    bar.finish();
    report.head_height = verifier.head().height;
    report.head_hash = verifier.head().hash().to_hex();
    states.push((
        chain.clone(),
        verifier.state().clone(),
        verifier.head().time_ms,
    ));
    Ok(report)
}

/// What an export's escrows and deliveries disagree with in the center chain's evidence it
/// carries, if anything (other sources are checked across chains by `verify`).
fn export_disagreements(source: &Source, brand: &milk_core::state::ChainState) -> Option<String> {
    use milk_core::tx::{Action, ExchangeAction};
    let Source::File(e) = source else {
        return None;
    };
    let sells = (e.blocks.iter().flatten())
        .flat_map(|b| b.txs.iter())
        .filter(|t| matches!(t.tx.action, Action::Exchange(ExchangeAction::Sell { .. })))
        .map(|t| (t.tx.id(), t.clone()))
        .collect();
    let problems = milk_api::export::evidence::disagreements(&e.center, brand, &sells);
    (!problems.is_empty()).then(|| {
        format!(
            "its trades disagree with the center chain: {}",
            problems.join("; ")
        )
    })
}

/// A chain's report with the block that failed and why.
fn fail(
    mut report: ChainReport,
    height: u64,
    why: String,
    bar: &ProgressBar,
) -> Result<ChainReport> {
    bar.abandon();
    report.bad_block = Some(height);
    report.error = Some(why);
    Ok(report)
}

/// The height to replay to; `None` for a private chain this caller may not read.
fn head_height(source: &Source, store: Option<&RedbStore>, chain: &ChainId) -> Result<Option<u64>> {
    Ok(match (store, source) {
        (Some(s), _) => Some(s.head()?.map(|h| h.height).unwrap_or(0)),
        (None, Source::Node(c)) => {
            let chains = c.chains()?;
            let info = chains
                .iter()
                .find(|i| i.id == chain.as_str())
                .ok_or_else(|| anyhow!("the node does not host chain {chain}"))?;
            info.head.as_ref().map(|h| h.height)
        }
        (None, Source::File(e)) => Some(e.blocks.len().saturating_sub(1) as u64),
        (None, Source::DataDir(_)) => unreachable!("a data directory always opens a store"),
    })
}

fn progress_bar(progress: bool, chain: &ChainId, len: u64) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} blocks {per_sec}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(chain.to_string());
    bar
}

/// One page of blocks from `from` on, each decoded or with why not.
fn fetch_page(
    source: &Source,
    store: Option<&RedbStore>,
    chain: &ChainId,
    from: u64,
    head_height: u64,
) -> Result<Vec<Result<Block, String>>> {
    match (store, source) {
        (Some(s), _) => {
            let to = (from + PAGE).min(head_height + 1);
            (from..to)
                .map(|h| match s.block_bytes(h)? {
                    None => Ok(Err("block is missing".to_owned())),
                    Some(bytes) => Ok(<Block as milk_core::codec::Decode>::from_bytes(&bytes)
                        .map_err(|e| format!("cannot be decoded: {e}"))),
                })
                .collect()
        }
        (None, Source::Node(c)) => Ok(c
            .raw_blocks(chain.as_str(), from, PAGE)?
            .into_iter()
            .map(Ok)
            .collect()),
        (None, Source::File(e)) => Ok(e
            .blocks
            .iter()
            .skip(from as usize)
            .take(PAGE as usize)
            .cloned()
            .collect()),
        (None, Source::DataDir(_)) => unreachable!("a data directory always opens a store"),
    }
}

/// Blocks replayed from genesis to the head; each verified block's hash, by height. A
/// block that fails is `Err((height, why))`.
type Replayed = std::result::Result<(Verifier, Vec<milk_core::Hash>), (u64, String)>;

/// Replays a chain from genesis to `head_height`, page by page.
fn replay(
    genesis: &Genesis,
    chain: &ChainId,
    head_height: u64,
    fetch: &dyn Fn(u64) -> Result<Vec<Result<Block, String>>>,
    bar: &ProgressBar,
    report: &mut ChainReport,
) -> Result<Replayed> {
    let first = fetch(0)?;
    let genesis_block = match first.first() {
        Some(Ok(b)) => b.clone(),
        Some(Err(e)) => return Ok(Err((0, e.clone()))),
        None => return Ok(Err((0, "genesis block is missing".into()))),
    };
    let mut verifier = match Verifier::start(genesis, chain, &genesis_block) {
        Ok(v) => v,
        Err(e) => return Ok(Err((0, e))),
    };
    bar.inc(1);
    let mut hashes = vec![verifier.head().hash()];
    let mut page = first.into_iter().skip(1).collect::<Vec<_>>();
    let mut next = 1;
    while next <= head_height {
        if page.is_empty() {
            page = fetch(next)?;
            if page.is_empty() {
                return Ok(Err((next, "block is missing".into())));
            }
        }
        for item in page.drain(..) {
            let block = match item {
                Ok(b) => b,
                Err(e) => return Ok(Err((next, e))),
            };
            if let Err(e) = verifier.apply(&block) {
                return Ok(Err((block.header.height, e.to_string())));
            }
            hashes.push(verifier.head().hash());
            report.blocks_checked += 1;
            next += 1;
            bar.inc(1);
        }
    }
    Ok(Ok((verifier, hashes)))
}

/// The anchor seal of each block `(height, hash)` of `chain`, to the block's height.
pub fn seals(
    chain: &ChainId,
    blocks: impl Iterator<Item = (u64, milk_core::Hash)>,
) -> HashMap<milk_core::Hash, u64> {
    let seal = |(height, hash): (u64, milk_core::Hash)| {
        (milk_core::anchor::anchor_seal(chain, height, &hash), height)
    };
    blocks.map(seal).collect()
}

/// Checks a brand chain against every anchor the center chain recorded for it (read before
/// its blocks, so each names a block that existed): each seal is a block of this chain, each
/// higher than the one before.
fn check_anchors(
    chain: &ChainId,
    anchors: &[milk_core::Hash],
    hashes: &[milk_core::Hash],
    report: &mut ChainReport,
) -> std::result::Result<(), (u64, String)> {
    let head = hashes.len() as u64 - 1;
    let seals = seals(
        chain,
        hashes
            .iter()
            .copied()
            .enumerate()
            .map(|(h, x)| (h as u64, x)),
    );
    let mut last = None;
    for (number, seal) in anchors.iter().enumerate() {
        report.anchors_checked += 1;
        let Some(&height) = seals.get(seal) else {
            let why = format!(
                "no block of this chain, up to its head at {head}, has the seal the center chain anchored as its anchor {number}: its history was rewritten or cut"
            );
            return Err((head, why));
        };
        if last.is_some_and(|l| height <= l) {
            let why = format!(
                "the center chain's anchor {number} seals a block below an earlier anchor's"
            );
            return Err((height, why));
        }
        last = Some(height);
    }
    Ok(())
}

/// The anchors' seals of a brand chain on the center chain, in order, where the source has a
/// center chain.
fn anchors(source: &Source, chain: &ChainId) -> Result<Vec<milk_core::Hash>> {
    match source {
        Source::Node(c) => (c.anchors(chain.as_str())?.into_iter())
            .map(|a| milk_core::Hash::from_hex(&a.seal).map_err(|e| anyhow!(e)))
            .collect(),
        Source::DataDir(dir) => {
            let center = open_store(dir, &ChainId::center())?;
            let prefix = milk_core::state::record::anchor_prefix(chain);
            (center.records_with_prefix(&prefix)?.into_iter())
                .map(|(_, v)| {
                    let seal: [u8; 32] = v
                        .try_into()
                        .map_err(|_| anyhow!("malformed anchor record"))?;
                    Ok(milk_core::Hash(seal))
                })
                .collect()
        }
        // An export carries TICA's anchor transactions, each with its proof.
        Source::File(e) => Ok(milk_api::export::evidence::anchors(&e.center)),
    }
}
