//! The month simulator's short variant: the small portfolio for a few
//! simulated days, held to the targets (pro rata for the budgets).

use benches::month::PortfolioSize;
use benches::simulate::{SimOptions, simulate};
use chrono::TimeDelta;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_days_stay_within_budget_and_on_time() {
    let opts = SimOptions::short(3);
    let r = simulate(&PortfolioSize::small(), &opts).await;
    println!("{}", r.render());
    assert!(r.runs > 0);
    // budgets, pro rata: Brivo 50,000 in 30 days, Entrata 1,250 a day
    assert!(r.total("brivo") <= 50_000 * 3 / 30, "{}", r.render());
    assert!(r.max_day("entrata") <= 1_250, "{}", r.render());
    assert!(
        r.max_day("officernd") <= opts.officernd_per_day,
        "{}",
        r.render()
    );
    // every boundary within a second, every edit within its poll interval
    assert!(!r.boundaries.0.is_empty());
    assert!(
        r.boundaries.max() <= TimeDelta::seconds(1),
        "{}",
        r.render()
    );
    assert!(
        r.entrata_edits.max() <= TimeDelta::minutes(30),
        "{}",
        r.render()
    );
    assert!(
        r.officernd_edits.max() <= TimeDelta::minutes(15),
        "{}",
        r.render()
    );
    assert!(r.unapplied.is_empty(), "{:#?}", r.unapplied);
    assert_eq!(r.redundant_writes, 0, "{}", r.render());
    assert_eq!(r.failed_actions, 0, "{}", r.render());
    assert_eq!(r.full_reread_actions, 0, "{}", r.render());
}
