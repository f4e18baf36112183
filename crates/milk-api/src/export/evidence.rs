//! What an audit export of a brand chain carries from the public center chain, so that
//! `milk verify --file` checks it offline: the center chain's transactions about the chain
//! (TICA's anchors of its block hashes, and the center-chain legs of its trades), each with
//! the signed header of its block and its Merkle proof there.
//!
//! Offline, each piece is checked on its own: its transaction's signature (TICA's operator
//! key for anchors and settlements, from the genesis in the export), its proof against its
//! block's transaction root, and the block producer's signature over the header. Then the
//! brand chain must agree with them: every anchored height has the anchored hash; every
//! escrow released to TICA was settled by TICA on the center chain for exactly that sale
//! order; every delivery answers a buy the customer signed there for this token, and agrees
//! with TICA's completion of it, if the center chain already has one.

use milk_core::block::{Block, BlockHeader, leaf_of};
use milk_core::codec::{Decode, Encode};
use milk_core::exchange::desk::EscrowStatus;
use milk_core::merkle::Proof;
use milk_core::tx::{Action, AnchorAction, ExchangeAction, SignedTransaction};
use milk_core::{Address, ChainId, Hash, Signature, Symbol};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One center-chain transaction with what proves it is there, as the export file holds it
/// (hex).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evidence {
    /// The block's header.
    pub header: String,
    /// Its producer's signature over the header's hash.
    pub signature: String,
    /// The signed transaction.
    pub tx: String,
    /// Its position in the block.
    pub index: u64,
    /// How many transactions the block has.
    pub leaf_count: u64,
    /// The Merkle proof's sibling hashes, leaf to root.
    pub siblings: Vec<String>,
}

/// A piece of evidence, decoded and checked: its block's height and its transaction.
#[derive(Debug)]
pub struct Checked {
    height: u64,
    tx: SignedTransaction,
}

impl Evidence {
    fn of(block: &Block, index: usize) -> Evidence {
        let proof = block.prove(index).expect("the index is the block's");
        Evidence {
            header: hex::encode(block.header.to_bytes()),
            signature: hex::encode(block.signature.0),
            tx: hex::encode(block.txs[index].to_bytes()),
            index: proof.index,
            leaf_count: proof.leaf_count,
            siblings: proof.siblings.iter().map(Hash::to_hex).collect(),
        }
    }

    /// Decodes and checks it: a center-chain block signed by its producer, the transaction
    /// in it, validly signed, and by `operator` where only TICA may send it.
    fn check(&self, operator: &Address) -> Result<Checked, String> {
        let bytes = |s: &str| hex::decode(s).map_err(|e| format!("not hex: {e}"));
        let header = BlockHeader::from_bytes(&bytes(&self.header)?).map_err(|e| e.to_string())?;
        let signature = Signature(
            bytes(&self.signature)?
                .try_into()
                .map_err(|_| "a signature is 64 bytes".to_owned())?,
        );
        if header.chain != ChainId::center() {
            return Err(format!(
                "its block is on chain {}, not center",
                header.chain
            ));
        }
        if !milk_core::keys::verify(&header.producer, &header.hash().0, &signature) {
            return Err(format!(
                "block {}'s signature is not its producer's",
                header.height
            ));
        }
        let tx = SignedTransaction::from_bytes(&bytes(&self.tx)?).map_err(|e| e.to_string())?;
        let siblings = (self.siblings.iter())
            .map(|s| Hash::from_hex(s))
            .collect::<Result<Vec<_>, _>>()?;
        let proof = Proof {
            index: self.index,
            leaf_count: self.leaf_count,
            siblings,
        };
        if !proof.verify(&leaf_of(&tx), &header.tx_root) {
            return Err(format!(
                "its proof does not lead to block {}'s root",
                header.height
            ));
        }
        let tx = tx.verify().map_err(|(_, e)| e.to_string())?.into_signed();
        let operators_only = !matches!(tx.tx.action, Action::Exchange(ExchangeAction::Buy { .. }));
        if operators_only && tx.tx.sender != *operator {
            return Err("not sent by TICA's operator key".into());
        }
        Ok(Checked {
            height: header.height,
            tx,
        })
    }
}

