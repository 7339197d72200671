//! Builds the runtime's static library (`libfuelc_runtime.a`) for the
//! target fuelc itself is built for, so that `fuelc build` can embed it in
//! the executables it links without anything installed beside fuelc.
//!
//! It runs a nested `cargo build` of the `runtime` package into a target
//! directory of its own under `OUT_DIR` (the outer build holds the lock of
//! the main one), and copies the library to `OUT_DIR`. This script must not
//! build anything else.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    for watched in [
        "runtime/src",
        "runtime/include",
        "runtime/build.rs",
        "runtime/Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let out_dir = PathBuf::from(var("OUT_DIR"));
    let target = var("TARGET");
    let target_dir = out_dir.join("runtime-target");
    let manifest = PathBuf::from(var("CARGO_MANIFEST_DIR")).join("runtime/Cargo.toml");
    let status = Command::new(var("CARGO"))
        .args(["build", "--release", "--lib", "--locked", "--manifest-path"])
        .arg(&manifest)
        .arg("--target")
        .arg(&target)
        .arg("--target-dir")
        .arg(&target_dir)
        // The outer build's settings for this script must not leak in.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the runtime library failed");
    let library = target_dir.join(&target).join("release/libfuelc_runtime.a");
    std::fs::copy(&library, out_dir.join("libfuelc_runtime.a"))
        .unwrap_or_else(|e| panic!("copying {}: {e}", library.display()));
}
