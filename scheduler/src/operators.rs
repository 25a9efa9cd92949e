//! Arithmetic, comparisons and indexing on `Delayed` values, as Dask's `Delayed` objects
//! support them: `&a + &b`, `2.0 * &x`, `a.gt(0)`, `d.get(0)`.
//!
//! Every node built here is pure: its key hashes the operation and its operands (an
//! operand node by its key, a plain value by [`KeyHash`]), so `a.get(0) + a.get(0)`
//! built twice is one `getitem` node and one `add` node (Dask's
//! `test_common_subexpressions`). Operands are read by value (cloned, or moved out when
//! this task is their last reader), since `std::ops` traits take their operands by value.

use std::hash::Hasher;
use std::ops::{Add, BitAnd, BitOr, BitXor, Div, Index, Mul, Neg, Rem, Sub};

use crate::args::{Arg, Inputs, IntoArg};
use crate::delayed::{task_node, Delayed};
use crate::error::TaskFailure;
use crate::key::StableHasher;
use crate::key_hash::KeyHash;
use crate::node::{no_codec, NodeHeader};

/// The 128-bit identity of a pure node that operation `op` builds from what `feed`
/// writes (its operands' identities and parameters). Every derived key of this module
/// and of the combinators goes through here.
pub(crate) fn derived_id(op: &str, feed: impl FnOnce(&mut StableHasher)) -> u128 {
    let mut hasher = StableHasher::new();
    hasher.write(b"dask::derived");
    hasher.write_u8(0xff);
    hasher.write(op.as_bytes());
    hasher.write_u8(0xff);
    feed(&mut hasher);
    hasher.finish128()
}

/// Feeds the name of type `T`, for what the bytes alone do not tell apart: `0u64`,
/// `0.0f64` and an empty `Vec` all feed eight zero bytes, an empty gather feeds nothing,
/// and a closure's result type is its own. Merging two such nodes would hand one
/// reader a value of another type (an error at best, a wrong value where the other
/// node computes something else).
pub(crate) fn feed_type<T: ?Sized>(hasher: &mut StableHasher) {
    // A type name is UTF-8: the closing `0xff` cannot occur in it.
    hasher.write(std::any::type_name::<T>().as_bytes());
    hasher.write_u8(0xff);
}

/// [`feed_type`] of the type of `value`.
pub(crate) fn feed_type_of<T: ?Sized>(_value: &T, hasher: &mut StableHasher) {
    feed_type::<T>(hasher);
}

/// Feeds an operand that is a node.
fn hash_node<T>(node: &Delayed<T>, hasher: &mut StableHasher) {
    hasher.write_u8(1);
    node.node().header().hash_identity(hasher);
}

/// A pure task `f(a, b)` named `op`, with the given identity.
fn binary<T, U, O>(op: &'static str, id: u128, a: Arg<T>, b: Arg<U>, f: fn(T, U) -> O) -> Delayed<O>
where
    T: Clone + Send + Sync + 'static,
    U: Clone + Send + Sync + 'static,
    O: Send + Sync + 'static,
{
    let header = NodeHeader::new(op, op, Some(id));
    task_node(
        header,
        (a, b),
        move |args: &(Arg<T>, Arg<U>), inputs: &Inputs<'_>| {
            Ok::<O, TaskFailure>(f(args.0.owned(inputs)?, args.1.owned(inputs)?))
        },
        no_codec,
    )
}

