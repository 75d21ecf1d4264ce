//! Typed errors end to end: what the sandbox's services answer (a 429, a
//! refused password, a property the API user may not read, a 503) reaches
//! the Syncer's reports and the audit log with its kind, and the client's
//! own error stays reachable.

#![allow(clippy::unwrap_used)] // helpers of tests

mod common;

use std::sync::{Arc, Mutex};

use access_engine::{BrivoUserId, GroupId, Observed, Profile};
use access_sync::{
    AccessBackend, BackendError, BrivoBackend, CallCounts, EntrataSource, ErrorKind, GroupsApplied,
    MemoryAudit, ObserveScope, OfficeRndSource, Outcome, RunKind, SyncError, Syncer, UserUpdate,
    async_trait,
};
use sandbox::{Fault, Sandbox, SandboxConfig, SandboxCredentials, story};

fn today() -> chrono::DateTime<chrono::Utc> {
    story::instants()[0].1
}

/// A backend that observes once and then serves that observation again, so
/// that an apply reaches the writes while Brivo throttles everything.
struct ObserveOnce {
    inner: BrivoBackend,
    seen: Mutex<Option<Observed>>,
}

#[async_trait]
impl AccessBackend for ObserveOnce {
    async fn observe(&self, scope: &ObserveScope) -> Result<Observed, BackendError> {
        if let Some(o) = self.seen.lock().unwrap().clone() {
            return Ok(o);
        }
        let o = self.inner.observe(scope).await?;
        *self.seen.lock().unwrap() = Some(o.clone());
        Ok(o)
    }
    async fn find_user(&self, e: &str) -> Result<Option<BrivoUserId>, BackendError> {
        self.inner.find_user(e).await
    }
    async fn create_user(&self, e: &str, p: &Profile) -> Result<BrivoUserId, BackendError> {
        self.inner.create_user(e, p).await
    }
    async fn update_user(&self, u: BrivoUserId, up: UserUpdate<'_>) -> Result<(), BackendError> {
        self.inner.update_user(u, up).await
    }
    async fn set_suspended(&self, u: BrivoUserId, s: bool) -> Result<(), BackendError> {
        self.inner.set_suspended(u, s).await
    }
    async fn change_groups(
        &self,
        u: BrivoUserId,
        a: &[GroupId],
        r: &[GroupId],
    ) -> Result<GroupsApplied, BackendError> {
        self.inner.change_groups(u, a, r).await
    }
    async fn delete_user(&self, u: BrivoUserId) -> Result<(), BackendError> {
        self.inner.delete_user(u).await
    }
    fn calls(&self) -> CallCounts {
        self.inner.calls()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_from_brivo_is_a_throttle_in_the_report_and_the_audit() {
    let sb = common::start().await;
    let audit = Arc::new(MemoryAudit::new());
    let backend = ObserveOnce {
        inner: BrivoBackend::new(common::brivo_client(&sb)),
        seen: Mutex::new(None),
    };
    let syncer = Syncer::builder(backend)
        .source(EntrataSource::new(common::entrata_client(&sb)))
        .source(OfficeRndSource::new(common::officernd_client(&sb)))
        .mappings(common::mappings())
        .audit_arc(audit.clone())
        .build();
    let dry = syncer.plan(today()).await.unwrap();
    assert!(!dry.plan.actions.is_empty());

    // Brivo now throttles every call, beyond the client's retries.
    sb.faults().brivo(Fault::TooManyRequests {
        times: 100_000,
        retry_after_secs: 1,
    });
    let report = syncer.apply(&dry.plan).await.unwrap();
    sb.faults().clear();

    assert!(report.failed() > 0, "{:#?}", report.results);
    for r in &report.results {
        match &r.outcome {
            Outcome::Failed { error } => {
                assert_eq!(error.kind(), ErrorKind::Throttled, "{}: {error}", r.action);
                assert!(error.is_throttle() && error.is_retryable() && !error.is_auth());
                assert!(
                    matches!(
                        error.brivo(),
                        Some(brivo_client::Error::Throttled { status: 429, .. })
                    ),
                    "{error:?}"
                );
                assert!(error.to_string().contains("429"), "{error}");
            }
            // the rest of a user whose create failed
            Outcome::Skipped { .. } => {}
            other => panic!("{}: {other:?}", r.action),
        }
    }

    // The audit line says so too, as text and kind.
    let records = audit.records();
    let applied = records.iter().find(|r| r.kind == RunKind::Apply).unwrap();
    let line = serde_json::to_value(applied).unwrap();
    let failed = line["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["outcome"]["status"] == "failed")
        .unwrap();
    assert_eq!(failed["outcome"]["kind"], "throttled", "{failed}");
    assert!(failed["outcome"]["error"].as_str().unwrap().contains("429"));
    // ... and reads back with its kind (the client error is not serialized).
    let back: access_sync::AuditRecord = serde_json::from_value(line).unwrap();
    let kinds: Vec<ErrorKind> = back
        .results
        .iter()
        .filter_map(|r| r.outcome.error().map(BackendError::kind))
        .collect();
    assert!(!kinds.is_empty() && kinds.iter().all(|k| *k == ErrorKind::Throttled));
}

/// A sandbox whose services expect other secrets than the default ones the
/// clients below are built with.
async fn sandbox_with_other_secrets() -> (Sandbox, SandboxCredentials) {
    let mut expected = SandboxCredentials::default();
    expected.brivo_password = "the-real-password".into();
    expected.entrata_password = "the-real-password".into();
    expected.officernd_client_secret = "the-real-secret".into();
    let sb = Sandbox::start_with(
        sandbox::Seed::sample(),
        SandboxConfig::default()
            .with_brivo_rate_limit(None)
            .with_credentials(expected),
    )
    .await
    .unwrap();
    (sb, SandboxCredentials::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_auth_errors_for_sources_and_for_brivo() {
    let (sb, wrong) = sandbox_with_other_secrets().await;
    let audit = Arc::new(MemoryAudit::new());
    let syncer = Syncer::builder(BrivoBackend::new(common::brivo_client_with(&sb, &wrong)))
        .source(EntrataSource::new(common::entrata_client_with(&sb, &wrong)))
        .source(OfficeRndSource::new(common::officernd_client_with(
            &sb, &wrong,
        )))
        .mappings(common::mappings())
        .audit_arc(audit.clone())
        .build();

    // Both sources fail as a whole, as auth failures.
    let (_, reports) = syncer.fetch(today()).await;
    for r in &reports {
        let e = r.error.as_ref().unwrap_or_else(|| panic!("{r:?}"));
        assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
        assert!(e.is_auth() && !e.is_retryable() && !e.is_throttle(), "{e}");
        assert_eq!(e.source_name(), r.name);
        assert!(!e.to_string().contains("sandbox-password"), "{e}");
    }
    let entrata = reports.iter().find(|r| r.name == "entrata").unwrap();
    assert!(matches!(
        entrata
            .error
            .as_ref()
            .unwrap()
            .downcast_ref::<entrata_client::Error>(),
        Some(entrata_client::Error::Authentication { .. })
    ));
    let officernd = reports.iter().find(|r| r.name == "officernd").unwrap();
    assert!(
        officernd
            .error
            .as_ref()
            .unwrap()
            .downcast_ref::<officernd_client::Error>()
            .is_some_and(officernd_client::Error::is_auth)
    );

    // Brivo refuses the password: no plan, an auth error, audited as such.
    let err = syncer.plan(today()).await.unwrap_err();
    assert!(matches!(err, SyncError::Observe(_)), "{err}");
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(err.is_auth() && !err.is_retryable());
    assert!(matches!(
        err.backend_error().and_then(BackendError::brivo),
        Some(brivo_client::Error::Auth { .. })
    ));
    assert!(!err.to_string().contains("sandbox-password"), "{err}");
    let failed = audit
        .records()
        .into_iter()
        .find(|r| r.kind == RunKind::Failed)
        .unwrap();
    assert_eq!(failed.error_kind, Some(ErrorKind::Auth));
    let line = serde_json::to_value(&failed).unwrap();
    assert_eq!(line["error_kind"], "auth");
    assert_eq!(line["sources"][0]["error_kind"], "auth", "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_property_and_a_failing_service_keep_their_kinds() {
    let sb = common::start().await;
    let syncer = common::syncer(&sb).build();

    // Entrata refuses one property (code 301): the fetch goes on, that
    // property's error is an auth error; OfficeRnD answers 503 to
    // everything: the source fails as a whole, transiently.
    sb.faults()
        .entrata(Fault::FailProperty {
            property_id: story::PROPERTY_NY.into(),
        })
        .officernd(Fault::ServerError {
            times: 1_000,
            status: 503,
        });
    let dry = syncer.plan(today()).await.unwrap();
    sb.faults().clear();

    let entrata = dry.sources.iter().find(|r| r.name == "entrata").unwrap();
    assert!(entrata.error.is_none(), "{entrata:?}");
    let part = &entrata.errors[0];
    assert_eq!(part.kind(), ErrorKind::Auth, "{part}");
    assert!(matches!(
        part.downcast_ref::<entrata_client::Error>(),
        Some(entrata_client::Error::PermissionDenied {
            code: Some(301),
            ..
        })
    ));
    assert!(
        dry.facts
            .completeness
            .contains(&access_engine::Scope::Property(story::PROPERTY_NY.into()))
    );

    let officernd = dry.sources.iter().find(|r| r.name == "officernd").unwrap();
    let e = officernd.error.as_ref().unwrap();
    assert_eq!(e.kind(), ErrorKind::Transient, "{e}");
    assert!(e.is_retryable() && !e.is_throttle() && !e.is_auth());

    // In the serialized report: text and kind, for the whole and the part.
    let json = serde_json::to_value(&dry.sources).unwrap();
    let by_name = |n: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("officernd")["error_kind"], "transient");
    assert_eq!(by_name("entrata")["errors"][0]["kind"], "auth");
    let back: Vec<access_sync::SourceReport> = serde_json::from_value(json).unwrap();
    assert_eq!(back, dry.sources, "text and kind survive a round trip");
}
