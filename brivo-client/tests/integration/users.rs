use std::time::Duration;

use brivo_client::{
    CustomFieldId, CustomFieldType, Email, Error, GroupId, NewUser, PhoneNumber, UserId, UserPatch,
    UserQuery, UserStatus,
};
use chrono::{TimeZone, Utc};
use httpmock::Method::{DELETE, GET, PATCH, POST, PUT};
use serde_json::json as j;

use crate::common::*;

#[tokio::test]
async fn get_user_reads_the_full_record() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/users/442211")
                .header("authorization", BEARER)
                .header("api-key", API_KEY);
            json(then, 200, fixture("user_full.json"));
        })
        .await;
    let user = client.get_user(UserId(442211)).await.unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(user.id, UserId(442211));
    assert_eq!(user.external_id.as_deref(), Some("Star Lord"));
    assert_eq!(user.display_name(), "Peter Quill");
    assert_eq!(user.middle_name.as_deref(), Some("Jason"));
    assert_eq!(user.pin.as_ref().map(|p| p.expose()), Some("5678"));
    assert!(!format!("{user:?}").contains("5678"), "the PIN is redacted");
    assert_eq!(
        user.effective_to,
        Some(Utc.with_ymd_and_hms(2020, 12, 31, 23, 59, 59).unwrap())
    );
    assert_eq!(user.suspended, Some(false));
    assert_eq!(user.custom_fields.len(), 2);
    assert_eq!(
        user.custom_fields[1].field_type,
        Some(CustomFieldType::Date)
    );
    assert_eq!(user.custom_fields[1].value.as_deref(), Some("02/04/1962"));
    assert_eq!(user.primary_email(), Some("peter.quill@brivo.com"));
    assert_eq!(user.phone_numbers[0].kind.as_deref(), Some("home"));
}

#[tokio::test]
async fn get_user_404_is_not_found() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/users/9");
            json(
                then,
                404,
                r#"{"message":"Requested user not found","code":404}"#,
            );
        })
        .await;
    let err = client.get_user(UserId(9)).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.brivo_message(), Some("Requested user not found"));
    assert_eq!(
        err.to_string(),
        "get_user: Brivo answered HTTP 404: Requested user not found"
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn get_user_by_external_id_percent_encodes_the_id() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/users/Star%20Lord%2F1%3F/external");
            json(then, 200, fixture("user_full.json"));
        })
        .await;
    let user = client
        .get_user_by_external_id("Star Lord/1?")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, UserId(442211));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn get_user_by_external_id_404_is_none() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/users/nobody/external");
            json(
                then,
                404,
                r#"{"message":"Requested user not found","code":404}"#,
            );
        })
        .await;
    assert_eq!(
        client.get_user_by_external_id("nobody").await.unwrap(),
        None
    );
    mock.assert_calls_async(1).await;
    let err = client.get_user_by_external_id(" ").await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn create_user_sends_the_documented_body_with_a_string_external_id() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1/api/users")
                .header("content-type", "application/json")
                .json_body(j!({
                    "firstName": "first",
                    "lastName": "last",
                    "externalId": "1",
                    "pin": "5678",
                    "effectiveFrom": "2026-03-08T15:00:00Z",
                    "emails": [{"address": "a@example.com", "type": "work"}],
                    "phoneNumbers": [{"number": "+1-541-754-3010", "type": "mobile"}]
                }));
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    let new = NewUser::new("first", "last")
        .external_id("1")
        .pin("5678")
        .pin_window(
            Some(Utc.with_ymd_and_hms(2026, 3, 8, 15, 0, 0).unwrap()),
            None,
        )
        .email(Email::new("a@example.com", "work"))
        .phone_number(PhoneNumber::new("+1-541-754-3010", "mobile"));
    let user = client.create_user(&new).await.unwrap();
    assert_eq!(user.id, UserId(15540780));
    assert_eq!(user.external_id.as_deref(), Some("1"));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn create_user_accepts_201() {
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/api/users");
            json(then, 201, fixture("user_created.json"));
        })
        .await;
    let user = client.create_user(&NewUser::new("a", "b")).await.unwrap();
    assert_eq!(user.id, UserId(15540780));
}

