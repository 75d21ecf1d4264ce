//! What `Pacer::run` records at INFO: one span per call, with the retries
//! and a closing event inside it.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use access_http::{CallInfo, Pacer, RateLimiter, RetryDecision, RetryPolicy, Retryable};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

type Fields = BTreeMap<String, String>;

#[derive(Debug, Clone)]
struct SpanRec {
    id: u64,
    name: &'static str,
    level: Level,
    fields: Fields,
}

#[derive(Debug, Clone)]
struct EventRec {
    span: Option<u64>,
    level: Level,
    fields: Fields,
}

impl EventRec {
    fn message(&self) -> &str {
        self.fields.get("message").map_or("", String::as_str)
    }
}

#[derive(Default, Clone)]
struct Capture {
    spans: Arc<Mutex<Vec<SpanRec>>>,
    events: Arc<Mutex<Vec<EventRec>>>,
}

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = Fields::new();
        attrs.record(&mut Visitor(&mut fields));
        self.spans.lock().unwrap().push(SpanRec {
            id: id.into_u64(),
            name: attrs.metadata().name(),
            level: *attrs.metadata().level(),
            fields,
        });
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut spans = self.spans.lock().unwrap();
        if let Some(span) = spans.iter_mut().rev().find(|s| s.id == id.into_u64()) {
            values.record(&mut Visitor(&mut span.fields));
        }
    }
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        self.events.lock().unwrap().push(EventRec {
            span: ctx.event_span(event).map(|s| s.id().into_u64()),
            level: *event.metadata().level(),
            fields,
        });
    }
}

#[derive(Debug)]
struct Unavailable;

impl Retryable for Unavailable {
    fn retry_decision(&self) -> RetryDecision {
        RetryDecision::Retry
    }
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HTTP 503 from the server")
    }
}

impl std::error::Error for Unavailable {}

/// Runs a call that fails `failures` times with a 503, then gets a 200,
/// and returns what was captured at INFO.
async fn traced_call(failures: u32) -> (Vec<SpanRec>, Vec<EventRec>) {
    let capture = Capture::default();
    let subscriber =
        tracing_subscriber::registry().with(capture.clone().with_filter(LevelFilter::INFO));
    let _guard = tracing::subscriber::set_default(subscriber);

    let pacer = Pacer::new(
        RetryPolicy::default().with_backoff(Duration::from_millis(10), Duration::from_millis(10)),
        RateLimiter::unlimited(),
    )
    .with_service("brivo");
    let url =
        url::Url::parse("https://api.example.test/v1/api/users/42?filter=name__eq:Ann").unwrap();
    let answer = pacer
        .run(CallInfo::new("get_user", "GET").url(&url), |attempt| {
            let fail = attempt.number() <= failures;
            attempt.record_status(if fail { 503 } else { 200 });
            async move { if fail { Err(Unavailable) } else { Ok("user") } }
        })
        .await;
    assert_eq!(answer.unwrap(), "user");
    let spans = capture.spans.lock().unwrap().clone();
    let events = capture.events.lock().unwrap().clone();
    (spans, events)
}

fn the_span(spans: &[SpanRec]) -> &SpanRec {
    assert_eq!(spans.len(), 1, "one span per call: {spans:#?}");
    let span = &spans[0];
    assert_eq!(span.name, "http_request");
    assert_eq!(span.level, Level::INFO);
    for (field, value) in [
        ("otel.name", "brivo.get_user"),
        ("otel.kind", "client"),
        ("otel.status_code", "OK"),
        ("service", "brivo"),
        ("operation", "get_user"),
        ("http.request.method", "GET"),
        ("server.address", "api.example.test"),
        ("url.path", "/v1/api/users/42"),
        ("http.response.status_code", "200"),
    ] {
        assert_eq!(
            span.fields.get(field).map(String::as_str),
            Some(value),
            "{field} in {span:#?}"
        );
    }
    assert!(span.fields.contains_key("elapsed_ms"), "{span:#?}");
    let all = format!("{spans:?}");
    assert!(
        !all.contains("filter") && !all.contains("Ann"),
        "no query: {all}"
    );
    span
}

#[tokio::test(start_paused = true)]
async fn a_successful_call_is_one_info_span_with_a_closing_event() {
    let (spans, events) = traced_call(0).await;
    let span = the_span(&spans);
    assert_eq!(span.fields["attempt"], "1");
    assert_eq!(events.len(), 1, "{events:#?}");
    let done = &events[0];
    assert_eq!(done.message(), "request done");
    assert_eq!(done.level, Level::INFO);
    assert_eq!(
        done.span,
        Some(span.id),
        "the closing event is inside the span"
    );
    assert_eq!(done.fields["http.response.status_code"], "200");
    assert_eq!(done.fields["attempts"], "1");
    assert!(done.fields.contains_key("elapsed_ms"));
}

#[tokio::test(start_paused = true)]
async fn a_retried_call_logs_its_retries_inside_its_span() {
    let (spans, events) = traced_call(2).await;
    let span = the_span(&spans);
    assert_eq!(span.fields["attempt"], "3");
    let messages: Vec<_> = events.iter().map(EventRec::message).collect();
    assert_eq!(messages, ["retrying", "retrying", "request done"]);
    for event in &events {
        assert_eq!(event.span, Some(span.id), "{event:?} is inside the span");
        assert_eq!(event.level, Level::INFO);
    }
    assert_eq!(events[0].fields["attempt"], "1");
    assert_eq!(events[1].fields["attempt"], "2");
    assert_eq!(events[0].fields["error"], "HTTP 503 from the server");
    assert_eq!(events[0].fields["http.response.status_code"], "503");
    assert!(events[0].fields.contains_key("wait_ms"));
    let done = &events[2];
    assert_eq!(done.fields["attempts"], "3");
    assert_eq!(done.fields["http.response.status_code"], "200");
}

#[tokio::test(start_paused = true)]
async fn giving_up_is_a_warning_inside_the_span() {
    let capture = Capture::default();
    let subscriber =
        tracing_subscriber::registry().with(capture.clone().with_filter(LevelFilter::INFO));
    let _guard = tracing::subscriber::set_default(subscriber);
    let pacer = Pacer::new(
        RetryPolicy::default().with_max_attempts(2),
        RateLimiter::unlimited(),
    )
    .with_service("officernd");
    let answer: Result<(), _> = pacer
        .run(CallInfo::new("list_members", "GET"), |attempt| {
            attempt.record_status(503);
            async { Err(Unavailable) }
        })
        .await;
    assert!(answer.is_err());
    let spans = capture.spans.lock().unwrap().clone();
    let events = capture.events.lock().unwrap().clone();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].fields["otel.status_code"], "ERROR");
    assert_eq!(spans[0].fields["http.response.status_code"], "503");
    let messages: Vec<_> = events.iter().map(|e| (e.level, e.message())).collect();
    assert_eq!(
        messages,
        [
            (Level::INFO, "retrying"),
            (Level::WARN, "giving up"),
            (Level::INFO, "request failed")
        ]
    );
    assert!(events.iter().all(|e| e.span == Some(spans[0].id)));
    assert_eq!(events[2].fields["error"], "HTTP 503 from the server");
    assert_eq!(events[2].fields["attempts"], "2");
}
