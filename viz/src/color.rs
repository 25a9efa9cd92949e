//! Fill colours for nodes: one per function, or a gradient over run order or run time.

use std::fmt;

/// What decides a node's fill colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ColorBy {
    /// No fill: plain outlines, as Dask draws by default.
    None,
    /// One stable colour per function path, the same in every drawing and every run,
    /// so a function is recognisable across pictures.
    #[default]
    Function,
    /// A gradient over `order` (Dask's `color="order"`): early tasks dark blue, late
    /// ones yellow. Shows how the scheduler walks the graph.
    Order,
    /// A gradient over measured `duration_ns` on a log scale: slow tasks dark red.
    /// Nodes without a measurement stay grey.
    Duration,
}

impl std::str::FromStr for ColorBy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(ColorBy::None),
            "function" => Ok(ColorBy::Function),
            "order" => Ok(ColorBy::Order),
            "duration" | "time" => Ok(ColorBy::Duration),
            _ => Err(format!(
                "unknown colouring `{s}`; expected none, function, order or duration"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rgb(pub u8, pub u8, pub u8);

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// Fill for nodes the chosen colouring knows nothing about (no order, no duration).
pub(crate) const UNKNOWN: Rgb = Rgb(0xdd, 0xdd, 0xdd);

impl Rgb {
    /// Black on light fills, white on dark ones (WCAG relative luminance).
    pub(crate) fn text_color(self) -> Rgb {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.040_45 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let luminance = 0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2);
        if luminance > 0.179 {
            Rgb(0, 0, 0)
        } else {
            Rgb(0xff, 0xff, 0xff)
        }
    }
}

/// FNV-1a: fixed and portable, unlike `DefaultHasher`, so a function keeps its colour
/// across runs, machines and Rust versions.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Light, clearly distinct fills (ColorBrewer's Set3 without its grey, which would
/// read as "unknown"), so black labels stay readable. A fixed palette tells functions
/// apart better than hues spread by a hash, which often land close together.
const FUNCTION_PALETTE: [Rgb; 11] = [
    Rgb(0x8d, 0xd3, 0xc7),
    Rgb(0xff, 0xff, 0xb3),
    Rgb(0xbe, 0xba, 0xda),
    Rgb(0xfb, 0x80, 0x72),
    Rgb(0x80, 0xb1, 0xd3),
    Rgb(0xfd, 0xb4, 0x62),
    Rgb(0xb3, 0xde, 0x69),
    Rgb(0xfc, 0xcd, 0xe5),
    Rgb(0xbc, 0x80, 0xbd),
    Rgb(0xcc, 0xeb, 0xc5),
    Rgb(0xff, 0xed, 0x6f),
];

/// The fill for a function, the one mapping every picture uses: graph drawings pass the
/// node's path (`pipeline::generate_data`), the timeline and the report the display
/// name the profiler records (`generate_data`). Only the last `::` segment decides, so
/// both give the same colour, in every drawing and run. (Functions of the same name
/// in different modules share a colour, as they share a name in the timeline.)
pub(crate) fn for_function(path_or_name: &str) -> Rgb {
    let name = path_or_name
        .rsplit_once("::")
        .map_or(path_or_name, |(_, last)| last);
    FUNCTION_PALETTE[(fnv1a(name) % FUNCTION_PALETTE.len() as u64) as usize]
}

/// Viridis-like stops: perceptually ordered and readable by colour-blind viewers.
const ORDER_STOPS: [Rgb; 5] = [
    Rgb(0x44, 0x01, 0x54),
    Rgb(0x3b, 0x52, 0x8b),
    Rgb(0x21, 0x91, 0x8c),
    Rgb(0x5e, 0xc9, 0x62),
    Rgb(0xfd, 0xe7, 0x25),
];

/// Light yellow for fast, dark red for slow.
const DURATION_STOPS: [Rgb; 4] = [
    Rgb(0xff, 0xf5, 0xc0),
    Rgb(0xfe, 0xb2, 0x4c),
    Rgb(0xf0, 0x3b, 0x20),
    Rgb(0x80, 0x00, 0x26),
];

fn gradient(stops: &[Rgb], t: f64) -> Rgb {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let scaled = t * (stops.len() - 1) as f64;
    let i = (scaled.floor() as usize).min(stops.len() - 2);
    let f = scaled - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Colour for `value` within `[min, max]` of the run order.
pub(crate) fn for_order(value: f64, min: f64, max: f64) -> Rgb {
    let t = if max > min {
        (value - min) / (max - min)
    } else {
        0.0
    };
    gradient(&ORDER_STOPS, t)
}

/// Colour for a duration within `[min, max]`, on a log scale because task times spread
/// over orders of magnitude.
pub(crate) fn for_duration(nanos: u64, min: u64, max: u64) -> Rgb {
    let log = |v: u64| (v.max(1) as f64).ln();
    let t = if max > min {
        (log(nanos) - log(min)) / (log(max) - log(min))
    } else {
        0.0
    };
    gradient(&DURATION_STOPS, t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_keeps_its_colour() {
        // Path (graph drawings) and display name (timeline, report) agree.
        assert_eq!(
            for_function("pipeline::generate_data"),
            for_function("generate_data")
        );
        assert_ne!(
            for_function("pipeline::generate_data"),
            for_function("pipeline::aggregate_data")
        );
        // Pinned: the colour must not change between releases or platforms.
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn function_colours_are_light_enough_for_black_text() {
        for fill in FUNCTION_PALETTE {
            assert_eq!(fill.text_color(), Rgb(0, 0, 0), "{fill}");
            assert_ne!(fill, UNKNOWN);
        }
    }

    #[test]
    fn gradients_run_from_first_to_last_stop() {
        assert_eq!(for_order(0.0, 0.0, 10.0), ORDER_STOPS[0]);
        assert_eq!(for_order(10.0, 0.0, 10.0), ORDER_STOPS[4]);
        assert_eq!(for_order(3.0, 3.0, 3.0), ORDER_STOPS[0]);
        assert_eq!(for_duration(1_000_000, 1_000, 1_000_000), DURATION_STOPS[3]);
        assert_eq!(for_duration(0, 0, 1_000_000), DURATION_STOPS[0]);
        assert_eq!(ORDER_STOPS[0].text_color(), Rgb(255, 255, 255));
        assert_eq!(ORDER_STOPS[4].text_color(), Rgb(0, 0, 0));
    }

    #[test]
    fn names_parse() {
        assert_eq!("Order".parse::<ColorBy>(), Ok(ColorBy::Order));
        assert!("rainbow".parse::<ColorBy>().is_err());
    }
}
