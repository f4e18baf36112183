//! Replication: every chain is its own Raft group (openraft), whose log entries are the
//! chain's blocks.
//!
//! The leader's worker makes a block and proposes it; the block is committed once a
//! majority holds it durably, and every replica (the leader too) then applies it through
//! its worker, which checks a block it did not make like any replay, and writes it with the
//! log position in one store transaction. Only then does anyone hear "committed".
//! - `cluster`: who the nodes are, which chains each holds, their keys and addresses;
//! - `log`: the replicated log and vote, durable;
//! - `machine`: the state machine (the chain's store, through its worker) and snapshots
//!   (store images);
//! - `network` and `peer`: the signed peer protocol, client and server;
//! - `group`: one chain's Raft group, its proposer and its leadership watch.

pub mod cluster;
pub mod group;
pub mod log;
pub mod machine;
pub mod network;
pub mod peer;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::io::Cursor;

/// A log entry's application data: one encoded block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockBytes(pub Vec<u8>);

impl Serialize for BlockBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for BlockBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<BlockBytes, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = BlockBytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an encoded block")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<BlockBytes, E> {
                Ok(BlockBytes(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<BlockBytes, E> {
                Ok(BlockBytes(v))
            }
        }
        d.deserialize_bytes(Visitor)
    }
}

openraft::declare_raft_types!(
    /// The chains' Raft types: blocks as entries, node ids as numbers, images as snapshots.
    pub TypeConfig:
        D = BlockBytes,
        R = (),
);

/// One chain's Raft node.
pub type Raft = openraft::Raft<TypeConfig>;

type StorageResult<T> = Result<T, openraft::StorageError<u64>>;

/// The binary encoding of everything replication stores or sends (postcard over serde).
pub mod codec {
    /// Encodes a value.
    pub fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
        postcard::to_stdvec(value).expect("encoding to memory cannot fail")
    }

    /// Decodes a value from all of `bytes` (trailing bytes are an error).
    pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, postcard::Error> {
        match postcard::take_from_bytes(bytes)? {
            (value, []) => Ok(value),
            _ => Err(postcard::Error::DeserializeBadEncoding),
        }
    }
}
