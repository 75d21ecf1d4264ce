//! The runner's HTTP surface end to end: the sandbox's OfficeRnD sends
//! signed webhooks, its directory platform pushes SCIM, and the changes
//! reach the sandbox's Brivo within seconds; `/healthz` and `/metrics`
//! tell what happened.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used)] // helpers of tests

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use access_engine::GroupId;
use access_sync::server::{Monitor, Routes, ScimDirectory};
use access_sync::{BrivoBackend, DirectorySource, OfficeRndSource, Syncer};
use officernd_client::SecretString;
use officernd_client::webhook::{WebhookReceiver, WebhookVerifier};
use sandbox::platform::{DirectoryPlatform, PlatformError};
use sandbox::{NewBrivoUser, Sandbox, story};
use serde_json::json;
use tokio::sync::oneshot;

const WEBHOOK_SECRET: &str = "whsec_sandbox_test";
const SCIM_TOKEN: &str = "scim-token-for-tests";
const DIRECTORY: &str = "connect-hq";

/// A runner serving its routes on a free port, polling only hourly, so a
/// change shows up in seconds only if a webhook or a push woke it.
struct Running {
    url: String,
    monitor: Monitor,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn start(syncer: Syncer, scim: Option<ScimDirectory>) -> Running {
        let monitor = Monitor::new();
        let syncer = Arc::new(syncer);
        let receiver =
            WebhookReceiver::new(WebhookVerifier::new(SecretString::from(WEBHOOK_SECRET)));
        let mut routes = Routes::new(monitor.clone());
        if let Some(changes) = syncer.changes_for("officernd") {
            routes = routes.officernd_webhooks(receiver, changes);
        }
        if let Some(scim) = scim {
            let wake = syncer.waker_for(&format!("directory:{DIRECTORY}")).unwrap();
            routes = routes.scim(scim, SCIM_TOKEN, wake);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = routes.into_router();
        let (stop, stopped) = oneshot::channel::<()>();
        let m = monitor.clone();
        let task = tokio::spawn(async move {
            let server = tokio::spawn(async move { axum::serve(listener, app).await });
            syncer
                .run_with(
                    async {
                        stopped.await.ok();
                    },
                    |event| m.observe(&event),
                )
                .await;
            server.abort();
        });
        let running = Running {
            url,
            monitor,
            stop: Some(stop),
            task,
        };
        running.wait_for_runs(1).await;
        running
    }

    async fn wait_for_runs(&self, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while runs(&self.monitor.metrics_text()) < n {
            assert!(
                Instant::now() < deadline,
                "no run: {}",
                self.monitor.metrics_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(mut self) {
        self.stop.take().map(|s| s.send(()));
        self.task.await.unwrap();
    }
}

fn runs(metrics: &str) -> u64 {
    sample(metrics, "access_sync_runs_total", &[("result", "synced")]) as u64
}

/// Waits (at most `within`) until `check` holds; returns how long it took.
async fn within(within: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if check() {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

fn officernd_syncer(sb: &Sandbox) -> Syncer {
    Syncer::builder(BrivoBackend::new(common::brivo_client(sb)))
        .source(OfficeRndSource::new(common::officernd_client(sb)))
        .mappings(common::mappings())
        .poll_interval(Duration::from_secs(3600))
        .build()
}

fn in_group(sb: &Sandbox, external_suffix: &str, group: i64) -> bool {
    sb.brivo().snapshot().users.iter().any(|u| {
        u.external_id
            .as_deref()
            .is_some_and(|x| x.ends_with(external_suffix))
            && u.groups.contains(&group)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_made_in_officernd_is_in_brivo_within_two_seconds_of_its_webhook() {
    let sb = common::start().await;
    let running = Running::start(officernd_syncer(&sb), None).await;
    sb.officernd().send_webhooks_to(
        format!("{}/webhooks/officernd", running.url),
        WEBHOOK_SECRET,
    );
    assert!(!in_group(
        &sb,
        story::MEMBER_MAYA,
        story::GROUP_MHW_SUMMIT_ROOM
    ));

    // Maya books the Summit room from a minute ago for an hour
    let now = chrono::Utc::now();
    let mut booking = sb
        .officernd()
        .get("bookings", story::BOOKING_WITH_VISITOR)
        .unwrap();
    let ts =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    booking["_id"] = json!("64b0000000000000000bb0f1");
    booking["member"] = json!(story::MEMBER_MAYA);
    booking["company"] = json!(story::COMPANY_ACME);
    booking["visitors"] = json!([]);
    for (k, t) in [
        ("start", now - chrono::Duration::minutes(1)),
        ("end", now + chrono::Duration::hours(1)),
    ] {
        booking[k] = json!(ts(t));
        booking[if k == "start" {
            "seriesStart"
        } else {
            "seriesEnd"
        }] = json!(ts(t));
    }
    running.wait_for_runs(1).await;
    let reads_before = sb.officernd().stats().by_route;
    assert!(sb.officernd().upsert("bookings", booking));

    let took = within(Duration::from_secs(2), || {
        in_group(&sb, story::MEMBER_MAYA, story::GROUP_MHW_SUMMIT_ROOM)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "not granted within 2 s; deliveries: {:?}",
            sb.officernd().deliveries()
        )
    });
    eprintln!("booking granted {took:?} after the change");
    let deliveries = sb.officernd().deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        (deliveries[0].event_type.as_str(), deliveries[0].status),
        ("booking.created", Some(204))
    );
    // the woken run read the booking the webhook named, by id, and nothing
    // else of OfficeRnD (a full read lists every collection)
    let reads: Vec<(String, u64)> = sb
        .officernd()
        .stats()
        .by_route
        .into_iter()
        .filter_map(|(route, n)| {
            let before = reads_before.get(&route).copied().unwrap_or(0);
            (n > before).then(|| (route, n - before))
        })
        .collect();
    assert!(
        reads.iter().all(|(route, _)| route.contains("/bookings/")),
        "the webhook's run read more than the booking: {reads:?}"
    );
    assert_eq!(reads.iter().map(|(_, n)| n).sum::<u64>(), 1, "{reads:?}");

    // the same delivery again is a replay: answered 200 (OfficeRnD stops
    // sending it) and ignored: no run is woken
    // the woken run has written to Brivo; let it finish and be counted
    running.wait_for_runs(2).await;
    let before = runs(&running.monitor.metrics_text());
    assert_eq!(sb.officernd().redeliver(&deliveries[0]).await, Some(200));
    // a forged one (another secret) is refused before anything is parsed
    let forged =
        officernd_client::webhook::sign(b"not-the-secret", &deliveries[0].body, now.timestamp());
    let r = reqwest::Client::new()
        .post(format!("{}/webhooks/officernd", running.url))
        .header("officernd-signature", forged)
        .body(deliveries[0].body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // a genuine signature ten minutes old is outside the tolerance
    let stale = officernd_client::webhook::sign(
        WEBHOOK_SECRET.as_bytes(),
        &deliveries[0].body,
        now.timestamp() - 600,
    );
    let r = reqwest::Client::new()
        .post(format!("{}/webhooks/officernd", running.url))
        .header("officernd-signature", stale)
        .body(deliveries[0].body.clone())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        runs(&running.monitor.metrics_text()),
        before,
        "a refused webhook woke a run"
    );

    let metrics = running.monitor.metrics_text();
    for (result, n) in [("accepted", 1.0), ("replayed", 1.0), ("forged", 2.0)] {
        let got = sample(
            &metrics,
            "access_sync_http_requests_total",
            &[("route", "officernd_webhook"), ("result", result)],
        );
        assert_eq!(got, n, "{result}");
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scim_platform_drives_create_suspend_and_delete_and_never_deletes_a_user_it_did_not_create()
 {
    let sb = common::start().await;
    // a staff member's own Brivo user, made by hand, with the same email
    let staff = sb
        .brivo()
        .add_user(NewBrivoUser::new("Rene", "Staff").email("rene@example.com"));
    let directory_group = sb.brivo().add_group("Connect HQ members");
    let scim = ScimDirectory::in_memory(DIRECTORY);
    let mut mappings = access_engine::Mappings::default();
    mappings
        .directories
        .insert(DIRECTORY.into(), vec![GroupId(directory_group)]);
    let syncer = Syncer::builder(BrivoBackend::new(common::brivo_client(&sb)))
        .source(DirectorySource::new(scim.clone()))
        .mappings(mappings)
        .poll_interval(Duration::from_secs(3600))
        .build();
    let running = Running::start(syncer, Some(scim)).await;
    let platform = DirectoryPlatform::new(format!("{}/scim/v2", running.url), SCIM_TOKEN);

    let owned = |sb: &Sandbox| {
        sb.brivo().snapshot().users.into_iter().find(|u| {
            u.external_id
                .as_deref()
                .is_some_and(|x| x.contains(DIRECTORY))
        })
    };
    let id = platform
        .create_user("rene", "Rene", "Staff", "rene@example.com")
        .await
        .unwrap();
    // a retry of the same join finds the user instead of creating it twice
    assert_eq!(
        platform
            .create_user("rene", "Rene", "Staff", "rene@example.com")
            .await
            .unwrap(),
        id
    );
    within(Duration::from_secs(2), || {
        owned(&sb).is_some_and(|u| u.groups.contains(&directory_group))
    })
    .await
    .expect("created with the directory's group within 2 s");

    platform.suspend(&id).await.unwrap();
    within(Duration::from_secs(2), || {
        owned(&sb).is_some_and(|u| u.suspended)
    })
    .await
    .expect("suspended within 2 s");
    platform.reinstate(&id).await.unwrap();
    within(Duration::from_secs(2), || {
        owned(&sb).is_some_and(|u| !u.suspended)
    })
    .await
    .expect("reinstated within 2 s");

    platform.decommission(&id).await.unwrap();
    within(Duration::from_secs(2), || owned(&sb).is_none())
        .await
        .expect("deleted within 2 s");
    assert!(
        sb.brivo().snapshot().users.iter().any(|u| u.id == staff),
        "the hand-made user is never deleted"
    );

    // discovery needs no token and holds no user data
    let config = get_json(&format!("{}/scim/v2/ServiceProviderConfig", running.url)).await;
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["maxResults"], 200);
    assert_eq!(config["bulk"]["supported"], false);
    let types = get_json(&format!("{}/scim/v2/ResourceTypes", running.url)).await;
    assert_eq!(types["Resources"][0]["endpoint"], "/Users");

    let schemas = get_json(&format!("{}/scim/v2/Schemas", running.url)).await;
    assert_eq!(
        schemas["Resources"][0]["id"],
        "urn:ietf:params:scim:schemas:core:2.0:User"
    );

    // what identity providers rely on (RFC 7644): a Location for what was
    // created, the auth scheme in any case, errors as SCIM errors
    let http = reqwest::Client::new();
    let users = format!("{}/scim/v2/Users", running.url);
    let r = http
        .post(&users)
        .header("authorization", format!("BEARER {SCIM_TOKEN}"))
        .header("content-type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "zed"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let created: serde_json::Value = r.json().await.unwrap();
    assert_eq!(created["meta"]["location"], location.as_str());
    for (request, status, scim_type) in [
        (
            http.get(format!("{users}?count=many")),
            400,
            Some("invalidValue"),
        ),
        (
            http.get(format!("{users}?filter=title%20eq%20%22x%22")),
            400,
            Some("invalidFilter"),
        ),
        (http.post(&users).body(vec![b' '; 100 * 1024]), 413, None),
    ] {
        let r = request.bearer_auth(SCIM_TOKEN).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        assert_eq!(r.headers()["content-type"], "application/scim+json");
        let e: serde_json::Value = r.json().await.unwrap();
        assert_eq!(e["status"], status.to_string());
        assert_eq!(e["scimType"].as_str(), scim_type);
    }

    // a wrong token changes nothing
    let intruder = DirectoryPlatform::new(format!("{}/scim/v2", running.url), "guess");
    let e = intruder
        .create_user("mallory", "M", "X", "m@example.com")
        .await
        .unwrap_err();
    assert!(
        matches!(e, PlatformError::Refused { status: 401, .. }),
        "{e}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_metrics_tell_what_the_runs_did() {
    let sb = common::start().await;
    let monitor = Monitor::new();
    let app = Routes::new(monitor.clone()).into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();

    let r = http.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 503, "no run yet");
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "starting"
    );

    let syncer = common::syncer(&sb).build();
    let result = syncer.sync_once(story::instants()[0].1).await;
    let report = result.as_ref().unwrap();
    monitor.observe(&access_sync::RunEvent::Synced(report));

    let r = http.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let health: serde_json::Value = r.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["calls_last_24h"]["brivo"]["used"], report.calls.http);

    let r = http.get(format!("{url}/metrics")).send().await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = r.text().await.unwrap();
    let parsed = parse_exposition(&text);
    let total_actions: f64 = parsed
        .iter()
        .filter(|(name, ..)| name == "access_sync_actions_total")
        .map(|(.., v)| v)
        .sum();
    assert_eq!(total_actions, report.results.len() as f64);
    assert!(total_actions > 0.0);
    assert_eq!(
        sample(&text, "access_sync_runs_total", &[("result", "synced")]),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "access_sync_api_calls_total",
            &[("service", "brivo")]
        ),
        report.calls.http as f64
    );
    let creates = report
        .results
        .iter()
        .filter(|r| r.action.starts_with("create"))
        .count();
    assert_eq!(
        sample(
            &text,
            "access_sync_actions_total",
            &[("kind", "create_user"), ("result", "ok")]
        ),
        creates as f64
    );
    assert_eq!(
        sample(&text, "access_sync_held_items", &[]),
        (report.held.len() + report.plan.held.len()) as f64
    );
    assert_eq!(
        sample(
            &text,
            "access_sync_throttled_total",
            &[("service", "brivo")]
        ),
        report.calls.throttled as f64
    );

    // the run at the plan's next boundary applies its change: one lag sample
    let next = report
        .plan
        .next_change
        .expect("the story has a next change");
    assert_eq!(
        sample(&text, "access_sync_boundary_lag_seconds_count", &[]),
        0.0
    );
    let second = syncer.sync_once(next).await.unwrap();
    assert!(!second.results.is_empty(), "a change at the boundary");
    monitor.observe(&access_sync::RunEvent::Synced(&second));
    let text = monitor.metrics_text();
    assert_eq!(
        sample(&text, "access_sync_boundary_lag_seconds_count", &[]),
        1.0
    );
    assert_eq!(
        sample(&text, "access_sync_runs_total", &[("result", "synced")]),
        2.0
    );
}

/// GET without credentials, as JSON.
async fn get_json(url: &str) -> serde_json::Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// A series' name, labels and value.
type Sample = (String, Vec<(String, String)>, f64);

/// Parses the text exposition strictly enough to catch a malformed line:
/// `# HELP`/`# TYPE`/`# EOF` comments, else `name{label="value",...} number`.
fn parse_exposition(text: &str) -> Vec<Sample> {
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(c) = line.strip_prefix("# ") {
            assert!(
                c.starts_with("HELP ")
                    || c.starts_with("TYPE ")
                    || c.starts_with("UNIT ")
                    || c == "EOF",
                "{line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let labels = body
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (k, v) = p
                            .split_once('=')
                            .unwrap_or_else(|| panic!("bad label: {line}"));
                        let v = v
                            .strip_prefix('"')
                            .and_then(|v| v.strip_suffix('"'))
                            .unwrap_or_else(|| panic!("unquoted: {line}"));
                        (k.to_owned(), v.to_owned())
                    })
                    .collect();
                (name, labels)
            }
            None => (series, Vec::new()),
        };
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad name: {line}"
        );
        out.push((name.to_owned(), labels, value));
    }
    out
}

/// The value of one series (0 if absent).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    parse_exposition(text)
        .into_iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(.., v)| v)
        .sum()
}

#[tokio::test]
async fn nested_behind_a_proxy_scim_locations_use_the_public_url() {
    let scim = ScimDirectory::in_memory(DIRECTORY);
    let routes = Routes::new(Monitor::new())
        .public_url("https://sync.example.com/access/")
        .scim(scim, SCIM_TOKEN, Arc::new(tokio::sync::Notify::new()));
    let app = axum::Router::new().nest("/access", routes.into_router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let r = reqwest::Client::new()
        .post(format!("{url}/access/scim/v2/Users"))
        .bearer_auth(SCIM_TOKEN)
        .body(json!({"userName": "ada"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("https://sync.example.com/access/scim/v2/Users/"),
        "{location}"
    );
    let config = get_json(&format!("{url}/access/scim/v2/ServiceProviderConfig")).await;
    assert_eq!(
        config["meta"]["location"],
        "https://sync.example.com/access/scim/v2/ServiceProviderConfig"
    );
}