/// Both operands are nodes.
fn nodes<T, U, O>(op: &'static str, a: &Delayed<T>, b: &Delayed<U>, f: fn(T, U) -> O) -> Delayed<O>
where
    T: Clone + Send + Sync + 'static,
    U: Clone + Send + Sync + 'static,
    O: Send + Sync + 'static,
{
    let id = derived_id(op, |h| {
        hash_node(a, h);
        hash_node(b, h);
    });
    binary(op, id, Arg::Node(a.clone()), Arg::Node(b.clone()), f)
}

/// One operand is a plain value, on the side `value_first` says.
fn with_value<T, V, O>(
    op: &'static str,
    node: &Delayed<T>,
    value: V,
    f: fn(T, V) -> O,
) -> Delayed<O>
where
    T: Clone + Send + Sync + 'static,
    V: KeyHash + Clone + Send + Sync + 'static,
    O: Send + Sync + 'static,
{
    let value = Arg::Value(value);
    let id = derived_id(op, |h| {
        hash_node(node, h);
        value.key_hash(h);
    });
    binary(op, id, Arg::Node(node.clone()), value, f)
}

fn value_with<V, T, O>(
    op: &'static str,
    value: V,
    node: &Delayed<T>,
    f: fn(V, T) -> O,
) -> Delayed<O>
where
    T: Clone + Send + Sync + 'static,
    V: KeyHash + Clone + Send + Sync + 'static,
    O: Send + Sync + 'static,
{
    let value = Arg::Value(value);
    let id = derived_id(op, |h| {
        value.key_hash(h);
        hash_node(node, h);
    });
    binary(op, id, value, Arg::Node(node.clone()), f)
}

/// `Delayed ⊕ Delayed` in all four owned/borrowed combinations.
macro_rules! node_ops {
    ($($Trait:ident $method:ident $name:literal),*) => {$(
        impl<T, U> $Trait<&Delayed<U>> for &Delayed<T>
        where
            T: $Trait<U> + Clone + Send + Sync + 'static,
            U: Clone + Send + Sync + 'static,
            T::Output: Send + Sync + 'static,
        {
            type Output = Delayed<T::Output>;

            fn $method(self, rhs: &Delayed<U>) -> Self::Output {
                nodes($name, self, rhs, T::$method)
            }
        }

        impl<T, U> $Trait<Delayed<U>> for &Delayed<T>
        where
            T: $Trait<U> + Clone + Send + Sync + 'static,
            U: Clone + Send + Sync + 'static,
            T::Output: Send + Sync + 'static,
        {
            type Output = Delayed<T::Output>;

            fn $method(self, rhs: Delayed<U>) -> Self::Output {
                nodes($name, self, &rhs, T::$method)
            }
        }

        impl<T, U> $Trait<&Delayed<U>> for Delayed<T>
        where
            T: $Trait<U> + Clone + Send + Sync + 'static,
            U: Clone + Send + Sync + 'static,
            T::Output: Send + Sync + 'static,
        {
            type Output = Delayed<T::Output>;

            fn $method(self, rhs: &Delayed<U>) -> Self::Output {
                nodes($name, &self, rhs, T::$method)
            }
        }

        impl<T, U> $Trait<Delayed<U>> for Delayed<T>
        where
            T: $Trait<U> + Clone + Send + Sync + 'static,
            U: Clone + Send + Sync + 'static,
            T::Output: Send + Sync + 'static,
        {
            type Output = Delayed<T::Output>;

            fn $method(self, rhs: Delayed<U>) -> Self::Output {
                nodes($name, &self, &rhs, T::$method)
            }
        }
    )*};
}

node_ops!(
    Add add "add", Sub sub "sub", Mul mul "mul", Div div "truediv", Rem rem "mod",
    BitAnd bitand "and", BitOr bitor "or", BitXor bitxor "xor"
);

/// `Delayed<p> ⊕ p` and `p ⊕ Delayed<p>` for a primitive `p`, so that an unsuffixed
/// literal takes the other operand's type (`&a + 1`, `2.0 * &x`).
macro_rules! scalar_ops {
    ([$($ty:ty),*] $ops:tt) => {$( scalar_ops!(@ty $ty $ops); )*};
    (@ty $ty:ty [$($Trait:ident $method:ident $name:literal),*]) => {$(
        impl $Trait<$ty> for &Delayed<$ty> {
            type Output = Delayed<<$ty as $Trait>::Output>;

            fn $method(self, rhs: $ty) -> Self::Output {
                with_value($name, self, rhs, <$ty as $Trait>::$method)
            }
        }

        impl $Trait<$ty> for Delayed<$ty> {
            type Output = Delayed<<$ty as $Trait>::Output>;

            fn $method(self, rhs: $ty) -> Self::Output {
                with_value($name, &self, rhs, <$ty as $Trait>::$method)
            }
        }

        impl $Trait<&Delayed<$ty>> for $ty {
            type Output = Delayed<<$ty as $Trait>::Output>;

            fn $method(self, rhs: &Delayed<$ty>) -> Self::Output {
                value_with($name, self, rhs, <$ty as $Trait>::$method)
            }
        }

        impl $Trait<Delayed<$ty>> for $ty {
            type Output = Delayed<<$ty as $Trait>::Output>;

            fn $method(self, rhs: Delayed<$ty>) -> Self::Output {
                value_with($name, self, &rhs, <$ty as $Trait>::$method)
            }
        }
    )*};
}

scalar_ops!(
    [i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64]
    [Add add "add", Sub sub "sub", Mul mul "mul", Div div "truediv", Rem rem "mod"]
);
scalar_ops!(
    [i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, bool]
    [BitAnd bitand "and", BitOr bitor "or", BitXor bitxor "xor"]
);

impl<T> Neg for &Delayed<T>
where
    T: Neg + Clone + Send + Sync + 'static,
    T::Output: Send + Sync + 'static,
{
    type Output = Delayed<T::Output>;

    fn neg(self) -> Self::Output {
        let id = derived_id("neg", |h| hash_node(self, h));
        binary(
            "neg",
            id,
            Arg::Node(self.clone()),
            Arg::Value(()),
            |x: T, ()| -x,
        )
    }
}

impl<T> Neg for Delayed<T>
where
    T: Neg + Clone + Send + Sync + 'static,
    T::Output: Send + Sync + 'static,
{
    type Output = Delayed<T::Output>;

    fn neg(self) -> Self::Output {
        -&self
    }
}

/// Comparisons, as methods: `==` and `<` cannot return a `Delayed<bool>` in Rust.
impl<T: PartialOrd + KeyHash + Clone + Send + Sync + 'static> Delayed<T> {
    fn compare(&self, op: &'static str, other: Arg<T>, f: fn(T, T) -> bool) -> Delayed<bool> {
        let id = derived_id(op, |h| {
            hash_node(self, h);
            other.key_hash(h);
        });
        binary(op, id, Arg::Node(self.clone()), other, f)
    }

    /// `self < other`, lazily (pure). `other` is a plain value or a delayed one.
    ///
    /// ```
    /// let x = dask::delayed(3);
    /// assert!(x.lt(5).compute().unwrap());
    /// assert!(!x.lt(&x).compute().unwrap());
    /// ```
    pub fn lt(&self, other: impl IntoArg<T>) -> Delayed<bool> {
        self.compare("lt", other.into_arg(), |a, b| a < b)
    }

    /// `self <= other`, lazily (pure).
    pub fn le(&self, other: impl IntoArg<T>) -> Delayed<bool> {
        self.compare("le", other.into_arg(), |a, b| a <= b)
    }

    /// `self > other`, lazily (pure).
    pub fn gt(&self, other: impl IntoArg<T>) -> Delayed<bool> {
        self.compare("gt", other.into_arg(), |a, b| a > b)
    }

    /// `self >= other`, lazily (pure).
    pub fn ge(&self, other: impl IntoArg<T>) -> Delayed<bool> {
        self.compare("ge", other.into_arg(), |a, b| a >= b)
    }

    /// `self == other`, lazily (pure). Named `eq_` because `eq` is `PartialEq`'s.
    pub fn eq_(&self, other: impl IntoArg<T>) -> Delayed<bool> {
        self.compare("eq", other.into_arg(), |a, b| a == b)
    }

    /// `self != other`, lazily (pure).
    pub fn ne_(&self, other: impl IntoArg<T>) -> Delayed<bool> {
        self.compare("ne", other.into_arg(), |a, b| a != b)
    }
}

