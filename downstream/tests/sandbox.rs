//! The downstream crate against the embedded sandbox's Brivo, as its own
//! CI would run it.

use access_sync::{BrivoBackend, Syncer};
use chrono::Utc;
use downstream::{BrivoSettings, Next, RentRoll, brivo_client, triage};
use sandbox::{Fault, Sandbox, SandboxConfig, Seed};

const ROLL: &str = r#"{
  "property": {"id": "elm-st", "zone": "America/Chicago"},
  "rows": [
    {"lease": "L1", "status": "current", "resident": "R1",
     "first_name": "Ada", "last_name": "Byron", "email": "ada@example.com",
     "move_in": "2026-01-15"},
    {"lease": "L2", "status": "cancelled", "resident": "R2",
     "first_name": "Cal", "last_name": "Dunn", "move_in": "2026-02-01"}
  ]
}"#;

async fn sandbox() -> (Sandbox, i64) {
    let sb = Sandbox::start_with(
        Seed::empty(),
        SandboxConfig::default().with_brivo_rate_limit(None),
    )
    .await
    .expect("sandbox starts");
    let lobby = sb.brivo().add_group("Elm St lobby");
    (sb, lobby)
}

fn settings(sb: &Sandbox, password: &str) -> BrivoSettings {
    let c = sb.credentials();
    BrivoSettings {
        api_url: sb.brivo_api_url(),
        auth_url: sb.brivo_auth_url(),
        credentials: brivo_client::Credentials::password(
            c.brivo_api_key.clone(),
            c.brivo_client_id.clone(),
            c.brivo_client_secret.clone(),
            c.brivo_username.clone(),
            password.to_owned(),
        ),
    }
}

fn syncer(sb: &Sandbox, password: &str, lobby: i64) -> Syncer {
    let roll = RentRoll::from_json(ROLL).expect("the export reads");
    let brivo = brivo_client(settings(sb, password)).expect("client builds");
    Syncer::builder(BrivoBackend::new(brivo))
        .mappings(roll.mappings(&[lobby]))
        .source(roll)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_current_resident_gets_the_lobby_and_the_cancelled_one_does_not() {
    let (sb, lobby) = sandbox().await;
    let password = sb.credentials().brivo_password.clone();
    let result = syncer(&sb, &password, lobby).sync_once(Utc::now()).await;
    assert_eq!(triage(&result), Next::Nothing, "{result:?}");

    let brivo = sb.brivo().snapshot();
    let names: Vec<_> = brivo
        .users
        .iter()
        .filter(|u| u.groups.contains(&lobby))
        .map(|u| u.first_name.as_str())
        .collect();
    assert_eq!(names, ["Ada"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_password_pages_the_operator_and_writes_nothing() {
    let (sb, lobby) = sandbox().await;
    let result = syncer(&sb, "not-the-password", lobby)
        .sync_once(Utc::now())
        .await;
    let Err(e) = &result else {
        panic!("a run with a bad password succeeded: {result:?}")
    };
    assert!(e.is_auth(), "{e}");
    assert!(matches!(triage(&result), Next::PageOperator(_)));
    assert_eq!(sb.brivo().writes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brivo_outage_is_retried_later() {
    let (sb, lobby) = sandbox().await;
    sb.faults().brivo(Fault::ServerError {
        times: 1000,
        status: 503,
    });
    let password = sb.credentials().brivo_password.clone();
    let result = syncer(&sb, &password, lobby).sync_once(Utc::now()).await;
    assert!(matches!(triage(&result), Next::RetryLater(_)), "{result:?}");
}
