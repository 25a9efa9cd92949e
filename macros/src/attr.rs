//! The attribute's arguments: `pure`, `name = "..."`.

use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

mod kw {
    syn::custom_keyword!(pure);
    syn::custom_keyword!(name);
}

#[derive(Default)]
pub(crate) struct DelayedArgs {
    pub(crate) pure: bool,
    pub(crate) name: Option<LitStr>,
}

impl Parse for DelayedArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = DelayedArgs::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::pure) {
                let key: kw::pure = input.parse()?;
                if std::mem::replace(&mut args.pure, true) {
                    return Err(syn::Error::new(key.span, "`pure` is given twice"));
                }
            } else if lookahead.peek(kw::name) {
                let key: kw::name = input.parse()?;
                input.parse::<Token![=]>()?;
                let value: LitStr = input.parse()?;
                if value.value().is_empty() {
                    return Err(syn::Error::new(value.span(), "the display name cannot be empty"));
                }
                if args.name.replace(value).is_some() {
                    return Err(syn::Error::new(key.span, "`name` is given twice"));
                }
            } else {
                return Err(syn::Error::new(
                    lookahead.error().span(),
                    "unknown `#[delayed]` option: expected `pure` or `name = \"...\"`",
                ));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}
