//! `plan()` throughput over generated portfolios: 1k, 100k and 1M lease
//! occupants, converged (empty plan) and from an empty Brivo (everything
//! created), a coworking mix, and the oracle on the same 100k input.
//!
//! Run: `cargo bench -p benches -- plan`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use access_engine::{oracle, plan};
use benches::{Portfolio, leases, mixed};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn sizes() -> Vec<usize> {
    // PLAN_BENCH_MAX=100000 skips the 1M case on a busy machine.
    let max: usize = std::env::var("PLAN_BENCH_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    [1_000, 100_000, 1_000_000]
        .into_iter()
        .filter(|n| *n <= max)
        .collect()
}

fn configure(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    n: usize,
) {
    if n >= 1_000_000 {
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(6));
    } else if n >= 100_000 {
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
    } else {
        group.sample_size(30);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
    }
}

fn run(p: &Portfolio, converged: bool) -> access_engine::Plan {
    let observed = if converged { &p.converged } else { &p.empty };
    plan(black_box(&p.facts), &p.mappings, &p.policy, observed, p.now)
}

fn bench_leases(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan_leases");
    for n in sizes() {
        let p = leases(n);
        assert!(run(&p, true).is_empty(), "converged plan must be empty");
        configure(&mut group, n);
        group.throughput(Throughput::Elements(p.occupants as u64));
        group.bench_with_input(BenchmarkId::new("converged", n), &p, |b, p| {
            b.iter(|| run(p, true))
        });
        group.bench_with_input(BenchmarkId::new("from_empty", n), &p, |b, p| {
            b.iter(|| run(p, false))
        });
    }
    group.finish();
}

fn bench_coworking(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan_coworking_mix");
    let p = mixed(50_000, 50_000);
    assert!(run(&p, true).is_empty(), "converged plan must be empty");
    configure(&mut group, 100_000);
    group.throughput(Throughput::Elements(
        (p.occupants + p.facts.members.len()) as u64,
    ));
    group.bench_function("converged/50k_occupants+50k_members", |b| {
        b.iter(|| run(&p, true))
    });
    group.bench_function("from_empty/50k_occupants+50k_members", |b| {
        b.iter(|| run(&p, false))
    });
    group.finish();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn bench_oracle(c: &mut Criterion) {
    let n = 100_000;
    let p = leases(n);
    let existing = p.mappings.managed_groups();
    let mut group = c.benchmark_group("plan_vs_oracle");
    configure(&mut group, n);
    group.throughput(Throughput::Elements(p.occupants as u64));
    group.bench_function(BenchmarkId::new("engine_plan_converged", n), |b| {
        b.iter(|| run(&p, true))
    });
    group.bench_function(BenchmarkId::new("oracle_desired_at", n), |b| {
        b.iter(|| {
            oracle::desired_at(
                black_box(&p.facts),
                &p.mappings,
                &p.policy,
                Some(&existing),
                p.now,
            )
        })
    });
    group.finish();

    // One line with the ratio, from the same run.
    let time = |f: &dyn Fn()| {
        median(
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect(),
        )
    };
    let engine = time(&|| {
        black_box(run(&p, true));
    });
    let oracle_t = time(&|| {
        black_box(oracle::desired_at(
            &p.facts,
            &p.mappings,
            &p.policy,
            Some(&existing),
            p.now,
        ));
    });
    println!(
        "plan_vs_oracle/{n}: engine plan {:.1} ms, oracle desired state {:.1} ms, engine/oracle = {:.3} (oracle is {:.1}x slower)",
        engine.as_secs_f64() * 1e3,
        oracle_t.as_secs_f64() * 1e3,
        engine.as_secs_f64() / oracle_t.as_secs_f64(),
        oracle_t.as_secs_f64() / engine.as_secs_f64()
    );
}

criterion_group!(benches, bench_leases, bench_coworking, bench_oracle);
criterion_main!(benches);
