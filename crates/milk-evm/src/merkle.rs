//! A withdrawal batch's Merkle tree in alloy's types. The tree itself is the center
//! chain's (`milk_core::bridge::tree`), which seals batches; here its leaf is checked against
//! alloy's own ABI encoding, as the vault computes it.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::sol_types::SolValue;
use milk_core::bridge::tree;

/// A withdrawal's leaf by alloy's ABI encoding:
/// `keccak256(keccak256(abi.encode(withdrawal, to, amount)))`.
pub fn leaf(withdrawal: B256, to: Address, amount: U256) -> B256 {
    keccak256(keccak256((withdrawal, to, amount).abi_encode_params()))
}

/// A tree over at least one leaf.
#[derive(Debug, Clone)]
pub struct Tree(tree::Tree);

impl Tree {
    /// The tree over `leaves`, in their order; none if there are none.
    pub fn new(leaves: Vec<B256>) -> Option<Tree> {
        tree::Tree::new(leaves.into_iter().map(|l| l.0).collect()).map(Tree)
    }

    /// The center chain's tree of a sealed batch.
    pub fn of(tree: tree::Tree) -> Tree {
        Tree(tree)
    }

    /// The root.
    pub fn root(&self) -> B256 {
        B256::from(self.0.root())
    }

    /// The proof for leaf `index`: its siblings, from the bottom up.
    pub fn proof(&self, index: usize) -> Option<Vec<B256>> {
        Some(self.0.proof(index)?.into_iter().map(B256::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use milk_core::Amount;
    use milk_core::bridge::MainAddress;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_center_chains_leaf_is_the_abi_encoded_one(
            id in any::<[u8; 32]>(), to in any::<[u8; 20]>(), amount in any::<u128>()
        ) {
            prop_assume!(to != [0; 20]);
            let main = MainAddress::from_bytes(to).unwrap();
            let ours = tree::leaf(&id, &main, Amount::new(amount));
            let abi = leaf(B256::from(id), Address::from(to), U256::from(amount));
            prop_assert_eq!(B256::from(ours), abi);
        }
    }
}
