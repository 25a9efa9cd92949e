//! Soak: random graphs with cancellations and timeouts for a long time; thread count and
//! memory must stay flat. Not part of the default tests:
//!
//! ```sh
//! DASK_SOAK_SECS=600 cargo test --release --test soak -- --ignored --nocapture
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dask::{delayed, CancelToken, Config, Delayed, ErrorPolicy, Scheduler};

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// A result with some heap, counting its live instances.
struct Payload(Vec<u64>);

impl Payload {
    fn new(n: usize, seed: u64) -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Payload((0..n as u64).map(|i| i ^ seed).collect())
    }
}

impl Clone for Payload {
    fn clone(&self) -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Payload(self.0.clone())
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unlucky {0}")]
struct Unlucky(u64);

#[delayed(retries = 1)]
fn work(seed: u64, inputs: &Vec<Payload>, micros: u64) -> Result<Payload, Unlucky> {
    if micros > 0 {
        std::thread::sleep(Duration::from_micros(micros));
    }
    if seed.is_multiple_of(97) {
        return Err(Unlucky(seed));
    }
    if seed.is_multiple_of(389) {
        panic!("soak panic {seed}");
    }
    let sum: u64 = inputs.iter().map(|p| p.0.iter().sum::<u64>()).sum();
    Ok(Payload::new(64 + (seed % 512) as usize, sum ^ seed))
}

mod support;
use support::{proc_status as status, Lcg};

fn graph(rng: &mut Lcg) -> Vec<Delayed<Payload>> {
    let n = 10 + rng.next() as usize % 400;
    let mut nodes: Vec<Delayed<Payload>> = Vec::with_capacity(n);
    for i in 0..n {
        let k = if i == 0 { 0 } else { rng.next() as usize % 4 };
        let inputs: Vec<Delayed<Payload>> = (0..k)
            .map(|_| nodes[rng.next() as usize % i].clone())
            .collect();
        let micros = if rng.next().is_multiple_of(10) {
            rng.next() % 300
        } else {
            0
        };
        nodes.push(work(rng.next(), inputs, micros));
    }
    (0..1 + rng.next() % 4)
        .map(|_| nodes[rng.next() as usize % n].clone())
        .collect()
}

fn round(rng: &mut Lcg) {
    let outputs = graph(rng);
    let threads = 1 + rng.next() as usize % 4;
    let mut config = Config::default().scheduler(Scheduler::Threads(threads));
    if rng.next().is_multiple_of(2) {
        config = config.errors(ErrorPolicy::Collect);
    }
    match rng.next() % 4 {
        0 => {
            let token = CancelToken::new();
            let t = token.clone();
            let delay = rng.next() % 2000;
            let canceller = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_micros(delay));
                t.cancel();
            });
            let _ = dask::compute_with(&outputs, &config.cancel_token(token));
            canceller.join().unwrap();
        }
        1 => {
            let limit = Duration::from_micros(rng.next() % 3000);
            let _ = dask::compute_with(&outputs, &config.timeout(limit));
        }
        _ => {
            let _ = dask::compute_with(&outputs, &config);
        }
    }
    drop(outputs);
    assert_eq!(LIVE.load(Ordering::SeqCst), 0, "results leaked");
}

#[test]
#[ignore = "long: run with --ignored (DASK_SOAK_SECS, default 600)"]
fn soak_random_graphs_with_cancellations_and_timeouts() {
    std::panic::set_hook(Box::new(|_| {}));
    let secs: u64 = std::env::var("DASK_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let mut rng = Lcg(0x50a4);
    // Warm up: every pool size exists and the allocator has its working set.
    let warm_until = Instant::now() + Duration::from_secs(secs.min(600) / 20 + 1);
    while Instant::now() < warm_until {
        round(&mut rng);
    }
    let (threads0, rss0) = (
        status("Threads:").unwrap_or(0),
        status("VmRSS:").unwrap_or(0),
    );
    let start = Instant::now();
    let mut rounds = 0u64;
    let mut rss_max = rss0;
    while start.elapsed() < Duration::from_secs(secs) {
        round(&mut rng);
        rounds += 1;
        if rounds.is_multiple_of(500) {
            let (threads, rss) = (
                status("Threads:").unwrap_or(0),
                status("VmRSS:").unwrap_or(0),
            );
            rss_max = rss_max.max(rss);
            assert_eq!(
                threads, threads0,
                "thread count changed after {rounds} rounds"
            );
            assert!(
                rss < rss0 + 64 * 1024,
                "RSS grew from {rss0} KiB to {rss} KiB after {rounds} rounds"
            );
        }
    }
    println!(
        "soak: {rounds} graphs in {:.0} s; threads {threads0} throughout; RSS {rss0} KiB after warm-up, {rss_max} KiB at most",
        start.elapsed().as_secs_f64()
    );
}
