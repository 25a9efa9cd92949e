//! Every form `#[delayed]` refuses, with the error it gives (`tests/ui/*.stderr`).
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test --test macro_ui`, then
//! read them: each error must point at the token to change and say what to do instead.

#[test]
fn refused_forms() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    // rustc prints a trait by its short name only while no other crate in the build has
    // an item of that name; the `cluster` feature's dependencies bring one, so errors
    // naming `KeyHash` read `dask::KeyHash` there. The same case, both spellings.
    #[cfg(not(feature = "cluster"))]
    t.compile_fail("tests/ui_paths/default/*.rs");
    #[cfg(feature = "cluster")]
    t.compile_fail("tests/ui_paths/cluster/*.rs");
}
