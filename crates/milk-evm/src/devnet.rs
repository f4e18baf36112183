//! A local main chain for tests and the README's walkthrough: the Anvil binary that
//! `contracts/build.sh` installs from the npm registry, and TICA's deployment of MLK and the
//! vault with the whole supply moved into the vault.

use crate::contracts::{self, DeployError, IMilkCoin};
use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// MLK's whole supply in base units (1.3 billion, 8 decimals), on each side.
pub fn supply() -> U256 {
    U256::from(1_300_000_000_u64) * U256::from(100_000_000_u64)
}

/// The directory of the installed tools' binaries (`anvil`), once `contracts/build.sh
/// --check` has passed in this process: npm installed solc and Anvil, and the committed
/// bytecode is what `contracts/src` compiles to. Panics otherwise: for tests.
pub fn tools() -> PathBuf {
    static CHECKED: OnceLock<()> = OnceLock::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    CHECKED.get_or_init(|| {
        let status = Command::new("bash")
            .arg(root.join("contracts/build.sh"))
            .arg("--check")
            .status()
            .expect("bash runs");
        assert!(
            status.success(),
            "contracts/build.sh --check failed: npm could not install solc and Anvil, or the \
             committed bytecode is not what contracts/src compiles to"
        );
    });
    root.join("target/evm-tools/node_modules/.bin")
}

/// MLK and the vault, deployed.
#[derive(Debug, Clone, Copy)]
pub struct Deployed {
    /// The coin.
    pub coin: Address,
    /// The vault.
    pub vault: Address,
}

/// TICA deploys MLK (its whole supply to TICA) and a vault whose batches `bridge_signer`
/// signs, then moves the whole supply into the vault: nothing is outside it until a
/// withdrawal is released.
pub async fn deploy(
    url: Url,
    tica: PrivateKeySigner,
    bridge_signer: Address,
) -> Result<Deployed, DeployError> {
    let operator = crate::chain::connect(url, tica.clone());
    let coin = contracts::deploy(
        &operator,
        contracts::coin_creation(tica.address(), supply()),
    )
    .await?;
    let vault =
        contracts::deploy(&operator, contracts::vault_creation(coin, bridge_signer)).await?;
    let node = |e: alloy::contract::Error| DeployError::Node(e.to_string());
    let sent = IMilkCoin::new(coin, &operator)
        .transfer(vault, supply())
        .send()
        .await
        .map_err(node)?;
    let receipt = sent
        .get_receipt()
        .await
        .map_err(|e| DeployError::Node(e.to_string()))?;
    match receipt.status() {
        true => Ok(Deployed { coin, vault }),
        false => Err(DeployError::Node(
            "moving the supply into the vault reverted".into(),
        )),
    }
}
