//! The attribute's arguments: `#[delayed]`, `#[delayed(pure)]`, `#[delayed(name = "...")]`,
//! `#[delayed(retries = N)]`.
//!
//! Each option is one keyword and one arm in [`DelayedArgs::parse_option`]; adding one
//! (say `retries = N`) means a keyword, a field, an arm and an entry in [`OPTIONS`].

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{LitInt, LitStr, Token};

mod kw {
    syn::custom_keyword!(pure);
    syn::custom_keyword!(name);
    syn::custom_keyword!(retries);
    syn::custom_keyword!(ignore);
}

/// More would hide a broken task behind minutes of reruns.
const MAX_RETRIES: u32 = 100;

/// How the options are spelled, for error messages.
const OPTIONS: &str = "`pure`, `name = \"...\"`, `retries = N` or `ignore(param, ...)`";

/// The options of one `#[delayed(...)]`.
#[derive(Default)]
pub(crate) struct DelayedArgs {
    /// Key derived from the function's path and its arguments' content.
    pub(crate) pure: Option<kw::pure>,
    /// Display name and key prefix instead of the function's name.
    pub(crate) name: Option<LitStr>,
    /// How many times a failing or panicking call is run again before it fails.
    pub(crate) retries: Option<u32>,
    /// Parameters left out of a pure key (joblib's `Memory.cache(ignore=[...])`).
    pub(crate) ignore: Option<(kw::ignore, Vec<syn::Ident>)>,
}

impl DelayedArgs {
    /// Parses what it can. A bad option is reported and skipped, so the function still
    /// expands and the user sees that one error, not a cascade at every call site.
    pub(crate) fn parse_lenient(tokens: TokenStream) -> (DelayedArgs, Option<syn::Error>) {
        let mut args = DelayedArgs::default();
        let mut errors: Option<syn::Error> = None;
        let parser = |input: ParseStream<'_>| {
            while !input.is_empty() {
                if let Err(error) = args.parse_option(input) {
                    match &mut errors {
                        Some(all) => all.combine(error),
                        None => errors = Some(error),
                    }
                    skip_to_next_option(input);
                }
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
            }
            Ok(())
        };
        if let Err(error) = parser.parse2(tokens) {
            match &mut errors {
                Some(all) => all.combine(error),
                None => errors = Some(error),
            }
        }
        (args, errors)
    }

    fn parse_option(&mut self, input: ParseStream<'_>) -> syn::Result<()> {
        if input.peek(kw::pure) {
            let key: kw::pure = input.parse()?;
            if input.peek(Token![=]) {
                return Err(input.error("`pure` takes no value: write `#[delayed(pure)]`"));
            }
            if self.pure.is_some() {
                return Err(duplicate(key.span, "pure"));
            }
            self.pure = Some(key);
        } else if input.peek(kw::name) {
            let key: kw::name = input.parse()?;
            input.parse::<Token![=]>().map_err(|e| {
                syn::Error::new(e.span(), "expected `=`: write `name = \"display name\"`")
            })?;
            let value: LitStr = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "the display name is a string literal: `name = \"...\"`",
                )
            })?;
            if value.value().is_empty() {
                return Err(syn::Error::new(
                    value.span(),
                    "the display name cannot be empty",
                ));
            }
            if self.name.is_some() {
                return Err(duplicate(key.span, "name"));
            }
            self.name = Some(value);
        } else if input.peek(kw::retries) {
            let key: kw::retries = input.parse()?;
            input
                .parse::<Token![=]>()
                .map_err(|e| syn::Error::new(e.span(), "expected `=`: write `retries = 3`"))?;
            let value: LitInt = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "the number of retries is an integer: `retries = 3`",
                )
            })?;
            let count: u32 = value
                .base10_parse()
                .ok()
                .filter(|&n| n <= MAX_RETRIES)
                .ok_or_else(|| {
                    syn::Error::new(
                        value.span(),
                        format!("`retries` takes a whole number from 0 to {MAX_RETRIES}"),
                    )
                })?;
            if self.retries.is_some() {
                return Err(duplicate(key.span, "retries"));
            }
            self.retries = Some(count);
        } else if input.peek(kw::ignore) {
            let key: kw::ignore = input.parse()?;
            let list;
            syn::parenthesized!(list in input);
            let names = list
                .parse_terminated(syn::Ident::parse_any, Token![,])
                .map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`ignore` lists parameter names: `ignore(verbose, logger)`",
                    )
                })?;
            if self.ignore.is_some() {
                return Err(duplicate(key.span, "ignore"));
            }
            self.ignore = Some((key, names.into_iter().collect()));
        } else if input.peek(syn::Ident::peek_any) {
            let key = input.call(syn::Ident::parse_any)?;
            return Err(syn::Error::new(
                key.span(),
                format!("unknown `#[delayed]` option `{key}`: expected {OPTIONS}"),
            ));
        } else {
            return Err(input.error(format!("expected a `#[delayed]` option: {OPTIONS}")));
        }
        Ok(())
    }
}

fn duplicate(span: proc_macro2::Span, key: &str) -> syn::Error {
    syn::Error::new(span, format!("`{key}` is given twice"))
}

/// Moves past the rest of a refused option, up to its separating comma.
fn skip_to_next_option(input: ParseStream<'_>) {
    while !input.is_empty() && !input.peek(Token![,]) {
        if input.parse::<proc_macro2::TokenTree>().is_err() {
            break;
        }
    }
}
