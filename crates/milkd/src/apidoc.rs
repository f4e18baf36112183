//! What the OpenAPI document says beyond each endpoint's own annotation: how callers
//! authenticate (a bearer credential, or a customer's signed read in three headers), which
//! operation needs what (every one that can answer 401 needs a credential), and tags named
//! for readers rather than after our modules.

use milk_api::read::{ACCOUNT_HEADER, EXPIRES_HEADER, SIGNATURE_HEADER};
use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

/// The endpoints a customer may read with a signed read (and anyone with a credential; the
/// public part without either).
const SIGNED_READS: [&str; 3] = [
    "/v1/accounts/{address}",
    "/v1/accounts/{address}/history",
    "/v1/chains/{chain}/txs/{id}",
];

/// Reads of one chain: the center chain's for anyone, a brand chain's with a credential that
/// may read it.
const CHAIN_READS: &str = "/v1/chains/{chain}";

/// Where every call needs a credential.
const CREDENTIAL_ONLY: [&str; 5] = [
    "/v1/partners/",
    "/v1/cluster",
    "/v1/operator/",
    "/v1/treasury",
    "/metrics",
];

/// Our modules, and the tag each one's operations go under.
const TAGS: [(&str, &str); 10] = [
    ("api", "chains"),
    ("history", "chains"),
    ("submit", "chains"),
    ("brand", "partners"),
    ("alliance", "alliance"),
    ("exchange", "exchange"),
    ("membership", "membership"),
    ("cluster", "operator"),
    ("operator", "operator"),
    ("bridge", "bridge"),
];

/// The document's finishing touches.
pub struct Finish;

impl Modify for Finish {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "An API credential: TICA's operator token, a partner's (`mkp_…`) or an auditor's.",
            ));
        components.add_security_scheme("credential", SecurityScheme::Http(bearer.build()));
        for (name, header, what) in [
            (
                "read_account",
                ACCOUNT_HEADER,
                "The reading account, milk1…",
            ),
            (
                "read_expires",
                EXPIRES_HEADER,
                "When the signature expires, Unix ms (at most 5 minutes ahead)",
            ),
            (
                "read_signature",
                SIGNATURE_HEADER,
                "Ed25519 signature, hex, of the domain-separated hash of \"milk/read/v1\", the account's 32 bytes and the expiry (u64, big-endian)",
            ),
        ] {
            let key = ApiKey::Header(ApiKeyValue::with_description(header, what));
            components.add_security_scheme(name, SecurityScheme::ApiKey(key));
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let signed = SIGNED_READS.contains(&path.as_str());
            let by_chain = path.starts_with(CHAIN_READS);
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                rename_tags(op);
                common_responses(op, path);
                secure(op, signed, signed || by_chain);
            }
        }
    }
}

/// What any operation may answer beyond its own annotation, because the router answers it
/// for all alike: a malformed path parameter, query or body is `400`, an unknown chain,
/// asset or record named in the path `404`; a body too large `413`; where a credential is
/// needed (or a brand chain is read), none is `401` and one that may not is `403`.
fn common_responses(op: &mut Operation, path: &str) {
    let has_path_params = path.contains('{');
    let guarded =
        path.starts_with(CHAIN_READS) || CREDENTIAL_ONLY.iter().any(|p| path.starts_with(p));
    let has_query = (op.parameters.iter().flatten())
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    let has_body = op.request_body.is_some();
    let mut add = |status: &str, description: &str| {
        let responses = &mut op.responses.responses;
        responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description).into());
    };
    if has_path_params || has_query || has_body {
        add(
            "400",
            "Malformed input: a path parameter, the query or the body (code says which)",
        );
    }
    if has_path_params {
        add("404", "No such chain, asset or record");
    }
    if has_body {
        add("413", "Body too large");
    }
    if guarded {
        add("401", "No credential, or an unknown one");
        add(
            "403",
            "This credential may not do this: another partner's chain, or not the operator's",
        );
    }
}

/// A response whose body is the `{"error": …}` shape.
fn error_response(description: &str) -> utoipa::openapi::Response {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorResponse")))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content("application/json", content)
        .build()
}

