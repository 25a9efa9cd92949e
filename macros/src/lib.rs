//! The `#[delayed]` attribute of the `dask` crate (documented there, with examples).
//!
//! For `fn f(a: A, b: &B) -> R` it emits the original function renamed `f_eager`, and a
//! builder `f(a: impl IntoArg<A>, b: impl IntoArg<B>) -> Delayed<R>` that packs the
//! arguments and a closure reading them back (`owned` for `A`, `borrowed` for `&B`) into a
//! task node through `::dask::__private`. Forms it cannot support are refused with an
//! error at the offending tokens, emitted next to the unchanged item.

mod attr;
mod expand;

use proc_macro::TokenStream;

#[proc_macro_attribute]
pub fn delayed(args: TokenStream, item: TokenStream) -> TokenStream {
    let original: proc_macro2::TokenStream = item.clone().into();
    let result = syn::parse::<attr::DelayedArgs>(args)
        .and_then(|args| Ok((args, syn::parse::<syn::ItemFn>(item)?)))
        .and_then(|(args, func)| expand::expand(&args, func));
    match result {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let error = error.to_compile_error();
            quote::quote!(#original #error).into()
        }
    }
}
