//! Anchors: TICA records brand chains' block hashes on the center chain, so a partner
//! cannot rewrite its history before an anchor without every verifier noticing.

pub mod action;
