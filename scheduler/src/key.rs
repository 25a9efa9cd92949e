//! Deterministic node keys.
//!
//! A key is `name-<16 hex digits>`. Pure calls are identified by 128 bits of BLAKE3
//! (keyed by their function's path and source fingerprint) over their arguments, which
//! is the same on every platform and in every process; the key prints the low 64 of
//! them, while merging equal calls and the on-disk cache compare all 128. Other calls
//! take the next number of a process-wide build counter, mixed so that keys look like
//! Dask's and still come out the same in every run that builds the graph in the same
//! order.
//!
//! Why BLAKE3 and not a faster non-cryptographic hash: equal pure keys are merged and a
//! cache directory returns whatever an equal key stored, so a collision is a silent
//! wrong result. Arguments may come from anywhere (file names, request data) and a cache
//! directory may be shared by several users; with FNV or xxHash, whose seeds here are
//! public, colliding arguments can be constructed on purpose (`tests/keys.rs` has a pair
//! for the old 64-bit FNV-1a keys). 128 bits of BLAKE3 leave only the generic 2^64
//! birthday search, and Dask's tokens are 128 bits too. The cost: building a pure call
//! with small arguments takes about 0.15 µs more than it did with FNV (one BLAKE3
//! compression; `StableHasher` buffers the small writes so that there is only one).

use std::hash::Hasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

static BUILD_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The id of the next non-pure node, in build order.
pub(crate) fn next_build_id() -> u64 {
    build_id(next_build_number())
}

/// The next build number: 1 for the first node this process builds, counting up. The
/// planner visits a node's inputs in this order (see `NodeHeader::built`).
pub(crate) fn next_build_number() -> u64 {
    // Relaxed: only uniqueness matters; a single building thread sees its own order.
    BUILD_COUNTER
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_add(1)
}

/// The id, in keys, of the node with build number `number`.
pub(crate) fn build_id(number: u64) -> u64 {
    // Multiplying by an odd constant keeps the map injective and moves the first id off
    // the mixer's fixed point at zero.
    mix(number.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// splitmix64's finalizer: a bijection, so distinct counters give distinct ids.
/// Inlined: random arrays call it per element inside vectorized loops.
#[inline]
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
/// and `usize`/`isize` as 64 bits, the bytes go through BLAKE3.
/// [`finish128`](StableHasher::finish128) gives the 128-bit digest that identifies pure
/// calls; [`finish`](Hasher::finish) its low 64 bits.
#[derive(Debug, Clone)]
pub struct StableHasher {
    /// BLAKE3's key for a pure function's hasher; `None`: plain BLAKE3.
    key: Option<[u8; 32]>,
    /// The bytes not yet handed to `stream`. Most keys hash a few dozen bytes in many
    /// small writes; collecting them and hashing them in one call costs half as much as
    /// streaming each write.
    buffer: [u8; BUFFER],
    buffered: usize,
    /// Made once more than `BUFFER` bytes have been written (boxed: it is 2 KB).
    stream: Option<Box<blake3::Hasher>>,
}

/// Four BLAKE3 blocks: a pure call's arguments and input keys usually fit.
const BUFFER: usize = 256;

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher {
            key: None,
            buffer: [0; BUFFER],
            buffered: 0,
            stream: None,
        }
    }
}

impl StableHasher {
    /// A hasher that has been fed nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// A hasher keyed by a pure function's seed (see [`KeySeed`]): its digests are
    /// unrelated to those of any other function's, or of an unkeyed hasher.
    pub(crate) fn from_seed(seed: &KeySeed) -> Self {
        StableHasher {
            key: Some(*seed.key()),
            ..Self::default()
        }
    }

    fn new_stream(&self) -> blake3::Hasher {
        match &self.key {
            Some(key) => blake3::Hasher::new_keyed(key),
            None => blake3::Hasher::new(),
        }
    }

