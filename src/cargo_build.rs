//! Compiling wasm from a Cargo build script: [`WasmBuild`] compiles a
//! `.wasm` or `.wat` file for the crate's target into `OUT_DIR`, archives
//! the object and tells Cargo to link it, so the crate can load the module
//! with [`fuelc_runtime::linked_module!`] and run it with the
//! `fuelc-runtime` crate it depends on.
//!
//! ```no_run
//! // build.rs, with `fuelc` as a build dependency
//! fuelc::cargo_build::WasmBuild::new("guest.wat")
//!     .fuel(fuelc_runtime::abi::FuelMode::Exact)
//!     .compile()
//!     .unwrap();
//! ```
//!
//! This module must only read what Cargo gives a build script (`TARGET`,
//! `OUT_DIR`) and print Cargo instructions; the compiling is [`crate::compile`]'s.

use std::path::{Path, PathBuf};

use crate::fuel::{CostModel, Metering};
use crate::{compile, sanitize_prefix, CompileOptions};
use fuelc_runtime::abi::FuelMode;
use target_lexicon::Triple;

/// A wasm module to compile and link into the crate being built.
#[derive(Clone, Debug)]
pub struct WasmBuild {
    input: PathBuf,
    prefix: String,
    metering: Option<(FuelMode, String)>,
}

impl WasmBuild {
    /// The module in `input` (binary or text), linked with the symbol
    /// prefix made from its file stem (`guest.wat` gives `guest`).
    pub fn new(input: impl AsRef<Path>) -> WasmBuild {
        let input = input.as_ref().to_path_buf();
        let stem = input
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("module");
        WasmBuild {
            prefix: sanitize_prefix(stem),
            input,
            metering: None,
        }
    }

    /// Sets the symbol prefix, which [`fuelc_runtime::linked_module!`] names.
    pub fn prefix(mut self, prefix: &str) -> WasmBuild {
        self.prefix = prefix.to_string();
        self
    }

    /// Meters the module in `mode` with the `wasmtime` cost model.
    pub fn fuel(mut self, mode: FuelMode) -> WasmBuild {
        self.metering = Some((mode, "wasmtime".to_string()));
        self
    }

    /// Meters the module in `mode` with `cost_model` (`wasmtime`,
    /// `uniform` or the path of a TOML file; see `docs/fuel.md`).
    pub fn fuel_with_cost_model(mut self, mode: FuelMode, cost_model: &str) -> WasmBuild {
        self.metering = Some((mode, cost_model.to_string()));
        self
    }

    /// Compiles the module for Cargo's `TARGET` into `OUT_DIR`, archives it
    /// as `lib<prefix>_wasm.a` and prints the instructions that link it and
    /// rebuild when the input changes.
    pub fn compile(self) -> anyhow::Result<()> {
        use anyhow::Context;
        println!("cargo:rerun-if-changed={}", self.input.display());
        let target = std::env::var("TARGET").context("TARGET is not set: not a build script?")?;
        let out_dir = PathBuf::from(
            std::env::var_os("OUT_DIR").context("OUT_DIR is not set: not a build script?")?,
        );
        let source = std::fs::read(&self.input)
            .with_context(|| format!("reading {}", self.input.display()))?;
        let wasm = wat::parse_bytes(&source)
            .with_context(|| format!("parsing {}", self.input.display()))?;
        let metering = match &self.metering {
            None => None,
            Some((mode, costs)) => Some(Metering {
                mode: *mode,
                costs: CostModel::from_arg(costs)?,
            }),
        };
        let options = CompileOptions {
            target: target
                .parse::<Triple>()
                .map_err(|e| anyhow::anyhow!("unsupported target {target}: {e}"))?,
            metering,
            ..CompileOptions::host(&self.prefix)
        };
        let object = compile(&wasm, &options)
            .with_context(|| format!("compiling {}", self.input.display()))?;
        let object_path = out_dir.join(format!("{}.o", options.prefix));
        std::fs::write(&object_path, object)
            .with_context(|| format!("writing {}", object_path.display()))?;
        cc::Build::new()
            .object(&object_path)
            .cargo_warnings(false)
            .try_compile(&format!("{}_wasm", options.prefix))?;
        Ok(())
    }
}
