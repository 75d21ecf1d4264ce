use brivo_client::{AccessPointId, SiteId};
use httpmock::Method::GET;

use crate::common::*;

#[tokio::test]
async fn sites_are_listed_and_read_with_their_zone() {
    let (server, client) = server().await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/sites");
            json(then, 200, fixture("sites.json"));
        })
        .await;
    let one = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/sites/111");
            json(then, 200, fixture("site.json"));
        })
        .await;
    let sites = client.list_sites().collect_all().await.unwrap();
    assert_eq!(sites.items.len(), 2);
    assert_eq!(sites.items[1].site_name, "Site 2");
    let site = client.get_site(SiteId(111)).await.unwrap();
    assert_eq!(site.tz(), Some(chrono_tz::US::Eastern));
    assert_eq!(site.address.unwrap().city.as_deref(), Some("Bethesda"));
    list.assert_calls_async(1).await;
    one.assert_calls_async(1).await;
}

#[tokio::test]
async fn access_points_are_listed_read_and_listed_per_site() {
    let (server, client) = server().await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/access-points");
            json(then, 200, fixture("access_points.json"));
        })
        .await;
    let one = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/access-points/111111");
            json(
                then,
                200,
                r#"{"id":111111,"name":"Front door","controlPanelId":1111,"siteId":11111,"siteName":"Site 1","activationEnabled":true,"twoFactorEnabled":true,"unlockScheduleId":5}"#,
            );
        })
        .await;
    let per_site = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/sites/111/access-points");
            json(then, 200, fixture("site_access_points.json"));
        })
        .await;
    let all = client.list_access_points().collect_all().await.unwrap();
    assert_eq!(all.items.len(), 2);
    assert_eq!(all.items[0].site_id, Some(SiteId(11111)));
    let door = client
        .get_access_point(AccessPointId(111111))
        .await
        .unwrap();
    assert_eq!(door.activation_enabled, Some(true));
    let site_doors = client
        .site_access_points(SiteId(111))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(site_doors.items[0].kind.as_deref(), Some("Door"));
    list.assert_calls_async(1).await;
    one.assert_calls_async(1).await;
    per_site.assert_calls_async(1).await;
}