#[tokio::test]
async fn create_user_is_not_retried_after_a_5xx() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/api/users");
            json(then, 500, r#"{"code":500,"message":"Internal error"}"#);
        })
        .await;
    let err = client
        .create_user(&NewUser::new("a", "b"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn create_user_timeout_is_not_retried_and_says_it_may_have_happened() {
    let (server, _) = server().await;
    let client = builder(&server)
        .timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    client.authenticate().await.unwrap();
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/api/users");
            json(then, 200, fixture("user_created.json")).delay(Duration::from_millis(600));
        })
        .await;
    let err = client
        .create_user(&NewUser::new("a", "b"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                maybe_applied: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("may have reached Brivo"), "{err}");
    assert!(!err.is_retryable());
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn create_user_is_retried_when_throttled() {
    let (server, client) = server().await;
    let throttled = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/api/users");
            then.status(429).header("retry-after", "0").up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/api/users");
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    client.create_user(&NewUser::new("a", "b")).await.unwrap();
    throttled.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
}

#[tokio::test]
async fn create_user_needs_both_names() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/api/users");
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    let err = client
        .create_user(&NewUser::new("", "b"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }));
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn update_user_patches_only_the_given_fields() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PATCH).path("/v1/api/users/442211").json_body(
                j!({"firstName": "Pete", "emails": [{"address": "p@example.com", "type": "home"}]}),
            );
            json(then, 200, fixture("user_full.json"));
        })
        .await;
    let patch = UserPatch::default()
        .first_name("Pete")
        .emails(vec![Email::new("p@example.com", "home")]);
    client.update_user(UserId(442211), &patch).await.unwrap();
    mock.assert_calls_async(1).await;
    let err = client
        .update_user(UserId(442211), &UserPatch::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn update_user_is_retried_after_a_5xx() {
    let (server, client) = server().await;
    let failing = server
        .mock_async(|when, then| {
            when.method(PATCH).path("/v1/api/users/1");
            json(then, 502, "<h1>Bad Gateway</h1>").up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(PATCH).path("/v1/api/users/1");
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    client
        .update_user(UserId(1), &UserPatch::default().last_name("x"))
        .await
        .unwrap();
    failing.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
    assert_eq!(client.calls().retries, 1);
}

#[tokio::test]
async fn replace_user_uses_put() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/v1/api/users/15540780")
                .json_body(j!({"firstName": "first", "lastName": "last", "externalId": "1"}));
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    client
        .replace_user_erasing_omitted_fields(
            UserId(15540780),
            &NewUser::new("first", "last").external_id("1"),
        )
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn delete_user_is_true_then_false_when_gone() {
    let (server, client) = server().await;
    let gone = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/v1/api/users/7");
            then.status(204);
        })
        .await;
    let missing = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/v1/api/users/8");
            json(
                then,
                404,
                r#"{"message":"Requested user not found","code":404}"#,
            );
        })
        .await;
    assert!(client.delete_user(UserId(7)).await.unwrap());
    assert!(!client.delete_user(UserId(8)).await.unwrap());
    gone.assert_calls_async(1).await;
    missing.assert_calls_async(1).await;
}

#[tokio::test]
async fn suspend_and_unsuspend() {
    let (server, client) = server().await;
    let suspend = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/v1/api/users/442211/suspended")
                .json_body(j!({"suspended": true}));
            json(then, 200, r#"{"id": 442211, "suspended": true}"#);
        })
        .await;
    let unsuspend = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/v1/api/users/442211/suspended")
                .json_body(j!({"suspended": false}));
            then.status(204);
        })
        .await;
    let read = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/442211/suspended");
            json(then, 200, r#"{"id": 442211, "suspended": true}"#);
        })
        .await;
    assert!(client.suspend_user(UserId(442211)).await.unwrap());
    assert!(!client.unsuspend_user(UserId(442211)).await.unwrap());
    assert!(client.is_suspended(UserId(442211)).await.unwrap());
    suspend.assert_calls_async(1).await;
    unsuspend.assert_calls_async(1).await;
    read.assert_calls_async(1).await;
}

#[tokio::test]
async fn change_groups_adds_and_removes_in_one_call() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1/api/users/442211/groups")
                .json_body(j!({"addGroups": [16632, 76123], "removeGroups": [76336]}));
            json(then, 200, fixture("change_groups.json"));
        })
        .await;
    let groups = client
        .change_groups(
            UserId(442211),
            &[GroupId(76123), GroupId(16632)],
            &[GroupId(76336)],
        )
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
    let ids: Vec<_> = groups.items.iter().map(|g| g.id).collect();
    assert_eq!(ids, [GroupId(76123), GroupId(16632)]);
    assert_eq!(groups.items[0].name, "Managers");
    assert_eq!(groups.total, Some(2));
}

