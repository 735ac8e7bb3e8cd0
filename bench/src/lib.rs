//! Nothing: this crate holds npoa's benches (`bench/benches/`) and the bench-report tool
//! (`bench/examples/bench_report.rs`); see `scripts/bench.sh`.
