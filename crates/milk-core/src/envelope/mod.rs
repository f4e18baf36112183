//! The envelope any action travels in, whatever the domains: the signed transaction, its
//! batch verification, the block, and the pool a block is made from. It is generic over the
//! action (the app's `tx::Action`), so it names no domain.

pub mod admission;
pub mod block;
pub mod pool;

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use crate::hash::TxId;
use crate::keys::VerifyingKey;
use crate::keys::{self, Address, Keypair, Signature};
use crate::{Amount, ChainId, Hash, Symbol};
use serde::{Deserialize, Serialize};

/// The longest encoded signed transaction of an ordinary action.
pub const MAX_TX_BYTES: usize = 1024;
/// The longest encoded signed transaction of any action: a batch of many items, each about
/// an ordinary transaction's work (see [`Payload::weight`]).
pub const MAX_BATCH_TX_BYTES: usize = 128 * 1024;
/// The only transaction format version so far.
const TX_VERSION: u8 = 1;

/// What the envelope needs of an action: its encoding, the account it pays (checked to be a
/// usable key with the signature, since funds sent elsewhere could never move), and what it
/// plainly moves out of its sender's balance (which the pool checks the sender holds).
pub trait Payload: Encode + Decode {
    /// The account this action pays, other than the sender, if any.
    fn recipient(&self) -> Option<&Address>;

    /// The asset and amount it moves out of its sender's balance, where the action says so
    /// plainly (a transfer, a burn); `None` where only its rules can tell.
    fn spends(&self) -> Option<(&Symbol, Amount)>;

    /// How many ordinary transactions' worth of room it takes in the pool and in a block:
    /// one, or a batch's item count.
    fn weight(&self) -> usize {
        1
    }

    /// The longest it may be, encoded and signed: [`MAX_TX_BYTES`], or up to
    /// [`MAX_BATCH_TX_BYTES`] for a batch.
    fn max_bytes(&self) -> usize {
        MAX_TX_BYTES
    }

    /// Every account it pays other than the sender: [`Payload::recipient`], or each of a
    /// batch's.
    fn recipients(&self) -> Vec<&Address> {
        self.recipient().into_iter().collect()
    }

    /// The signed transactions it carries (a customer's order that a settlement embeds),
    /// whose signatures are checked with its own, in the same batch.
    fn embedded(&self) -> Vec<&SignedTransaction<Self>>
    where
        Self: Sized,
    {
        Vec::new()
    }
}

/// An unsigned transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction<A> {
    /// The only chain this transaction is valid on.
    pub chain: ChainId,
    /// Who signs and pays.
    pub sender: Address,
    /// The sender's next sequence number on this chain: each value is used exactly once, in
    /// order, so a transaction can never be applied twice.
    pub sequence: u64,
    /// The block time (Unix milliseconds) from which the transaction is no longer valid.
    pub expires_at_ms: u64,
    /// What it does.
    pub action: A,
}

impl<A: Encode> Transaction<A> {
    /// The id, which is also the signed message.
    pub fn id(&self) -> TxId {
        Hash::domain("milk/tx/v1", &[&self.to_bytes()])
    }

    /// Signs with the node's own `key` and vouches for the result without checking it:
    /// the signature was made just now, so checking it again would only cost time. For the
    /// node's own transactions only, and only where every signed transaction it embeds
    /// was verified already (an order taken from a committed block, or checked on
    /// arrival), since nothing here checks those.
    pub fn sign_own(self, key: &Keypair) -> VerifiedTx<A> {
        let signed = self.sign(key);
        VerifiedTx {
            id: signed.tx.id(),
            signed,
        }
    }

    /// Signs with `key`, which must be the sender's.
    pub fn sign(self, key: &Keypair) -> SignedTransaction<A> {
        debug_assert_eq!(key.address(), self.sender, "signed by someone else");
        let signature = key.sign(&self.id().0);
        SignedTransaction {
            tx: self,
            signature,
        }
    }
}

impl<A: Encode> Encode for Transaction<A> {
    fn encode(&self, w: &mut Writer) {
        w.u8(TX_VERSION)
            .put(&self.chain)
            .put(&self.sender)
            .u64(self.sequence)
            .u64(self.expires_at_ms)
            .put(&self.action);
    }
}

impl<A: Decode> Decode for Transaction<A> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            TX_VERSION => {}
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "transaction version",
                    tag,
                });
            }
        }
        Ok(Transaction {
            chain: r.get()?,
            sender: r.get()?,
            sequence: r.u64()?,
            expires_at_ms: r.u64()?,
            action: r.get()?,
        })
    }
}

/// A transaction with its sender's signature, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTransaction<A> {
    /// The transaction.
    pub tx: Transaction<A>,
    /// The sender's signature over [`Transaction::id`].
    pub signature: Signature,
}

impl<A: Payload> SignedTransaction<A> {
    /// Decodes a signed transaction, refusing oversized input before reading it, and any
    /// longer than its action allows after.
    pub fn decode_checked(bytes: &[u8]) -> Result<Self, DecodeError> {
        let too_long = |max| DecodeError::TooLong {
            what: "transaction",
            len: bytes.len(),
            max,
        };
        if bytes.len() > MAX_BATCH_TX_BYTES {
            return Err(too_long(MAX_BATCH_TX_BYTES));
        }
        let signed = Self::from_bytes(bytes)?;
        let max = signed.tx.action.max_bytes();
        match bytes.len() > max {
            true => Err(too_long(max)),
            false => Ok(signed),
        }
    }
}

