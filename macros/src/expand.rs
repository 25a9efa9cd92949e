//! Code generation: the eager function, renamed, and the lazy builder under the original
//! name, which packs its arguments and a closure calling the eager function into a task
//! node through `::dask::__private`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{GenericParam, Item, ItemFn, Type, WherePredicate};

use crate::args::DelayedArgs;
use crate::signature::{Passing, TaskOutput, TaskSignature};

pub(crate) fn delayed(args: TokenStream, item: TokenStream) -> TokenStream {
    let (args, args_error) = DelayedArgs::parse_lenient(args);
    let function = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(function)) => function,
        Ok(other) => return refuse(item, args_error, not_a_function(&other)),
        Err(error) => return refuse(item, args_error, error),
    };
    let signature = match TaskSignature::read(&function.sig) {
        Ok(signature) => signature,
        Err(error) => return refuse(item, args_error, error),
    };
    // A bad option still expands with the others, so calls keep type-checking and the
    // user sees one error at the option.
    let mut tokens = generate(&function, &signature, &args);
    if let Some(error) = args_error {
        tokens.extend(error.to_compile_error());
    }
    tokens
}

/// The item unchanged, so the rest of the crate (and the IDE) still sees the function,
/// next to the errors.
fn refuse(item: TokenStream, first: Option<syn::Error>, error: syn::Error) -> TokenStream {
    let error = match first {
        Some(mut all) => {
            all.combine(error);
            all
        }
        None => error,
    };
    let error = error.to_compile_error();
    quote!(#item #error)
}

fn not_a_function(item: &Item) -> syn::Error {
    let keyword = match item {
        Item::Const(i) => i.const_token.to_token_stream(),
        Item::Enum(i) => i.enum_token.to_token_stream(),
        Item::ExternCrate(i) => i.extern_token.to_token_stream(),
        Item::ForeignMod(i) => i.abi.to_token_stream(),
        Item::Impl(i) => i.impl_token.to_token_stream(),
        Item::Macro(i) => i.mac.path.to_token_stream(),
        Item::Mod(i) => i.mod_token.to_token_stream(),
        Item::Static(i) => i.static_token.to_token_stream(),
        Item::Struct(i) => i.struct_token.to_token_stream(),
        Item::Trait(i) => i.trait_token.to_token_stream(),
        Item::TraitAlias(i) => i.trait_token.to_token_stream(),
        Item::Type(i) => i.type_token.to_token_stream(),
        Item::Union(i) => i.union_token.to_token_stream(),
        Item::Use(i) => i.use_token.to_token_stream(),
        other => other.to_token_stream(),
    };
    syn::Error::new_spanned(
        keyword,
        "`#[delayed]` applies to free functions with a body (`fn name(...) -> T { ... }`); \
         to put a value in the graph, use `dask::delayed(value)`",
    )
}

fn generate(function: &ItemFn, signature: &TaskSignature, args: &DelayedArgs) -> TokenStream {
    let name = &function.sig.ident;
    let eager_name = format_ident!("{}_eager", syn::ext::IdentExt::unraw(name), span = name.span());
    let mut eager = function.clone();
    eager.sig.ident = eager_name.clone();

    let display_name = match &args.name {
        Some(literal) => literal.clone(),
        None => syn::LitStr::new(&syn::ext::IdentExt::unraw(name).to_string(), name.span()),
    };
    let path_tail = format!("::{}", syn::ext::IdentExt::unraw(name));
    let pure = args.pure.is_some();

    let mut predicates: Vec<TokenStream> = Vec::new();
    let mut builder_params = Vec::new();
    let mut packed_args = Vec::new();
    let mut reads = Vec::new();
    let mut call_args = Vec::new();
    let mut hashes = Vec::new();
    for (index, param) in signature.params.iter().enumerate() {
        let (builder_name, stored) = (&param.builder_name, &param.stored);
        let span = last_span(stored);
        let position = syn::Index::from(index);
        let local = format_ident!("__dask_a{}", index);
        builder_params.push(quote!(#builder_name: impl ::dask::__private::IntoArg<#stored>));
        packed_args.push(quote!(::dask::__private::IntoArg::into_arg(#builder_name)));
        let hash = if pure {
            quote_spanned!(span=> + ::core::hash::Hash)
        } else {
            TokenStream::new()
        };
        match param.passing {
            Passing::Owned => {
                // Owned: even an embedded value is cloned, because a task can run again.
                predicates.push(quote_spanned! {span=>
                    #stored: ::core::clone::Clone + ::core::marker::Send
                        + ::core::marker::Sync + 'static #hash
                });
                reads.push(quote! {
                    let #local = ::dask::__private::Arg::owned(&__dask_args.#position, __dask_inputs)?;
                });
                call_args.push(quote!(#local));
            }
            Passing::Borrowed => {
                predicates.push(quote_spanned! {span=>
                    #stored: ::core::marker::Send + ::core::marker::Sync + 'static #hash
                });
                reads.push(quote! {
                    let #local = ::dask::__private::Arg::borrowed(&__dask_args.#position, __dask_inputs)?;
                });
                call_args.push(quote!(&*#local));
            }
        }
        hashes.push(quote! {
            ::dask::__private::Arg::stable_hash(&__dask_args.#position, __dask_hasher);
        });
    }

    let (output, finish) = output(&signature.output, &mut predicates);

    let generics = &function.sig.generics;
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let user_predicates = where_clause
        .into_iter()
        .flat_map(|clause| clause.predicates.iter().map(WherePredicate::to_token_stream));
    let predicates: Vec<TokenStream> = user_predicates.chain(predicates).collect();
    let where_clause = if predicates.is_empty() {
        TokenStream::new()
    } else {
        quote!(where #(#predicates),*)
    };
    // Explicit, so inference never has to guess from the task's stored types.
    let generic_args: Vec<&syn::Ident> = generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(ty) => Some(&ty.ident),
            GenericParam::Const(constant) => Some(&constant.ident),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    let turbofish = if generic_args.is_empty() {
        TokenStream::new()
    } else {
        quote!(::<#(#generic_args),*>)
    };
    let call = quote!(#eager_name #turbofish(#(#call_args),*));
    let finish = finish(call);

    let pure_id = if pure {
        let hasher = if hashes.is_empty() {
            quote!(_)
        } else {
            quote!(__dask_hasher)
        };
        quote! {
            ::core::option::Option::Some(::dask::__private::pure_id(
                &__DASK_SPEC,
                |#hasher: &mut ::dask::__private::StableHasher| { #(#hashes)* },
            ))
        }
    } else {
        quote!(::core::option::Option::None)
    };

    let builder_attrs = builder_attributes(function, &eager_name);
    let vis = &function.vis;
    quote! {
        #eager

        #(#builder_attrs)*
        #[must_use = "a delayed call runs nothing until its result is computed"]
        #vis fn #name #impl_generics (#(#builder_params),*) -> ::dask::Delayed<#output>
        #where_clause
        {
            static __DASK_SPEC: ::dask::__private::TaskSpec = ::dask::__private::TaskSpec {
                name: #display_name,
                path: ::core::concat!(::core::module_path!(), #path_tail),
            };
            let __dask_args = (#(#packed_args,)*);
            let __dask_pure = #pure_id;
            ::dask::__private::task(
                &__DASK_SPEC,
                __dask_pure,
                __dask_args,
                |__dask_args, __dask_inputs| {
                    #(#reads)*
                    #finish
                },
            )
        }
    }
}

type Finish = fn(TokenStream) -> TokenStream;

/// The builder's output type and how the task turns the eager call into its outcome.
fn output(output: &TaskOutput, predicates: &mut Vec<TokenStream>) -> (TokenStream, Finish) {
    fn ok(call: TokenStream) -> TokenStream {
        quote!(::core::result::Result::Ok(#call))
    }
    fn fallible(call: TokenStream) -> TokenStream {
        quote!(::dask::__private::FallibleReturn::into_task_result(#call))
    }
    match output {
        TaskOutput::Unit => (quote!(()), ok),
        TaskOutput::Value(ty) => {
            predicates.push(output_bound(ty, ty.to_token_stream()));
            (ty.to_token_stream(), ok)
        }
        TaskOutput::Fallible(ty) => {
            let (start, end) = (syn::spanned::Spanned::span(ty), last_span(ty));
            let open = quote_spanned!(start=> <);
            let value =
                quote_spanned!(end=> #open #ty as ::dask::__private::FallibleReturn>::Ok);
            predicates.push(quote_spanned!(end=> #ty: ::dask::__private::FallibleReturn));
            predicates.push(output_bound(ty, value.clone()));
            (value, fallible)
        }
    }
}

fn output_bound(declared: &Type, value: TokenStream) -> TokenStream {
    let span = last_span(declared);
    quote_spanned!(span=> #value: ::core::marker::Send + ::core::marker::Sync + 'static)
}

/// The span of a type's last token. Bounds are spanned there: with the type's own tokens
/// in front, rustc then reports a missing bound under the whole type (on stable a span
/// cannot be joined by hand).
fn last_span(ty: &Type) -> Span {
    match ty.to_token_stream().into_iter().last() {
        Some(proc_macro2::TokenTree::Group(group)) => group.span_close(),
        Some(token) => token.span(),
        None => Span::call_site(),
    }
}

/// What the builder shares with the user's function: its documentation (with a line on
/// laziness), `#[cfg]` (both exist or neither does), lint levels and deprecation. The
/// rest (`#[inline]`, `#[must_use]`, ...) describes the eager function only.
fn builder_attributes(function: &ItemFn, eager_name: &syn::Ident) -> Vec<TokenStream> {
    const SHARED: [&str; 7] = ["doc", "cfg", "allow", "warn", "deny", "forbid", "deprecated"];
    let shared = function
        .attrs
        .iter()
        .filter(|attr| SHARED.iter().any(|name| attr.path().is_ident(name)));
    let mut attrs: Vec<TokenStream> = shared.map(ToTokens::to_token_stream).collect();
    if function.attrs.iter().any(|attr| attr.path().is_ident("doc")) {
        attrs.push(quote!(#[doc = ""]));
    }
    let note = format!(
        " Lazy (`#[delayed]`): calling this runs nothing and returns a `Delayed` node of the \
         task graph; each argument may be a plain value, a `Delayed` or a `&Delayed`. The \
         function itself is [`{eager_name}`]."
    );
    attrs.push(quote!(#[doc = #note]));
    attrs
}
