//! The demo: a full sync against the embedded sandbox, no accounts needed.
//!
//! Being built (issue 6). For now it only confirms the workspace builds.
fn main() {
    println!("access-sync demo: the engine, clients and sandbox are being built; see README.md.");
}
