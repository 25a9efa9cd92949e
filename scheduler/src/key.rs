//! Deterministic node keys.
//!
//! A key is `name-<16 hex digits>`. Pure calls hash their function path, the function's
//! source fingerprint (from `#[delayed]`; both folded into a seed at compile time) and
//! their arguments with [`StableHasher`], which gives the same value on every platform
//! and in every process; other calls take the next number of a process-wide build counter, mixed so
//! that keys look like Dask's and still come out the same in every run that builds the
//! graph in the same order.

use std::hash::Hasher;
use std::sync::atomic::{AtomicU64, Ordering};

static BUILD_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The id of the next non-pure node, in build order.
pub(crate) fn next_build_id() -> u64 {
    // Relaxed: only uniqueness matters; a single building thread sees its own order.
    // Multiplying by an odd constant keeps the map injective and moves the first id off
    // the mixer's fixed point at zero.
    mix(BUILD_COUNTER
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// splitmix64's finalizer: a bijection, so distinct counters give distinct ids.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub(crate) fn format_key(name: &str, id: u64) -> String {
    format!("{name}-{id:016x}")
}

/// A hasher whose output depends only on the bytes written, never on the platform, the
/// process or the Rust release: integers are written little-endian at their full width
/// and `usize`/`isize` as 64 bits. FNV-1a over the bytes, finished with a mixer.
#[derive(Debug, Clone)]
pub struct StableHasher {
    state: u64,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// FNV-1a over `bytes` from `state`; `const` so that key prefixes fold at compile time.
const fn fnv1a(mut state: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        state ^= bytes[i] as u64;
        state = state.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    state
}

/// The state of a [`StableHasher`] after writing a pure function's path, `0xff` and its
/// source fingerprint: the start of every pure key of that function, computed once, at
/// compile time, instead of for every call.
pub(crate) const fn pure_key_seed(path: &str, fingerprint: u64) -> u64 {
    let state = fnv1a(FNV_OFFSET, path.as_bytes());
    let state = fnv1a(state, &[0xff]);
    fnv1a(state, &fingerprint.to_le_bytes())
}

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher { state: FNV_OFFSET }
    }
}

impl StableHasher {
    pub fn new() -> Self {
        Self::default()
    }

    /// A hasher that has already been fed the bytes that led to `state` (see
    /// [`pure_key_seed`]).
    pub(crate) fn from_seed(state: u64) -> Self {
        StableHasher { state }
    }
}

macro_rules! write_le {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method(&mut self, value: $ty) {
            self.write(&value.to_le_bytes());
        })*
    };
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        mix(self.state)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.state = fnv1a(self.state, bytes);
    }

    write_le!(
        write_u16: u16, write_u32: u32, write_u64: u64, write_u128: u128,
        write_i16: i16, write_i32: i32, write_i64: i64, write_i128: i128,
    );

    fn write_u8(&mut self, value: u8) {
        self.write(&[value]);
    }

    fn write_i8(&mut self, value: i8) {
        self.write(&value.to_le_bytes());
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn write_isize(&mut self, value: isize) {
        self.write_i64(value as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    fn hash_of(v: impl Hash) -> u64 {
        let mut h = StableHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    // Pinned so that a change of hashing (which would change every pure key, and
    // invalidate on-disk caches) cannot pass unnoticed.
    const PINNED_42: u64 = 0xe15f_07fe_f55b_9454;
    const PINNED_ABC: u64 = 0x0cad_8536_3553_4d79;

    #[test]
    fn stable_values_do_not_change() {
        assert_eq!(hash_of(42u64), hash_of(42usize));
        assert_eq!(hash_of(42u64), PINNED_42);
        assert_eq!(hash_of("abc"), PINNED_ABC);
        assert_ne!(hash_of(1u32), hash_of(2u32));
        assert_eq!(format_key("inc", 0xab), "inc-00000000000000ab");
    }

    #[test]
    fn a_key_seed_is_the_state_after_its_bytes() {
        let mut fed = StableHasher::new();
        fed.write(b"my_crate::f");
        fed.write_u8(0xff);
        fed.write_u64(0x0123_4567_89ab_cdef);
        fed.write_u32(7);
        let mut seeded =
            StableHasher::from_seed(pure_key_seed("my_crate::f", 0x0123_4567_89ab_cdef));
        seeded.write_u32(7);
        assert_eq!(fed.finish(), seeded.finish());
    }

    #[test]
    #[cfg_attr(miri, ignore = "100,000 hash-set inserts; no unsafe code involved")]
    fn mix_is_injective_on_a_range() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..100_000u64 {
            assert!(seen.insert(mix(i)));
        }
    }
}
