//! Reads a function's signature as a task: which parameters it borrows, which it owns,
//! what it returns. Everything a task cannot be is refused here, each with an error at
//! the tokens the user has to change; all refusals are reported at once.

use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{FnArg, GenericParam, Ident, Pat, PatType, ReturnType, Signature, Type};

/// The runtime's `ArgList` is implemented for tuples up to this length.
pub(crate) const MAX_PARAMS: usize = 12;

/// How the task hands a parameter to the function.
pub(crate) enum Passing {
    /// `T`: moved out of the upstream result when this task is its last reader, cloned
    /// otherwise (and always cloned when embedded, since a task can run again).
    Owned,
    /// `&T`: a reference into the upstream result.
    Borrowed,
}

pub(crate) struct TaskParam {
    /// The builder's parameter name.
    pub(crate) builder_name: Ident,
    /// What the graph holds for this parameter: the type without its top-level `&`,
    /// with `&str` held as `String` and `&[T]` as `Vec<T>`. Its tokens keep the user's
    /// spans, so a bound it misses is reported at the parameter's type.
    pub(crate) stored: Type,
    pub(crate) passing: Passing,
}

pub(crate) enum TaskOutput {
    /// No return type.
    Unit,
    Value(Type),
    /// A type named `...::Result<..>`: its `Err` fails the computation.
    Fallible(Type),
}

pub(crate) struct TaskSignature {
    pub(crate) params: Vec<TaskParam>,
    pub(crate) output: TaskOutput,
}

impl TaskSignature {
    pub(crate) fn read(sig: &Signature) -> syn::Result<TaskSignature> {
        let mut refusals = Refusals::default();
        check_header(sig, &mut refusals);
        let mut params = Vec::with_capacity(sig.inputs.len());
        for (index, input) in sig.inputs.iter().enumerate() {
            match input {
                FnArg::Receiver(receiver) => refusals.refuse(
                    receiver,
                    "`#[delayed]` works on free functions, not methods: move it out of the \
                     `impl` block and take the receiver as a parameter (`this: &Type`)",
                ),
                FnArg::Typed(param) => {
                    if index == MAX_PARAMS {
                        refusals.refuse(
                            param,
                            &format!(
                                "`#[delayed]` takes at most {MAX_PARAMS} parameters: group \
                                 some of them into a struct or a tuple"
                            ),
                        );
                    }
                    if let Some(param) = read_param(index, param, &mut refusals) {
                        params.push(param);
                    }
                }
            }
        }
        let output = read_output(&sig.output, &mut refusals);
        refusals.into_result()?;
        Ok(TaskSignature { params, output })
    }
}

/// Qualifiers and generics: what makes a function something other than a plain call.
fn check_header(sig: &Signature, refusals: &mut Refusals) {
    if let Some(token) = &sig.asyncness {
        refusals.refuse(
            token,
            "`#[delayed]` cannot take an `async fn`: tasks run to completion on worker \
             threads; make it a plain `fn` (and block on the future inside if needed)",
        );
    }
    if let Some(token) = &sig.unsafety {
        refusals.refuse(
            token,
            "`#[delayed]` cannot take an `unsafe fn`: the scheduler would call it without \
             upholding its safety contract; make it a safe `fn` with an `unsafe` block inside",
        );
    }
    if let Some(abi) = &sig.abi {
        refusals.refuse(
            abi,
            "`#[delayed]` cannot take an `extern` function: wrap it in a plain Rust `fn` and \
             put `#[delayed]` on that",
        );
    }
    if let Some(variadic) = &sig.variadic {
        refusals.refuse(
            variadic.dots,
            "`#[delayed]` cannot take a variadic function: take the values as one `Vec<T>` \
             parameter",
        );
    }
    for param in &sig.generics.params {
        if let GenericParam::Lifetime(lifetime) = param {
            refusals.refuse(
                &lifetime.lifetime,
                "`#[delayed]` cannot take lifetime parameters: a task's inputs live in the \
                 graph, not in the caller's scope; take owned values (`T`) or borrow the \
                 upstream result with `&T` (no lifetime)",
            );
        }
    }
}

fn read_param(index: usize, param: &PatType, refusals: &mut Refusals) -> Option<TaskParam> {
    for attr in &param.attrs {
        if attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr") {
            refusals.refuse(
                attr,
                "`#[delayed]` cannot compile a parameter conditionally: the lazy builder must \
                 take the same parameters as the function; put the `#[cfg]` on the function",
            );
        }
    }
    let builder_name = match &*param.pat {
        // `mut` and `ref` describe the eager function's local, not the builder's.
        Pat::Ident(pat) if pat.subpat.is_none() => pat.ident.clone(),
        _ => format_ident!("__dask_arg{}", index),
    };
    let (stored, passing) = match peel(&param.ty) {
        Type::Reference(reference) => {
            if let Some(mutability) = &reference.mutability {
                let and = reference.and_token;
                refusals.refuse(
                    quote!(#and #mutability),
                    "`#[delayed]` cannot take `&mut` parameters: tasks share their inputs; \
                     take the value (`T`) to own a copy",
                );
                return None;
            }
            if let Some(lifetime) = &reference.lifetime {
                refusals.refuse(
                    lifetime,
                    "`#[delayed]` cannot take explicit lifetimes: write `&T`, which borrows \
                     the upstream result for the length of the task's run",
                );
                return None;
            }
            (
                borrowed_storage(&reference.elem, refusals)?,
                Passing::Borrowed,
            )
        }
        ty => {
            if !StoredTypeCheck::passes(ty, Role::Param, refusals) {
                return None;
            }
            (ty.clone(), Passing::Owned)
        }
    };
    Some(TaskParam {
        builder_name,
        stored,
        passing,
    })
}

