//! The input items and the result slots of a parallel map, shared by its workers.
//!
//! Workers claim disjoint index ranges (see `map`), so each index is read from the input
//! and written to the output by exactly one worker. Neither buffer knows which of its
//! elements are live; the map tracks that and tells them what to drop. Both own only
//! their allocation.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Range;

/// The items of a map, moved out one by one by the workers.
pub(crate) struct Items<I> {
    ptr: *mut I,
    /// 0 once the results took the allocation over.
    cap: usize,
    _owns: PhantomData<I>,
}

// SAFETY: an `Items` hands each element to exactly one thread (the one that claimed its
// index), which is moving an `I` to that thread: sound when `I: Send`. The buffer itself
// is only freed by its owner after the workers are done.
unsafe impl<I: Send> Send for Items<I> {}
unsafe impl<I: Send> Sync for Items<I> {}

impl<I> Items<I> {
    /// Takes over `items`; every element is then live until `take` or `drop_range`.
    pub(crate) fn new(items: Vec<I>) -> (Self, usize) {
        let mut items = ManuallyDrop::new(items);
        let len = items.len();
        let buffer = Items {
            ptr: items.as_mut_ptr(),
            cap: items.capacity(),
            _owns: PhantomData,
        };
        (buffer, len)
    }

    /// Moves item `index` out.
    ///
    /// # Safety
    /// `index` is below the length given by `new`, its item is live, and no other call
    /// takes or drops it (the caller claimed it).
    #[inline]
    pub(crate) unsafe fn take(&self, index: usize) -> I {
        // SAFETY: in bounds and live, by the contract; reading moves it out, and the
        // contract keeps anyone from reading or dropping it again.
        unsafe { self.ptr.add(index).read() }
    }

    /// Drops the items in `range`.
    ///
    /// # Safety
    /// As for `take`, for every index of `range`.
    pub(crate) unsafe fn drop_range(&mut self, range: Range<usize>) {
        // SAFETY: in bounds, live and not used by anyone else, by the contract.
        unsafe { drop_elements(self.ptr, range) }
    }
}

impl<I> Drop for Items<I> {
    fn drop(&mut self) {
        if self.cap == 0 {
            return; // never allocated, or the results own the allocation now
        }
        // SAFETY: `ptr` and `cap` come from a `Vec<I>` that was not freed; its elements
        // were taken, dropped or deliberately leaked.
        unsafe { free(self.ptr, self.cap) }
    }
}

/// The results of a map, written at their item's index.
pub(crate) struct Results<R> {
    ptr: *mut R,
    cap: usize,
    _owns: PhantomData<R>,
}

// SAFETY: each slot is written by exactly one worker (the one that claimed its index),
// which moves an `R` from that worker to the owner: sound when `R: Send`.
unsafe impl<R: Send> Send for Results<R> {}
unsafe impl<R: Send> Sync for Results<R> {}

impl<R> Results<R> {
    /// Result slots for `items`, in their allocation when the layouts allow it.
    pub(crate) fn for_items<I>(items: &mut Items<I>, len: usize) -> Self {
        let same_layout = std::mem::size_of::<I>() == std::mem::size_of::<R>()
            && std::mem::align_of::<I>() == std::mem::align_of::<R>()
            && std::mem::size_of::<R>() != 0;
        if !same_layout || items.cap == 0 {
            return Results::new(len);
        }
        let cap = std::mem::replace(&mut items.cap, 0);
        Results {
            ptr: items.ptr.cast::<R>(),
            cap,
            _owns: PhantomData,
        }
    }

    fn new(len: usize) -> Self {
        let mut slots = ManuallyDrop::new(Vec::<R>::with_capacity(len));
        Results {
            ptr: slots.as_mut_ptr(),
            cap: slots.capacity(),
            _owns: PhantomData,
        }
    }

    /// Stores the result of item `index`.
    ///
    /// # Safety
    /// `index` is below the length given to `new` and nobody else writes it (the caller
    /// claimed it). A slot written twice would leak, not corrupt, but the map never does.
    #[inline]
    pub(crate) unsafe fn write(&self, index: usize, value: R) {
        // SAFETY: in bounds of the allocation (capacity >= len) and not accessed by
        // any other thread, by the contract.
        unsafe { self.ptr.add(index).write(value) }
    }

    /// The results as a `Vec`.
    ///
    /// # Safety
    /// Every slot below `len` was written, and every write happened before this call.
    pub(crate) unsafe fn into_vec(self, len: usize) -> Vec<R> {
        let this = ManuallyDrop::new(self);
        // SAFETY: the allocation came from a `Vec<R>` of capacity `cap`, and its first
        // `len` elements are initialised, by the contract.
        unsafe { Vec::from_raw_parts(this.ptr, len, this.cap) }
    }

    /// Drops the results in `range`.
    ///
    /// # Safety
    /// Every slot of `range` was written and is dropped only here.
    pub(crate) unsafe fn drop_range(&mut self, range: Range<usize>) {
        // SAFETY: initialised and not dropped elsewhere, by the contract.
        unsafe { drop_elements(self.ptr, range) }
    }
}

impl<R> Drop for Results<R> {
    fn drop(&mut self) {
        // SAFETY: as for `Items`. When it was the items' allocation, it has the layout of
        // `cap` `R`s too: same size and alignment per element (`for_items`).
        unsafe { free(self.ptr, self.cap) }
    }
}

/// Drops the elements of `range` in the buffer at `ptr`.
///
/// # Safety
/// Every index of `range` is in bounds, initialised, and neither used nor dropped
/// anywhere else.
unsafe fn drop_elements<T>(ptr: *mut T, range: Range<usize>) {
    if range.is_empty() {
        return;
    }
    // One by one, each under a guard: a slice's drop glue keeps dropping the rest after
    // one `Drop` panics, and a second panic during that unwinding aborts the process.
    for index in range {
        // SAFETY: by the contract; each element is read (moved out) once.
        crate::error::drop_guarded(unsafe { ptr.add(index).read() });
    }
}

/// Frees a buffer without dropping any element.
///
/// # Safety
/// `ptr` and `cap` describe an allocation of a `Vec<T>` (or one of the same layout) that
/// was not freed, and nothing uses it afterwards.
unsafe fn free<T>(ptr: *mut T, cap: usize) {
    // SAFETY: by the contract; with length 0 the `Vec` drops no element.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, cap) });
}
