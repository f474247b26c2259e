//! Compile tests of `#[require_scope]`: `tests/ui/fail/*.rs` must fail with the message in
//! the `.stderr` beside each, `tests/ui/pass/*.rs` must compile and run.
//!
//! The `.stderr` files belong to rustc 1.95 (the toolchain this workspace is developed
//! with); another compiler may word or place diagnostics differently. Regenerate them with
//! `TRYBUILD=overwrite cargo test -p tests --test ui`, then read every changed file.

#[test]
fn require_scope() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
