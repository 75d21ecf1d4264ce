//! End-to-end: the Syncer against the sandbox's real HTTP services.

mod common;

use sandbox::story;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coworking_converges_in_one_apply_and_a_second_run_writes_nothing() {
    let sb = common::start().await;
    let syncer = common::syncer(&sb).build();
    let now = story::instants()[0].1;

    let report = syncer.sync_once(now).await.unwrap();
    assert!(report.is_success(), "{:#?}", report.results);
    let brivo = sb.brivo().snapshot();
    let olivia = brivo
        .user_by_external_id(&format!("sync:officernd:{}", story::MEMBER_OLIVIA))
        .expect("Olivia created");
    assert_eq!(
        olivia.groups.iter().copied().collect::<Vec<_>>(),
        vec![7401, 7402, 7404, 7407],
        "{}",
        report.plan
    );

    sb.reset_brivo_counters();
    let again = syncer.sync_once(now).await.unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);
    assert_eq!(sb.brivo_writes(), 0);
}