    /// The first 16 bytes of the BLAKE3 digest of everything written, read as a
    /// little-endian integer.
    pub fn finish128(&self) -> u128 {
        let rest = &self.buffer[..self.buffered];
        let digest = match (&self.stream, &self.key) {
            (Some(stream), _) => {
                let mut stream = stream.clone();
                stream.update(rest);
                stream.finalize()
            }
            (None, Some(key)) => blake3::keyed_hash(key, rest),
            (None, None) => blake3::hash(rest),
        };
        let mut low = [0; 16];
        low.copy_from_slice(&digest.as_bytes()[..16]);
        u128::from_le_bytes(low)
    }
}

/// Where every pure key of one function starts: its path and source fingerprint,
/// turned into a BLAKE3 key on first use (once per function and process, not per call).
/// `const` so that it sits in the function's static `TaskSpec`.
#[derive(Debug)]
pub struct KeySeed {
    path: &'static str,
    fingerprint: u128,
    key: OnceLock<[u8; 32]>,
}

/// Separates our keys from every other use of BLAKE3's key derivation; changing it
/// changes every pure key.
const KEY_CONTEXT: &str = "dask 2026-12 pure call key v2";

impl KeySeed {
    pub(crate) const fn new(path: &'static str, fingerprint: u128) -> Self {
        KeySeed {
            path,
            fingerprint,
            key: OnceLock::new(),
        }
    }

