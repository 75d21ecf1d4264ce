//! The JSON-RPC envelope: request bodies, and the success, error and
//! "No Records Found." replies.

use std::fmt;
use std::marker::PhantomData;

use chrono::NaiveDate;
use serde::de::value::MapAccessDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::de::SkipScope;
use crate::error::Error;
use crate::model::SkippedRecord;

/// A method's decoded result: a typed response that may carry reports of
/// skipped records.
pub(crate) trait Output: DeserializeOwned + Default {
    /// Receives the records skipped while decoding it.
    fn attach_skipped(&mut self, _skipped: Vec<SkippedRecord>) {}
}

/// Request parameters, serialized the way Entrata's own tools send them:
/// numbers and flags as strings (`"1"`/`"0"`), lists comma-separated, dates
/// `MM/DD/YYYY`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Params(pub(crate) Map<String, Value>);

impl Params {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn text(&mut self, key: &str, v: Option<impl ToString>) -> &mut Self {
        if let Some(v) = v {
            let s = v.to_string();
            if !s.is_empty() {
                self.0.insert(key.to_owned(), Value::String(s));
            }
        }
        self
    }

    pub(crate) fn list<T: ToString>(&mut self, key: &str, items: &[T]) -> &mut Self {
        if !items.is_empty() {
            let joined = items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            self.0.insert(key.to_owned(), Value::String(joined));
        }
        self
    }

    pub(crate) fn flag(&mut self, key: &str, v: Option<bool>) -> &mut Self {
        if let Some(v) = v {
            self.0.insert(
                key.to_owned(),
                Value::String(if v { "1" } else { "0" }.into()),
            );
        }
        self
    }

    pub(crate) fn date(&mut self, key: &str, v: Option<NaiveDate>) -> &mut Self {
        self.text(key, v.map(|d| d.format("%m/%d/%Y")))
    }
}

#[derive(Serialize)]
struct RequestBody<'a> {
    auth: AuthBody<'a>,
    #[serde(rename = "requestId")]
    request_id: &'a str,
    method: MethodBody<'a>,
}

#[derive(Serialize)]
struct AuthBody<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct MethodBody<'a> {
    name: &'a str,
    version: &'a str,
    #[serde(skip_serializing_if = "Map::is_empty")]
    params: &'a Map<String, Value>,
}

/// The JSON body of a call. The credential is never in it: it travels in
/// the `Authorization` or `X-Api-Key` header.
pub(crate) fn request_body(
    auth_type: &str,
    request_id: &str,
    name: &str,
    version: &str,
    params: &Params,
) -> Vec<u8> {
    serde_json::to_vec(&RequestBody {
        auth: AuthBody { kind: auth_type },
        request_id,
        method: MethodBody {
            name,
            version,
            params: &params.0,
        },
    })
    .expect("a map of strings always serializes")
}

/// Entrata's in-body error.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorBody {
    #[serde(deserialize_with = "crate::de::opt_f64")]
    code: Option<f64>,
    #[serde(deserialize_with = "crate::de::text")]
    message: Option<String>,
}

/// `{"response": {"requestId", "code", "result" | "error"}}`; the
/// unwrapped form (as in Entrata's gateway spec) is accepted too.
struct Reply<R> {
    result: Option<R>,
    error: Option<ErrorBody>,
    /// `result` was a sentence ("No records found ...") rather than data.
    text_result: Option<String>,
}

impl<R> Default for Reply<R> {
    fn default() -> Self {
        Self {
            result: None,
            error: None,
            text_result: None,
        }
    }
}

impl<'de, R: DeserializeOwned + Default> Deserialize<'de> for Reply<R> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ReplyVisitor(PhantomData))
    }
}

struct ReplyVisitor<R>(PhantomData<R>);

impl<'de, R: DeserializeOwned + Default> Visitor<'de> for ReplyVisitor<R> {
    type Value = Reply<R>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an Entrata response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reply<R>, A::Error> {
        let mut reply = Reply::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "response" => {
                    let inner: Reply<R> = map.next_value()?;
                    reply.result = inner.result.or(reply.result);
                    reply.error = inner.error.or(reply.error);
                    reply.text_result = inner.text_result.or(reply.text_result);
                }
                "result" => match map.next_value_seed(ResultSeed::<R>(PhantomData))? {
                    ResultValue::Data(r) => reply.result = Some(r),
                    ResultValue::Text(t) => {
                        reply.text_result = Some(t);
                        reply.result = Some(R::default());
                    }
                },
                "error" => reply.error = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(reply)
    }
}

enum ResultValue<R> {
    Data(R),
    Text(String),
}

struct ResultSeed<R>(PhantomData<R>);

impl<'de, R: DeserializeOwned + Default> DeserializeSeed<'de> for ResultSeed<R> {
    type Value = ResultValue<R>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, R: DeserializeOwned + Default> Visitor<'de> for ResultSeed<R> {
    type Value = ResultValue<R>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a result object or a \"No Records Found.\" sentence")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(ResultValue::Text(v.to_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ResultValue::Data(R::default()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ResultValue::Data(R::default()))
    }
    /// `[]` (PHP's encoding of an empty result) is an empty result.
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(
                "expected a result object, found a non-empty list",
            ));
        }
        Ok(ResultValue::Data(R::default()))
    }
    /// `{"success": "No Records Found."}` decodes as an empty result: every
    /// result type is all-optional and ignores keys it does not know.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        R::deserialize(MapAccessDeserializer::new(map)).map(ResultValue::Data)
    }
}

/// At most this much of an unreadable body goes into an error message.
const SNIPPET: usize = 200;

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(SNIPPET * 4)]);
    let mut s: String = text.chars().take(SNIPPET).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    let s = s.trim().to_owned();
    if s.is_empty() {
        "(empty body)".to_owned()
    } else {
        s
    }
}

