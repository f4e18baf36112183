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

/// Why a call to a contract failed.
pub type CallError = alloy::contract::Error;

/// A refusal by the vault or the coin in words, if `e` is one: the reverts carry only a
/// selector and arguments, which mean nothing to a person.
pub fn explain(e: &alloy::contract::Error) -> Option<String> {
    use IMilkCoin::IMilkCoinErrors as Coin;
    use IMilkVault::IMilkVaultErrors as Vault;
    let mlk = |units: U256| {
        let units = u128::try_from(units).unwrap_or(u128::MAX);
        milk_core::amount::grouped(&milk_core::Amount::new(units).to_decimal(8))
    };
    if let Some(coin) = e.as_decoded_interface_error::<Coin>() {
        return Some(match coin {
            Coin::ERC20InsufficientBalance(b) => {
                format!(
                    "{} holds {} MLK, and {} MLK are needed",
                    b.sender,
                    mlk(b.balance),
                    mlk(b.needed)
                )
            }
            Coin::ERC20InsufficientAllowance(a) => {
                format!(
                    "{} may take only {} MLK, and {} MLK are needed: approve more",
                    a.spender,
                    mlk(a.allowance),
                    mlk(a.needed)
                )
            }
            _ => return None,
        });
    }
    let vault = e.as_decoded_interface_error::<Vault>()?;
    Some(match vault {
        Vault::ZeroAmount(_) => "a deposit of nothing".to_owned(),
        Vault::NoMilkAddress(_) => "a deposit must name a milk account".to_owned(),
        Vault::ReleasedAlready(_) => "this withdrawal was released already".to_owned(),
        Vault::BadProof(_) => {
            "the proof does not take this withdrawal to its batch's root".to_owned()
        }
        Vault::UnknownBatch(_) => "no root is posted for this batch".to_owned(),
        Vault::BadSignature(_) => "the batch root is not signed by the bridge key".to_owned(),
        Vault::BatchPostedAlready(_) => "this batch's root was posted already".to_owned(),
        _ => return None,
    })
}
