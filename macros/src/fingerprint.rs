//! The source fingerprint of a delayed function: a hash of its tokens, so that editing
//! the function changes the keys of its pure calls (and of everything downstream) and
//! invalidates on-disk cache entries computed by the old code, as joblib's `Memory` does.
//!
//! The tokens are walked one by one instead of hashing their printed form, so the
//! fingerprint depends on the source alone, never on how a `proc-macro2` release spaces
//! tokens when printing them. Doc comments are left out: rewording the documentation
//! does not change what the function computes. Ordinary comments are not tokens at all.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ItemFn;

/// BLAKE3, the hash of the runtime's keys, truncated to 128 bits as they are: a
/// fingerprint collision would let an edited function read its old entries.
struct Fingerprinter(blake3::Hasher);

impl Fingerprinter {
    fn new() -> Self {
        Fingerprinter(blake3::Hasher::new())
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The first 16 bytes of the digest, little-endian (as the runtime reads digests).
    fn finish(&self) -> u128 {
        let mut low = [0; 16];
        low.copy_from_slice(&self.0.finalize().as_bytes()[..16]);
        u128::from_le_bytes(low)
    }

    /// A string and a terminator, so that adjacent tokens cannot run together.
    fn text(&mut self, tag: u8, text: &str) {
        self.bytes(&[tag]);
        self.bytes(text.as_bytes());
        self.bytes(&[0]);
    }
}

/// The fingerprint of the whole item: attributes other than docs, visibility, signature
/// and body.
pub(crate) fn of_function(function: &ItemFn) -> u128 {
    let mut hasher = Fingerprinter::new();
    for attr in &function.attrs {
        if !attr.path().is_ident("doc") {
            hash_tokens(&mut hasher, attr.to_token_stream());
        }
    }
    hash_tokens(&mut hasher, function.vis.to_token_stream());
    hash_tokens(&mut hasher, function.sig.to_token_stream());
    hash_tokens(&mut hasher, function.block.to_token_stream());
    hasher.finish()
}

fn hash_tokens(hasher: &mut Fingerprinter, tokens: TokenStream) {
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => (b'(', b')'),
                    Delimiter::Brace => (b'{', b'}'),
                    Delimiter::Bracket => (b'[', b']'),
                    Delimiter::None => (b'<', b'>'),
                };
                hasher.bytes(&[open]);
                hash_tokens(hasher, group.stream());
                hasher.bytes(&[close]);
            }
            TokenTree::Ident(ident) => hasher.text(b'i', &ident.to_string()),
            TokenTree::Literal(literal) => hasher.text(b'l', &literal.to_string()),
            TokenTree::Punct(punct) => {
                let joint = match punct.spacing() {
                    Spacing::Joint => b'j',
                    Spacing::Alone => b'a',
                };
                let mut buffer = [0; 4];
                hasher.text(joint, punct.as_char().encode_utf8(&mut buffer));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::of_function;

    fn fingerprint(source: &str) -> u128 {
        of_function(&syn::parse_str(source).unwrap())
    }

    #[test]
    fn the_body_changes_the_fingerprint() {
        let a = fingerprint("fn f(x: u64) -> u64 { x + 1 }");
        assert_ne!(a, fingerprint("fn f(x: u64) -> u64 { x + 2 }"));
        assert_ne!(a, fingerprint("fn f(x: u64) -> u64 { x - 1 }"));
        assert_ne!(a, fingerprint("fn f(x: u64) -> u64 { (x + 1) }"));
        assert_ne!(a, fingerprint("fn f(x: u32) -> u64 { x + 1 }"));
        assert_ne!(a, fingerprint("#[inline] fn f(x: u64) -> u64 { x + 1 }"));
    }

    #[test]
    fn layout_comments_and_docs_do_not() {
        let a = fingerprint("fn f(x: u64) -> u64 { x + 1 }");
        assert_eq!(
            a,
            fingerprint("fn f(x: u64)->u64{\n    // one more\n    x+1\n}")
        );
        assert_eq!(
            a,
            fingerprint("/// Adds one.\n#[doc = \"more\"]\nfn f(x: u64) -> u64 { x + 1 }")
        );
    }

    #[test]
    fn adjacent_tokens_do_not_run_together() {
        assert_ne!(
            fingerprint("fn f() -> u64 { ab + c }"),
            fingerprint("fn f() -> u64 { a + bc }")
        );
        assert_ne!(
            fingerprint("fn f() -> &'static str { \"a\" }"),
            fingerprint("fn f() -> &'static str { a }")
        );
    }

    #[test]
    fn pinned_value() {
        // The fingerprint is part of every pure key and cache entry name: a change of
        // this function invalidates every cache, so it must not change by accident.
        let value = fingerprint("fn f(x: u64) -> u64 { x + 1 }");
        assert_eq!(value, PINNED, "{value:#x}");
    }

    const PINNED: u128 = 0x647b_9441_3ad2_8bb1_5edb_826e_50e7_0bdd;
}
