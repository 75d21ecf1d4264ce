//! stub
use crate::SandboxCredentials;
use crate::common::{Common, Style};
use crate::seed::EntrataSeed;
use axum::Router;
use std::sync::Arc;
#[derive(Debug)]
pub(crate) struct Entrata {
    pub(crate) common: Arc<Common>,
}
impl Entrata {
    pub(crate) fn new(_s: &EntrataSeed, _c: SandboxCredentials) -> Result<Arc<Self>, crate::Error> {
        let _ = (
            &_s.properties,
            &_s.property_units,
            &_s.mits_properties,
            &_s.leases,
        );
        Ok(Arc::new(Self {
            common: Common::new(Style::Entrata, None),
        }))
    }
    pub(crate) fn router(self: &Arc<Self>) -> Router {
        Router::new()
    }
    pub(crate) fn fail_property(&self, _p: String) {}
    pub(crate) fn clear_failures(&self) {}
}
