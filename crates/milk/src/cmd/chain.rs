//! Chains, blocks, transactions, balances and transfers; export and verify.

use super::*;
use crate::client::Client;
use crate::keystore::Keystore;
use anyhow::{Context, Result, anyhow, bail};
use milk_core::merkle::Proof;
use milk_core::tx::TokenAction;
use milk_core::tx::{Action, MAX_MEMO_BYTES, Transaction};
use milk_core::{Amount, ChainId, Hash};
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct BalanceArgs {
    /// A milk1… address or a key name.
    pub who: String,
}

#[derive(clap::Args)]
pub struct TransferArgs {
    /// The key that pays.
    #[arg(long)]
    pub from: String,
    /// The recipient: a milk1… address or a key name.
    #[arg(long)]
    pub to: String,
    /// How much, in whole units (e.g. 12.5).
    #[arg(long)]
    pub amount: String,
    /// The asset: MLK, or a Brand Token such as SKY.
    #[arg(long)]
    pub asset: String,
    /// A short message for the recipient.
    #[arg(long, default_value = "")]
    pub memo: String,
    /// Return once accepted instead of waiting for the block.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(clap::Args)]
pub struct TxArgs {
    /// The chain.
    pub chain: String,
    /// The transaction id.
    pub id: String,
    /// Read it as this key's account (its own transaction on a private brand chain).
    #[arg(long = "as")]
    pub as_key: Option<String>,
}

#[derive(clap::Args)]
pub struct BlockArgs {
    /// The chain.
    pub chain: String,
    /// The height.
    pub height: Option<u64>,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The chain.
    #[arg(long)]
    pub chain: String,
    /// The file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Export from a stopped node's data directory instead of asking the node.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// Verify a stopped node's data directory instead of asking the node.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Verify an exported chain offline (`milk export`).
    #[arg(long, conflicts_with = "data_dir")]
    pub file: Option<PathBuf>,
    /// Only this chain.
    #[arg(long)]
    pub chain: Option<String>,
    /// Also check the main chain at this JSON-RPC URL: every release from the vault
    /// matches a center-chain withdrawal, every posted batch root is the center chain's.
    #[arg(long, requires = "vault", conflicts_with_all = ["data_dir", "file"])]
    pub main_chain_rpc: Option<String>,
    /// The vault, with --main-chain-rpc.
    #[arg(long)]
    pub vault: Option<String>,
    /// The main-chain block the vault was deployed in: its events are searched from there.
    #[arg(long, default_value_t = 0)]
    pub main_chain_from_block: u64,
}

pub fn balance(ks: &Keystore, client: &Client, j: bool, args: BalanceArgs) -> Result<()> {
    let BalanceArgs { who } = args;
    // A key of this keystore reads as its owner (brand chains included); an address
    // reads what the credential, if any, may see.
    let view = if who.starts_with("milk1") {
        client.account(&resolve(ks, &who)?.to_string())?
    } else {
        client.account_as(&ks.unlock(&who, &passphrase(false)?)?)?
    };
    out(j, serde_json::to_value(&view)?, || {
        let mut s = format!("{}\n", view.address);
        for c in &view.chains {
            for b in &c.balances {
                s += &format!(
                    "  {:<10} {:>6} {:>24}\n",
                    c.chain,
                    b.asset,
                    grouped(&b.display)
                );
            }
        }
        s.trim_end().to_owned()
    });
    Ok(())
}

pub fn transfer(ks: &Keystore, client: &Client, j: bool, args: TransferArgs) -> Result<()> {
    let TransferArgs {
        from,
        to,
        amount,
        asset,
        memo,
        no_wait,
    } = args;
    if memo.len() > MAX_MEMO_BYTES {
        bail!("memo is {} bytes; at most {MAX_MEMO_BYTES}", memo.len());
    }
    let to = resolve(ks, &to)?;
    let symbol: milk_core::Symbol = asset.parse().map_err(|e: String| anyhow!(e))?;
    let chains = client.chains()?;
    let (chain, info) = chains
        .iter()
        .find_map(|c| {
            c.assets
                .iter()
                .find(|a| a.symbol == symbol.as_str())
                .map(|a| (c, a))
        })
        .ok_or_else(|| anyhow!("no chain on this node has asset {symbol}"))?;
    let units = Amount::parse_decimal(&amount, info.decimals)?;
    let key = ks.unlock(&from, &passphrase(false)?)?;
    let account = client.account_as(&key)?;
    let sequence = account
        .chains
        .iter()
        .find(|c| c.chain == chain.id)
        .map_or(0, |c| c.next_sequence);
    let tx = Transaction {
        chain: chain.id.parse().map_err(|e: String| anyhow!(e))?,
        sender: key.address(),
        sequence,
        expires_at_ms: now_ms() + 10 * 60 * 1000,
        action: Action::Token(TokenAction::Transfer {
            to,
            asset: symbol,
            amount: units,
            memo,
        }),
    };
    let signed = tx.sign(&key);
    let resp = client.submit(&chain.id, &[signed], !no_wait)?;
    let r = resp
        .results
        .into_iter()
        .next()
        .context("node answered no result")?;
    if let Some(e) = &r.error {
        let message = format!("transfer rejected: {}", e.message);
        return Err(crate::failure::Refused::new(e.code.clone(), message).into());
    }
    out(j, serde_json::to_value(&r)?, || match r.height {
        Some(h) => format!(
            "sent {amount} {symbol} to {to}\ncommitted on {} at height {h}\ntx {}",
            chain.id,
            r.id.clone().unwrap_or_default()
        ),
        None => format!("accepted, pending: tx {}", r.id.clone().unwrap_or_default()),
    });
    Ok(())
}

pub fn tx(ks: &Keystore, client: &Client, j: bool, args: TxArgs) -> Result<()> {
    let TxArgs { chain, id, as_key } = args;
    let view = match &as_key {
        Some(name) => client.tx_as(&chain, &id, &ks.unlock(name, &passphrase(false)?)?)?,
        None => client.tx(&chain, &id)?,
    };
    // Check the proof here rather than trusting the node's word.
    let proof_ok = match &view.proof {
        Some(p) => {
            let proof = Proof {
                index: p.index,
                leaf_count: p.leaf_count,
                siblings: p
                    .siblings
                    .iter()
                    .map(|s| Hash::from_hex(s))
                    .collect::<Result<_, _>>()
                    .map_err(|e| anyhow!(e))?,
            };
            let leaf = Hash::from_hex(&p.leaf).map_err(|e| anyhow!(e))?;
            let root = Hash::from_hex(&p.tx_root).map_err(|e| anyhow!(e))?;
            // A customer may not read a private chain's blocks: the root is the node's word.
            let in_block = match as_key {
                Some(_) => true,
                None => {
                    client
                        .block(&chain, view.height.unwrap_or(0))?
                        .summary
                        .tx_root
                        == p.tx_root
                }
            };
            Some(proof.verify(&leaf, &root) && in_block)
        }
        None => None,
    };
    let mut value = serde_json::to_value(&view)?;
    value["proof_verified"] = json!(proof_ok);
    out(j, value, || {
        let mut s = format!("tx {}\nstatus: {}", view.id, view.status);
        if let (Some(h), Some(i)) = (view.height, view.index) {
            s += &format!(
                "\nblock: {h} (index {i}, hash {})",
                view.block_hash.clone().unwrap_or_default()
            );
        }
        if let Some(ok) = proof_ok {
            s += &format!(
                "\nMerkle proof: {}",
                if ok { "verified" } else { "INVALID" }
            );
        }
        if let Some(e) = &view.error {
            s += &format!("\nerror: {} ({})", e.message, e.code);
        }
        s
    });
    if proof_ok == Some(false) {
        bail!("the node's inclusion proof does not verify");
    }
    Ok(())
}

pub fn block(client: &Client, j: bool, args: BlockArgs) -> Result<()> {
    let BlockArgs { chain, height } = args;
    let height = match height {
        Some(h) => h,
        None => {
            client
                .chains()?
                .into_iter()
                .find(|c| c.id == chain)
                .ok_or_else(|| anyhow!("no chain {chain} on this node"))?
                .head
                .ok_or_else(|| anyhow!("chain {chain} is private: pass a credential with --token"))?
                .height
        }
    };
    let b = client.block(&chain, height)?;
    out(j, serde_json::to_value(&b)?, || {
        let mut s = format!(
            "{chain} block {}\nhash       {}\nprev       {}\ntime       {}\ntx_root    {}\nstate_root {}\nproducer   {}\ntxs        {}",
            b.summary.height,
            b.summary.hash,
            b.summary.prev_hash,
            local_time(b.summary.time_ms),
            b.summary.tx_root,
            b.summary.state_root,
            b.summary.producer,
            b.summary.tx_count
        );
        for t in &b.txs {
            s += &format!("\n  {}", t["id"].as_str().unwrap_or(""));
        }
        s
    });
    Ok(())
}

/// For a brand chain, the center chain's transactions about it (read after the brand chain,
/// so every leg it shows is there), with their proofs.
fn center_evidence(
    source: &crate::verify::Source,
    genesis: &milk_core::genesis::Genesis,
    chain: &ChainId,
    blocks: &[milk_core::block::Block],
) -> Result<Vec<milk_api::export::evidence::Evidence>> {
    let Some(asset) = (genesis.chain(chain))
        .filter(|c| c.partner.is_some())
        .and_then(|c| c.assets.first())
    else {
        return Ok(Vec::new());
    };
    let (_, center) = crate::verify::collect(source, &ChainId::center())?;
    let seals = crate::verify::seals(chain, blocks.iter().map(|b| (b.header.height, b.hash())));
    Ok(milk_api::export::evidence::gather(
        &center,
        chain,
        &asset.symbol,
        &seals,
    ))
}

pub fn export(client: &Client, j: bool, args: ExportArgs) -> Result<()> {
    let ExportArgs {
        chain,
        out: path,
        data_dir,
    } = args;
    let chain: ChainId = chain.parse().map_err(|e: String| anyhow!(e))?;
    let source = match data_dir {
        Some(d) => crate::verify::Source::DataDir(d),
        None => crate::verify::Source::Node(client.clone()),
    };
    let (genesis, blocks) = crate::verify::collect(&source, &chain)?;
    let center = center_evidence(&source, &genesis, &chain, &blocks)?;
    let pieces = center.len();
    crate::verify::write_export(&path, &chain, &genesis, &blocks, center)?;
    out(
        j,
        json!({ "chain": chain, "blocks": blocks.len(), "center_evidence": pieces, "file": path }),
        || {
            format!(
                "exported {chain}'s blocks 0 to {} (its genesis block and {} more), with {pieces} center-chain transactions about it and their proofs, to {}",
                blocks.len().saturating_sub(1),
                blocks.len().saturating_sub(1),
                path.display()
            )
        },
    );
    Ok(())
}

pub fn verify(client: &Client, j: bool, args: VerifyArgs) -> Result<()> {
    let VerifyArgs {
        data_dir,
        file,
        chain,
        main_chain_rpc,
        vault,
        main_chain_from_block: from,
    } = args;
    let main = match (&main_chain_rpc, &vault) {
        (Some(rpc), Some(vault)) => {
            let vault = super::main_chain::MainChainArgs { rpc, vault, from };
            Some(super::main_chain::verify_main_chain(client, &vault)?)
        }
        _ => None,
    };
    let source = match (data_dir, file) {
        (Some(d), _) => crate::verify::Source::DataDir(d),
        (None, Some(f)) => crate::verify::Source::File(Box::new(crate::verify::read_export(&f)?)),
        (None, None) => crate::verify::Source::Node(client.clone()),
    };
    let only = chain
        .map(|c| c.parse::<ChainId>())
        .transpose()
        .map_err(|e| anyhow!(e))?;
    let reports = crate::verify::verify(&source, only.as_ref(), !j)?;
    let bad = reports.iter().any(|r| !r.ok());
    let main_bad = main.as_ref().is_some_and(|m| !m.problems.is_empty());
    let ok = !bad && !main_bad;
    let value = json!({ "ok": ok, "chains": reports, "main_chain": main });
    out(j, value, || {
        let mut s = chains_text(&reports);
        if let Some(m) = &main {
            s += &format!(
                "\nmain chain: {} releases and {} batch roots checked against the center chain",
                m.releases, m.batches
            );
            for p in &m.problems {
                s += &format!("\nmain chain: BAD: {p}");
            }
        }
        s
    });
    if !ok {
        std::process::exit(2);
    }
    Ok(())
}

/// Each chain's verdict, a line each.
fn chains_text(reports: &[crate::verify::ChainReport]) -> String {
    let mut s = String::new();
    for r in reports {
        match (&r.error, r.bad_block) {
            _ if r.skipped.is_some() => {
                let why = r.skipped.as_deref().unwrap_or_default();
                s += &format!("{}: skipped: {why}\n", r.chain)
            }
            (Some(e), Some(h)) => s += &format!("{}: BAD at block {h}: {e}\n", r.chain),
            (Some(e), None) => s += &format!("{}: BAD: {e}\n", r.chain),
            _ => {
                let checked = match r.blocks_checked {
                    0 => "only its genesis block".to_owned(),
                    n => format!("blocks 1 to {n} replayed from its genesis block"),
                };
                s += &format!(
                    "{}: ok, {checked}; head {} {}\n",
                    r.chain, r.head_height, r.head_hash
                )
            }
        }
    }
    s.trim_end().to_owned()
}

#[derive(clap::Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub change: Option<ClusterChange>,
}

