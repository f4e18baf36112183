//! What TICA's bridge key signs for a batch of withdrawals: the vault's `batchDigest`,
//! `keccak256(abi.encode("milk/bridge/batch/v1", chain id, vault, batch, root))`, bound to
//! one main chain and one vault, so a signature cannot be replayed on another. One key signs
//! (secp256k1, which the vault checks with `ecrecover`): a threshold of TICA's and partners'
//! keys would spread the trust, at the price of a coordinator the platform does not have yet.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolValue;

/// The digest the bridge key signs for `batch` of vault `vault` on chain `chain_id`.
pub fn digest(chain_id: u64, vault: Address, batch: u64, root: B256) -> B256 {
    let domain = String::from("milk/bridge/batch/v1");
    keccak256((domain, U256::from(chain_id), vault, batch, root).abi_encode_params())
}

/// The bridge key's signature over a batch, as the vault takes it (r, s, v; 65 bytes).
pub fn sign(
    key: &PrivateKeySigner,
    chain_id: u64,
    vault: Address,
    batch: u64,
    root: B256,
) -> Result<Vec<u8>, alloy::signers::Error> {
    let signature = key.sign_hash_sync(&digest(chain_id, vault, batch, root))?;
    Ok(signature.as_bytes().to_vec())
}
