//! A withdrawal batch's Merkle tree, as the vault checks it (OpenZeppelin's `MerkleProof`):
//! each leaf the double keccak of the ABI-encoded withdrawal (its center-chain id, the
//! address, the amount), each inner node the keccak of its two children in sorted order. A
//! level's last node without a sibling goes up unchanged, so its proof skips that level.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::sol_types::SolValue;

/// A withdrawal's leaf: `keccak256(keccak256(abi.encode(withdrawal, to, amount)))`.
pub fn leaf(withdrawal: B256, to: Address, amount: U256) -> B256 {
    keccak256(keccak256((withdrawal, to, amount).abi_encode_params()))
}

fn pair(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    keccak256([lo.as_slice(), hi.as_slice()].concat())
}

/// A tree over at least one leaf.
#[derive(Debug, Clone)]
pub struct Tree {
    levels: Vec<Vec<B256>>,
}

impl Tree {
    /// The tree over `leaves`, in their order; none if there are none.
    pub fn new(leaves: Vec<B256>) -> Option<Tree> {
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
    pub fn root(&self) -> B256 {
        self.levels.last().expect("a level")[0]
    }

    /// The proof for leaf `index`: its siblings, from the bottom up.
    pub fn proof(&self, mut index: usize) -> Option<Vec<B256>> {
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
pub fn verify(proof: &[B256], root: B256, leaf: B256) -> bool {
    proof
        .iter()
        .fold(leaf, |node, sibling| pair(node, *sibling))
        == root
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<B256> {
        (0..n)
            .map(|i| keccak256((i as u64).to_le_bytes()))
            .collect()
    }

    proptest! {
        #[test]
        fn every_leaf_proves_and_nothing_else_does(n in 1usize..70, pick in 0usize..70) {
            let tree = Tree::new(leaves(n)).unwrap();
            let root = tree.root();
            for (i, l) in leaves(n).into_iter().enumerate() {
                let proof = tree.proof(i).unwrap();
                prop_assert!(verify(&proof, root, l));
                prop_assert!(!verify(&proof, root, keccak256(l)));
            }
            let outsider = keccak256(b"not in the batch");
            let proof = tree.proof(pick % n).unwrap();
            prop_assert!(!verify(&proof, root, outsider));
            prop_assert!(tree.proof(n).is_none());
        }
    }

    #[test]
    fn an_empty_batch_has_no_tree() {
        assert!(Tree::new(Vec::new()).is_none());
    }
}