/// The center chain's transactions about `chain` (whose token is `asset`): anchors of the
/// exported blocks (their seals are `seals`), buys of its token with their completions, and
/// settlements of its sales. Gathered after the brand chain was read, so every leg the brand
/// chain shows is there.
pub fn gather(
    center: &[Block],
    chain: &ChainId,
    asset: &Symbol,
    seals: &HashMap<Hash, u64>,
) -> Vec<Evidence> {
    let mut buys = std::collections::HashSet::new();
    let mut out = Vec::new();
    for block in center {
        for (i, t) in block.txs.iter().enumerate() {
            let about = match &t.tx.action {
                Action::Anchor(AnchorAction::Anchor { chain: c, seal }) => {
                    c == chain && seals.contains_key(seal)
                }
                Action::Exchange(ExchangeAction::Buy { asset: a, .. }) if a == asset => {
                    buys.insert(t.tx.id());
                    true
                }
                Action::Exchange(a) => steps(a).any(|step| match step {
                    ExchangeAction::CompleteBuy { trade, .. } => buys.contains(trade),
                    ExchangeAction::SettleSell { order } => order.tx.chain == *chain,
                    _ => false,
                }),
                _ => false,
            };
            if about {
                out.push(Evidence::of(block, i));
            }
        }
    }
    out
}

/// An exchange action's settlement steps: a batch's, or the action itself.
fn steps(action: &ExchangeAction) -> Box<dyn Iterator<Item = &ExchangeAction> + '_> {
    match action {
        ExchangeAction::SettleBatch { steps } => Box::new(steps.iter()),
        other => Box::new(std::iter::once(other)),
    }
}

/// Every piece of evidence checked (TICA's operator key is `operator`), or the first bad one.
pub fn check_all(evidence: &[Evidence], operator: &Address) -> Result<Vec<Checked>, String> {
    (evidence.iter().enumerate())
        .map(|(n, e)| {
            e.check(operator)
                .map_err(|why| format!("the export's center-chain evidence {n} is bad: {why}"))
        })
        .collect()
}

/// The anchors' seals the evidence holds, in order.
pub fn anchors(checked: &[Checked]) -> Vec<Hash> {
    (checked.iter())
        .filter_map(|c| match c.tx.tx.action {
            Action::Anchor(AnchorAction::Anchor { seal, .. }) => Some(seal),
            _ => None,
        })
        .collect()
}

/// What the brand chain's escrows and deliveries disagree with in the evidence.
pub fn disagreements(
    checked: &[Checked],
    brand: &milk_core::state::ChainState,
    sells: &HashMap<Hash, SignedTransaction>,
) -> Vec<String> {
    let mut settled = HashMap::new();
    let mut bought = HashMap::new();
    let mut completed = HashMap::new();
    for c in checked {
        let Action::Exchange(action) = &c.tx.tx.action else {
            continue;
        };
        for step in steps(action) {
            match step {
                ExchangeAction::SettleSell { order } => {
                    settled.insert(order.tx.id(), (**order).clone());
                }
                ExchangeAction::Buy { .. } => {
                    bought.insert(c.tx.tx.id(), c.tx.tx.sender);
                }
                ExchangeAction::CompleteBuy { trade, delivered } => {
                    completed.insert(*trade, (*delivered, c.height));
                }
                _ => {}
            }
        }
    }
    let (escrows, deliveries) = milk_core::exchange::audit::desk_records(brand);
    let mut problems = Vec::new();
    for (id, e) in &escrows {
        if e.status == EscrowStatus::Released && settled.get(id) != sells.get(id) {
            problems.push(format!(
                "sale {} was released to TICA without TICA's settlement of that order on the center chain",
                id.to_hex()
            ));
        }
    }
    for (id, d) in &deliveries {
        if bought.get(id) != Some(&d.to) {
            problems.push(format!(
                "delivery {} answers no buy its customer signed on the center chain",
                id.to_hex()
            ));
        } else if completed
            .get(id)
            .is_some_and(|(done, _)| *done != d.delivered)
        {
            problems.push(format!(
                "delivery {} disagrees with TICA's completion of the buy",
                id.to_hex()
            ));
        }
    }
    problems.sort();
    problems
}
