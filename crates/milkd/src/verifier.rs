//! Customers' orders checked together. An order comes alone in its request, so checking it
//! there would be a batch of one; here every order that arrives while others wait joins
//! their batch, and one batch check covers them all. One thread does the checking, off the
//! async runtime; with one order at a time it checks each at once, with no waiting.

use milk_core::keys::{Address, VerifyingKey};
use milk_core::tx::{SignedTransaction, VerifiedTx, VerifyError, verify_batch};
use prometheus_client::metrics::counter::Counter;
use std::sync::mpsc::{Receiver, Sender, channel};
use tokio::sync::oneshot;

/// The most orders checked in one batch.
const MOST: usize = 256;

type Request = (
    SignedTransaction,
    oneshot::Sender<Result<VerifiedTx, VerifyError>>,
);

/// The node's order checker.
#[derive(Debug)]
pub struct OrderVerifier {
    requests: Sender<Request>,
}

impl OrderVerifier {
    /// Starts the checking thread, which turns addresses into keys with `resolve` (the
    /// node's key cache) and counts its CPU time into `spent`; it ends when the verifier is
    /// dropped.
    pub fn start(
        resolve: impl Fn(&Address) -> Option<VerifyingKey> + Send + 'static,
        spent: Counter,
    ) -> OrderVerifier {
        let (requests, rx) = channel();
        std::thread::Builder::new()
            .name("milk-orders".into())
            .spawn(move || run(&resolve, &spent, &rx))
            .expect("starting the order-checking thread");
        OrderVerifier { requests }
    }

    /// Checks an order's signature and the addresses it names.
    pub async fn verify(&self, order: SignedTransaction) -> Result<VerifiedTx, VerifyError> {
        let (reply, answer) = oneshot::channel();
        if let Err(std::sync::mpsc::SendError((order, _))) = self.requests.send((order, reply)) {
            return order.verify().map_err(|(_, e)| e);
        }
        match answer.await {
            Ok(verdict) => verdict,
            Err(_) => Err(VerifyError::BadSignature),
        }
    }
}

fn run(
    resolve: &impl Fn(&Address) -> Option<VerifyingKey>,
    spent: &Counter,
    rx: &Receiver<Request>,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MOST {
            match rx.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let (orders, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        let verdicts = {
            let _spent = crate::cpu::Spent::start(spent);
            verify_batch(orders, resolve)
        };
        for (verdict, reply) in verdicts.into_iter().zip(replies) {
            let _ = reply.send(verdict.map_err(|(_, e)| e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use milk_core::keys::Keypair;
    use milk_core::tx::{Action, TokenAction, Transaction};

    fn signed(label: &str, sequence: u64) -> SignedTransaction {
        let key = Keypair::from_label(label);
        Transaction {
            chain: "center".parse().expect("valid"),
            sender: key.address(),
            sequence,
            expires_at_ms: 1,
            action: Action::Token(TokenAction::Burn {
                asset: "MLK".parse().expect("valid"),
                amount: milk_core::Amount::new(1),
            }),
        }
        .sign(&key)
    }

    #[tokio::test]
    async fn orders_checked_together_each_get_their_own_verdict() {
        let verifier = std::sync::Arc::new(OrderVerifier::start(
            milk_core::keys::decompress,
            Counter::default(),
        ));
        let mut forged = signed("bob", 0);
        forged.signature = signed("carol", 0).signature;
        let checks: Vec<_> = (0..40u64)
            .map(|i| match i {
                17 => forged.clone(),
                i => signed("alice", i),
            })
            .map(|order| {
                let verifier = verifier.clone();
                tokio::spawn(async move { verifier.verify(order).await })
            })
            .collect();
        let mut verdicts = Vec::new();
        for check in checks {
            verdicts.push(check.await.expect("the check ran"));
        }
        for (i, verdict) in verdicts.iter().enumerate() {
            match i {
                17 => assert_eq!(verdict.as_ref().err(), Some(&VerifyError::BadSignature)),
                _ => assert!(verdict.is_ok(), "order {i} is validly signed"),
            }
        }
    }
}
