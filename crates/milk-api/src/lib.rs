//! The MiL.k node's HTTP API as its clients see it: every request and response body (with
//! its OpenAPI schema), the error body, the signed-read headers and the wire helpers; and
//! the chain export file, which carries the API's blocks offline. The
//! node serves these types and the CLI reads them; neither links the other for them.

pub mod alliance;
pub mod bridge;
pub mod chain;
pub mod cluster;
pub mod error;
pub mod exchange;
pub mod export;
pub mod membership;
pub mod partner;
pub mod read;
pub mod submit;
pub mod wire;
