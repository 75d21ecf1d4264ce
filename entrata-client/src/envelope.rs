//! The JSON-RPC envelope: request bodies, and the success, error and
//! "No Records Found." replies.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use chrono::NaiveDate;

use serde::de::value::MapAccessDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess,
    Visitor,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::de::SkipScope;
use crate::error::Error;
use crate::model::SkippedRecord;

/// A method's decoded result: a typed response that may carry reports of
/// skipped records.
pub(crate) trait Output: DeserializeOwned + Default {
    /// The keys the method's data comes under in `result` (`leases`;
    /// aliases after the first). A result object without any of them is
    /// not data: it must be a known "no records" answer, or it is an
    /// [`Error::UnexpectedResult`].
    const EXPECTED: &'static [&'static str];

    /// The expected key holds text (getStatus's `status`) rather than a
    /// list or an object, so any sentence there is data.
    const TEXT_DATA: bool = false;

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
    result: Option<ResultValue<R>>,
    error: Option<ErrorBody>,
}

impl<R> Default for Reply<R> {
    fn default() -> Self {
        Self {
            result: None,
            error: None,
        }
    }
}

impl<'de, R: Output> Deserialize<'de> for Reply<R> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ReplyVisitor(PhantomData))
    }
}

struct ReplyVisitor<R>(PhantomData<R>);

impl<'de, R: Output> Visitor<'de> for ReplyVisitor<R> {
    type Value = Reply<R>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an Entrata response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reply<R>, A::Error> {
        let mut reply = Reply::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "response" => {
                    let inner: Reply<R> = map.next_value()?;
                    reply.result = inner.result.or(reply.result);
                    reply.error = inner.error.or(reply.error);
                }
                "result" => reply.result = Some(map.next_value_seed(ResultSeed(PhantomData))?),
                "error" => reply.error = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(reply)
    }
}

/// What a `result` turned out to be.
enum ResultValue<R> {
    /// The method's data (its expected key was there).
    Data(R),
    /// A known "no records" answer.
    NoRecords,
    /// Anything else; the caller renders it from the body (error path only).
    Unexpected,
}

/// Whether `text` is one of Entrata's "no records" answers ("No Records
/// Found.", "No records found with mentioned preferences.").
pub(crate) fn is_no_records(text: &str) -> bool {
    const PREFIX: &str = "no records found";
    let t = text.trim_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation());
    t.get(..PREFIX.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(PREFIX))
}

struct ResultSeed<R>(PhantomData<R>);

impl<'de, R: Output> DeserializeSeed<'de> for ResultSeed<R> {
    type Value = ResultValue<R>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, R: Output> Visitor<'de> for ResultSeed<R> {
    type Value = ResultValue<R>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a result object or a \"No records found\" sentence")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(if is_no_records(v) {
            ResultValue::NoRecords
        } else {
            ResultValue::Unexpected
        })
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ResultValue::Unexpected)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ResultValue::Unexpected)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(ResultValue::Unexpected)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(ResultValue::Unexpected)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(ResultValue::Unexpected)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(ResultValue::Unexpected)
    }
    /// `[]` is not a documented empty answer: an error, like any list.
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ResultValue::Unexpected)
    }
    /// Decodes the object into `R` in one pass, noting on the way whether
    /// an expected key came by and what a `success` key said.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut spy = SpyMap {
            inner: map,
            expected: R::EXPECTED,
            text_data: R::TEXT_DATA,
            pending: false,
            seen: Seen::Missing,
            success: None,
        };
        let result = R::deserialize(MapAccessDeserializer::new(&mut spy))?;
        Ok(match spy.seen {
            Seen::Data => ResultValue::Data(result),
            Seen::NoRecords => ResultValue::NoRecords,
            Seen::Odd => ResultValue::Unexpected,
            Seen::Missing if spy.success.as_deref().is_some_and(is_no_records) => {
                ResultValue::NoRecords
            }
            Seen::Missing => ResultValue::Unexpected,
        })
    }
}

