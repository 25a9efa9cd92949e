//! `#[delayed]`: see the `dask` crate.
use proc_macro::TokenStream;

#[proc_macro_attribute]
pub fn delayed(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
