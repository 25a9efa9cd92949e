//! Code generation for `#[delayed]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, GenericParam, ItemFn, Pat, PathArguments, ReturnType, Type};

use crate::attr::DelayedArgs;

/// The runtime accepts tuples of up to this many arguments.
const MAX_PARAMS: usize = 12;

/// How the task receives one parameter.
enum Access {
    /// `T`: moved out of the upstream result when last reader, cloned otherwise.
    Owned,
    /// `&T`: a reference into the upstream result.
    Borrowed,
}

struct Param {
    /// Name of the builder's parameter.
    name: syn::Ident,
    /// What the graph stores: the parameter's type without the reference (`&str` is
    /// stored as `String`, `&[T]` as `Vec<T>`).
    storage: Type,
    access: Access,
}

fn error(span: Span, message: &str) -> syn::Error {
    syn::Error::new(span, message)
}

pub(crate) fn expand(args: &DelayedArgs, func: ItemFn) -> syn::Result<TokenStream> {
    let sig = &func.sig;
    if let Some(t) = &sig.asyncness {
        return Err(error(t.span(), "`#[delayed]` cannot make an `async fn` lazy: tasks run on worker threads; make it a plain `fn`"));
    }
    if let Some(t) = &sig.unsafety {
        return Err(error(t.span(), "`#[delayed]` cannot wrap an `unsafe fn`: the scheduler calls it with no way to uphold its contract; wrap the unsafe call in a safe function"));
    }
    if let Some(abi) = &sig.abi {
        return Err(error(abi.span(), "`#[delayed]` cannot wrap a function with an explicit ABI; wrap it in a Rust function"));
    }
    if let Some(v) = &sig.variadic {
        return Err(error(v.span(), "`#[delayed]` cannot wrap a variadic function"));
    }
    for param in &sig.generics.params {
        if let GenericParam::Lifetime(l) = param {
            return Err(error(l.span(), "`#[delayed]` functions cannot have lifetime parameters: task inputs live in the graph, so they must be owned (`T`) or borrowed from an upstream task (`&T`)"));
        }
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        check_stored_type(ty, "return")?;
    }

    let mut params = Vec::new();
    for (i, input) in sig.inputs.iter().enumerate() {
        let typed = match input {
            FnArg::Receiver(r) => {
                return Err(error(r.span(), "`#[delayed]` works on free functions, not methods: take the value as an ordinary parameter instead of `self`"));
            }
            FnArg::Typed(t) => t,
        };
        if i == MAX_PARAMS {
            return Err(error(typed.span(), "`#[delayed]` functions take at most 12 parameters: group some into a struct or tuple"));
        }
        let name = match &*typed.pat {
            Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => p.ident.clone(),
            _ => format_ident!("__dask_arg{}", i),
        };
        let (storage, access) = match &*typed.ty {
            Type::Reference(r) => {
                if let Some(m) = &r.mutability {
                    return Err(error(m.span(), "`#[delayed]` cannot take `&mut` parameters: tasks share their inputs; take the value (`T`) to own a copy"));
                }
                if let Some(l) = &r.lifetime {
                    return Err(error(l.span(), "`#[delayed]` parameters cannot name lifetimes: write `&T` to borrow the upstream result"));
                }
                (stored_for_borrow(&r.elem)?, Access::Borrowed)
            }
            ty => {
                check_stored_type(ty, "parameter")?;
                (ty.clone(), Access::Owned)
            }
        };
        params.push(Param { name, storage, access });
    }

    let name = &sig.ident;
    let vis = &func.vis;
    let eager_name = format_ident!("{}_eager", name);
    let display = args
        .name
        .as_ref()
        .map(|l| l.value())
        .unwrap_or_else(|| name.to_string());
    let path_tail = format!("::{name}");

    let (impl_generics, type_generics, where_clause) = sig.generics.split_for_impl();
    let turbofish = type_generics.as_turbofish();
    let mut predicates: Vec<TokenStream> = where_clause
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();

    let (ret_ty, fallible) = match &sig.output {
        ReturnType::Default => (quote!(()), false),
        ReturnType::Type(_, ty) => (quote!(#ty), is_result(ty)),
    };
    let output_ty = if fallible {
        let span = sig.output.span();
        predicates.push(quote_spanned!(span=> #ret_ty: ::dask::__private::FallibleReturn));
        quote_spanned!(span=> <#ret_ty as ::dask::__private::FallibleReturn>::Ok)
    } else {
        ret_ty.clone()
    };
    let output_span = sig.output.span();
    predicates.push(quote_spanned!(output_span=> #output_ty: ::core::marker::Send + ::core::marker::Sync + 'static));

    let mut builder_params = Vec::new();
    let mut packs = Vec::new();
    let mut reads = Vec::new();
    let mut call_args = Vec::new();
    let mut hashes = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let (pname, storage) = (&p.name, &p.storage);
        let span = storage.span();
        let index = syn::Index::from(i);
        let local = format_ident!("__dask_a{}", i);
        builder_params.push(quote!(#pname: impl ::dask::__private::IntoArg<#storage>));
        packs.push(quote!(::dask::__private::IntoArg::into_arg(#pname)));
        match p.access {
            Access::Owned => {
                predicates.push(quote_spanned!(span=> #storage: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static));
                reads.push(quote!(let #local = __dask_args.#index.owned(__dask_inputs)?;));
                call_args.push(quote!(#local));
            }
            Access::Borrowed => {
                predicates.push(quote_spanned!(span=> #storage: ::core::marker::Send + ::core::marker::Sync + 'static));
                reads.push(quote!(let #local = __dask_args.#index.borrowed(__dask_inputs)?;));
                call_args.push(quote!(&*#local));
            }
        }
        if args.pure {
            predicates.push(quote_spanned!(span=> #storage: ::core::hash::Hash));
            hashes.push(quote!(__dask_args.#index.stable_hash(__dask_hasher);));
        }
    }

    let pure_id = if args.pure {
        quote! {
            ::core::option::Option::Some(::dask::__private::pure_id(&__DASK_SPEC, |__dask_hasher| {
                #(#hashes)*
            }))
        }
    } else {
        quote!(::core::option::Option::None)
    };
    let call = quote!(#eager_name #turbofish(#(#call_args),*));
    let finish = if fallible {
        quote!(::dask::__private::FallibleReturn::into_task_result(#call))
    } else {
        quote!(::core::result::Result::Ok(#call))
    };

    // Documentation and conditional compilation apply to both functions; everything else
    // (`#[inline]`, lints, ...) describes the user's code, which is the eager function.
    let shared_attrs: Vec<_> = func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc") || a.path().is_ident("cfg"))
        .collect();
    let builder_doc = format!(
        " Lazy: builds a task of the graph and runs nothing; `{eager_name}` is the eager function."
    );
    let mut eager = func.clone();
    eager.sig.ident = eager_name.clone();
    let where_tokens = if predicates.is_empty() {
        quote!()
    } else {
        quote!(where #(#predicates),*)
    };

    Ok(quote! {
        #eager

        #(#shared_attrs)*
        #[doc = ""]
        #[doc = #builder_doc]
        #[allow(clippy::too_many_arguments)]
        #vis fn #name #impl_generics (#(#builder_params),*) -> ::dask::Delayed<#output_ty> #where_tokens {
            static __DASK_SPEC: ::dask::__private::TaskSpec = ::dask::__private::TaskSpec {
                name: #display,
                path: ::core::concat!(::core::module_path!(), #path_tail),
            };
            let __dask_args = (#(#packs,)*);
            let __dask_pure = #pure_id;
            ::dask::__private::task(&__DASK_SPEC, __dask_pure, __dask_args, |__dask_args, __dask_inputs| {
                #(#reads)*
                #finish
            })
        }
    })
}

/// What a borrowed parameter's upstream result is stored as.
fn stored_for_borrow(elem: &Type) -> syn::Result<Type> {
    match elem {
        Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => Ok(syn::parse_quote!(::std::string::String)),
        Type::Slice(s) => {
            check_stored_type(&s.elem, "parameter")?;
            let inner = &s.elem;
            Ok(syn::parse_quote!(::std::vec::Vec<#inner>))
        }
        ty => {
            check_stored_type(ty, "parameter")?;
            Ok(ty.clone())
        }
    }
}

/// Refuses types the graph cannot store: references below the top level, borrowed
/// lifetimes, `impl Trait`.
fn check_stored_type(ty: &Type, role: &str) -> syn::Result<()> {
    match ty {
        Type::Reference(r) => Err(error(
            r.span(),
            &format!("`#[delayed]` {role} types cannot contain references (only a whole parameter may be `&T`): values in the graph must be owned"),
        )),
        Type::ImplTrait(t) => Err(error(
            t.span(),
            &format!("`#[delayed]` cannot use `impl Trait` in {role} position: name the type or add a generic parameter"),
        )),
        Type::Paren(p) => check_stored_type(&p.elem, role),
        Type::Group(g) => check_stored_type(&g.elem, role),
        Type::Slice(s) => check_stored_type(&s.elem, role),
        Type::Array(a) => check_stored_type(&a.elem, role),
        Type::Ptr(p) => check_stored_type(&p.elem, role),
        Type::Tuple(t) => t.elems.iter().try_for_each(|e| check_stored_type(e, role)),
        Type::Path(p) => {
            if let Some(q) = &p.qself {
                check_stored_type(&q.ty, role)?;
            }
            for segment in &p.path.segments {
                if let PathArguments::AngleBracketed(a) = &segment.arguments {
                    for arg in &a.args {
                        match arg {
                            GenericArgument::Type(t) => check_stored_type(t, role)?,
                            GenericArgument::Lifetime(l) if l.ident != "static" => {
                                return Err(error(
                                    l.span(),
                                    &format!("`#[delayed]` {role} types cannot borrow (`'{}`): values in the graph must be owned or `'static`", l.ident),
                                ))
                            }
                            _ => {}
                        }
                    }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A return type whose last path segment is `Result` makes the task fallible.
fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Result"),
        Type::Group(g) => is_result(&g.elem),
        Type::Paren(p) => is_result(&p.elem),
        _ => false,
    }
}
