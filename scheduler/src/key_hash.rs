//! How a plain value takes part in the key of a pure node built from it (an operator's
//! operand, a gathered map's keys, [`delayed_pure`](crate::delayed_pure)'s value).
//!
//! `std::hash::Hash` would do for most values, but floats do not implement it, and a
//! scientific user's values are mostly floats. [`KeyHash`] is implemented for the
//! primitive types (floats by their bit pattern, so `-0.0` and `0.0` differ, and so do
//! NaNs with different payloads), strings, and the standard containers of them.

use std::hash::{Hash, Hasher};

/// Feeds a value to the hasher of a pure node's key: equal values must feed equal bytes,
/// on every platform. Implement it for your own types to use them as plain operands of
/// pure operations (hash every field; write integers through the `Hasher` methods, which
/// the key's hasher makes portable).
///
/// ```
/// use std::hash::Hasher;
/// use dask::KeyHash;
/// struct Point { x: f64, y: f64 }
///
/// impl KeyHash for Point {
///     fn key_hash(&self, hasher: &mut dyn Hasher) {
///         self.x.key_hash(hasher);
///         self.y.key_hash(hasher);
///     }
/// }
/// ```
pub trait KeyHash {
    /// Writes the value's identity to `hasher`.
    fn key_hash(&self, hasher: &mut dyn Hasher);
}

macro_rules! key_hash_through_hash {
    ($($ty:ty),*) => {$(
        impl KeyHash for $ty {
            fn key_hash(&self, hasher: &mut dyn Hasher) {
                self.hash(&mut &mut *hasher);
            }
        }
    )*};
}

key_hash_through_hash!(
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    bool,
    char,
    str,
    String,
    ()
);

impl KeyHash for f32 {
    fn key_hash(&self, hasher: &mut dyn Hasher) {
        hasher.write_u32(self.to_bits());
    }
}

impl KeyHash for f64 {
    fn key_hash(&self, hasher: &mut dyn Hasher) {
        hasher.write_u64(self.to_bits());
    }
}

impl<T: KeyHash + ?Sized> KeyHash for &T {
    fn key_hash(&self, hasher: &mut dyn Hasher) {
        (**self).key_hash(hasher);
    }
}

impl<T: KeyHash + ?Sized> KeyHash for Box<T> {
    fn key_hash(&self, hasher: &mut dyn Hasher) {
        (**self).key_hash(hasher);
    }
}

impl<T: KeyHash> KeyHash for [T] {
    fn key_hash(&self, hasher: &mut dyn Hasher) {
        // The length first, so that concatenations cannot collide.
        hasher.write_usize(self.len());
        for item in self {
            item.key_hash(hasher);
        }
    }
}

impl<T: KeyHash, const N: usize> KeyHash for [T; N] {
    fn key_hash(&self, hasher: &mut dyn Hasher) {
        self.as_slice().key_hash(hasher);
    }
}

impl<T: KeyHash> KeyHash for Vec<T> {
    fn key_hash(&self, hasher: &mut dyn Hasher) {
        self.as_slice().key_hash(hasher);
    }
}

impl<T: KeyHash> KeyHash for Option<T> {
    fn key_hash(&self, hasher: &mut dyn Hasher) {
        match self {
            None => hasher.write_u8(0),
            Some(value) => {
                hasher.write_u8(1);
                value.key_hash(hasher);
            }
        }
    }
}

macro_rules! key_hash_for_tuples {
    ($( ( $($name:ident : $idx:tt),+ ) )*) => {$(
        impl<$($name: KeyHash),+> KeyHash for ($($name,)+) {
            fn key_hash(&self, hasher: &mut dyn Hasher) {
                $( self.$idx.key_hash(hasher); )+
            }
        }
    )*};
}

key_hash_for_tuples! {
    (A: 0)
    (A: 0, B: 1)
    (A: 0, B: 1, C: 2)
    (A: 0, B: 1, C: 2, D: 3)
    (A: 0, B: 1, C: 2, D: 3, E: 4)
    (A: 0, B: 1, C: 2, D: 3, E: 4, F: 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(value: &impl KeyHash) -> u128 {
        let mut hasher = crate::key::StableHasher::new();
        value.key_hash(&mut hasher);
        hasher.finish128()
    }

    #[test]
    fn floats_hash_by_bit_pattern() {
        assert_eq!(digest(&1.5f64), digest(&1.5f64));
        assert_ne!(digest(&0.0f64), digest(&-0.0f64));
        assert_ne!(
            digest(&f64::NAN),
            digest(&f64::from_bits(f64::NAN.to_bits() ^ 1))
        );
        assert_eq!(digest(&vec![1.0, 2.0]), digest(&[1.0, 2.0]));
        assert_ne!(
            digest(&vec![vec![1.0], vec![]]),
            digest(&vec![vec![], vec![1.0]])
        );
        assert_eq!(digest(&"ab"), digest(&String::from("ab")));
        assert_ne!(digest(&Some(0u8)), digest(&None::<u8>));
    }
}
