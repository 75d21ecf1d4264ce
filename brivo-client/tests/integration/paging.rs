use brivo_client::{Error, UserId, UserQuery};
use futures::TryStreamExt;
use httpmock::Method::GET;

use crate::common::*;

#[tokio::test]
async fn many_pages_are_followed_until_count() {
    let (server, client) = server().await;
    let first = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/users")
                .query_param("offset", "0")
                .query_param("pageSize", "2");
            json(then, 200, fixture("users_page_1.json"));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/users")
                .query_param("offset", "2")
                .query_param("pageSize", "2");
            json(then, 200, fixture("users_page_2.json"));
        })
        .await;
    let users = client
        .list_users(UserQuery::default())
        .page_size(2)
        .collect_all()
        .await
        .unwrap();
    let ids: Vec<_> = users.items.iter().map(|u| u.id).collect();
    assert_eq!(ids, [UserId(8784984), UserId(15540776), UserId(15540780)]);
    assert_eq!(users.total, Some(3));
    assert!(users.is_complete());
    // a number sent as externalId is read as text
    assert_eq!(users.items[1].external_id.as_deref(), Some("1"));
    assert!(users.items[1].is_suspended());
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
}

#[tokio::test]
async fn the_stream_is_lazy() {
    let (server, client) = server().await;
    let first = server
        .mock_async(|when, then| {
            when.path("/v1/api/users").query_param("offset", "0");
            json(then, 200, fixture("users_page_1.json"));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.path("/v1/api/users").query_param("offset", "2");
            json(then, 200, fixture("users_page_2.json"));
        })
        .await;
    let mut items = client.list_users(UserQuery::default()).page_size(2).items();
    let one = items.try_next().await.unwrap().unwrap();
    assert_eq!(one.id, UserId(8784984));
    first.assert_calls_async(1).await;
    second.assert_calls_async(0).await;
    let rest: Vec<_> = items.try_collect().await.unwrap();
    assert_eq!(rest.len(), 2);
    second.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_empty_listing_is_one_call() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/users");
            json(
                then,
                200,
                r#"{"data":[],"offset":0,"pageSize":100,"count":0}"#,
            );
        })
        .await;
    let users = client
        .list_users(UserQuery::default())
        .collect_all()
        .await
        .unwrap();
    assert!(users.items.is_empty());
    assert_eq!(users.total, Some(0));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn one_full_page_without_count_asks_once_more() {
    let (server, client) = server().await;
    let first = server
        .mock_async(|when, then| {
            when.path("/v1/api/users").query_param("offset", "0");
            json(
                then,
                200,
                r#"{"data":[{"id":1,"firstName":"a","lastName":"b"},{"id":2,"firstName":"c","lastName":"d"}]}"#,
            );
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.path("/v1/api/users").query_param("offset", "2");
            json(then, 200, r#"{"data":[]}"#);
        })
        .await;
    let users = client
        .list_users(UserQuery::default())
        .page_size(2)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(users.items.len(), 2);
    assert_eq!(users.total, None);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_short_page_without_count_is_the_last() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/users");
            json(
                then,
                200,
                r#"{"data":[{"id":1,"firstName":"a","lastName":"b"}]}"#,
            );
        })
        .await;
    let users = client
        .list_users(UserQuery::default())
        .collect_all()
        .await
        .unwrap();
    assert_eq!(users.items.len(), 1);
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_server_repeating_a_page_is_stopped() {
    let (server, client) = server().await;
    // ignores offset: always the same two users, and claims ten in all
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/users");
            json(
                then,
                200,
                r#"{"data":[{"id":1,"firstName":"a","lastName":"b"},{"id":2,"firstName":"c","lastName":"d"}],"offset":0,"pageSize":2,"count":10}"#,
            );
        })
        .await;
    let mut pages = client.list_users(UserQuery::default()).page_size(2).pages();
    assert_eq!(pages.try_next().await.unwrap().unwrap().items.len(), 2);
    let err = pages.try_next().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Pagination {
                method: "list_users",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("same page"), "{err}");
    // the stream ends at the first error
    assert!(pages.try_next().await.unwrap().is_none());
    mock.assert_calls_async(2).await;
}

#[tokio::test]
async fn max_pages_bounds_a_server_that_never_ends() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/users");
            then.respond_with(|req: &httpmock::HttpMockRequest| {
                // a fresh record on every page, and no count
                let offset = req
                    .query_params()
                    .into_iter()
                    .find(|(k, _)| k == "offset")
                    .map(|(_, v)| v)
                    .unwrap_or_default();
                httpmock::HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(format!(
                        r#"{{"data":[{{"id":{},"firstName":"a","lastName":"b"}}]}}"#,
                        offset.parse::<i64>().unwrap() + 1
                    ))
                    .build()
            });
        })
        .await;
    let err = client
        .list_users(UserQuery::default())
        .page_size(1)
        .max_pages(5)
        .collect_all()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Pagination { .. }), "{err:?}");
    mock.assert_calls_async(5).await;
}

#[tokio::test]
async fn a_bad_record_is_skipped_and_reported_not_fatal() {
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.path("/v1/api/users");
            json(then, 200, fixture("users_with_bad_record.json"));
        })
        .await;
    let users = client
        .list_users(UserQuery::default())
        .collect_all()
        .await
        .unwrap();
    let ids: Vec<_> = users.items.iter().map(|u| u.id).collect();
    assert_eq!(ids, [UserId(1), UserId(4)]);
    assert_eq!(users.skipped.len(), 2);
    assert_eq!(users.skipped[0].id, Some(2));
    assert_eq!(users.skipped[0].index, 1);
    assert!(
        users.skipped[0].reason.contains("created"),
        "{:?}",
        users.skipped[0]
    );
    assert_eq!(users.skipped[1].id, None);
    assert!(!users.is_complete());
}

#[tokio::test]
async fn a_broken_envelope_is_a_decode_error_with_its_path() {
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.path("/v1/api/users");
            json(then, 200, r#"{"data":[],"count":"many"}"#);
        })
        .await;
    let err = client
        .list_users(UserQuery::default())
        .collect_all()
        .await
        .unwrap_err();
    match &err {
        Error::Decode { method, path, .. } => {
            assert_eq!(*method, "list_users");
            assert_eq!(path, "count");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unsendable_filter_fails_without_a_call() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/users");
            json(then, 200, r#"{"data":[],"count":0}"#);
        })
        .await;
    let err = client
        .list_users(UserQuery::default().last_name_contains("a,b"))
        .collect_all()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn total_costs_one_small_call() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/groups/7/users")
                .query_param("pageSize", "1");
            json(
                then,
                200,
                r#"{"data":[{"id":1}],"offset":0,"pageSize":1,"count":42}"#,
            );
        })
        .await;
    assert_eq!(
        client
            .group_members(brivo_client::GroupId(7))
            .total()
            .await
            .unwrap(),
        Some(42)
    );
    mock.assert_calls_async(1).await;
}

/// Every listing stream is the same kind in the three clients: boxed, so
/// `Unpin` (no `pin!` needed), `Send` and `'static`.
#[test]
fn listing_streams_are_boxed_unpin_send_and_static() {
    fn boxed<T>(_: &futures::stream::BoxStream<'static, Result<T, brivo_client::Error>>) {}
    let client = brivo_client::Client::builder(credentials())
        .build()
        .unwrap();
    boxed(&client.list_users(UserQuery::default()).items());
    boxed(&client.list_users(UserQuery::default()).pages());
}
