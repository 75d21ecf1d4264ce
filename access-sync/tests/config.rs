//! The config file: unknown fields refused in every section, ranges
//! validated naming the field, and (property-based) the parser never
//! panics and valid configs round-trip.

#![allow(clippy::unwrap_used)] // test code: a panic is a failure

use access_sync::config::{ConfigError, SyncConfig};
use proptest::prelude::*;
use serde_json::{Value, json};

fn parse(v: &Value) -> Result<SyncConfig, ConfigError> {
    SyncConfig::from_json(&v.to_string())
}

fn base() -> Value {
    json!({
        "brivo": { "rate_limit_per_second": 5 },
        "entrata": { "base_url": "https://acme.entrata.com/api/v1/" },
        "officernd": { "org": "acme", "client_id": "app" },
        "mappings": { "properties": { "100": [7101] } },
        "policy": { "start_time": "09:00:00" },
        "run": { "poll_interval_secs": 600 },
        "state": { "namespace": "default" }
    })
}

fn with(pointer: &str, value: Value) -> Value {
    let mut v = base();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        &mut v
    } else {
        v.pointer_mut(parent).unwrap()
    };
    target
        .as_object_mut()
        .unwrap()
        .insert(key.to_owned(), value);
    v
}

#[test]
fn the_base_config_is_valid() {
    parse(&base()).unwrap();
}

#[test]
fn every_missing_secret_is_reported_at_once() {
    let config = parse(&base()).unwrap();
    let only_brivo_key = |k: &str| (k == "BRIVO_API_KEY").then(|| "key".to_owned());
    let Err(e) = config.build(only_brivo_key) else {
        panic!("built without secrets")
    };
    let ConfigError::MissingEnv(names) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        names,
        &[
            "BRIVO_CLIENT_ID",
            "BRIVO_CLIENT_SECRET",
            "BRIVO_USERNAME",
            "BRIVO_PASSWORD",
            "ENTRATA_USERNAME",
            "ENTRATA_PASSWORD",
            "OFFICERND_CLIENT_SECRET",
        ]
    );
    assert!(
        e.to_string().starts_with(
            "environment variables are not set: BRIVO_CLIENT_ID, BRIVO_CLIENT_SECRET,"
        ),
        "{e}"
    );
    // an empty value counts as missing; the gateway needs its key, not a password
    let gateway = parse(&with("/entrata", json!({"gateway_org": "acme"}))).unwrap();
    let all_but_key = |k: &str| match k {
        "ENTRATA_API_KEY" => Some(String::new()),
        _ => Some("x".to_owned()),
    };
    assert_eq!(gateway.missing_env(all_but_key), vec!["ENTRATA_API_KEY"]);
}

#[test]
fn a_typo_in_policy_is_an_error_naming_the_field() {
    let e = parse(&with(
        "/policy/revocation_treshold",
        json!({"max_count": 5}),
    ))
    .unwrap_err();
    assert!(matches!(e, ConfigError::Parse(_)));
    assert!(
        e.to_string()
            .contains("unknown field `revocation_treshold`"),
        "{e}"
    );
}

#[test]
fn an_unknown_key_in_mappings_is_an_error_naming_it() {
    let e = parse(&with("/mappings/propertys", json!({"100": [1]}))).unwrap_err();
    assert!(e.to_string().contains("unknown field `propertys`"), "{e}");
    assert!(e.to_string().contains("mappings"), "{e}");
}

#[test]
fn unknown_keys_are_refused_in_every_section() {
    for pointer in [
        "/extra",
        "/brivo/extra",
        "/entrata/extra",
        "/officernd/extra",
        "/mappings/extra",
        "/policy/extra",
        "/run/extra",
        "/state/extra",
    ] {
        let e = parse(&with(pointer, json!(1))).expect_err(pointer);
        assert!(
            e.to_string().contains("unknown field `extra`"),
            "{pointer}: {e}"
        );
    }
    let mut v = base();
    v["policy"]["revocation_threshold"] = json!({ "max_cuont": 5 });
    let e = parse(&v).unwrap_err();
    assert!(e.to_string().contains("unknown field `max_cuont`"), "{e}");
    assert!(e.to_string().contains("policy.revocation_threshold"), "{e}");
}

