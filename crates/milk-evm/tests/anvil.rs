//! The contracts on a real local EVM node: Anvil, from the npm registry's
//! `@foundry-rs/anvil`, which `contracts/build.sh` installs with solc under
//! `target/evm-tools` (and checks, first, that the committed bytecode is what the source
//! compiles to). TICA deploys MLK and the vault and moves the whole supply into it; a batch
//! of withdrawals is signed by the bridge key, posted, and released once each (by the
//! customer and by a relayer); forged, misdirected and replayed claims are refused; a
//! customer deposits naming their milk account; MLK's main-chain supply is accounted for
//! throughout.

use alloy::network::Ethereum;
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::providers::{PendingTransactionBuilder, Provider};
use alloy::signers::local::PrivateKeySigner;
use milk_evm::contracts::IMilkVault::IMilkVaultErrors;
use milk_evm::contracts::{IMilkCoin, IMilkVault};
use milk_evm::{Address, B256, U256, batch, chain, merkle};
use std::time::Duration;

use milk_evm::devnet::tools;

#[test]
fn the_committed_bytecode_is_what_the_source_compiles_to() {
    assert!(tools().join("anvil").exists());
}

use milk_evm::devnet::supply;

/// A main chain with MLK and the vault deployed by TICA, the supply in the vault.
struct MainChain {
    anvil: AnvilInstance,
    tica: PrivateKeySigner,
    customer: PrivateKeySigner,
    bridge: PrivateKeySigner,
    coin: Address,
    vault: Address,
}

impl MainChain {
    async fn start() -> MainChain {
        let anvil = Anvil::at(tools().join("anvil"))
            .try_spawn()
            .expect("anvil starts");
        let tica: PrivateKeySigner = anvil.keys()[0].clone().into();
        let customer: PrivateKeySigner = anvil.keys()[1].clone().into();
        let bridge = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x42)).unwrap();
        let deployed =
            milk_evm::devnet::deploy(anvil.endpoint_url(), tica.clone(), bridge.address());
        let milk_evm::devnet::Deployed { coin, vault } = deployed.await.unwrap();
        MainChain {
            anvil,
            tica,
            customer,
            bridge,
            coin,
            vault,
        }
    }

    fn as_signer(&self, key: &PrivateKeySigner) -> impl Provider + Clone + use<> {
        chain::connect(self.anvil.endpoint_url(), key.clone())
    }

    async fn balance(&self, who: Address) -> U256 {
        let p = self.as_signer(&self.tica);
        IMilkCoin::new(self.coin, &p)
            .balanceOf(who)
            .call()
            .await
            .unwrap()
    }
}

/// Whether a sent transaction succeeded, once mined (Anvil mines each at once).
async fn mined(pending: PendingTransactionBuilder<Ethereum>) -> bool {
    let receipt = pending
        .with_timeout(Some(Duration::from_secs(30)))
        .get_receipt()
        .await;
    receipt.expect("mined within 30 s").status()
}

/// The vault's error a refused call reverted with.
fn refused<T: std::fmt::Debug>(result: Result<T, alloy::contract::Error>) -> IMilkVaultErrors {
    let e = result.expect_err("the vault refuses it");
    e.as_decoded_interface_error::<IMilkVaultErrors>()
        .unwrap_or_else(|| panic!("not one of the vault's errors: {e}"))
}

/// Three withdrawals (center-chain ids, addresses, amounts) and their tree.
fn withdrawals(customer: Address) -> (Vec<(B256, Address, U256)>, merkle::Tree) {
    let ws = vec![
        (B256::repeat_byte(1), customer, U256::from(250_000_000_u64)),
        (
            B256::repeat_byte(2),
            Address::repeat_byte(7),
            U256::from(5_u64),
        ),
        (B256::repeat_byte(3), customer, U256::from(1_u64)),
    ];
    let leaves = ws
        .iter()
        .map(|(w, to, a)| merkle::leaf(*w, *to, *a))
        .collect();
    (ws, merkle::Tree::new(leaves).unwrap())
}

#[tokio::test]
async fn a_batch_is_posted_only_with_the_bridge_keys_signature_for_this_vault() {
    let main = MainChain::start().await;
    let p = main.as_signer(&main.tica);
    let vault = IMilkVault::new(main.vault, &p);
    let chain_id = main.anvil.chain_id();
    let (ws, tree) = withdrawals(main.customer.address());
    let (w, to, amount) = ws[0];
    let leaf = vault.leaf(w, to, amount).call().await.unwrap();
    assert_eq!(leaf, merkle::leaf(w, to, amount), "our leaf is the vault's");
    let root = tree.root();
    let digest = vault.batchDigest(1, root).call().await.unwrap();
    assert_eq!(
        digest,
        batch::digest(chain_id, main.vault, 1, root),
        "our digest is the vault's"
    );

    let post = |sig: Vec<u8>| vault.postBatch(1, root, sig.into());
    let forged = batch::sign(&main.customer, chain_id, main.vault, 1, root).unwrap();
    let other_chain = batch::sign(&main.bridge, chain_id + 1, main.vault, 1, root).unwrap();
    let other_vault = batch::sign(&main.bridge, chain_id, main.coin, 1, root).unwrap();
    let other_batch = batch::sign(&main.bridge, chain_id, main.vault, 2, root).unwrap();
    for bad in [forged, other_chain, other_vault, other_batch] {
        assert!(matches!(
            refused(post(bad).send().await),
            IMilkVaultErrors::BadSignature(_)
        ));
    }
    let good = batch::sign(&main.bridge, chain_id, main.vault, 1, root).unwrap();
    // Four refused calls before it: none left a gap in TICA's nonces (`chain::connect`).
    assert!(mined(post(good.clone()).send().await.unwrap()).await);
    assert_eq!(vault.roots(1).call().await.unwrap(), root);
    let again = refused(post(good).send().await);
    assert!(matches!(again, IMilkVaultErrors::BatchPostedAlready(_)));
}

