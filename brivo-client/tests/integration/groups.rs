use brivo_client::{Error, GroupId, GroupQuery, MembershipChange, UserId};
use httpmock::Method::{DELETE, GET, PUT};

use crate::common::*;

#[tokio::test]
async fn find_groups_by_name_rechecks_the_substring_filter_and_reports_duplicates() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/groups")
                .query_param("filter", "name__eq:Staff");
            json(then, 200, fixture("groups_named_staff.json"));
        })
        .await;
    let matches = client.find_groups_by_name("Staff").await.unwrap();
    let ids: Vec<_> = matches.groups.iter().map(|g| g.id).collect();
    assert_eq!(
        ids,
        [GroupId(76336), GroupId(76339)],
        "exact, case-sensitive"
    );
    assert!(matches.is_ambiguous());
    let err = matches.unique().unwrap_err();
    match &err {
        Error::DuplicateGroupName { name, ids } => {
            assert_eq!(name, "Staff");
            assert_eq!(ids, &[GroupId(76336), GroupId(76339)]);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("76336, 76339"), "{err}");
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn find_groups_by_name_unique_and_missing() {
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.path("/v1/api/groups")
                .query_param("filter", "name__eq:Staff Annex");
            json(then, 200, fixture("groups_named_staff.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.path("/v1/api/groups")
                .query_param("filter", "name__eq:Nope");
            json(
                then,
                200,
                r#"{"data":[],"offset":0,"pageSize":100,"count":0}"#,
            );
        })
        .await;
    let annex = client
        .find_groups_by_name("Staff Annex")
        .await
        .unwrap()
        .unique()
        .unwrap()
        .unwrap();
    assert_eq!(annex.id, GroupId(76337));
    assert_eq!(
        client
            .find_groups_by_name("Nope")
            .await
            .unwrap()
            .unique()
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_name_that_cannot_be_filtered_lists_every_group() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/groups").query_param_missing("filter");
            json(
                then,
                200,
                r#"{"data":[{"id":1,"name":"A;B"},{"id":2,"name":"A"}],"offset":0,"pageSize":100,"count":2}"#,
            );
        })
        .await;
    let found = client.find_groups_by_name("A;B").await.unwrap();
    assert_eq!(found.groups.len(), 1);
    assert_eq!(found.groups[0].id, GroupId(1));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn list_and_get_groups() {
    let (server, client) = server().await;
    let list = server
        .mock_async(|when, then| {
            when.path("/v1/api/groups")
                .query_param("filter", "name__eq:Staff")
                .query_param("pageSize", "100");
            json(then, 200, fixture("groups_named_staff.json"));
        })
        .await;
    let one = server
        .mock_async(|when, then| {
            when.path("/v1/api/groups/76336");
            json(then, 200, fixture("group.json"));
        })
        .await;
    let groups = client
        .list_groups(GroupQuery::default().name_contains("Staff"))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(groups.items.len(), 4);
    let group = client.get_group(GroupId(76336)).await.unwrap();
    assert_eq!(group.antipassback_reset_time.as_deref(), Some("23:59"));
    assert_eq!(group.keypad_unlock, Some(false));
    list.assert_calls_async(1).await;
    one.assert_calls_async(1).await;
}

#[tokio::test]
async fn group_members_are_paged() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/groups/15540762/users")
                .query_param("offset", "0")
                .query_param("pageSize", "100");
            json(then, 200, fixture("group_members.json"));
        })
        .await;
    let members = client
        .group_members(GroupId(15540762))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(members.items.len(), 1);
    assert_eq!(members.items[0].id, UserId(15540763));
    assert_eq!(members.items[0].suspended, Some(false));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn add_group_member_204_is_added() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PUT).path("/v1/api/groups/10/users/20");
            then.status(204);
        })
        .await;
    assert_eq!(
        client
            .add_group_member(GroupId(10), UserId(20))
            .await
            .unwrap(),
        MembershipChange::Added
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn adding_an_existing_member_is_a_success() {
    let (server, client) = server().await;
    let put = server
        .mock_async(|when, then| {
            when.method(PUT).path("/v1/api/groups/15540762/users/20");
            json(
                then,
                400,
                r#"{"code":400,"message":"User is already a member of the group"}"#,
            );
        })
        .await;
    let check = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/20/groups");
            json(then, 200, fixture("user_groups.json"));
        })
        .await;
    assert_eq!(
        client
            .add_group_member(GroupId(15540762), UserId(20))
            .await
            .unwrap(),
        MembershipChange::AlreadyMember
    );
    put.assert_calls_async(1).await;
    check.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_real_400_on_add_stays_an_error() {
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.method(PUT).path("/v1/api/groups/99/users/20");
            json(
                then,
                400,
                r#"{"code":400,"message":"User cannot be assigned to the group as its credentials already exist in a linked group"}"#,
            );
        })
        .await;
    let check = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/20/groups");
            json(then, 200, fixture("user_groups.json"));
        })
        .await;
    let err = client
        .add_group_member(GroupId(99), UserId(20))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err.brivo_message().unwrap().contains("linked group"));
    check.assert_calls_async(1).await;
}

#[tokio::test]
async fn add_group_member_at_the_limit_is_a_typed_error() {
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.method(PUT).path("/v1/api/groups/99/users/20");
            json(
                then,
                400,
                r#"{"code":400,"message":"A user cannot belong to more than 16 groups"}"#,
            );
        })
        .await;
    let err = client
        .add_group_member(GroupId(99), UserId(20))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::GroupLimitExceeded {
                user: UserId(20),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn remove_group_member_204_is_removed() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/v1/api/groups/10/users/20");
            then.status(204);
        })
        .await;
    assert_eq!(
        client
            .remove_group_member(GroupId(10), UserId(20))
            .await
            .unwrap(),
        MembershipChange::Removed
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn removing_a_missing_member_is_a_success() {
    let (server, client) = server().await;
    let delete = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/v1/api/groups/10/users/20");
            json(
                then,
                404,
                r#"{"code":404,"message":"User is not a member of the group"}"#,
            );
        })
        .await;
    let check = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/20/groups");
            json(then, 200, fixture("user_groups.json"));
        })
        .await;
    assert_eq!(
        client
            .remove_group_member(GroupId(10), UserId(20))
            .await
            .unwrap(),
        MembershipChange::NotMember
    );
    delete.assert_calls_async(1).await;
    check.assert_calls_async(1).await;
}

#[tokio::test]
async fn removing_from_an_unknown_group_is_an_error() {
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.method(DELETE).path("/v1/api/groups/10/users/20");
            json(then, 404, r#"{"message":"Unknown Group","code":404}"#);
        })
        .await;
    let check = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/20/groups");
            json(then, 200, fixture("user_groups.json"));
        })
        .await;
    let err = client
        .remove_group_member(GroupId(10), UserId(20))
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    check.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_failed_removal_of_a_member_stays_an_error() {
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.method(DELETE).path("/v1/api/groups/15540762/users/20");
            json(
                then,
                400,
                r#"{"code":400,"message":"Invalid criteria provided"}"#,
            );
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/20/groups");
            json(then, 200, fixture("user_groups.json"));
        })
        .await;
    let err = client
        .remove_group_member(GroupId(15540762), UserId(20))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
}