/// `crate::brand::webhooks` becomes `partners`.
fn rename_tags(op: &mut Operation) {
    for tag in op.tags.iter_mut().flatten() {
        let module = tag
            .trim_start_matches("crate::")
            .split("::")
            .next()
            .unwrap_or("");
        if let Some((_, name)) = TAGS.iter().find(|(m, _)| *m == module) {
            *tag = (*name).to_owned();
        }
    }
}

/// A credential where the operation can answer 401; a signed read, or nothing, where a
/// customer reads their own (or anyone reads the public center chain).
fn secure(op: &mut Operation, signed: bool, anonymous: bool) {
    let needs = op.responses.responses.contains_key("401");
    let no_scopes = Vec::<String>::new;
    let mut requirements = Vec::new();
    if anonymous {
        requirements.push(SecurityRequirement::default());
    }
    if needs || signed {
        requirements.push(SecurityRequirement::new("credential", no_scopes()));
    }
    if signed {
        let read = SecurityRequirement::new("read_account", no_scopes())
            .add("read_expires", no_scopes())
            .add("read_signature", no_scopes());
        requirements.push(read);
    }
    if !requirements.is_empty() {
        op.security = Some(requirements);
    }
}

#[cfg(test)]
mod tests {
    use crate::api::ApiDoc;
    use utoipa::OpenApi;

    /// The request examples are real signed transactions (docs/ENCODING.md's worked
    /// examples), so a generated client's sample call is accepted as it stands.
    #[test]
    fn the_request_examples_are_signed_transactions() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let schemas = &doc["components"]["schemas"];
        for (example, signer) in [
            (
                &schemas["SubmitRequest"]["properties"]["txs"]["example"][0],
                "alice",
            ),
            (
                &schemas["PartnerTxRequest"]["properties"]["tx"]["example"],
                "partner:cinema",
            ),
        ] {
            let bytes = hex::decode(example.as_str().unwrap()).unwrap();
            let tx =
                <milk_core::tx::SignedTransaction as milk_core::codec::Decode>::from_bytes(&bytes)
                    .unwrap()
                    .verify()
                    .unwrap();
            assert_eq!(
                tx.tx().sender,
                milk_core::genesis::demo_key(signer).address()
            );
        }
    }

    #[test]
    fn the_document_says_how_to_authenticate_and_how_errors_look() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["credential"]["scheme"], "bearer");
        assert_eq!(schemes["read_signature"]["name"], "x-milk-signature");
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let at = format!("{method} {path}");
                let tags = op["tags"].as_array().cloned().unwrap_or_default();
                assert!(
                    tags.iter().all(|t| !t.as_str().unwrap().contains("::")),
                    "{at}: {tags:?}"
                );
                let responses = op["responses"].as_object().unwrap();
                if responses.contains_key("401") {
                    // A credential is one way in (a signed read or none may be others).
                    let ways = op["security"].as_array().cloned().unwrap_or_default();
                    assert!(
                        ways.iter()
                            .any(|w| w["credential"] == serde_json::json!([])),
                        "{at}"
                    );
                }
                // Errors are documented as they are sent: wrapped in `{"error": …}`.
                for (status, r) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
                    let schema = r["content"]["application/json"]["schema"]["$ref"].as_str();
                    assert_ne!(
                        schema,
                        Some("#/components/schemas/ErrorBody"),
                        "{at} {status}"
                    );
                    if status.starts_with('4') {
                        let wrapped = Some("#/components/schemas/ErrorResponse");
                        assert_eq!(schema, wrapped, "{at} {status}");
                    }
                }
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let name = format!("{{{}}}", p["name"].as_str().unwrap());
                    assert_eq!(p["in"] == "path", path.contains(&name), "{at}: {p}");
                }
                checked += 1;
            }
        }
        assert!(checked > 50, "{checked} operations");
        let account = &doc["paths"]["/v1/accounts/{address}"]["get"]["security"];
        assert_eq!(account.as_array().unwrap().len(), 3, "{account}");
        assert!(doc["paths"]["/metrics"]["get"].is_object());
        // Two types named MemberView once shared one schema; the levels are a list.
        let alliance = &doc["paths"]["/v1/alliance"]["get"]["responses"]["200"];
        let body = alliance["content"]["application/json"]["schema"].to_string();
        assert!(body.contains("AllianceMember"), "{body}");
        let rules = &doc["components"]["schemas"]["RulesView"]["properties"]["levels"];
        assert_eq!(rules["type"], "array", "{rules}");
    }
}