#[tokio::test]
async fn change_groups_over_16_is_a_typed_error() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/api/users/5/groups");
            json(
                then,
                400,
                r#"{"code":400,"message":"User's total number of groups would exceed 16"}"#,
            );
        })
        .await;
    let err = client
        .change_groups(UserId(5), &[GroupId(1)], &[])
        .await
        .unwrap_err();
    match &err {
        Error::GroupLimitExceeded { user, message, .. } => {
            assert_eq!(*user, UserId(5));
            assert!(message.as_deref().unwrap().contains("exceed 16"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    mock.assert_calls_async(1).await;
    // seventeen additions cannot fit: refused before sending
    let many: Vec<GroupId> = (1..=17).map(GroupId).collect();
    let err = client
        .change_groups(UserId(5), &many, &[])
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::GroupLimitExceeded { message: None, .. }
    ));
    let err = client
        .change_groups(UserId(5), &[GroupId(1)], &[GroupId(1)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn change_groups_404_names_the_method() {
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/api/users/5/groups");
            json(then, 404, r#"{"message":"Unknown Group","code":404}"#);
        })
        .await;
    let err = client
        .change_groups(UserId(5), &[GroupId(1)], &[])
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "change_groups: Brivo answered HTTP 404: Unknown Group"
    );
}

#[tokio::test]
async fn user_groups_reads_the_sub_resource_envelope() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/15540763/groups");
            json(then, 200, fixture("user_groups.json"));
        })
        .await;
    let groups = client.user_groups(UserId(15540763)).await.unwrap();
    assert_eq!(groups.items.len(), 1);
    assert_eq!(groups.items[0].id, GroupId(15540762));
    assert!(groups.is_complete());
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn custom_fields_are_read_set_and_cleared() {
    let (server, client) = server().await;
    let defs = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/custom-fields")
                .query_param("offset", "0")
                .query_param("pageSize", "100");
            json(then, 200, fixture("custom_fields.json"));
        })
        .await;
    let values = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/1/custom-fields");
            json(then, 200, fixture("user_custom_fields.json"));
        })
        .await;
    let set = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/v1/api/users/1/custom-fields/2762")
                .json_body(j!({"value": "Engineering"}));
            json(
                then,
                200,
                r#"{"id":2762,"fieldType":"TEXT","fieldName":"Department","value":"Engineering"}"#,
            );
        })
        .await;
    let clear = server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path("/v1/api/users/1/custom-fields/2762");
            then.status(204);
        })
        .await;
    let fields = client.list_custom_fields().collect_all().await.unwrap();
    assert_eq!(fields.items[1].pattern.as_deref(), Some("MM/dd/yyyy"));
    assert_eq!(fields.items[0].display_order.as_deref(), Some("1"));
    let user_values = client.user_custom_fields(UserId(1)).await.unwrap();
    assert_eq!(user_values.items[1].value.as_deref(), Some("8675309"));
    let value = client
        .set_custom_field(UserId(1), CustomFieldId(2762), "Engineering")
        .await
        .unwrap();
    assert_eq!(value.value.as_deref(), Some("Engineering"));
    client
        .clear_custom_field(UserId(1), CustomFieldId(2762))
        .await
        .unwrap();
    for m in [&defs, &values, &set, &clear] {
        m.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn list_users_sends_the_filter() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/users")
                .query_param("filter", "user_status__eq:suspended;lastname__eq:Quill")
                .query_param("offset", "0")
                .query_param("pageSize", "100");
            json(
                then,
                200,
                r#"{"data":[{"id":1,"firstName":"Peter","lastName":"Quill","suspended":true}],"offset":0,"pageSize":100,"count":1}"#,
            );
        })
        .await;
    let users = client
        .list_users(
            UserQuery::default()
                .status(UserStatus::Suspended)
                .last_name_contains("Quill"),
        )
        .collect_all()
        .await
        .unwrap();
    assert_eq!(users.items.len(), 1);
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn whoami_checks_the_whole_chain() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/administrators/whoami")
                .header("authorization", BEARER)
                .header("api-key", API_KEY);
            json(
                then,
                200,
                r#"{"id": 10457058, "firstName": "qa", "lastName": "admin", "adminId": "qa-admin"}"#,
            );
        })
        .await;
    let admin = client.whoami().await.unwrap();
    assert_eq!(admin.id, Some(10457058));
    assert_eq!(admin.first_name.as_deref(), Some("qa"));
    assert_eq!(admin.extra["adminId"], "qa-admin");
    mock.assert_calls_async(1).await;
}
