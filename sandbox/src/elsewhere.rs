//! A second origin that records every request reaching it: the target of
//! [`Fault::Redirect`](crate::Fault::Redirect). A test asserts it saw nothing, i.e.
//! that no client followed a redirect with its credentials.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};

use crate::common::lock;

/// One request that reached [`Sandbox::elsewhere_url`](crate::Sandbox::elsewhere_url).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path and query.
    pub uri: String,
    /// Every header, in order, values lossily decoded.
    pub headers: Vec<(String, String)>,
    /// The body, lossily decoded (the first MiB).
    pub body: String,
}

impl RecordedRequest {
    /// Whether `needle` appears anywhere in the request: URI, a header or the body.
    pub fn contains(&self, needle: &str) -> bool {
        self.uri.contains(needle)
            || self.body.contains(needle)
            || self
                .headers
                .iter()
                .any(|(k, v)| k.contains(needle) || v.contains(needle))
    }
}

pub(crate) type Log = Arc<Mutex<Vec<RecordedRequest>>>;

pub(crate) fn router(log: Log) -> Router {
    Router::new().fallback(record).with_state(log)
}

// Answers 200 with an empty JSON object: a follower that gets a success is the worst case.
async fn record(State(log): State<Log>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    lock(&log).push(RecordedRequest {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    });
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        "{}",
    )
        .into_response()
}