/// What the expected key held, if it came by.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    Missing,
    /// A list or an object (possibly empty: an explicit empty list is data).
    Data,
    /// A "no records" sentence.
    NoRecords,
    /// `null`, a number, another sentence.
    Odd,
}

/// Hands the result object's entries to `R`'s derived visitor unchanged,
/// except that it reads each key first (to spot the expected one) and takes
/// `success` for itself. Values are passed straight through, so the bulk
/// of the body is still decoded once, directly into `R`.
struct SpyMap<A> {
    inner: A,
    expected: &'static [&'static str],
    text_data: bool,
    /// The key just handed out is an expected one.
    pending: bool,
    seen: Seen,
    success: Option<String>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for SpyMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.inner.next_key::<Cow<'de, str>>()? {
            if key == "success" && !self.expected.contains(&"success") {
                self.success = self.inner.next_value_seed(TextSeed)?;
                continue;
            }
            self.pending = self.expected.contains(&&*key);
            return seed
                .deserialize(IntoDeserializer::<A::Error>::into_deserializer(key))
                .map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        if std::mem::take(&mut self.pending) {
            self.inner.next_value_seed(ProbeSeed {
                seed,
                text_data: self.text_data,
                seen: &mut self.seen,
            })
        } else {
            self.inner.next_value_seed(seed)
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// Any scalar as text, for the `success` key.
struct TextSeed;

impl<'de> DeserializeSeed<'de> for TextSeed {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        crate::de::text(d)
    }
}

