//! How a task's result says its size in bytes, for the dashboard's "results held".
//!
//! The executor holds results without their types, and Rust cannot ask a type whether
//! it has a size method. So the constructor of a task, where the result type is still
//! concrete, picks a [`Sizer`]: most tasks take [`NoSize`] (zero-sized, nothing stored
//! per node, nothing run), and a collection whose chunks can say their size passes its
//! own sizer (an array block counts its elements, an Arrow batch its buffers). The core
//! knows no collection: each collection implements [`Sizer`] on its side.
//!
//! A size is only measured when an observer asks for it (see `observer::Interest`), so
//! a computation nobody watches pays nothing.

/// Measures a result of type `R`, when it can.
pub(crate) trait Sizer<R>: Send + Sync + 'static {
    /// Whether [`size`](Self::size) can ever answer: when not, a node skips even
    /// finding its result's type.
    const MEASURES: bool = true;

    /// The bytes `value` holds (its heap buffers included), or `None` when unknown.
    fn size(&self, value: &R) -> Option<u64>;
}

/// The sizer of results whose size is not known.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NoSize;

impl<R> Sizer<R> for NoSize {
    const MEASURES: bool = false;

    #[inline]
    fn size(&self, _value: &R) -> Option<u64> {
        None
    }
}

/// The sizer of results that hold no heap memory of their own (numbers, small
/// `Copy` structs): their size is the type's. (Tests build sized graphs with it; the
/// collections have sizers of their own.)
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct InlineSize;

#[cfg(test)]
impl<R: Copy> Sizer<R> for InlineSize {
    #[inline]
    fn size(&self, _value: &R) -> Option<u64> {
        Some(std::mem::size_of::<R>() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_measure_their_type_and_unknown_stays_unknown() {
        assert_eq!(InlineSize.size(&3u64), Some(8));
        assert_eq!(InlineSize.size(&(1u8, 2u32)), Some(8));
        assert_eq!(NoSize.size(&vec![1u8; 100]), None);
    }
}
