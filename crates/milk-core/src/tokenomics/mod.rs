//! Tokenomics: partners' contribution rewards, users' rewards for linking, phase-2 stakes
//! and partners' shares of allocation A.

pub mod action;
pub mod error;
pub(crate) mod rules;
