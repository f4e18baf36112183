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

/// A fresh Anvil (a local main chain) with nothing deployed; it stops when dropped.
pub fn anvil() -> alloy::node_bindings::AnvilInstance {
    alloy::node_bindings::Anvil::at(tools().join("anvil"))
        .try_spawn()
        .expect("anvil starts")
}

/// A local main chain for tests: Anvil with MLK and the vault deployed by TICA (Anvil's
/// first account), a customer (its second account) and the bridge key (a fixed test key).
pub struct Devnet {
    /// The running Anvil; it stops when dropped.
    pub anvil: alloy::node_bindings::AnvilInstance,
    /// The contracts.
    pub deployed: Deployed,
    /// TICA, who deployed them.
    pub tica: PrivateKeySigner,
    /// A customer holding no MLK yet.
    pub customer: PrivateKeySigner,
    /// TICA's bridge key.
    pub bridge: PrivateKeySigner,
}

impl Devnet {
    /// Starts Anvil and deploys the contracts.
    pub async fn start() -> Devnet {
        let anvil = anvil();
        let tica: PrivateKeySigner = anvil.keys()[0].clone().into();
        let customer: PrivateKeySigner = anvil.keys()[1].clone().into();
        let bridge = PrivateKeySigner::from_bytes(&alloy::primitives::B256::repeat_byte(0x42))
            .expect("a valid key");
        let deployed = deploy(anvil.endpoint_url(), tica.clone(), bridge.address()).await;
        let deployed = deployed.expect("the contracts deploy");
        let devnet = Devnet {
            anvil,
            deployed,
            tica,
            customer,
            bridge,
        };
        devnet.fund(devnet.bridge.address()).await;
        devnet
    }

    /// Gives `who` 10 ether from TICA, for gas.
    pub async fn fund(&self, who: Address) {
        use alloy::network::TransactionBuilder;
        use alloy::providers::Provider;
        let tx = alloy::rpc::types::TransactionRequest::default()
            .with_to(who)
            .with_value(U256::from(10u64) * U256::from(10u64).pow(U256::from(18u64)));
        let p = self.as_signer(&self.tica);
        let sent = p.send_transaction(tx).await.expect("the transfer is sent");
        assert!(
            sent.get_receipt().await.expect("mined").status(),
            "the transfer succeeds"
        );
    }

    /// The node's JSON-RPC URL.
    pub fn url(&self) -> Url {
        self.anvil.endpoint_url()
    }

    fn as_signer(&self, key: &PrivateKeySigner) -> impl alloy::providers::Provider + Clone + use<> {
        crate::chain::connect(self.url(), key.clone())
    }

    /// `who`'s main-chain MLK.
    pub async fn balance(&self, who: Address) -> U256 {
        let p = self.as_signer(&self.tica);
        let coin = IMilkCoin::new(self.deployed.coin, &p);
        coin.balanceOf(who).call().await.expect("balanceOf answers")
    }

    /// `key` moves `amount` of its MLK into the vault for the milk account `milk`; the
    /// transaction.
    pub async fn deposit(
        &self,
        key: &PrivateKeySigner,
        amount: U256,
        milk: alloy::primitives::B256,
    ) -> alloy::primitives::B256 {
        let p = self.as_signer(key);
        let coin = IMilkCoin::new(self.deployed.coin, &p);
        let approved = coin
            .approve(self.deployed.vault, amount)
            .send()
            .await
            .expect("approve sent");
        assert!(
            approved.get_receipt().await.expect("mined").status(),
            "approve succeeds"
        );
        let vault = crate::contracts::IMilkVault::new(self.deployed.vault, &p);
        let sent = vault
            .deposit(amount, milk)
            .send()
            .await
            .expect("deposit sent");
        let receipt = sent.get_receipt().await.expect("mined");
        assert!(receipt.status(), "the deposit succeeds");
        receipt.transaction_hash
    }

    /// A raw JSON-RPC call to Anvil (`anvil_mine`, `evm_snapshot`, `evm_revert`, …).
    pub async fn rpc(&self, method: &'static str, params: serde_json::Value) -> serde_json::Value {
        use alloy::providers::Provider;
        let p = self.as_signer(&self.tica);
        p.raw_request(method.into(), params)
            .await
            .expect("anvil answers")
    }

    /// Mines `n` empty blocks.
    pub async fn mine(&self, n: u64) {
        self.rpc("anvil_mine", serde_json::json!([n])).await;
    }
}
