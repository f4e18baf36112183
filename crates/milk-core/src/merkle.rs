//! Merkle trees over a block's transactions, with inclusion proofs.
//!
//! The shape is RFC 6962's (Certificate Transparency): leaves and inner nodes are hashed
//! under different prefixes, so a leaf can never pose as an inner node, and a tree of `n`
//! leaves splits at the largest power of two below `n`. The empty tree's root is the hash of
//! nothing under the leaf domain.

use crate::Hash;
use serde::{Deserialize, Serialize};

/// The hash of one leaf's bytes.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Hash::domain("milk/merkle/v1", &[&[0], data])
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::domain("milk/merkle/v1", &[&[1], &left.0, &right.0])
}

/// The root over already-hashed leaves.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash::domain("milk/merkle/v1", &[]),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The largest power of two strictly below `n` (for `n >= 2`).
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// Proof that one leaf is at a given index of a tree with a given root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// The leaf's index.
    pub index: u64,
    /// How many leaves the tree has.
    pub leaf_count: u64,
    /// Sibling hashes from the leaf up to the root.
    pub siblings: Vec<Hash>,
}

/// The inclusion proof of leaf `index`, or `None` if out of range.
pub fn prove(leaves: &[Hash], index: usize) -> Option<Proof> {
    if index >= leaves.len() {
        return None;
    }
    let mut siblings = Vec::new();
    path(leaves, index, &mut siblings);
    Some(Proof {
        index: index as u64,
        leaf_count: leaves.len() as u64,
        siblings,
    })
}

fn path(leaves: &[Hash], index: usize, out: &mut Vec<Hash>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split(leaves.len());
    if index < k {
        path(&leaves[..k], index, out);
        out.push(root(&leaves[k..]));
    } else {
        path(&leaves[k..], index - k, out);
        out.push(root(&leaves[..k]));
    }
}

impl Proof {
    /// Whether `leaf` is at this proof's index in the tree whose root is `expected_root`.
    pub fn verify(&self, leaf: &Hash, expected_root: &Hash) -> bool {
        if self.index >= self.leaf_count {
            return false;
        }
        // Walk down from the root to learn, at each level, which side the leaf is on.
        let mut sides = Vec::with_capacity(self.siblings.len());
        let (mut index, mut count) = (self.index, self.leaf_count);
        while count > 1 {
            let k = split(count as usize) as u64;
            if index < k {
                sides.push(true);
                count = k;
            } else {
                sides.push(false);
                index -= k;
                count -= k;
            }
        }
        if sides.len() != self.siblings.len() {
            return false;
        }
        let mut acc = *leaf;
        for (sibling, leaf_is_left) in self.siblings.iter().zip(sides.iter().rev()) {
            acc = if *leaf_is_left {
                node_hash(&acc, sibling)
            } else {
                node_hash(sibling, &acc)
            };
        }
        acc == *expected_root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
            .collect()
    }

    #[test]
    fn shape_follows_rfc6962() {
        let l = leaves(3);
        assert_eq!(root(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
        assert_eq!(root(&l[..1]), l[0]);
        assert_ne!(root(&[]), root(&l[..1]));
    }

    proptest! {
        #[test]
        fn every_leaf_proves_and_nothing_else_does(n in 1usize..70, pick in any::<prop::sample::Index>()) {
            let l = leaves(n);
            let r = root(&l);
            let i = pick.index(n);
            let proof = prove(&l, i).unwrap();
            prop_assert!(proof.verify(&l[i], &r));
            // Wrong leaf, wrong index, wrong root: all refused.
            prop_assert!(!proof.verify(&leaf_hash(b"other"), &r));
            if n > 1 {
                let mut moved = proof.clone();
                moved.index = ((i + 1) % n) as u64;
                prop_assert!(!moved.verify(&l[i], &r));
            }
            prop_assert!(!proof.verify(&l[i], &leaf_hash(b"root")));
            prop_assert!(prove(&l, n).is_none());
        }
    }
}
