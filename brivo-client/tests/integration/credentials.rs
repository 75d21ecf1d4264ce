use brivo_client::{
    CredentialId, CredentialQuery, CredentialStatus, CredentialWindow, Error, InvitationStatus,
    MobilePassInvitation, UserId,
};
use chrono::{TimeZone, Utc};
use httpmock::Method::{DELETE, GET, POST, PUT};
use serde_json::json as j;

use crate::common::*;

#[tokio::test]
async fn user_credentials_carry_their_window() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/15540781/credentials");
            json(then, 200, fixture("user_credentials.json"));
        })
        .await;
    let creds = client
        .user_credentials(UserId(15540781))
        .collect_all()
        .await
        .unwrap();
    let card = &creds.items[0];
    assert_eq!(card.id, CredentialId(22197840));
    assert_eq!(card.reference_id.as_deref(), Some("200"));
    assert_eq!(
        card.credential_format.as_ref().unwrap().name.as_deref(),
        Some("Standard 26 Bit")
    );
    assert_eq!(
        card.effective_from,
        Some(Utc.with_ymd_and_hms(2017, 9, 13, 0, 0, 0).unwrap())
    );
    assert_eq!(
        card.encoded_credential.as_ref().unwrap().expose(),
        "2020190"
    );
    assert!(!format!("{card:?}").contains("2020190"));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn assign_credential_sends_full_utc_datetimes() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/v1/api/users/15540781/credentials/22197840")
                .json_body(j!({
                    "effectiveFrom": "2026-03-08T15:00:00Z",
                    "effectiveTo": "2026-09-30T20:00:00Z"
                }));
            then.status(204);
        })
        .await;
    let window = CredentialWindow::new(
        Some(Utc.with_ymd_and_hms(2026, 3, 8, 15, 0, 0).unwrap()),
        Some(Utc.with_ymd_and_hms(2026, 9, 30, 20, 0, 0).unwrap()),
    );
    client
        .assign_credential(UserId(15540781), CredentialId(22197840), window)
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn assign_credential_with_no_window_sends_an_empty_object() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/v1/api/users/1/credentials/2")
                .json_body(j!({}));
            then.status(204);
        })
        .await;
    client
        .assign_credential(UserId(1), CredentialId(2), CredentialWindow::default())
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn unassign_credential() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/v1/api/users/1/credentials/2");
            then.status(204);
        })
        .await;
    client
        .unassign_credential(UserId(1), CredentialId(2))
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn list_and_get_credentials() {
    let (server, client) = server().await;
    let list = server
        .mock_async(|when, then| {
            when.path("/v1/api/credentials")
                .query_param("filter", "status__eq:unassigned;reference_id__eq:200");
            json(
                then,
                200,
                r#"{"data":[{"id":22197840,"referenceId":"200"},{"id":22197841,"referenceId":"2001"}],"offset":0,"pageSize":100,"count":2}"#,
            );
        })
        .await;
    let one = server
        .mock_async(|when, then| {
            when.path("/v1/api/credentials/22197840");
            json(then, 200, fixture("credential.json"));
        })
        .await;
    let missing = server
        .mock_async(|when, then| {
            when.path("/v1/api/credentials/1");
            json(
                then,
                404,
                r#"{"message":"No credential could be retrieved for credential id: 1","code":404}"#,
            );
        })
        .await;
    let creds = client
        .list_credentials(
            CredentialQuery::default()
                .status(CredentialStatus::Unassigned)
                .reference_id_contains("200"),
        )
        .collect_all()
        .await
        .unwrap();
    assert_eq!(creds.items.len(), 2);
    let card = client.get_credential(CredentialId(22197840)).await.unwrap();
    assert_eq!(card.size, Some(26));
    let err = client.get_credential(CredentialId(1)).await.unwrap_err();
    assert!(err.is_not_found());
    list.assert_calls_async(1).await;
    one.assert_calls_async(1).await;
    missing.assert_calls_async(1).await;
}

#[tokio::test]
async fn mobile_pass_invitation_is_created_with_its_options() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1/api/users/5/credentials/digital-invitations")
                .query_param("sendInvitationEmail", "true")
                .query_param("nfcEnabled", "false")
                .query_param("language", "fr")
                .json_body(j!({"referenceId": "john.doe@brivo.com"}));
            json(then, 200, fixture("digital_invitation.json"));
        })
        .await;
    let invitation = client
        .create_mobile_pass_invitation(
            UserId(5),
            &MobilePassInvitation::new("john.doe@brivo.com").language("fr"),
        )
        .await
        .unwrap();
    assert_eq!(invitation.status, Some(InvitationStatus::Pending));
    assert_eq!(invitation.credential_id, Some(CredentialId(967377)));
    assert!(
        !format!("{invitation:?}").contains("i9o7aR37"),
        "access code redacted"
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_pending_invitation_conflict_is_not_retried() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1/api/users/5/credentials/digital-invitations");
            json(
                then,
                409,
                r#"{"code":409,"message":"There is already a pending invitation for the cardHolder. No new invitation will be generated"}"#,
            );
        })
        .await;
    let err = client
        .create_mobile_pass_invitation(UserId(5), &MobilePassInvitation::new("x@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 409, .. }));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn invitations_are_listed_and_cancelled() {
    let (server, client) = server().await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/users/5/credentials/digital-invitations")
                .query_param("filter", "status__eq:all");
            json(then, 200, fixture("digital_invitations.json"));
        })
        .await;
    let pending = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/users/5/credentials/digital-invitations")
                .query_param("filter", "status__eq:pending");
            json(then, 200, r#"{"data":[],"count":0}"#);
        })
        .await;
    let cancel = server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path("/v1/api/users/5/credentials/digital-invitations");
            json(
                then,
                200,
                r#"{"id":740,"referenceId":"john.doe@brivo.com","status":"CANCELLED","cancelDate":"2016-01-21T10:00:00Z"}"#,
            );
        })
        .await;
    let all = client
        .digital_invitations(UserId(5), None)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(all.items.len(), 2);
    assert_eq!(
        all.items[1].status,
        Some(InvitationStatus::Other("REVOKED_BY_ROBOTS".into())),
        "unknown states are kept"
    );
    let none = client
        .digital_invitations(UserId(5), Some(InvitationStatus::Pending))
        .collect_all()
        .await
        .unwrap();
    assert!(none.items.is_empty());
    let cancelled = client.cancel_digital_invitation(UserId(5)).await.unwrap();
    assert_eq!(cancelled.unwrap().status, Some(InvitationStatus::Cancelled));
    list.assert_calls_async(1).await;
    pending.assert_calls_async(1).await;
    cancel.assert_calls_async(1).await;
}