/// Notes the JSON type of the expected key's value, then lets `seed`
/// decode it as usual.
struct ProbeSeed<'s, S> {
    seed: S,
    text_data: bool,
    seen: &'s mut Seen,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for ProbeSeed<'_, S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for ProbeSeed<'_, S> {
    type Value = S::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the method's data")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<S::Value, A::Error> {
        *self.seen = Seen::Data;
        self.seed.deserialize(MapDe(map))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<S::Value, A::Error> {
        *self.seen = Seen::Data;
        self.seed.deserialize(SeqDe(seq))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<S::Value, E> {
        *self.seen = if self.text_data {
            Seen::Data
        } else if is_no_records(v) {
            Seen::NoRecords
        } else {
            Seen::Odd
        };
        self.seed.deserialize(ScalarDe::new(Scalar::Str(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<S::Value, E> {
        *self.seen = Seen::Odd;
        self.seed.deserialize(ScalarDe::new(Scalar::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<S::Value, E> {
        self.visit_unit()
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<S::Value, E> {
        *self.seen = Seen::Odd;
        self.seed.deserialize(ScalarDe::new(Scalar::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<S::Value, E> {
        *self.seen = Seen::Odd;
        self.seed.deserialize(ScalarDe::new(Scalar::I64(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<S::Value, E> {
        *self.seen = Seen::Odd;
        self.seed.deserialize(ScalarDe::new(Scalar::U64(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<S::Value, E> {
        *self.seen = Seen::Odd;
        self.seed.deserialize(ScalarDe::new(Scalar::F64(v)))
    }
}

// Deserializers for a value `ProbeSeed` has started reading. They behave
// like serde_json's own where serde's generic wrappers do not: a non-null
// value is `Some` for an `Option`, and a newtype struct sees its content.

/// What every hand-on deserializer shares: `Option`, newtype structs, and
/// the rest forwarded to `deserialize_any`.
macro_rules! hand_on_common {
    () => {
        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            v: V,
        ) -> Result<V::Value, Self::Error> {
            v.visit_newtype_struct(self)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
        }
    };
}

/// An object being read.
struct MapDe<A>(A);

impl<'de, A: MapAccess<'de>> Deserializer<'de> for MapDe<A> {
    type Error = A::Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, A::Error> {
        v.visit_map(self.0)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, A::Error> {
        v.visit_some(self)
    }
    hand_on_common!();
}

/// A list being read.
struct SeqDe<A>(A);

impl<'de, A: de::SeqAccess<'de>> Deserializer<'de> for SeqDe<A> {
    type Error = A::Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, A::Error> {
        v.visit_seq(self.0)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, A::Error> {
        v.visit_some(self)
    }
    hand_on_common!();
}

/// A scalar already read.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Null,
    Str(&'a str),
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
}

struct ScalarDe<'a, E> {
    value: Scalar<'a>,
    error: PhantomData<E>,
}

impl<'a, E> ScalarDe<'a, E> {
    fn new(value: Scalar<'a>) -> Self {
        Self {
            value,
            error: PhantomData,
        }
    }
}

impl<'de, E: de::Error> Deserializer<'de> for ScalarDe<'_, E> {
    type Error = E;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::Null => v.visit_unit(),
            Scalar::Str(s) => v.visit_str(s),
            Scalar::Bool(b) => v.visit_bool(b),
            Scalar::I64(n) => v.visit_i64(n),
            Scalar::U64(n) => v.visit_u64(n),
            Scalar::F64(n) => v.visit_f64(n),
        }
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }
    hand_on_common!();
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
    let mut result = match reply.result {
        Some(ResultValue::Data(result)) => result,
        Some(ResultValue::NoRecords) => R::default(),
        Some(ResultValue::Unexpected) => {
            return Err(Error::UnexpectedResult {
                method,
                expected: R::EXPECTED.first().copied().unwrap_or("data"),
                found: result_snippet(body),
            });
        }
        None => {
            return Err(Error::Decode {
                method,
                path: "response".to_owned(),
                message: "the response has neither a result nor an error".to_owned(),
                source: access_http::DecodeError::new(&"missing result", &[]),
            });
        }
    };
    result.attach_skipped(skipped);
    Ok(result)
}

/// The `result` of a body, as compact JSON cut to about [`SNIPPET`]
/// characters (only on the error path: it parses the body again).
fn result_snippet(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return snippet(body);
    };
    let result = v
        .get("response")
        .and_then(|r| r.get("result"))
        .or_else(|| v.get("result"))
        .unwrap_or(&Value::Null);
    let text = result.to_string();
    if text.chars().count() <= SNIPPET {
        return text;
    }
    let mut cut: String = text.chars().take(SNIPPET).collect();
    cut.push('…');
    cut
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
    // serde's message quotes the value it refused: never kept as is
    let source = access_http::DecodeError::new(&source, &[]);
    Error::Decode {
        method,
        path,
        message: source.message().to_owned(),
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
    impl Output for Status {
        const EXPECTED: &'static [&'static str] = &["status"];
        const TEXT_DATA: bool = true;
    }

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
            &br#"{"response":{"code":200,"result":{"success":"No Records Found."}}}"#[..],
            br#"{"response":{"code":200,"result":"No records found with mentioned preferences."}}"#,
            br#"{"response":{"code":200,"result":"  no records found  "}}"#,
        ] {
            let s: Status = decode_body("getStatus", 200, empty).unwrap();
            assert!(s.status.is_none());
        }
        // getStatus's data is text
        let s: Status = decode_body(
            "getStatus",
            200,
            br#"{"response":{"result":{"status":"No Records Found."}}}"#,
        )
        .unwrap();
        assert_eq!(s.status.as_deref(), Some("No Records Found."));
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
    }

    #[test]
    fn only_known_no_records_answers_are_empty() {
        for (body, found) in [
            (&br#"{"response":{"code":200,"result":[]}}"#[..], "[]"),
            (br#"{"response":{"code":200,"result":[1]}}"#, "[1]"),
            (br#"{"response":{"code":200,"result":null}}"#, "null"),
            (br#"{"response":{"code":200,"result":7}}"#, "7"),
            (
                br#"{"response":{"code":200,"result":"Try again later."}}"#,
                r#""Try again later.""#,
            ),
            (br#"{"response":{"code":200,"result":{}}}"#, "{}"),
            (
                br#"{"response":{"code":200,"result":{"success":"Done."}}}"#,
                r#"{"success":"Done."}"#,
            ),
            (
                br#"{"response":{"code":200,"result":{"success":7}}}"#,
                r#"{"success":7}"#,
            ),
            (
                br#"{"response":{"code":200,"result":{"other":{"x":1}}}}"#,
                r#"{"other":{"x":1}}"#,
            ),
            (
                br#"{"response":{"code":200,"result":{"status":null}}}"#,
                r#"{"status":null}"#,
            ),
            (
                br#"{"result":"records found: none"}"#,
                r#""records found: none""#,
            ),
        ] {
            let err = decode_body::<Status>("getStatus", 200, body).unwrap_err();
            match &err {
                Error::UnexpectedResult {
                    method,
                    expected,
                    found: f,
                } => {
                    assert_eq!(
                        (*method, *expected, f.as_str()),
                        ("getStatus", "status", found)
                    );
                }
                other => panic!("{}: {other:?}", String::from_utf8_lossy(body)),
            }
            assert!(!err.is_retryable());
            let text = err.to_string();
            assert!(
                text.contains(found) && text.contains("incomplete"),
                "{text}"
            );
        }
        // data wins over a stray success key, in either order
        for body in [
            &br#"{"response":{"result":{"success":"No Records Found.","status":"Up"}}}"#[..],
            br#"{"response":{"result":{"status":"Up","success":"Weird"}}}"#,
        ] {
            let s: Status = decode_body("getStatus", 200, body).unwrap();
            assert_eq!(s.status.as_deref(), Some("Up"));
        }
        // an in-body error beats an odd result
        let err = decode_body::<Status>(
            "getStatus",
            200,
            br#"{"response":{"result":[],"error":{"code":301,"message":"no"}}}"#,
        )
        .unwrap_err();
        assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    }

    /// The expected key's value reaches plain derived fields as serde_json
    /// would hand it over: `Option`s, lists and newtypes included.
    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Plain {
        one: Option<Inner>,
        many: Vec<u32>,
        wrapped: Option<Wrapper>,
    }
    #[derive(Debug, Default, Deserialize, PartialEq)]
    struct Inner {
        x: u32,
    }
    #[derive(Debug, Default, Deserialize, PartialEq)]
    struct Wrapper(Vec<u32>);
    impl Output for Plain {
        const EXPECTED: &'static [&'static str] = &["one", "many", "wrapped"];
    }

    #[test]
    fn expected_values_decode_as_usual() {
        let p: Plain = decode_body(
            "test",
            200,
            br#"{"result":{"one":{"x":1},"many":[2,3],"wrapped":[4]}}"#,
        )
        .unwrap();
        assert_eq!(p.one, Some(Inner { x: 1 }));
        assert_eq!(p.many, [2, 3]);
        assert_eq!(p.wrapped, Some(Wrapper(vec![4])));
        let p: Plain = decode_body("test", 200, br#"{"result":{"many":[]}}"#).unwrap();
        assert!(p.many.is_empty() && p.one.is_none());
        let err = decode_body::<Plain>("test", 200, br#"{"result":{"one":null}}"#).unwrap_err();
        assert!(matches!(err, Error::UnexpectedResult { .. }), "{err:?}");
        let err =
            decode_body::<Plain>("test", 200, br#"{"result":{"many":{"x":"y"}}}"#).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    }

    #[test]
    fn no_records_sentences() {
        for t in [
            "No Records Found.",
            "No records found with mentioned preferences.",
            "  NO RECORDS FOUND",
            "\"no records found\"",
            "- No records found -",
        ] {
            assert!(is_no_records(t), "{t}");
        }
        for t in [
            "",
            "No records",
            "Records found",
            "No data",
            "Error: no records found",
        ] {
            assert!(!is_no_records(t), "{t}");
        }
    }

    #[test]
    fn a_long_unexpected_result_is_cut() {
        let long = "x".repeat(1000);
        let body = format!(r#"{{"response":{{"result":"{long}"}}}}"#);
        let err = decode_body::<Status>("getStatus", 200, body.as_bytes()).unwrap_err();
        let Error::UnexpectedResult { found, .. } = err else {
            panic!("{err:?}");
        };
        assert_eq!(found.chars().count(), SNIPPET + 1);
        assert!(found.ends_with('…'));
    }
}