#[test]
fn out_of_range_values_are_errors_naming_the_field() {
    let cases: Vec<(&str, Value)> = vec![
        ("/policy/start_time", json!("23:59:60")),
        ("/policy/early_access_minutes", json!(10_081)),
        ("/policy/grace_minutes", json!(100_000)),
        ("/policy/booking_lead_minutes", json!(10_081)),
        ("/policy/booking_lag_minutes", json!(10_081)),
        ("/policy/max_groups_per_user", json!(0)),
        ("/policy/max_groups_per_user", json!(17)),
        ("/policy/ownership_prefix", json!("")),
        ("/brivo/rate_limit_per_second", json!(0)),
        ("/brivo/rate_limit_per_second", json!(-1.0)),
        ("/brivo/rate_limit_per_second", json!(0.0001)),
        ("/brivo/rate_limit_per_second", json!(1e300)),
        ("/brivo/burst", json!(0)),
        ("/brivo/calls_per_30_days", json!(0)),
        ("/entrata/rate_limit_per_second", json!(0)),
        ("/officernd/booking_horizon_days", json!(0)),
        ("/officernd/booking_horizon_days", json!(-5)),
        ("/officernd/booking_horizon_days", json!(401)),
        ("/officernd/booking_horizon_days", json!(i64::MAX)),
        ("/officernd/org", json!("")),
        ("/officernd/client_id", json!(" ")),
        ("/run/poll_interval_secs", json!(0)),
        ("/run/poll_interval_secs", json!(86_401)),
        ("/run/concurrency", json!(0)),
        ("/run/concurrency", json!(1000)),
        ("/run/max_fact_age_secs", json!(5)),
        ("/brivo/full_reconciliation_secs", json!(8 * 86_400)),
        ("/entrata/refresh_secs", json!(5)),
        ("/entrata/refresh_secs", json!(86_401)),
        ("/entrata/slow_refresh_secs", json!(8 * 86_400)),
        ("/entrata/calls_per_day", json!(0)),
        ("/officernd/refresh_secs", json!(0)),
        ("/officernd/reads_per_day", json!(0)),
    ];
    for (pointer, value) in cases {
        let field = pointer[1..].replace('/', ".");
        match parse(&with(pointer, value.clone())) {
            Err(ConfigError::Field {
                field: got,
                problem,
            }) => {
                assert_eq!(got, field, "{value}");
                assert!(!problem.is_empty());
            }
            other => panic!("{field} = {value}: {other:?}"),
        }
    }
    let mut v = base();
    v["policy"]["revocation_threshold"] = json!({ "max_share": 2.5 });
    match parse(&v) {
        Err(e @ ConfigError::Field { .. }) => assert!(
            e.to_string()
                .starts_with("config file: policy.revocation_threshold.max_share: "),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_limits_themselves_are_accepted() {
    for (pointer, value) in [
        ("/policy/booking_lead_minutes", json!(10_080)),
        ("/policy/max_groups_per_user", json!(1)),
        ("/policy/max_groups_per_user", json!(16)),
        ("/brivo/rate_limit_per_second", json!(0.1)),
        ("/brivo/rate_limit_per_second", json!(1000)),
        ("/officernd/booking_horizon_days", json!(1)),
        ("/officernd/booking_horizon_days", json!(400)),
        ("/run/poll_interval_secs", json!(10)),
        ("/run/poll_interval_secs", json!(86_400)),
        ("/brivo/full_reconciliation_secs", json!(0)),
        ("/entrata/refresh_secs", json!(1800)),
        ("/entrata/slow_refresh_secs", json!(0)),
        ("/entrata/calls_per_day", json!(1_250)),
        ("/officernd/refresh_secs", json!(900)),
        ("/officernd/reads_per_day", json!(50_000)),
        ("/run/max_fact_age_secs", json!(3600)),
    ] {
        parse(&with(pointer, value.clone())).unwrap_or_else(|e| panic!("{pointer} = {value}: {e}"));
    }
}

#[test]
fn a_config_built_in_code_is_validated_by_build() {
    let mut config = SyncConfig::from_json("{}").unwrap();
    config.policy.max_groups_per_user = 99;
    let env = |name: &str| Some(format!("{name}-value"));
    match config.build(env) {
        Err(ConfigError::Field { field, .. }) => assert_eq!(field, "policy.max_groups_per_user"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

const KEYS: &[&str] = &[
    "brivo",
    "entrata",
    "officernd",
    "mappings",
    "policy",
    "run",
    "state",
    "properties",
    "plans",
    "start_time",
    "max_groups_per_user",
    "revocation_threshold",
    "max_share",
    "booking_horizon_days",
    "scopes",
    "rate_limit_per_second",
    "poll_interval_secs",
    "org",
    "client_id",
    "zones",
    "password",
    "x",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        Just(json!("09:00:00")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(prop::sample::select(KEYS), inner, 0..5).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

prop_compose! {
    fn valid_config()(
        start in 0u32..86_400,
        lead in 0u32..=10_080,
        groups in 1usize..=16,
        // binary fractions: exact through JSON whatever the float parser
        share in prop::option::of((0u8..=8).prop_map(|k| f64::from(k) / 8.0)),
        rate in prop::option::of((1u32..=2000).prop_map(|k| f64::from(k) / 2.0)),
        horizon in prop::option::of(1i64..=400),
        poll in prop::option::of(10u64..=86_400),
        prefix in prop::option::of("[a-z][a-z0-9-]{0,20}"),
        group in any::<i64>(),
    ) -> Value {
        let mut policy = json!({
            "start_time": format!("{:02}:{:02}:{:02}", start / 3600, start / 60 % 60, start % 60),
            "booking_lead_minutes": lead,
            "max_groups_per_user": groups,
            "revocation_threshold": { "max_share": share },
        });
        if let Some(p) = prefix {
            policy["ownership_prefix"] = json!(p);
        }
        json!({
            "brivo": { "rate_limit_per_second": rate },
            "officernd": { "org": "acme", "client_id": "app", "booking_horizon_days": horizon },
            "mappings": { "plans": { "p1": [group] } },
            "policy": policy,
            "run": { "poll_interval_secs": poll },
        })
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = SyncConfig::from_json(&text);
    }

    #[test]
    fn arbitrary_json_never_panics(v in json_value()) {
        let _ = parse(&v);
        let _ = parse(&json!({ "policy": v.clone() }));
        let _ = parse(&json!({ "officernd": v.clone(), "run": v }));
    }

    #[test]
    fn valid_configs_round_trip(v in valid_config()) {
        let config = parse(&v).unwrap();
        let text = serde_json::to_string(&config).unwrap();
        let mut again = SyncConfig::from_json(&text).unwrap();
        // the output always names the prefix; the flag says whether the input did
        again.prefix_given = config.prefix_given;
        prop_assert_eq!(again, config);
    }
}

#[tokio::test]
async fn a_read_only_state_is_never_created_and_never_gives_a_prefix() {
    let dir = std::env::temp_dir().join(format!("config-read-only-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sync.json");
    let file = parse(&base()).unwrap().state_file(&path).unwrap();
    assert_eq!(file, dir.join("sync.json.state.sqlite"));

    // no run yet: nothing opened, nothing created
    let mut reader = parse(&base()).unwrap();
    assert!(
        reader
            .open_state_read_only(&path, |_| None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(std::fs::read_dir(&dir).unwrap().next().is_none(), "{dir:?}");

    // after a runner opened it: the runner's prefix, the file unchanged
    let mut runner = parse(&base()).unwrap();
    drop(runner.open_state(&path, |_| None).await.unwrap());
    let before = std::fs::read(&file).unwrap();
    let mut reader = parse(&base()).unwrap();
    let (state, namespace) = reader
        .open_state_read_only(&path, |_| None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(namespace, "default");
    assert_eq!(
        reader.policy.ownership_prefix,
        runner.policy.ownership_prefix
    );
    assert!(reader.policy.ownership_prefix.starts_with("sync-"));
    drop(state);
    assert_eq!(std::fs::read(&file).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["sync.json.state.sqlite"], "no WAL files left");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn officernd_scopes_empty_or_blank_are_errors_naming_the_field() {
    for scopes in [
        json!([]),
        json!([""]),
        json!(["flex.space.bookings.read", " "]),
    ] {
        match parse(&with("/officernd/scopes", scopes.clone())) {
            Err(ConfigError::Field { field, .. }) => assert_eq!(field, "officernd.scopes"),
            other => panic!("{scopes}: {other:?}"),
        }
    }
    parse(&with(
        "/officernd/scopes",
        json!(["flex.space.bookings.read"]),
    ))
    .unwrap();
}
