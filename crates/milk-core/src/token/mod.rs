//! The ledger's own actions: moving, creating and destroying an asset of a chain. Every
//! other domain builds on the same balances, sequences and supplies.

pub mod action;
pub(crate) mod needs;
pub(crate) mod rules;