impl<T: Send + Sync + 'static> Delayed<T> {
    /// `self[index]`, lazily (Dask's `d[0]`): a pure `getitem` node holding a clone of
    /// the element. For a `Vec` or slice-like `T` the index is a `usize`; for a map,
    /// a key (`&'static str` for `HashMap<String, _>`).
    ///
    /// ```
    /// let pair = dask::delayed(vec![10, 20, 30]);
    /// let sum = pair.get(0) + pair.get(2);
    /// assert_eq!(sum.compute().unwrap(), 40);
    /// // Built twice, one node: the key is the content.
    /// assert_eq!(pair.get(1).key(), pair.get(1).key());
    /// ```
    pub fn get<I>(&self, index: I) -> Delayed<T::Output>
    where
        T: Index<I>,
        T::Output: Clone + Send + Sync + Sized + 'static,
        I: KeyHash + Clone + Send + Sync + 'static,
    {
        let id = derived_id("getitem", |h| {
            hash_node(self, h);
            // A container may be indexed by several types whose values feed equal bytes.
            feed_type::<I>(h);
            index.key_hash(h);
        });
        let header = NodeHeader::new("getitem", "getitem", Some(id));
        task_node(
            header,
            (Arg::Node(self.clone()),),
            move |args: &(Arg<T>,), inputs: &Inputs<'_>| {
                let container = args.0.borrowed(inputs)?;
                Ok::<_, TaskFailure>(container[index.clone()].clone())
            },
            no_codec,
        )
    }
}
