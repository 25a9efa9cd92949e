//! Ticks for a time axis: round values (1, 2 or 5 times a power of ten) labelled in one
//! unit, so an axis reads `0 ms, 100 ms, 200 ms` rather than `0 ns, 198.9 ms, 397.9 ms`.

/// Most intervals an axis is split into; the 1-2-5 steps give 2 to 5 of them.
const MAX_INTERVALS: u64 = 5;

/// One tick: its offset from the start of the axis and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tick {
    pub offset_ns: u64,
    pub label: String,
}

/// The smallest 1-2-5 step that splits `span_ns` into at most [`MAX_INTERVALS`].
fn step_for(span_ns: u64) -> u64 {
    let mut power = 1u64;
    loop {
        for factor in [1, 2, 5] {
            let step = power.saturating_mul(factor);
            if span_ns.div_ceil(step) <= MAX_INTERVALS || step == u64::MAX {
                return step;
            }
        }
        power = power.saturating_mul(10);
    }
}

/// The unit every label uses: the largest one that the last tick reaches, so the
/// labels' numbers stay between 0 and 1000 or so.
fn unit_for(last_ns: u64) -> (u64, &'static str) {
    [(1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "µs")]
        .into_iter()
        .find(|&(size, _)| last_ns >= size)
        .unwrap_or((1, "ns"))
}

/// Ticks from 0 to at most `span_ns`, every label in the same unit with the same
/// number of decimals (enough to show the step exactly).
pub(crate) fn ticks(span_ns: u64) -> Vec<Tick> {
    let step = step_for(span_ns.max(1));
    let count = span_ns.max(1) / step;
    let last = count * step;
    let (unit, name) = unit_for(last);
    // A step below one unit needs decimals: 500 µs in ms is 0.5.
    let mut decimals = 0usize;
    let mut scale = 1u64;
    while step.checked_mul(scale).is_some_and(|s| s % unit != 0) && decimals < 9 {
        decimals += 1;
        scale *= 10;
    }
    (0..=count)
        .map(|i| {
            let offset_ns = i * step;
            let value = offset_ns as f64 / unit as f64;
            Tick {
                offset_ns,
                label: format!("{value:.decimals$} {name}"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(span_ns: u64) -> Vec<String> {
        ticks(span_ns).into_iter().map(|t| t.label).collect()
    }

    #[test]
    fn ticks_are_round_and_in_one_unit() {
        // The span from the issue: 397.9 ms.
        assert_eq!(labels(397_900_000), ["0 ms", "100 ms", "200 ms", "300 ms"]);
        assert_eq!(
            labels(1_000_000_000),
            ["0.0 s", "0.2 s", "0.4 s", "0.6 s", "0.8 s", "1.0 s"]
        );
        assert_eq!(
            labels(2_500),
            ["0.0 µs", "0.5 µs", "1.0 µs", "1.5 µs", "2.0 µs", "2.5 µs"]
        );
        assert_eq!(labels(7), ["0 ns", "2 ns", "4 ns", "6 ns"]);
        assert_eq!(labels(12_000_000_000), ["0 s", "5 s", "10 s"]);
        assert_eq!(labels(0), ["0 ns", "1 ns"]);
        assert_eq!(labels(1_800_000), ["0.0 ms", "0.5 ms", "1.0 ms", "1.5 ms"]);
    }

    #[test]
    fn offsets_step_evenly_within_the_span() {
        for span in [
            1,
            9,
            10,
            11,
            99,
            123_456,
            397_900_000,
            86_400_000_000_000,
            u64::MAX,
        ] {
            let t = ticks(span);
            assert!((2..=6).contains(&t.len()), "{span}: {t:?}");
            assert_eq!(t[0].offset_ns, 0);
            let step = t[1].offset_ns;
            assert!(t
                .windows(2)
                .all(|w| w[1].offset_ns - w[0].offset_ns == step));
            assert!(t.last().unwrap().offset_ns <= span.max(1), "{span}");
            let first = step.to_string();
            assert!(
                first.starts_with(['1', '2', '5']) && first[1..].bytes().all(|b| b == b'0'),
                "{span}: step {step}"
            );
        }
    }
}
