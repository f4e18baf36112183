//! JSON from outside: every request body the API takes, and a genesis file (which an export
//! file's header carries, and which `milk verify --file` trusts no more than its blocks).

use milk_api::cluster::{LearnerRequest, ProducersRequest, VotersRequest};
use milk_api::exchange::TradeRequest;
use milk_api::partner::{PartnerTxRequest, PartnerTxsRequest, WebhookRequest};
use milk_api::submit::{OperatorActionRequest, SubmitRequest};
use milk_core::genesis::Genesis;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A request body: the first byte picks the body type, the rest is the JSON. Reading never
/// panics; what reads writes back to JSON that reads again to the same JSON; checking an
/// operator's action (which the node signs and every replica decodes) never panics.
pub fn requests(data: &[u8]) {
    let Some((&which, json)) = data.split_first() else {
        return;
    };
    BODIES[usize::from(which) % BODIES.len()](json);
}

/// Every request body the API takes, each read its own way.
const BODIES: [fn(&[u8]); 9] = [
    body::<SubmitRequest>,
    operator_action,
    body::<PartnerTxRequest>,
    body::<PartnerTxsRequest>,
    body::<TradeRequest>,
    body::<WebhookRequest>,
    body::<LearnerRequest>,
    body::<VotersRequest>,
    body::<ProducersRequest>,
];

fn body<T: Serialize + DeserializeOwned>(json: &[u8]) {
    round_trip::<T>(json);
}

/// Reads `json` as a `T`; if it reads, writes it and reads that again: the same JSON.
fn round_trip<T: Serialize + DeserializeOwned>(json: &[u8]) -> Option<T> {
    let value: T = serde_json::from_slice(json).ok()?;
    let written = serde_json::to_value(&value).expect("a read body writes");
    let again: T = serde_json::from_value(written.clone())
        .unwrap_or_else(|e| panic!("{written} does not read back: {e}"));
    let rewritten = serde_json::to_value(&again).expect("a read body writes");
    assert_eq!(written, rewritten, "the body changed on a second reading");
    Some(value)
}

fn operator_action(json: &[u8]) {
    let Some(request) = round_trip::<OperatorActionRequest>(json) else {
        return;
    };
    let chain = request.chain.as_deref().unwrap_or("center").parse();
    if let Ok(chain) = chain {
        let _checked = request.checked_action(&chain);
    }
}

/// A genesis file: reading never panics; one that reads, reads back the same once written;
/// one that reads and validates builds every chain's genesis block, each conserving supply.
pub fn genesis(data: &[u8]) {
    let Ok(genesis) = serde_json::from_slice::<Genesis>(data) else {
        return;
    };
    let written = serde_json::to_vec(&genesis).expect("a read genesis writes");
    let again = serde_json::from_slice::<Genesis>(&written);
    assert_eq!(
        again.as_ref().ok(),
        Some(&genesis),
        "a genesis changed on a second reading"
    );
    if genesis.validate().is_err() {
        return;
    }
    for chain in &genesis.chains {
        let Ok((_, state)) = genesis.genesis_block(chain) else {
            continue;
        };
        if let Err(e) = state.check_conservation() {
            panic!("genesis of {} does not conserve supply: {e}", chain.id);
        }
    }
}
