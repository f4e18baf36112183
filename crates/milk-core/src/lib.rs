//! The domain core of the MiL.k platform, free of I/O.
//!
//! Types ([`Amount`], [`Address`], [`ChainId`], [`Symbol`]), the canonical encoding
//! ([`codec`]), transactions ([`tx`]), blocks and Merkle proofs ([`block`], [`merkle`]), the
//! chain state machine ([`state`]), the mempool ([`mempool`]), block production and
//! verification ([`chain`]) and genesis ([`genesis`]).
//!
//! **Architecture invariant:** nothing here does I/O, reads a clock or draws randomness.
//! Time comes in as an argument, so every rule can be driven by a test or a simulator.

pub mod alliance;
pub mod amount;
pub mod anchor;
pub mod block;
pub mod brand;
pub mod bridge;
pub mod chain;
pub mod codec;
pub mod envelope;
pub mod error;
pub mod exchange;
pub mod genesis;
pub mod hash;
pub mod ids;
pub mod keys;
#[cfg(test)]
mod layers;
pub mod ledger;
pub mod membership;
pub mod mempool;
pub mod merkle;
pub mod moment;
pub mod producers;
pub mod state;
pub mod token;
pub mod tokenomics;
pub mod tx;
mod wiring;

pub use amount::Amount;
pub use hash::Hash;
pub use ids::{ChainId, Symbol};
pub use keys::{Address, Keypair, Signature};
