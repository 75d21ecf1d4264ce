//! The README's first command: the demo runs to the end, every expectation of
//! its storyline holds (it exits 1 naming any that does not), and it shows
//! what it promises: grants and revocations at the storyline's instants, a
//! booking granted through OfficeRnD's webhook within seconds, and a SCIM
//! user created, suspended and decommissioned in Brivo.
#![allow(clippy::unwrap_used)]

use std::process::Command;

/// The number before " ms" in the line that starts with `prefix`.
fn millis_after(out: &str, prefix: &str, before: &str) -> u64 {
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}:\n{out}"));
    let rest = line
        .split(before)
        .nth(1)
        .unwrap_or_else(|| panic!("{before:?} not in {line:?}"));
    rest.trim_start()
        .split(" ms")
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no milliseconds in {line:?}"))
}

#[test]
fn the_demo_runs_to_the_end_and_every_expectation_holds() {
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the demo failed:\n{stderr}\n--- stdout ---\n{stdout}"
    );
    assert!(!stdout.contains("UNEXPECTED"), "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");

    // the storyline: ten instants, grants and revocations applied
    assert!(stdout.contains("── 10/10 "), "{stdout}");
    let applied = |sign: &str| {
        stdout
            .lines()
            .filter(|l| l.trim_start().starts_with(sign) && l.trim_end().ends_with(" ok"))
            .count()
    };
    assert!(applied("+ grant") >= 10, "grants:\n{stdout}");
    assert!(applied("- revoke") >= 3, "revocations:\n{stdout}");
    assert!(stdout.contains("create    Ivan Petrov"), "{stdout}");
    assert!(stdout.contains("no Brivo user, no access"), "{stdout}");

    // live: a booking made in OfficeRnD granted through its webhook
    assert!(
        stdout.contains("webhook booking.created answered 204 -> Maya is in the Summit Room group"),
        "{stdout}"
    );
    let booking = millis_after(&stdout, "OfficeRnD: Maya books", "Summit Room group");
    assert!(booking < 5_000, "{booking} ms");

    // live: a SCIM user created, suspended and decommissioned in Brivo
    for (prefix, shown) in [
        (
            "Connect HQ (SCIM): Rene Ortiz joins",
            "created in Connect HQ Members:",
        ),
        (
            "Connect HQ (SCIM): Rene is suspended",
            "suspended in Brivo:",
        ),
        (
            "Connect HQ (SCIM): Rene is decommissioned",
            "the Brivo user this integration created is deleted:",
        ),
    ] {
        let took = millis_after(&stdout, prefix, shown);
        assert!(took < 5_000, "{prefix}: {took} ms");
    }
    assert!(stdout.contains("/healthz: ok after"), "{stdout}");
    assert!(stdout.contains("Done in "), "{stdout}");
}
