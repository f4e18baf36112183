//! A connection to the main chain's node.

use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;

/// A connection to the main chain's node at `url`, sending as `key`. Each transaction's
/// nonce is asked of the node as it is sent, not counted here: a transaction refused before
/// it was sent (a call the vault would revert, found when its gas is estimated) would
/// otherwise leave a gap that holds every later one back for ever.
pub fn connect(url: Url, key: PrivateKeySigner) -> impl Provider + Clone {
    ProviderBuilder::default()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(key)
        .connect_http(url)
}

/// Reads a main-chain key file: 64 hex digits (`0x` optional), surrounding space ignored.
pub fn read_key(path: &std::path::Path) -> Result<PrivateKeySigner, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = text.trim();
    let bytes = hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok();
    let bytes = bytes.filter(|b| b.len() == 32);
    let bytes =
        bytes.ok_or_else(|| format!("{}: a main-chain key is 64 hex digits", path.display()))?;
    let bytes = alloy::primitives::B256::from_slice(&bytes);
    PrivateKeySigner::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}
