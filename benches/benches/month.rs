//! The month simulator at the reference portfolio: 30 days of the
//! runner's loop on a virtual clock against the sandbox, reporting calls
//! per service and day against the budgets, the lag from each boundary and
//! each edit to its applied change, redundant writes, and whether a full
//! re-read at the end would change anything. The report is printed and
//! written to `target/month-report.md`.
//!
//! Run: `cargo bench -p benches --bench month`. Knobs (environment):
//! `MONTH_DAYS` (default 30), `MONTH_SIZE=small` for the small portfolio,
//! `MONTH_ENTRATA_PAGE_CAP` (default 500; the sandbox's own default is 100).

use benches::month::PortfolioSize;
use benches::simulate::{SimOptions, simulate};

fn main() {
    // `cargo bench` passes `--bench`; a filter that is not "month" skips it
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"month".contains(a.as_str()))
    {
        return;
    }
    let mut opts = SimOptions::month();
    opts.progress = true;
    if let Some(d) = std::env::var("MONTH_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        opts.days = d;
    }
    if let Ok(v) = std::env::var("MONTH_ENTRATA_PAGE_CAP") {
        opts.entrata_page_cap = v.parse().ok();
    }
    let size = match std::env::var("MONTH_SIZE").as_deref() {
        Ok("small") => PortfolioSize::small(),
        _ => PortfolioSize::reference(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = std::time::Instant::now();
    let report = runtime.block_on(simulate(&size, &opts));
    let text = format!(
        "{}\nSimulated in {:.0} s of wall time.\n",
        report.render(),
        started.elapsed().as_secs_f64()
    );
    println!("{text}");
    if !report.unapplied.is_empty() {
        println!("edits never applied:");
        for u in report.unapplied.iter().take(20) {
            println!("  {u}");
        }
    }
    // the workspace's target directory (cargo runs benches in the crate's)
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let _ = std::fs::create_dir_all(&target);
    let _ = std::fs::write(target.join("month-report.md"), text);
}