    fn key(&self) -> &[u8; 32] {
        self.key.get_or_init(|| {
            let mut hasher = blake3::Hasher::new_derive_key(KEY_CONTEXT);
            // A path is UTF-8, which never holds 0xff: path and fingerprint cannot run
            // together.
            hasher.update(self.path.as_bytes());
            hasher.update(&[0xff]);
            hasher.update(&self.fingerprint.to_le_bytes());
            *hasher.finalize().as_bytes()
        })
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
    /// The low 64 bits of [`finish128`](StableHasher::finish128).
    fn finish(&self) -> u64 {
        self.finish128() as u64
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.buffered + bytes.len() <= BUFFER {
            self.buffer[self.buffered..self.buffered + bytes.len()].copy_from_slice(bytes);
            self.buffered += bytes.len();
            return;
        }
        let fresh = self.new_stream();
        let stream = self.stream.get_or_insert_with(|| Box::new(fresh));
        stream.update(&self.buffer[..self.buffered]);
        self.buffered = 0;
        if bytes.len() < BUFFER {
            self.buffer[..bytes.len()].copy_from_slice(bytes);
            self.buffered = bytes.len();
        } else {
            stream.update(bytes);
        }
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

    fn hash_of(v: impl Hash) -> u128 {
        let mut h = StableHasher::new();
        v.hash(&mut h);
        h.finish128()
    }

    // Pinned so that a change of hashing (which would change every pure key, and
    // invalidate on-disk caches) cannot pass unnoticed.
    const PINNED_42: u128 = 0x5cee_d0e9_be1b_c86e_94aa_dcc2_a624_e6fa;
    const PINNED_ABC: u128 = 0x4769_ae88_b9a9_0cf3_ff81_ffdd_3b07_0281;

    #[test]
    fn stable_values_do_not_change() {
        assert_eq!(hash_of(42u64), hash_of(42usize));
        assert_eq!(hash_of(42u64), PINNED_42, "{:#x}", hash_of(42u64));
        assert_eq!(hash_of("abc"), PINNED_ABC, "{:#x}", hash_of("abc"));
        assert_ne!(hash_of(1u32), hash_of(2u32));
        assert_eq!(format_key("inc", 0xab), "inc-00000000000000ab");
        let mut h = StableHasher::new();
        h.write_u64(42);
        assert_eq!(h.finish(), h.finish128() as u64, "finish is the low half");
    }

    #[test]
    fn any_split_of_the_writes_gives_the_same_digest() {
        // Buffered, streamed or both: the digest is BLAKE3's of the bytes, however they
        // were written.
        let bytes: Vec<u8> = (0..2000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let seed = KeySeed::new("my_crate::f", 1);
        for len in [0, 1, 255, 256, 257, 600, 2000] {
            let data = &bytes[..len];
            let expected_plain = blake3::hash(data);
            let expected_keyed = blake3::keyed_hash(seed.key(), data);
            for piece in [1, 3, 64, 255, 256, 1000] {
                let mut plain = StableHasher::new();
                let mut keyed = StableHasher::from_seed(&seed);
                for part in data.chunks(piece) {
                    plain.write(part);
                    keyed.write(part);
                }
                let low = |digest: blake3::Hash| {
                    u128::from_le_bytes(digest.as_bytes()[..16].try_into().unwrap())
                };
                assert_eq!(plain.finish128(), low(expected_plain), "{len} by {piece}");
                assert_eq!(keyed.finish128(), low(expected_keyed), "{len} by {piece}");
                // Finishing does not consume: more writes carry on.
                assert_eq!(plain.finish128(), plain.finish128());
            }
        }
    }

    #[test]
    fn the_digest_has_128_bits() {
        // Over many inputs, the high half is as varied as the low half: it is not zero,
        // a copy or a function of the low half.
        let mut high = std::collections::HashSet::new();
        for i in 0..1000u32 {
            let digest = hash_of(i);
            assert_ne!(digest >> 64, 0);
            assert_ne!((digest >> 64) as u64, digest as u64);
            high.insert((digest >> 64) as u64);
        }
        assert_eq!(high.len(), 1000);
    }

    #[test]
    fn bytes_that_collided_under_fnv_1a_64_do_not() {
        // Found by a rho search on 64-bit FNV-1a from its offset basis, which the old
        // `StableHasher` was (before its finishing bijection): equal there, not here.
        fn fnv1a_64(bytes: &[u8]) -> u64 {
            bytes.iter().fold(0xcbf2_9ce4_8422_2325, |state, &b| {
                (state ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        }
        let (a, b) = collision();
        assert_ne!(a, b);
        assert_eq!(fnv1a_64(&a), fnv1a_64(&b), "the pair is an FNV collision");
        let digest = |bytes: &[u8]| {
            let mut h = StableHasher::new();
            h.write(bytes);
            (h.finish(), h.finish128())
        };
        let (short_a, full_a) = digest(&a);
        let (short_b, full_b) = digest(&b);
        assert_ne!(full_a, full_b);
        assert_ne!(short_a, short_b);
    }

    fn collision() -> (Vec<u8>, Vec<u8>) {
        let bytes = |x: u64, y: u8| {
            let mut bytes = vec![0];
            bytes.extend_from_slice(&x.to_le_bytes());
            bytes.extend_from_slice(&[0, y]);
            bytes
        };
        (
            bytes(0x0090_fb7c_c67d_4bf5, 0x7f),
            bytes(0x0048_179f_c678_64c7, 0x54),
        )
    }

    #[test]
    fn a_seed_keys_the_hasher() {
        let seed = KeySeed::new("my_crate::f", 0x0123_4567_89ab_cdef);
        let digest = |seed: &KeySeed| {
            let mut h = StableHasher::from_seed(seed);
            h.write_u32(7);
            h.finish128()
        };
        assert_eq!(digest(&seed), digest(&seed), "the key is computed once");
        let again = KeySeed::new("my_crate::f", 0x0123_4567_89ab_cdef);
        assert_eq!(digest(&seed), digest(&again));
        assert_ne!(
            digest(&seed),
            digest(&KeySeed::new("my_crate::g", 0x0123_4567_89ab_cdef))
        );
        assert_ne!(
            digest(&seed),
            digest(&KeySeed::new("my_crate::f", 0x0123_4567_89ab_cdee))
        );
        let mut plain = StableHasher::new();
        plain.write_u32(7);
        assert_ne!(digest(&seed), plain.finish128());
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