/// What the graph holds for a `&elem` parameter: something `&*held` coerces to `&elem`.
fn borrowed_storage(elem: &Type, refusals: &mut Refusals) -> Option<Type> {
    match peel(elem) {
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
            let span = path.span();
            Some(syn::parse_quote_spanned!(span=> ::std::string::String))
        }
        Type::Slice(slice) => {
            if !StoredTypeCheck::passes(&slice.elem, Role::Param, refusals) {
                return None;
            }
            let span = slice.bracket_token.span.join();
            let item = &slice.elem;
            Some(syn::parse_quote_spanned!(span=> ::std::vec::Vec<#item>))
        }
        Type::TraitObject(object) => {
            refusals.refuse(
                object,
                "`#[delayed]` cannot hold an unsized `dyn Trait` argument: take \
                 `&Box<dyn Trait + Send + Sync>` or `&Arc<dyn Trait + Send + Sync>`",
            );
            None
        }
        ty => StoredTypeCheck::passes(ty, Role::Param, refusals).then(|| ty.clone()),
    }
}

fn read_output(output: &ReturnType, refusals: &mut Refusals) -> TaskOutput {
    let ReturnType::Type(_, ty) = output else {
        return TaskOutput::Unit;
    };
    StoredTypeCheck::passes(ty, Role::Return, refusals);
    let names_result = match peel(ty) {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Result"),
        _ => false,
    };
    if names_result {
        TaskOutput::Fallible((**ty).clone())
    } else {
        TaskOutput::Value((**ty).clone())
    }
}

/// Invisible groups (from `macro_rules!` fragments) and parentheses change nothing.
fn peel(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => peel(&group.elem),
        Type::Paren(paren) => peel(&paren.elem),
        ty => ty,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Param,
    Return,
}

/// Refuses, anywhere inside a type the graph holds, what cannot live there: references,
/// borrowed lifetimes, `impl Trait` and `Self`.
struct StoredTypeCheck<'r> {
    role: Role,
    refusals: &'r mut Refusals,
    passed: bool,
}

impl StoredTypeCheck<'_> {
    fn passes(ty: &Type, role: Role, refusals: &mut Refusals) -> bool {
        let mut check = StoredTypeCheck {
            role,
            refusals,
            passed: true,
        };
        check.visit_type(ty);
        check.passed
    }

    fn refuse(&mut self, tokens: impl ToTokens, message: &str) {
        self.passed = false;
        self.refusals.refuse(tokens, message);
    }
}

impl<'ast> Visit<'ast> for StoredTypeCheck<'_> {
    fn visit_type_reference(&mut self, reference: &'ast syn::TypeReference) {
        let message = match self.role {
            Role::Param => {
                "`#[delayed]` can only borrow a whole parameter (`&T`): a reference inside a \
                 type cannot point into the graph; use an owned type here"
            }
            Role::Return => {
                "a `#[delayed]` function must return an owned value, which the graph keeps \
                 for its readers: return `T` (e.g. `String`, `Vec<T>`), not a reference"
            }
        };
        self.refuse(reference, message);
    }

    fn visit_type_impl_trait(&mut self, impl_trait: &'ast syn::TypeImplTrait) {
        let message = match self.role {
            Role::Param => {
                "`#[delayed]` cannot take `impl Trait` parameters: the graph holds arguments \
                 by type; name the type or use a generic parameter (`fn f<T: Trait>(x: T)`)"
            }
            Role::Return => {
                "`#[delayed]` cannot return `impl Trait`: the graph holds results by type; \
                 name the type, or return `Box<dyn Trait + Send + Sync>`"
            }
        };
        self.refuse(impl_trait.impl_token, message);
    }

    fn visit_lifetime(&mut self, lifetime: &'ast syn::Lifetime) {
        if lifetime.ident != "static" {
            self.refuse(
                lifetime,
                "`#[delayed]` types cannot borrow: values in the graph must own their data \
                 or be `'static`",
            );
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments[0].ident == "Self" {
            self.refuse(
                &path.segments[0].ident,
                "`#[delayed]` works on free functions, outside `impl` blocks: name the type \
                 instead of `Self` and move the function out of the `impl`",
            );
        }
        visit::visit_path(self, path);
    }

    // Function signatures inside a type (`fn(&T)`, `dyn Fn(&T)`, `for<'a> ...`) bind their
    // own lifetimes: their references point to nothing the graph holds.
    fn visit_type_bare_fn(&mut self, _: &'ast syn::TypeBareFn) {}

    fn visit_parenthesized_generic_arguments(
        &mut self,
        _: &'ast syn::ParenthesizedGenericArguments,
    ) {
    }

    fn visit_bound_lifetimes(&mut self, _: &'ast syn::BoundLifetimes) {}
}

/// Collects every refusal, so the user fixes them in one round.
#[derive(Default)]
struct Refusals(Option<syn::Error>);

impl Refusals {
    fn refuse(&mut self, tokens: impl ToTokens, message: &str) {
        let error = syn::Error::new_spanned(tokens, message);
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn into_result(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}
