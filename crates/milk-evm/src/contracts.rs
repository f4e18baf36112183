//! The contracts' bindings and creation code. Their bytecode is what `contracts/build.sh`
//! compiles from `contracts/src` (the tests check it still does).

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolValue;

// The bindings come from the ABI the contracts compile to, so they cannot drift from them.
alloy::sol!(
    /// MLK on the main chain (`contracts/src/MilkCoin.sol`, an ERC-20).
    #[sol(rpc)]
    IMilkCoin,
    "../../contracts/build/MilkCoin.abi"
);

alloy::sol!(
    /// The vault (`contracts/src/MilkVault.sol`).
    #[sol(rpc)]
    IMilkVault,
    "../../contracts/build/MilkVault.abi"
);

/// The coin's compiled code, hex.
pub const COIN_BIN: &str = include_str!("../../../contracts/build/MilkCoin.bin");
/// The vault's compiled code, hex.
pub const VAULT_BIN: &str = include_str!("../../../contracts/build/MilkVault.bin");

fn code(hex_code: &str, args: Vec<u8>) -> Vec<u8> {
    let mut code = hex::decode(hex_code.trim()).expect("the committed bytecode is hex");
    code.extend(args);
    code
}

/// The coin's creation code: its whole `supply` minted to `holder`.
pub fn coin_creation(holder: Address, supply: U256) -> Vec<u8> {
    code(COIN_BIN, (holder, supply).abi_encode_params())
}

/// The vault's creation code: holding `coin`, batches signed by `bridge_signer`.
pub fn vault_creation(coin: Address, bridge_signer: Address) -> Vec<u8> {
    code(VAULT_BIN, (coin, bridge_signer).abi_encode_params())
}

/// Why a deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The node refused or lost the transaction.
    #[error("the main chain's node: {0}")]
    Node(String),
    /// Mined, but no contract came of it.
    #[error("the deployment created no contract")]
    NoContract,
}

/// Deploys `creation` code from the provider's wallet; the new contract's address.
pub async fn deploy<P: Provider>(provider: &P, creation: Vec<u8>) -> Result<Address, DeployError> {
    let tx = TransactionRequest::default().with_deploy_code(creation);
    let pending =
        (provider.send_transaction(tx).await).map_err(|e| DeployError::Node(e.to_string()))?;
    let receipt = (pending.get_receipt().await).map_err(|e| DeployError::Node(e.to_string()))?;
    match (receipt.status(), receipt.contract_address) {
        (true, Some(address)) => Ok(address),
        _ => Err(DeployError::NoContract),
    }
}