/// Maps an error (from the body or the HTTP status) to a variant.
fn classify(method: &'static str, status: u16, code: Option<i64>, message: String) -> Error {
    match (code, status) {
        (Some(113), _) | (None, 401) => Error::Authentication {
            method,
            status,
            code,
            message,
        },
        (Some(301 | 311), _) | (None, 403) => Error::PermissionDenied {
            method,
            status,
            code,
            message,
        },
        (Some(401), _) => Error::Authentication {
            method,
            status,
            code,
            message,
        },
        (Some(403), _) => Error::PermissionDenied {
            method,
            status,
            code,
            message,
        },
        (Some(429), _) | (_, 429) => Error::RateLimited {
            method,
            status,
            retry_after: None,
        },
        (Some(500..=599), _) | (_, 500..=599) => Error::Server {
            method,
            status,
            code,
            message,
        },
        _ => Error::Api {
            method,
            status,
            code,
            message,
        },
    }
}

/// Decodes a whole response body for `method`, whatever its HTTP status.
pub(crate) fn decode_body<R: Output>(
    method: &'static str,
    status: u16,
    body: &[u8],
) -> Result<R, Error> {
    let scope = SkipScope::open();
    let parsed = serde_json::from_slice::<Reply<R>>(body);
    let skipped = scope.finish();
    let success = (200..300).contains(&status);
    let reply = match parsed {
        Ok(reply) => reply,
        Err(source) => {
            if !success {
                return Err(classify(method, status, None, snippet(body)));
            }
            return Err(decode_error::<R>(method, body, source));
        }
    };
    if let Some(err) = reply.error {
        #[allow(clippy::cast_possible_truncation)]
        let code = err.code.map(|c| c as i64);
        let message = err.message.unwrap_or_else(|| "(no message)".to_owned());
        return Err(classify(method, status, code, message));
    }
    if !success {
        return Err(classify(method, status, None, snippet(body)));
    }
    let Some(mut result) = reply.result else {
        return Err(Error::Decode {
            method,
            path: "response".to_owned(),
            message: "the response has neither a result nor an error".to_owned(),
            source: de::Error::custom("missing result"),
        });
    };
    if let Some(text) = reply.text_result {
        tracing::debug!(method, result = %text, "text result read as no records");
    }
    result.attach_skipped(skipped);
    Ok(result)
}

/// Decodes again with path tracking to say where a failure happened (only
/// on the error path, so the fast path pays nothing for it).
fn decode_error<R: Output>(method: &'static str, body: &[u8], source: serde_json::Error) -> Error {
    let scope = SkipScope::open();
    let mut de = serde_json::Deserializer::from_slice(body);
    let path = match serde_path_to_error::deserialize::<_, Reply<R>>(&mut de) {
        Err(e) => e.path().to_string(),
        Ok(_) => ".".to_owned(),
    };
    drop(scope);
    Error::Decode {
        method,
        path,
        message: source.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Status {
        status: Option<String>,
    }
    impl Output for Status {}

    #[test]
    fn request_body_shape() {
        let mut p = Params::new();
        p.text("propertyId", Some(739_084))
            .flag("includeLeaseHistory", Some(true))
            .list("leaseStatusTypeIds", &[4, 5])
            .date("moveInDateFrom", NaiveDate::from_ymd_opt(2024, 8, 1));
        let body = request_body("basic", "7", "getLeases", "r2", &p);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"auth":{"type":"basic"},"requestId":"7","method":{"name":"getLeases","version":"r2",
                "params":{"propertyId":"739084","includeLeaseHistory":"1","leaseStatusTypeIds":"4,5","moveInDateFrom":"08/01/2024"}}})
        );
        let body = request_body("apikey", "8", "getStatus", "r1", &Params::new());
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(v["method"].get("params").is_none());
    }

    #[test]
    fn replies_in_every_shape() {
        let ok: Status = decode_body(
            "getStatus",
            200,
            br#"{"response":{"requestId":"15","code":200,"result":{"status":"Success"}}}"#,
        )
        .unwrap();
        assert_eq!(ok.status.as_deref(), Some("Success"));
        // unwrapped, as in the gateway spec
        let ok: Status = decode_body(
            "getStatus",
            200,
            br#"{"code":"200","result":{"status":"Up"}}"#,
        )
        .unwrap();
        assert_eq!(ok.status.as_deref(), Some("Up"));
        for empty in [
            &br#"{"response":{"code":200,"result":[]}}"#[..],
            br#"{"response":{"code":200,"result":null}}"#,
            br#"{"response":{"code":200,"result":{"success":"No Records Found."}}}"#,
            br#"{"response":{"code":200,"result":"No records found with mentioned preferences."}}"#,
        ] {
            let s: Status = decode_body("getStatus", 200, empty).unwrap();
            assert!(s.status.is_none());
        }
        let err = decode_body::<Status>(
            "getLeases",
            200,
            br#"{"response":{"requestId":"15","error":{"code":113,"message":"Username and/or password is incorrect."}}}"#,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Error::Authentication {
                code: Some(113),
                status: 200,
                ..
            }
        ));
        let err = decode_body::<Status>("getLeases", 502, b"<html>Bad gateway</html>").unwrap_err();
        assert!(matches!(err, Error::Server { status: 502, .. }), "{err:?}");
        assert!(err.is_retryable());
        let err = decode_body::<Status>("getLeases", 200, b"{\"response\":").unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
        let err = decode_body::<Status>("getLeases", 200, b"{\"response\":{}}").unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
        let err =
            decode_body::<Status>("getLeases", 200, br#"{"response":{"result":[1]}}"#).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    }
}
