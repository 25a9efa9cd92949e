//! Every form `#[delayed]` refuses, with the error it gives (`tests/ui/*.stderr`).
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test --test macro_ui`, then
//! read them: each error must point at the token to change and say what to do instead.

#[test]
fn refused_forms() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
