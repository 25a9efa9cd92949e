//! The `#[delayed]` attribute of the `dask` crate, which documents it with examples.
//!
//! For `fn f(a: A, b: &B) -> R { body }` the attribute emits:
//!
//! ```ignore
//! fn f_eager(a: A, b: &B) -> R { body }          // the item, renamed, attributes kept
//!
//! fn f(a: impl IntoArg<A>, b: impl IntoArg<B>) -> Delayed<R>
//! where A: Clone + Send + Sync + 'static, B: Send + Sync + 'static, R: Send + Sync + 'static
//! {
//!     // a static `TaskSpec` (display name, path, source fingerprint), the arguments
//!     // packed as `Arg`s, and a closure reading them back in order: `owned` for `A`,
//!     // `borrowed` for `&B`, and calling a copy of the body.
//!     task(&SPEC, pure_id, args, |args, inputs| {
//!         let eager = |a: A, b: &B| -> R { body };
//!         Ok(eager(args.0.owned(inputs)?, &*args.1.borrowed(inputs)?))
//!     })
//! }
//! ```
//!
//! The copy is what lets the attribute work inside an `impl` block too: there the eager
//! function is `Self::f_eager`, elsewhere `f_eager`, and an attribute cannot tell which.
//!
//! Everything is reached through `::dask::__private`. A return type named `Result` makes
//! the task fallible; `pure` adds a content key (the function's path, its source
//! fingerprint from `fingerprint.rs`, and its arguments); `&str` and `&[T]` are held as
//! `String` and `Vec<T>`. What a task cannot be (methods, `async`, lifetimes, `&mut`,
//! ...) is refused with an error at the tokens to change, emitted next to the unchanged
//! item.
//!
//! Files: `args.rs` parses the options, `signature.rs` reads (or refuses) the function,
//! `fingerprint.rs` hashes its tokens, `expand.rs` writes the code.

mod args;
mod expand;
mod fingerprint;
mod signature;

use proc_macro::TokenStream;

// The documentation of the attribute, shown on `dask::delayed`. Its examples use `dask`,
// which this crate cannot depend on, so they run as the `dask` crate's doctests (it
// attaches the same file to its re-export while collecting them) and are left out of
// this crate's.
#[cfg_attr(not(doctest), doc = include_str!("delayed.md"))]
#[proc_macro_attribute]
pub fn delayed(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::delayed(args.into(), item.into()).into()
}