#[derive(clap::Subcommand)]
pub enum ClusterChange {
    /// Add a node of the cluster file to a chain's group as a learner: it receives the
    /// chain and votes in nothing. Returns once it has caught up.
    AddLearner {
        /// The chain.
        #[arg(long)]
        chain: String,
        /// The node's number in the cluster file.
        #[arg(long)]
        node: u64,
    },
    /// Check that replicas agree: on every chain, every block up to the lowest of their heads
    /// has the same hash (so the same transactions and state root) on each node given.
    Agree {
        /// The nodes' API URLs (at least two).
        #[arg(required = true, num_args = 2..)]
        nodes: Vec<String>,
    },
    /// Set a chain's voters: learners named are promoted, voters left out leave the group.
    Voters {
        /// The chain.
        #[arg(long)]
        chain: String,
        /// The voters' numbers.
        #[arg(required = true)]
        nodes: Vec<u64>,
    },
    /// Name the keys that may sign a chain's blocks from its next block on, signed by TICA's
    /// key: the chain's genesis producer (shown by `milk cluster`) and node keys of nodes
    /// that hold the chain (`milkd --print-node-key`). A partner's node makes its chain's
    /// blocks with its own key once it is in the set and votes; leaving every node that is
    /// up out of the set stops the chain until TICA names a live one.
    Producers {
        /// The chain.
        #[arg(long)]
        chain: String,
        /// The keys, `milk1…`.
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Have the node given by `--node` stand for election in a chain now (it must vote in it
    /// and hold a key of its producer set).
    Elect {
        /// The chain.
        #[arg(long)]
        chain: String,
    },
}

/// Compares every chain's blocks across replicas, page by page, up to their lowest head.
fn agree(client: &Client, j: bool, nodes: &[String]) -> Result<()> {
    let clients: Vec<Client> = nodes.iter().map(|u| client.at(u)).collect();
    let views = (clients.iter())
        .map(|c| c.cluster().with_context(|| format!("asking {}", c.base())))
        .collect::<Result<Vec<_>>>()?;
    let mut report = Vec::new();
    for chain in views[0].chains.iter().map(|c| c.chain.clone()) {
        let heights = (views.iter())
            .map(|v| v.chains.iter().find(|c| c.chain == chain).map(|c| c.height))
            .collect::<Option<Vec<u64>>>()
            .ok_or_else(|| anyhow!("not every node holds {chain}"))?;
        let common = heights.iter().copied().min().unwrap_or(0);
        let mut from = 0;
        while from <= common {
            let limit = (common - from + 1).min(500);
            let pages = (clients.iter())
                .map(|c| c.raw_blocks(&chain, from, limit))
                .collect::<Result<Vec<_>>>()?;
            for (i, b) in pages[0].iter().enumerate() {
                if let Some(n) = pages
                    .iter()
                    .position(|p| p.get(i).map(|x| x.hash()) != Some(b.hash()))
                {
                    bail!(
                        "{chain}: block {} differs between {} and {}",
                        from + i as u64,
                        nodes[0],
                        nodes[n]
                    );
                }
            }
            from += pages[0].len().max(1) as u64;
        }
        report.push(json!({ "chain": chain, "blocks_compared": common + 1, "heights": heights }));
    }
    out(j, json!(report), || {
        let lines: Vec<String> = (report.iter())
            .map(|r| {
                format!(
                    "{:<10} {} replicas agree on blocks 0–{} (heights {})",
                    r["chain"].as_str().unwrap_or(""),
                    nodes.len(),
                    r["blocks_compared"].as_u64().unwrap_or(1) - 1,
                    r["heights"]
                )
            })
            .collect();
        lines.join("\n")
    });
    Ok(())
}

pub fn cluster(client: &Client, j: bool, args: ClusterArgs) -> Result<()> {
    let changed = match args.change {
        None => None,
        Some(ClusterChange::Agree { nodes }) => return agree(client, j, &nodes),
        Some(ClusterChange::AddLearner { chain, node }) => Some(client.add_learner(&chain, node)?),
        Some(ClusterChange::Voters { chain, nodes }) => Some(client.set_voters(&chain, nodes)?),
        Some(ClusterChange::Producers { chain, keys }) => Some(client.set_producers(&chain, keys)?),
        Some(ClusterChange::Elect { chain }) => Some(client.elect(&chain)?),
    };
    if let Some(c) = changed {
        out(j, serde_json::to_value(&c)?, || {
            format!(
                "{}: voters {:?}, led by node {}, producers {}",
                c.chain,
                c.voters,
                c.leader.map_or("none".into(), |l| l.to_string()),
                c.producers.join(", ")
            )
        });
        return Ok(());
    }
    let view = client.cluster()?;
    out(j, serde_json::to_value(&view)?, || {
        let Some(node) = view.node else {
            return "this node is not replicated: it alone makes every chain's blocks".into();
        };
        let mut s = format!(
            "node {node}\n{:<10} {:<7} {:<10} {:<9} {:<6} {:<9} {:<8} state root\n",
            "chain", "leader", "role", "produces", "term", "applied", "height"
        );
        for c in &view.chains {
            let leader = c.leader.map_or("none".into(), |l| l.to_string());
            let applied = c.applied.map_or("-".into(), |a| a.to_string());
            s += &format!(
                "{:<10} {:<7} {:<10} {:<9} {:<6} {:<9} {:<8} {}\n",
                c.chain,
                leader,
                c.role,
                if c.produces { "yes" } else { "no" },
                c.term,
                applied,
                c.height,
                &c.state_root[..16]
            );
        }
        s.trim_end().to_owned()
    });
    Ok(())
}

pub fn chains(ks: &Keystore, client: &Client, j: bool) -> Result<()> {
    let _ = ks;
    let chains = client.chains()?;
    out(j, serde_json::to_value(&chains)?, || {
        let mut s = String::new();
        for c in &chains {
            let height = c
                .head
                .as_ref()
                .map_or("private".to_owned(), |h| h.height.to_string());
            s += &format!(
                "{:<10} {:<6} height {:<8} {}{}\n",
                c.id,
                c.kind,
                height,
                c.name,
                c.sector
                    .as_ref()
                    .map(|x| format!(" ({x})"))
                    .unwrap_or_default()
            );
            for a in &c.assets {
                let supply = match &a.supply {
                    Some(units) => {
                        grouped(&Amount::new(units.parse().unwrap_or(0)).to_decimal(a.decimals))
                    }
                    None => "private".to_owned(),
                };
                s += &format!("           {:<6} supply {supply}\n", a.symbol);
            }
        }
        s.trim_end().to_owned()
    });
    Ok(())
}
