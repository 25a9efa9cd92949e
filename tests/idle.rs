//! Idle workers park: after a computation, the pool uses no CPU.

use dask::{Config, Delayed, Scheduler};
use std::time::Duration;

/// User + system CPU time of this process, in clock ticks (Linux).
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

#[test]
fn idle_workers_burn_no_cpu() {
    let Some(_) = cpu_ticks() else {
        println!("notice: /proc/self/stat unavailable; skipping the idle CPU check");
        return;
    };
    let config = Config::default().scheduler(Scheduler::Threads(2));
    let parts: Vec<Delayed<u64>> = (0..10_000u64)
        .map(|i| dask::delayed(i).map(|v| v + 1))
        .collect();
    dask::compute_with(&parts, &config).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let before = cpu_ticks().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let used = cpu_ticks().unwrap() - before;
    // Clock ticks are 10 ms; spinning workers would use about 200 ticks in this second.
    assert!(
        used <= 5,
        "the idle pool used {used} ticks of CPU in one second"
    );
}
