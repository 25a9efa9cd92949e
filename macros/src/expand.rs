//! Code generation: the eager function, renamed, and the lazy builder under the original
//! name, which packs its arguments and a closure calling the eager function into a task
//! node through `::dask::__private`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{Item, ItemFn, Type};

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
    if let Some(error) = check_ignored(&args, &signature) {
        tokens.extend(error.to_compile_error());
    }
    tokens
}

/// `ignore(...)` needs `pure` and names parameters of the function.
fn check_ignored(args: &DelayedArgs, signature: &TaskSignature) -> Option<syn::Error> {
    let (keyword, names) = args.ignore.as_ref()?;
    if args.pure.is_none() {
        return Some(syn::Error::new(
            keyword.span,
            "`ignore` leaves parameters out of a pure key: write `#[delayed(pure, ignore(...))]`",
        ));
    }
    let mut errors: Option<syn::Error> = None;
    for name in names {
        if !signature.params.iter().any(|p| p.builder_name == *name) {
            let error = syn::Error::new(
                name.span(),
                format!("`{name}` is not a parameter of this function"),
            );
            match &mut errors {
                Some(all) => all.combine(error),
                None => errors = Some(error),
            }
        }
    }
    errors
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
    let eager_name = format_ident!(
        "{}_eager",
        syn::ext::IdentExt::unraw(name),
        span = name.span()
    );
    let mut eager = function.clone();
    eager.sig.ident = eager_name.clone();
    // The builder runs its own copy of the body (see below), so an eager function the
    // user never calls is not dead code worth a warning.
    eager.attrs.push(syn::parse_quote!(#[allow(dead_code)]));
    if borrows_a_vec(function) {
        // In a delayed function the parameter type also says what the graph stores, so
        // `&Vec<T>` (the style of Dask ports and of our own docs) is a choice, not the
        // oversight clippy's `ptr_arg` looks for.
        eager
            .attrs
            .push(syn::parse_quote!(#[allow(clippy::ptr_arg)]));
    }

    let display_name = match &args.name {
        Some(literal) => literal.clone(),
        None => syn::LitStr::new(&syn::ext::IdentExt::unraw(name).to_string(), name.span()),
    };
    let path_tail = format!("::{}", syn::ext::IdentExt::unraw(name));
    let retries = args.retries.unwrap_or(0);
    let pure = args.pure.is_some();
    let fingerprint = crate::fingerprint::of_function(function);

    let ignored: Vec<&syn::Ident> = args.ignore.iter().flat_map(|(_, names)| names).collect();
    let type_params: Vec<&syn::Ident> = function
        .sig
        .generics
        .type_params()
        .map(|param| &param.ident)
        .collect();
    let mut bounds = Bounds::default();
    let mut builder_params = Vec::new();
    let mut packed_args = Vec::new();
    let mut reads = Vec::new();
    let mut call_args = Vec::new();
    let mut hashes = Vec::new();
    for (index, param) in signature.params.iter().enumerate() {
        let (builder_name, stored) = (&param.builder_name, &param.stored);
        let end = last_span(stored);
        let position = syn::Index::from(index);
        let local = format_ident!("__dask_a{}", index);
        // Spanned over the user's type, so "required by this bound" points at it.
        let start = syn::spanned::Spanned::span(stored);
        let close = quote_spanned!(end=> >);
        builder_params.push(quote_spanned! {start=>
            #builder_name: impl ::dask::__private::IntoArg<#stored #close
        });
        packed_args.push(quote!(::dask::__private::IntoArg::into_arg(#builder_name)));
        match param.passing {
            Passing::Owned => {
                // Even an embedded value is cloned: a task can run again.
                bounds.require(stored, end, quote!(::core::clone::Clone));
                reads.push(quote! {
                    let #local = ::dask::__private::Arg::owned(&__dask_args.#position, __dask_inputs)?;
                });
                call_args.push(quote!(#local));
            }
            Passing::Borrowed => {
                reads.push(quote! {
                    let #local = ::dask::__private::Arg::borrowed(&__dask_args.#position, __dask_inputs)?;
                });
                call_args.push(quote!(&*#local));
            }
        }
        bounds.require_shareable(stored, end);
        if !pure || ignored.contains(&builder_name) {
            continue;
        }
        if mentions_any(stored, &type_params) {
            // A generic type: `Hash`, required from the caller like every other bound.
            bounds.require(stored, end, quote!(::core::hash::Hash));
            hashes.push(quote! {
                ::dask::__private::Arg::stable_hash(&__dask_args.#position, __dask_hasher);
            });
        } else {
            // A concrete type: `Hash` where it has it, else `KeyHash` (floats and their
            // containers), chosen by autoref; spanned at the type for the error when it
            // has neither.
            hashes.push(quote_spanned! {start=>
                (&::dask::__private::PureArg(&__dask_args.#position)).feed(__dask_hasher);
            });
        }
    }

    if pure {
        // A generic function's type and const arguments are part of its pure key: the
        // arguments' bytes alone do not tell `largest::<u64>` from `largest::<i64>` on
        // equal-looking values, and merging the two handed one reader a value of the
        // other's type.
        for param in function.sig.generics.params.iter().rev() {
            match param {
                syn::GenericParam::Type(t) => {
                    let ident = &t.ident;
                    hashes.insert(
                        0,
                        quote!(::dask::__private::feed_type::<#ident>(__dask_hasher);),
                    );
                }
                syn::GenericParam::Const(c) => {
                    let ident = &c.ident;
                    hashes.insert(0, quote!(::core::hash::Hash::hash(&#ident, __dask_hasher);));
                }
                syn::GenericParam::Lifetime(_) => {}
            }
        }
    }

    let (output, finish) = output(&signature.output, &mut bounds);

    let generics = bounds.add_to(&function.sig.generics);
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    // The task calls a copy of the body, not `f_eager` by name: in an `impl` block the
    // eager function is `Self::f_eager`, at the top level it is `f_eager`, and an
    // attribute cannot see where it stands. A closure with the same parameters and body
    // works in both (the body may use `Self::`).
    let eager_params = &function.sig.inputs;
    let eager_output = match &function.sig.output {
        syn::ReturnType::Default => quote!(-> ()),
        ret => ret.to_token_stream(),
    };
    let eager_body = &function.block;
    let call = quote!(__dask_eager(#(#call_args),*));
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
                |#hasher: &mut ::dask::__private::StableHasher| {
                    #[allow(unused_imports)]
                    use ::dask::__private::pure_arg::{ViaHash as _, ViaKeyHash as _};
                    #(#hashes)*
                },
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
            const __DASK_PATH: &str = ::core::concat!(::core::module_path!(), #path_tail);
            static __DASK_SPEC: ::dask::__private::TaskSpec = ::dask::__private::TaskSpec {
                name: #display_name,
                path: __DASK_PATH,
                retries: #retries,
                key_seed: ::dask::__private::key_seed(__DASK_PATH, #fingerprint),
            };
            let __dask_args = (#(#packed_args,)*);
            let __dask_pure = #pure_id;
            ::dask::__private::task(
                &__DASK_SPEC,
                __dask_pure,
                __dask_args,
                |__dask_args, __dask_inputs| {
                    #[allow(clippy::ptr_arg, clippy::needless_return, clippy::redundant_closure_call)]
                    let __dask_eager = |#eager_params| #eager_output #eager_body;
                    #(#reads)*
                    #finish
                },
                || {
                    // Autoref specialization: a codec when the result type is serde
                    // (feature `cluster`), `None` otherwise.
                    #[allow(unused_imports)]
                    use ::dask::__private::probe::*;
                    (&::dask::__private::Probe::<#output>::new()).codec()
                },
            )
        }
    }
}

type Finish = fn(TokenStream) -> TokenStream;

/// The builder's output type and how the task turns the eager call into its outcome.
fn output(output: &TaskOutput, bounds: &mut Bounds) -> (TokenStream, Finish) {
    fn ok(call: TokenStream) -> TokenStream {
        quote!(::core::result::Result::Ok(#call))
    }
    fn fallible(call: TokenStream) -> TokenStream {
        quote!(::dask::__private::FallibleReturn::into_task_result(#call))
    }
    match output {
        TaskOutput::Unit => (quote!(()), ok),
        TaskOutput::Value(ty) => {
            bounds.require_shareable(ty, last_span(ty));
            (ty.to_token_stream(), ok)
        }
        TaskOutput::Fallible(ty) => {
            let (start, end) = (syn::spanned::Spanned::span(ty), last_span(ty));
            bounds.require(ty, end, quote!(::dask::__private::FallibleReturn));
            let open = quote_spanned!(start=> <);
            let value: Type = syn::parse_quote_spanned! {end=>
                #open #ty as ::dask::__private::FallibleReturn>::Ok
            };
            bounds.require_shareable(&value, end);
            (value.to_token_stream(), fallible)
        }
    }
}

/// The bounds the builder adds, one entry per bounded type. A generic parameter that
/// already has bounds in `<...>` gets ours there too: clippy flags a parameter bounded
/// both inline and in the `where` clause, and would blame the user's code.
#[derive(Default)]
struct Bounds {
    /// Bounded type, the span its bounds carry, the bounds.
    entries: Vec<(Type, Span, Vec<syn::TypeParamBound>)>,
}

impl Bounds {
    /// `Send + Sync + 'static`: what a graph value needs to cross threads and outlive
    /// the builder.
    fn require_shareable(&mut self, ty: &Type, span: Span) {
        self.require(ty, span, quote!(::core::marker::Send));
        self.require(ty, span, quote!(::core::marker::Sync));
        self.require(ty, span, quote!('static));
    }

    /// Spanned at the type's last token: with the type's own tokens in front, rustc then
    /// reports a missing bound under the whole type.
    fn require(&mut self, ty: &Type, span: Span, bound: TokenStream) {
        let bound = respan(bound, span);
        let bound: syn::TypeParamBound = syn::parse_quote!(#bound);
        let key = ty.to_token_stream().to_string();
        let index = match self
            .entries
            .iter()
            .position(|(known, _, _)| known.to_token_stream().to_string() == key)
        {
            Some(index) => index,
            None => {
                self.entries.push((ty.clone(), span, Vec::new()));
                self.entries.len() - 1
            }
        };
        let list = &mut self.entries[index].2;
        let same = |known: &syn::TypeParamBound| {
            known.to_token_stream().to_string() == bound.to_token_stream().to_string()
        };
        if !list.iter().any(same) {
            list.push(bound);
        }
    }

    fn add_to(self, generics: &syn::Generics) -> syn::Generics {
        let mut generics = generics.clone();
        for (ty, span, bounds) in self.entries {
            let inline = generics.type_params_mut().find(|param| {
                !param.bounds.is_empty()
                    && matches!(&ty, Type::Path(path)
                        if path.qself.is_none() && path.path.is_ident(&param.ident))
            });
            match inline {
                Some(param) => param.bounds.extend(bounds),
                None => generics
                    .make_where_clause()
                    .predicates
                    .push(syn::parse_quote_spanned!(span=> #ty: #(#bounds)+*)),
            }
        }
        generics
    }
}

/// The span of a type's last token (on stable a span cannot be joined by hand).
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
    const SHARED: [&str; 7] = [
        "doc",
        "cfg",
        "allow",
        "warn",
        "deny",
        "forbid",
        "deprecated",
    ];
    let shared = function
        .attrs
        .iter()
        .filter(|attr| SHARED.iter().any(|name| attr.path().is_ident(name)));
    let mut attrs: Vec<TokenStream> = shared.map(ToTokens::to_token_stream).collect();
    if function
        .attrs
        .iter()
        .any(|attr| attr.path().is_ident("doc"))
    {
        attrs.push(quote!(#[doc = ""]));
    }
    let note = format!(
        " Builds a lazy task (`#[delayed]`): calling this runs nothing and returns a \
         `Delayed` node of the task graph; each argument may be a plain value, a `Delayed` \
         or a `&Delayed`. The eager version is [`{eager_name}`]."
    );
    attrs.push(quote!(#[doc = #note]));
    attrs
}

/// Our own tokens, moved to `span`. `quote_spanned!` only moves the tokens it spells
/// out, not the ones it interpolates.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            proc_macro2::TokenTree::Group(group) => {
                let mut moved =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                moved.set_span(span);
                proc_macro2::TokenTree::Group(moved)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

/// Whether a parameter is `&Vec<...>`.
fn borrows_a_vec(function: &ItemFn) -> bool {
    function.sig.inputs.iter().any(|input| match input {
        syn::FnArg::Typed(typed) => match &*typed.ty {
            syn::Type::Reference(r) => match &*r.elem {
                syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Vec"),
                _ => false,
            },
            _ => false,
        },
        syn::FnArg::Receiver(_) => false,
    })
}

/// Whether `ty` names any of `params` (a generic parameter of the function).
fn mentions_any(ty: &Type, params: &[&syn::Ident]) -> bool {
    fn walk(tokens: TokenStream, params: &[&syn::Ident]) -> bool {
        tokens.into_iter().any(|token| match token {
            proc_macro2::TokenTree::Ident(ident) => params.iter().any(|p| **p == ident),
            proc_macro2::TokenTree::Group(group) => walk(group.stream(), params),
            _ => false,
        })
    }
    !params.is_empty() && walk(ty.to_token_stream(), params)
}
