//! A task's result without its type: in place when it is small, boxed otherwise.
//!
//! Most tasks of fine-grained graphs return numbers, short tuples, `Arc`s or `Vec`
//! headers. Boxing each of them cost a `malloc` and a `free` per task, about a third of
//! the scheduler's own time per task in a chain of `u64`s (callgrind). A value of at most
//! two machine words, aligned no more than a word, is stored inline instead.

use std::any::Any;
use std::mem::{ManuallyDrop, MaybeUninit};

/// Room for an inline value: two words, word-aligned.
type Words = [usize; 2];

/// An owned value of some `'static + Send + Sync` type, known again only by downcasting.
/// (Public only because the hidden `NodeDyn` trait names it.)
#[doc(hidden)]
pub struct TaskValue(Repr);

enum Repr {
    Inline(Inline),
    Boxed(Box<dyn Any + Send + Sync>),
}

impl std::fmt::Debug for TaskValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Repr::Inline(_) => "TaskValue(inline)",
            Repr::Boxed(_) => "TaskValue(boxed)",
        })
    }
}

impl TaskValue {
    /// Stores `value` inline when it fits, else in a box.
    #[inline]
    pub(crate) fn new<T: Any + Send + Sync>(value: T) -> Self {
        TaskValue(if Inline::fits::<T>() {
            Repr::Inline(Inline::new(value))
        } else {
            Repr::Boxed(Box::new(value))
        })
    }

    #[inline]
    pub(crate) fn as_any(&self) -> &(dyn Any + Send + Sync) {
        match &self.0 {
            Repr::Inline(inline) => inline.as_any(),
            Repr::Boxed(boxed) => &**boxed,
        }
    }

    /// The value, when it is a `T`.
    #[inline]
    pub(crate) fn take<T: 'static>(self) -> Option<T> {
        match self.0 {
            Repr::Inline(inline) => inline.take::<T>(),
            Repr::Boxed(boxed) => boxed.downcast::<T>().ok().map(|b| *b),
        }
    }
}

/// A value stored in two words, with the one function that knows its type: it turns a
/// pointer to the storage into a `dyn Any` pointer, which gives the type id (for
/// downcasting) and the drop glue.
struct Inline {
    storage: MaybeUninit<Words>,
    erase: fn(*mut u8) -> *mut (dyn Any + Send + Sync),
}

fn erase<T: Any + Send + Sync>(p: *mut u8) -> *mut (dyn Any + Send + Sync) {
    p.cast::<T>() as *mut (dyn Any + Send + Sync)
}

impl Inline {
    /// Whether a `T` can be stored inline.
    #[inline]
    const fn fits<T>() -> bool {
        std::mem::size_of::<T>() <= std::mem::size_of::<Words>()
            && std::mem::align_of::<T>() <= std::mem::align_of::<Words>()
    }

    #[inline]
    fn new<T: Any + Send + Sync>(value: T) -> Self {
        assert!(Self::fits::<T>(), "only small values are stored inline");
        let mut storage = MaybeUninit::<Words>::uninit();
        // SAFETY: `fits` checked that a `T` fits in the storage's size and alignment;
        // the storage is fresh, so nothing is overwritten without being dropped.
        unsafe { storage.as_mut_ptr().cast::<T>().write(value) };
        Inline {
            storage,
            erase: erase::<T>,
        }
    }

    #[inline]
    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        let p = (self.erase)(self.storage.as_ptr().cast_mut().cast());
        // SAFETY: `storage` holds an initialized value of the type `erase` was made for
        // (set together in `new`, and `take` forgets `self` after moving it out); the
        // reference is shared and lives no longer than `&self`.
        unsafe { &*p }
    }

    #[inline]
    fn take<T: 'static>(self) -> Option<T> {
        if !self.as_any().is::<T>() {
            return None;
        }
        let this = ManuallyDrop::new(self);
        // SAFETY: the storage holds an initialized `T` (checked just above). `this` is
        // never dropped, so the value is moved out exactly once.
        Some(unsafe { this.storage.as_ptr().cast::<T>().read() })
    }
}

impl Drop for Inline {
    fn drop(&mut self) {
        let p = (self.erase)(self.storage.as_mut_ptr().cast());
        // SAFETY: the storage holds an initialized value of `erase`'s type, dropped here
        // once (`take` never lets its `Inline` reach this drop).
        unsafe { std::ptr::drop_in_place(p) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    static DROPS: AtomicUsize = AtomicUsize::new(0);

    struct Counted(u32);
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn small_values_go_inline_and_big_or_overaligned_ones_in_a_box() {
        assert!(matches!(TaskValue::new(7u64).0, Repr::Inline(_)));
        assert!(matches!(TaskValue::new((1.5f64, 2u64)).0, Repr::Inline(_)));
        assert!(matches!(TaskValue::new(()).0, Repr::Inline(_)));
        assert!(matches!(TaskValue::new(vec![1u8]).0, Repr::Boxed(_)));
        assert!(matches!(TaskValue::new([0u64; 3]).0, Repr::Boxed(_)));
        #[repr(align(32))]
        struct Overaligned;
        assert!(matches!(TaskValue::new(Overaligned).0, Repr::Boxed(_)));
    }

    #[test]
    fn values_come_back_only_as_their_own_type() {
        let v = TaskValue::new(41u32);
        assert_eq!(v.as_any().downcast_ref::<u32>(), Some(&41));
        assert_eq!(v.as_any().downcast_ref::<u64>(), None);
        assert_eq!(TaskValue::new(41u32).take::<u64>(), None);
        assert_eq!(TaskValue::new(41u32).take::<u32>(), Some(41));
        let s: Arc<str> = Arc::from("shared");
        let v = TaskValue::new(Arc::clone(&s));
        assert_eq!(Arc::strong_count(&s), 2);
        assert_eq!(&*v.take::<Arc<str>>().unwrap(), "shared");
        let big = TaskValue::new(String::from("boxed"));
        assert_eq!(
            big.as_any().downcast_ref::<String>().map(String::as_str),
            Some("boxed")
        );
        assert_eq!(big.take::<String>().as_deref(), Some("boxed"));
    }

    #[test]
    fn every_value_is_dropped_exactly_once() {
        let before = DROPS.load(Ordering::SeqCst);
        drop(TaskValue::new(Counted(1)));
        assert_eq!(DROPS.load(Ordering::SeqCst), before + 1);
        let taken = TaskValue::new(Counted(2)).take::<Counted>().unwrap();
        assert_eq!(
            DROPS.load(Ordering::SeqCst),
            before + 1,
            "taking does not drop"
        );
        assert_eq!(taken.0, 2);
        drop(taken);
        assert_eq!(DROPS.load(Ordering::SeqCst), before + 2);
        // A failed downcast drops the value with its own type's glue.
        assert!(TaskValue::new(Counted(3)).take::<u32>().is_none());
        assert_eq!(DROPS.load(Ordering::SeqCst), before + 3);
        // A value that owns memory (an `Arc`) is released when dropped inline.
        let shared = Arc::new(5u8);
        drop(TaskValue::new(Arc::clone(&shared)));
        assert_eq!(Arc::strong_count(&shared), 1);
    }
}
