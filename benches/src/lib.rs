//! Benchmark support: portfolio generators shared by the benches in `benches/`.
