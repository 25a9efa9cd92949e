//! How a task's result crosses a process boundary (feature `cluster`).
//!
//! Nodes are type-erased, so the cluster backend cannot ask "is this result
//! serializable?" at run time. `#[delayed]` answers it where the type is still concrete:
//! the builder carries a zero-sized closure that returns `Some(&Codec)` when the return
//! type implements `serde::Serialize + DeserializeOwned` and `None` otherwise, chosen by
//! autoref specialization on [`Probe`]. The closure costs no memory per node; the codec
//! itself is a `'static` pair of functions per type.
//!
//! Only the cluster backend (feature `cluster`) reads codecs, but they exist in every
//! build: serde and postcard are dependencies anyway (the on-disk `Memory` stores values
//! in postcard's format), the generated code is the same in every configuration (the
//! macro cannot see our features), and so the core carries no `cfg` for the cluster. The
//! cost without the cluster is compile time only: the pair of functions is instantiated
//! for each serializable result type.

use std::marker::PhantomData;

/// Encodes and decodes one result type. Obtained through [`Probe`].
#[doc(hidden)]
pub struct Codec {
    encode: fn(&(dyn std::any::Any + Send + Sync)) -> Result<Vec<u8>, String>,
    decode: fn(&[u8]) -> Result<crate::task_value::TaskValue, String>,
}

impl Codec {
    /// A codec from its two functions (a collection's own wire format: Arrow IPC).
    pub(crate) const fn new(
        encode: fn(&(dyn std::any::Any + Send + Sync)) -> Result<Vec<u8>, String>,
        decode: fn(&[u8]) -> Result<crate::task_value::TaskValue, String>,
    ) -> Self {
        Codec { encode, decode }
    }

    /// The bytes of a result of this codec's type; an error for another type, or when
    /// the type's own serialization fails or panics.
    pub fn encode(&self, value: &(dyn std::any::Any + Send + Sync)) -> Result<Vec<u8>, String> {
        (self.encode)(value)
    }

    /// The result back from [`encode`](Self::encode)'s bytes; an error (never a panic)
    /// for bytes that are not one.
    pub fn decode(&self, bytes: &[u8]) -> Result<crate::task_value::TaskValue, String> {
        (self.decode)(bytes)
    }
}

/// A type-level question: does `T` have a codec? Ask with
/// `(&Probe::<T>::new()).codec()` with both [`probe`] traits in scope.
#[doc(hidden)]
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Probe(PhantomData)
    }
}

impl<T> Clone for Probe<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Probe<T> {}

/// The traits the generated code glob-imports to ask a [`Probe`], under names that
/// cannot shadow the user's (a glob import in the generated block would hide a user type
/// of the same name used in the return type).
#[doc(hidden)]
pub mod probe {
    pub use super::WithCodec as __DaskWithCodec;
    pub use super::WithoutCodec as __DaskWithoutCodec;
}

/// The fallback: found when `&Probe<T>` has no [`WithCodec`] impl (one auto-deref later).
#[doc(hidden)]
pub trait WithoutCodec {
    fn codec(self) -> Option<&'static Codec>;
}

impl<T> WithoutCodec for Probe<T> {
    #[inline]
    fn codec(self) -> Option<&'static Codec> {
        None
    }
}

/// Found first, at the receiver's own type `&Probe<T>`, when `T` is serializable.
#[doc(hidden)]
pub trait WithCodec {
    fn codec(self) -> Option<&'static Codec>;
}

impl<T> WithCodec for &Probe<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    #[inline]
    fn codec(self) -> Option<&'static Codec> {
        Some(&SerdeCodec::<T>::CODEC)
    }
}

/// The codec of a type known to be serde here (no probe needed): `Memory`'s cached nodes.
pub(crate) fn serde_codec<T>() -> Option<&'static Codec>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    Some(&SerdeCodec::<T>::CODEC)
}

struct SerdeCodec<T>(PhantomData<fn() -> T>);

impl<T> SerdeCodec<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    const CODEC: Codec = Codec::new(encode::<T>, decode::<T>);
}

fn encode<T: serde::Serialize + 'static>(
    value: &(dyn std::any::Any + Send + Sync),
) -> Result<Vec<u8>, String> {
    let value = value
        .downcast_ref::<T>()
        .ok_or_else(|| format!("result is not a {}", std::any::type_name::<T>()))?;
    // `Serialize` is user code: a panic in it must fail the task, not the worker.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| postcard::to_stdvec(value)))
        .map_err(|payload| {
            format!(
                "serializing it panicked: {}",
                crate::error::panic_message(payload)
            )
        })?
        .map_err(|e| e.to_string())
}

fn decode<T: serde::de::DeserializeOwned + Send + Sync + 'static>(
    bytes: &[u8],
) -> Result<crate::task_value::TaskValue, String> {
    // `Deserialize` is user code too, run on the thread that receives the value.
    std::panic::catch_unwind(|| postcard::from_bytes::<T>(bytes))
        .map_err(|payload| {
            format!(
                "deserializing it panicked: {}",
                crate::error::panic_message(payload)
            )
        })?
        .map(crate::task_value::TaskValue::new)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::probe::*;
    use super::Probe;

    struct Opaque;

    #[crate::delayed]
    fn plus_one(x: u64) -> u64 {
        x + 1
    }

    #[test]
    fn asking_costs_no_memory_per_node() {
        // The same task built by `#[delayed]` (which passes its probing closure) and by
        // hand with `no_codec` (nothing to probe): equal sizes, so the probe stores
        // nothing in the node.
        let by_macro = plus_one(1u64);
        let by_hand = crate::__private::task(
            &crate::__private::test_spec("plus_one", "tests::plus_one", 0),
            None,
            (crate::IntoArg::<u64>::into_arg(1u64),),
            |args, inputs| Ok(args.0.owned(inputs)? + 1),
            crate::node::no_codec,
        );
        assert_eq!(
            std::mem::size_of_val(by_macro.node()),
            std::mem::size_of_val(by_hand.node())
        );
        assert_eq!(by_macro.compute().unwrap(), 2);
    }

    #[test]
    fn probe_answers_by_type() {
        // The borrow is the mechanism: `&Probe<T>` finds the serde impl first.
        let opaque = &Probe::<Opaque>::new();
        assert!(opaque.codec().is_none());
        let serde = &Probe::<Vec<u64>>::new();
        let codec = serde.codec().expect("serde type");
        let bytes = codec.encode(&vec![1u64, 2, 3]).unwrap();
        let back = codec.decode(&bytes).unwrap();
        assert_eq!(
            back.as_any().downcast_ref::<Vec<u64>>(),
            Some(&vec![1, 2, 3])
        );
    }

    /// `Serialize` and `Deserialize` are user code; their panics come back as errors.
    #[test]
    fn panicking_serde_impls_are_errors() {
        struct Brittle;

        impl serde::Serialize for Brittle {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                panic!("cannot write a Brittle")
            }
        }

        impl<'de> serde::Deserialize<'de> for Brittle {
            fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                panic!("cannot read a Brittle")
            }
        }

        let codec = (&Probe::<Brittle>::new()).codec().expect("serde type");
        let err = codec.encode(&Brittle).unwrap_err();
        assert_eq!(err, "serializing it panicked: cannot write a Brittle");
        let err = codec.decode(&[0u8]).unwrap_err();
        assert_eq!(err, "deserializing it panicked: cannot read a Brittle");
    }
}