/// Releases withdrawal `i` of batch 1 for `amount` (its own, or another); whether mined.
async fn release<P: Provider>(
    vault: &IMilkVault::IMilkVaultInstance<P>,
    (ws, tree): (&[(B256, Address, U256)], &merkle::Tree),
    i: usize,
    amount: U256,
) -> Result<bool, alloy::contract::Error> {
    let (w, to, _) = ws[i];
    let sent = vault
        .release(1, w, to, amount, tree.proof(i).unwrap())
        .send()
        .await?;
    Ok(mined(sent).await)
}

#[tokio::test]
async fn each_withdrawal_is_released_once_to_its_address_and_nothing_else_is() {
    let main = MainChain::start().await;
    let chain_id = main.anvil.chain_id();
    let (ws, tree) = withdrawals(main.customer.address());
    let relayer = main.as_signer(&main.tica);
    let relayed = IMilkVault::new(main.vault, &relayer);
    let signature = batch::sign(&main.bridge, chain_id, main.vault, 1, tree.root()).unwrap();
    let posted = relayed
        .postBatch(1, tree.root(), signature.into())
        .send()
        .await;
    assert!(mined(posted.unwrap()).await);

    // The customer claims their own; the relayer releases another's.
    let own = main.as_signer(&main.customer);
    let claimed = IMilkVault::new(main.vault, &own);
    let batch = (&ws[..], &tree);
    assert!(release(&claimed, batch, 0, ws[0].2).await.unwrap());
    assert!(release(&relayed, batch, 1, ws[1].2).await.unwrap());
    assert_eq!(main.balance(main.customer.address()).await, ws[0].2);
    assert_eq!(main.balance(ws[1].1).await, ws[1].2);

    let replayed = refused(release(&claimed, batch, 0, ws[0].2).await);
    assert!(matches!(replayed, IMilkVaultErrors::ReleasedAlready(_)));
    let raised = refused(release(&claimed, batch, 2, U256::from(1_000_u64)).await);
    assert!(matches!(raised, IMilkVaultErrors::BadProof(_)));
    let (w, to, amount) = ws[2];
    let unknown = claimed.release(9, w, to, amount, tree.proof(2).unwrap());
    assert!(matches!(
        refused(unknown.send().await),
        IMilkVaultErrors::UnknownBatch(_)
    ));
    let elsewhere = claimed.release(
        1,
        w,
        Address::repeat_byte(9),
        amount,
        tree.proof(2).unwrap(),
    );
    assert!(matches!(
        refused(elsewhere.send().await),
        IMilkVaultErrors::BadProof(_)
    ));

    let out = ws[0].2 + ws[1].2;
    assert_eq!(
        main.balance(main.vault).await,
        supply() - out,
        "the vault paid out exactly"
    );
}

#[tokio::test]
async fn a_deposit_names_its_milk_account_and_moves_the_coin_into_the_vault() {
    let main = MainChain::start().await;
    let tica = main.as_signer(&main.tica);
    let coin = IMilkCoin::new(main.coin, &tica);
    assert_eq!(coin.decimals().call().await.unwrap(), 8);
    assert_eq!(coin.totalSupply().call().await.unwrap(), supply());

    let (ws, tree) = withdrawals(main.customer.address());
    let signature = batch::sign(
        &main.bridge,
        main.anvil.chain_id(),
        main.vault,
        1,
        tree.root(),
    );
    let vault = IMilkVault::new(main.vault, &tica);
    let posted = vault
        .postBatch(1, tree.root(), signature.unwrap().into())
        .send()
        .await;
    assert!(mined(posted.unwrap()).await);
    let (w, to, amount) = ws[0];
    let released = vault
        .release(1, w, to, amount, tree.proof(0).unwrap())
        .send()
        .await;
    assert!(mined(released.unwrap()).await);

    let own = main.as_signer(&main.customer);
    let (coin_c, vault_c) = (
        IMilkCoin::new(main.coin, &own),
        IMilkVault::new(main.vault, &own),
    );
    assert!(mined(coin_c.approve(main.vault, amount).send().await.unwrap()).await);
    let milk_account = B256::repeat_byte(0xab);
    let zero = refused(vault_c.deposit(U256::ZERO, milk_account).send().await);
    assert!(matches!(zero, IMilkVaultErrors::ZeroAmount(_)));
    let nobody = refused(vault_c.deposit(amount, B256::ZERO).send().await);
    assert!(matches!(nobody, IMilkVaultErrors::NoMilkAddress(_)));
    let part = U256::from(100_000_000_u64);
    let sent = vault_c.deposit(part, milk_account).send().await.unwrap();
    let receipt = sent
        .with_timeout(Some(Duration::from_secs(30)))
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    let event = receipt
        .decoded_log::<IMilkVault::Deposited>()
        .expect("a Deposited event");
    assert_eq!(
        (event.from, event.milkAddress, event.amount),
        (to, milk_account, part)
    );
    assert_eq!(main.balance(to).await, amount - part);
    assert_eq!(main.balance(main.vault).await, supply() - amount + part);
}
