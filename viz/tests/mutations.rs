//! Readers must answer any input with a graph or an error, never a panic: valid
//! documents damaged in many small, deterministic ways are read without crashing.

mod support;

use dask_viz::TaskGraph;

/// A small deterministic generator, so a failure is reproducible from its round.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

const ALPHABET: &[char] = &[
    '{', '}', '[', ']', '"', '\\', ':', ',', ';', '-', '>', '<', '=', '\n', ' ', '0', '9', 'a',
    '#', '/', '*', '&', 'é', '\u{0}', 'n', 'e', 'l', 't', 'u', 'r', '.',
];

fn mutate(text: &str, rng: &mut Lcg) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(4) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 => chars.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
            2 if at < chars.len() => chars[at] = ALPHABET[rng.below(ALPHABET.len())],
            _ => chars.truncate(at),
        }
    }
    chars.into_iter().collect()
}

fn sample() -> TaskGraph {
    let mut g = support::pipelines(2);
    let first = g.nodes().next().map(|(id, _)| id).unwrap();
    let value =
        g.add_node(dask_viz::NodeInfo::value("cfg-1", "config", "dask::delayed").with_size(10));
    g.add_edge(value, first, 1);
    g
}

#[test]
fn damaged_json_never_panics() {
    let text = sample().to_json();
    let mut rng = Lcg(1);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..3000 {
        match TaskGraph::from_json(&mutate(&text, &mut rng)) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                err += 1;
            }
        }
    }
    // Both outcomes occur: the damage is neither always harmless nor always fatal.
    assert!(ok > 0 && err > 0, "{ok} read, {err} refused");
}

#[test]
fn damaged_dot_never_panics() {
    let text = sample().to_dot();
    let mut rng = Lcg(2);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..3000 {
        match TaskGraph::from_dot(&mutate(&text, &mut rng)) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                err += 1;
            }
        }
    }
    assert!(ok > 0 && err > 0, "{ok} read, {err} refused");
}
