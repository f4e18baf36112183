//! The main chain, where exchanges trade MLK (an EVM chain): the contracts MLK and the
//! vault (`contracts/`, their bytecode built by `contracts/build.sh`), the Merkle tree of a
//! withdrawal batch exactly as the vault checks it, the digest TICA's bridge key signs for
//! a batch, and main-chain addresses, which must carry their EIP-55 checksum.
//!
//! MLK's supply spans both sides: the center chain's MLK, plus main-chain MLK outside the
//! vault, plus withdrawals burned but not yet released, plus deposits not yet credited, is
//! always the 1.3 billion genesis made. The coin's whole supply is minted once, to TICA, who
//! moves it into the vault: nothing is outside it until a withdrawal is released.

pub mod address;
pub mod batch;
pub mod chain;
pub mod contracts;
pub mod devnet;
pub mod merkle;
pub mod vault;

pub use alloy::primitives::{Address, B256, U256};
pub use alloy::signers::local::PrivateKeySigner;
