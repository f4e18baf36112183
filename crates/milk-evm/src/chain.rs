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
