//! Sites and access points (read only).

use reqwest::Method;

use crate::client::Client;
use crate::error::Error;
use crate::models::common::{AccessPointId, SiteId};
use crate::models::site::{AccessPoint, Site};
use crate::pagination::Paginator;

impl Client {
    /// Lists sites (`GET /sites`). List items carry id and name only.
    pub fn list_sites(&self) -> Paginator<Site> {
        Paginator::new(self, "list_sites", self.url(["sites"]))
    }

    /// One site with its time zone and address (`GET /sites/{id}`).
    ///
    /// # Errors
    /// 404 if there is none; any failure.
    pub async fn get_site(&self, id: SiteId) -> Result<Site, Error> {
        let req = self.req("get_site", Method::GET, ["sites", &id.to_string()]);
        self.execute_json(&req).await
    }

    /// Lists every access point (`GET /access-points`).
    pub fn list_access_points(&self) -> Paginator<AccessPoint> {
        Paginator::new(self, "list_access_points", self.url(["access-points"]))
    }

    /// One access point (`GET /access-points/{id}`).
    ///
    /// # Errors
    /// 404 if there is none; any failure.
    pub async fn get_access_point(&self, id: AccessPointId) -> Result<AccessPoint, Error> {
        let req = self.req(
            "get_access_point",
            Method::GET,
            ["access-points", &id.to_string()],
        );
        self.execute_json(&req).await
    }

    /// The access points of a site (`GET /sites/{id}/access-points`).
    pub fn site_access_points(&self, site: SiteId) -> Paginator<AccessPoint> {
        Paginator::new(
            self,
            "site_access_points",
            self.url(["sites", &site.to_string(), "access-points"]),
        )
    }
}
