//! A withdrawal batch's Merkle tree, as the main chain's vault checks it (OpenZeppelin's
//! `MerkleProof`): each leaf the double keccak of the ABI-encoded withdrawal (its id, the
//! address, the amount), each inner node the keccak of its two children in sorted order. A
//! level's last node without a sibling goes up unchanged, so its proof skips that level.
//! The center chain computes a batch's root itself when TICA seals it.

use super::main_address::{MainAddress, keccak};
use crate::Amount;

/// A withdrawal's leaf: `keccak256(keccak256(abi.encode(bytes32 id, address to, uint256
/// amount)))`.
pub fn leaf(id: &[u8; 32], to: &MainAddress, amount: Amount) -> [u8; 32] {
    let mut word_to = [0u8; 32];
    word_to[12..].copy_from_slice(to.as_bytes());
    let mut word_amount = [0u8; 32];
    word_amount[16..].copy_from_slice(&amount.units().to_be_bytes());
    keccak(&[&keccak(&[id, &word_to, &word_amount])])
}

fn pair(a: [u8; 32], b: [u8; 32]) -> [u8; 32] {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    keccak(&[&lo, &hi])
}

/// A tree over at least one leaf.
#[derive(Debug, Clone)]
pub struct Tree {
    levels: Vec<Vec<[u8; 32]>>,
}

impl Tree {
    /// The tree over `leaves`, in their order; none if there are none.
    pub fn new(leaves: Vec<[u8; 32]>) -> Option<Tree> {
        if leaves.is_empty() {
            return None;
        }
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().expect("a level");
            let up = below
                .chunks(2)
                .map(|c| if c.len() == 2 { pair(c[0], c[1]) } else { c[0] })
                .collect();
            levels.push(up);
        }
        Some(Tree { levels })
    }

    /// The root.
    pub fn root(&self) -> [u8; 32] {
        self.levels.last().expect("a level")[0]
    }

    /// The proof for leaf `index`: its siblings, from the bottom up.
    pub fn proof(&self, mut index: usize) -> Option<Vec<[u8; 32]>> {
        if index >= self.levels[0].len() {
            return None;
        }
        let mut proof = Vec::new();
        for level in &self.levels[..self.levels.len() - 1] {
            if let Some(sibling) = level.get(index ^ 1) {
                proof.push(*sibling);
            }
            index /= 2;
        }
        Some(proof)
    }
}

/// Whether `proof` takes `leaf` to `root`, as the vault's `MerkleProof.verify` decides.
pub fn verify(proof: &[[u8; 32]], root: &[u8; 32], leaf: &[u8; 32]) -> bool {
    proof
        .iter()
        .fold(*leaf, |node, sibling| pair(node, *sibling))
        == *root
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<[u8; 32]> {
        (0..n)
            .map(|i| keccak(&[&(i as u64).to_le_bytes()]))
            .collect()
    }

    proptest! {
        #[test]
        fn every_leaf_proves_and_nothing_else_does(n in 1usize..70, pick in 0usize..70) {
            let tree = Tree::new(leaves(n)).unwrap();
            let root = tree.root();
            for (i, l) in leaves(n).into_iter().enumerate() {
                let proof = tree.proof(i).unwrap();
                prop_assert!(verify(&proof, &root, &l));
                prop_assert!(!verify(&proof, &root, &keccak(&[&l])));
            }
            let outsider = keccak(&[b"not in the batch"]);
            let proof = tree.proof(pick % n).unwrap();
            prop_assert!(!verify(&proof, &root, &outsider));
            prop_assert!(tree.proof(n).is_none());
        }
    }

    #[test]
    fn an_empty_batch_has_no_tree() {
        assert!(Tree::new(Vec::new()).is_none());
    }
}
