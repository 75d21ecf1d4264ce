//! stub
use crate::SandboxCredentials;
use crate::common::{Common, Style};
use crate::seed::OfficeRndSeed;
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
pub(crate) const READ_SCOPES: &[&str] = &[];
#[derive(Debug)]
pub(crate) struct OfficeRnd {
    pub(crate) common: Arc<Common>,
}
impl OfficeRnd {
    pub(crate) fn new(
        _s: &OfficeRndSeed,
        _c: SandboxCredentials,
        _t: Duration,
        _g: Vec<String>,
    ) -> Result<Arc<Self>, crate::Error> {
        let _ = (
            &_s.collections,
            crate::common::b64(""),
            crate::common::unb64(""),
        );
        Ok(Arc::new(Self {
            common: Common::new(Style::OfficeRnd, None),
        }))
    }
    pub(crate) fn router(self: &Arc<Self>) -> Router {
        Router::new()
    }
    pub(crate) fn expire_tokens(&self) {}
}
