//! Signed reads: how a customer proves, in three headers, that a read request is theirs.

use milk_core::{Address, Hash};

/// How far ahead a signed read request may expire.
pub const READ_SIGNATURE_MAX_AGE_MS: u64 = 5 * 60 * 1000;

/// What a customer signs to read their own data: the account and an expiry.
pub fn read_message(account: &Address, expires_at_ms: u64) -> Hash {
    Hash::domain(
        "milk/read/v1",
        &[account.as_bytes(), &expires_at_ms.to_be_bytes()],
    )
}

/// The account header of a signed read request.
pub const ACCOUNT_HEADER: &str = "x-milk-account";
/// The expiry header (Unix milliseconds).
pub const EXPIRES_HEADER: &str = "x-milk-expires";
/// The signature header (hex).
pub const SIGNATURE_HEADER: &str = "x-milk-signature";