impl<A: Payload> SignedTransaction<A> {
    /// Checks the signature and every address the transaction names.
    #[expect(
        clippy::result_large_err,
        reason = "both outcomes hand the transaction back; boxing one would allocate per transaction"
    )]
    pub fn verify(self) -> Verified<A> {
        verify_batch(vec![self], keys::decompress)
            .pop()
            .expect("one in, one out")
    }
}

impl<A: Encode> Encode for SignedTransaction<A> {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.tx).put(&self.signature);
    }
}

impl<A: Decode> Decode for SignedTransaction<A> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SignedTransaction {
            tx: r.get()?,
            signature: r.get()?,
        })
    }
}

/// A signed transaction whose signature has been checked.
///
/// The only way to make one is [`SignedTransaction::verify`] or [`verify_batch`], so code
/// that takes a `VerifiedTx` never needs to check the signature, or the addresses it
/// names, again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTx<A> {
    id: TxId,
    signed: SignedTransaction<A>,
}

impl<A> VerifiedTx<A> {
    /// The transaction id.
    pub fn id(&self) -> TxId {
        self.id
    }

    /// The transaction.
    pub fn tx(&self) -> &Transaction<A> {
        &self.signed.tx
    }

    /// The transaction with its signature.
    pub fn signed(&self) -> &SignedTransaction<A> {
        &self.signed
    }

    /// Gives back the signed transaction.
    pub fn into_signed(self) -> SignedTransaction<A> {
        self.signed
    }
}

/// A verification's outcome: the checked transaction, or it back with the reason.
pub type Verified<A> = Result<VerifiedTx<A>, (SignedTransaction<A>, VerifyError)>;

/// Why a signed transaction did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The signature does not match the sender.
    #[error("signature is not valid for the sender")]
    BadSignature,
    /// An address it names is not a usable Ed25519 key (funds sent there could never move).
    #[error("{0} is not a valid Ed25519 public key")]
    InvalidAddress(&'static str),
    /// A signed order it carries is not validly signed by its sender.
    #[error("an order it carries is not validly signed by its sender")]
    BadEmbeddedSignature,
}

impl VerifyError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::BadSignature => "bad_signature",
            VerifyError::InvalidAddress(_) => "invalid_address",
            VerifyError::BadEmbeddedSignature => "bad_order_signature",
        }
    }
}

/// Checks the signatures of many transactions with one batch check, and every address
/// they name, telling for each whether it is valid.
///
/// `resolve` turns an address into its curve point, or `None` if it is not a usable key;
/// pass [`keys::decompress`], or a cache in front of it.
#[expect(
    clippy::result_large_err,
    reason = "both outcomes hand the transaction back; boxing one would allocate per transaction"
)]
pub fn verify_batch<A: Payload>(
    txs: Vec<SignedTransaction<A>>,
    resolve: impl Fn(&Address) -> Option<VerifyingKey>,
) -> Vec<Verified<A>> {
    let ids: Vec<TxId> = txs.iter().map(|s| s.tx.id()).collect();
    // Each transaction's signatures: its own first, then those of what it embeds.
    let checks: Vec<Result<Vec<SignatureCheck<'_>>, VerifyError>> = txs
        .iter()
        .zip(&ids)
        .map(|(s, id)| signatures_of(s, *id, &resolve))
        .collect();
    let items: Vec<(&VerifyingKey, &[u8], &Signature)> = (checks.iter())
        .filter_map(|c| c.as_ref().ok())
        .flatten()
        .map(|(k, id, sig)| (k, id.0.as_slice(), *sig))
        .collect();
    let mut valid = keys::verify_many(&items).into_iter();
    let outcomes: Vec<Result<(), VerifyError>> = (checks.iter())
        .map(|c| match c {
            Err(e) => Err(*e),
            Ok(sigs) => {
                let answers: Vec<bool> = valid.by_ref().take(sigs.len()).collect();
                match (answers.first(), answers.iter().all(|ok| *ok)) {
                    (Some(true), true) => Ok(()),
                    (Some(true), false) => Err(VerifyError::BadEmbeddedSignature),
                    _ => Err(VerifyError::BadSignature),
                }
            }
        })
        .collect();
    drop(checks);
    txs.into_iter()
        .zip(ids)
        .zip(outcomes)
        .map(|((signed, id), outcome)| match outcome {
            Ok(()) => Ok(VerifiedTx { id, signed }),
            Err(e) => Err((signed, e)),
        })
        .collect()
}

/// One signature to check: the key, the signed transaction id, the signature.
type SignatureCheck<'a> = (VerifyingKey, TxId, &'a Signature);

/// The signatures a transaction's validity rests on, each with its key and message: the
/// sender's, then each embedded transaction's; or the address that is not a usable key.
fn signatures_of<'a, A: Payload>(
    s: &'a SignedTransaction<A>,
    id: TxId,
    resolve: &impl Fn(&Address) -> Option<VerifyingKey>,
) -> Result<Vec<SignatureCheck<'a>>, VerifyError> {
    if s.tx
        .action
        .recipients()
        .iter()
        .any(|to| resolve(to).is_none())
    {
        return Err(VerifyError::InvalidAddress("recipient"));
    }
    let sender = resolve(&s.tx.sender).ok_or(VerifyError::InvalidAddress("sender"))?;
    let mut out = vec![(sender, id, &s.signature)];
    for inner in s.tx.action.embedded() {
        let key = resolve(&inner.tx.sender).ok_or(VerifyError::InvalidAddress("order sender"))?;
        out.push((key, inner.tx.id(), &inner.signature));
    }
    Ok(out)
}
