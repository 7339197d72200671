//! Compiles the C half of trap unwinding (`src/trap/unwind.c`): the
//! `sigsetjmp`/`siglongjmp` pair that Rust cannot express itself.
//!
//! This script must only build that file; it must not generate code.

fn main() {
    println!("cargo:rerun-if-changed=src/trap/unwind.c");
    cc::Build::new()
        .file("src/trap/unwind.c")
        .warnings(true)
        .compile("fuelc_runtime_unwind");
}
