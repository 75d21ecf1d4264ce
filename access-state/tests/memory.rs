//! The conformance suite on `MemoryState`: clones share one state, so a
//! clone plays a second (or restarted) runner.
#![allow(clippy::unwrap_used)] // helpers of tests

#[macro_use]
mod common;

use access_state::{MemoryState, RunState};
use common::Harness;

async fn setup(test: &str) -> Option<Harness> {
    let shared = MemoryState::new();
    Some(Harness::new(
        test,
        move || {
            let s = shared.clone();
            Box::pin(async move { Box::new(s) as Box<dyn RunState> })
        },
        None,
    ))
}

conformance_tests!(setup);

#[test]
fn kind_is_memory() {
    assert_eq!(MemoryState::new().kind(), access_state::StoreKind::Memory);
}
