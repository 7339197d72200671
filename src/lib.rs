//! fuelc: an ahead-of-time WebAssembly compiler that emits native
//! relocatable objects for the fuelc runtime.
//!
//! The pipeline, one module per stage:
//!
//! 1. [`parse`]: parse and validate the binary, collect module metadata;
//! 2. [`fuel`]: when metered, plan each function body's fuel charges;
//! 3. [`translate`]: lower each function body to Cranelift IR, with its
//!    charges;
//! 4. [`codegen`]: compile functions and trampolines to machine code, in
//!    parallel, recording trap sites;
//! 5. [`emit`]: write the relocatable object with its module descriptor.
//!
//! Fuel planning and translation walk a body with the same model of its
//! control structure, [`control::ControlStack`], so they agree on what is
//! reachable.
//!
//! [`compile`] runs the whole pipeline. [`loader`] links an object into a
//! shared library and loads it into this process (for `fuelc run` and the
//! tests); [`executable`] links it into a standalone program (`fuelc
//! build`), with the system C compiler found by [`toolchain`];
//! [`cargo_build`] compiles and links modules from Cargo build scripts.
//! What the compiler and the runtime share (context layout, trap codes,
//! symbol names, metadata) is defined once, in [`fuelc_runtime::abi`].

#![deny(missing_docs)]

pub mod c_syntax;
pub mod cargo_build;
pub mod codegen;
pub mod control;
pub mod emit;
pub mod error;
pub mod executable;
pub mod fuel;
pub mod header;
pub mod loader;
pub mod parse;
pub mod runtime_files;
pub mod toolchain;
pub mod translate;

use fuelc_runtime::abi::{self, BoundsChecks};
use rayon::prelude::*;
use target_lexicon::Triple;

pub use error::CompileError;

/// How hard Cranelift optimizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OptLevel {
    /// No optimization.
    None,
    /// Optimize for speed (the default).
    #[default]
    Speed,
    /// Optimize for speed and size.
    SpeedAndSize,
}

/// What to compile for and how.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Target triple.
    pub target: Triple,
    /// Optimization level.
    pub opt_level: OptLevel,
    /// How memory accesses are kept in bounds.
    pub bounds_checks: BoundsChecks,
    /// Symbol prefix; must be a C identifier (see [`sanitize_prefix`]).
    pub prefix: String,
    /// Fuel metering; `None` generates code with no trace of metering.
    pub metering: Option<fuel::Metering>,
}

impl CompileOptions {
    /// Options for the host with default settings and symbol prefix `prefix`.
    pub fn host(prefix: &str) -> CompileOptions {
        CompileOptions {
            target: Triple::host(),
            opt_level: OptLevel::Speed,
            bounds_checks: BoundsChecks::Guard,
            prefix: sanitize_prefix(prefix),
            metering: None,
        }
    }
}

/// Turns any string (typically a file stem) into a symbol prefix: a C
/// identifier made of ASCII letters, digits and underscores that does not
/// start with a digit.
pub fn sanitize_prefix(name: &str) -> String {
    let mut prefix: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if prefix.is_empty() || prefix.starts_with(|c: char| c.is_ascii_digit()) {
        prefix.insert(0, '_');
    }
    prefix
}

/// Compiles a binary WebAssembly module into a relocatable object.
pub fn compile(wasm: &[u8], options: &CompileOptions) -> Result<Vec<u8>, CompileError> {
    if options.prefix != sanitize_prefix(&options.prefix) {
        return Err(CompileError::Target(format!(
            "symbol prefix {:?} is not a C identifier",
            options.prefix
        )));
    }
    let metering = options.metering.as_ref();
    let isa = codegen::isa::build_isa(&options.target, options.opt_level, metering.is_some())?;
    let module = parse::parse(wasm, &options.prefix, options.bounds_checks)?;
    let env = translate::ModuleEnv::new(&module, &*isa, metering);
    let compiled = codegen::compile_functions(&*isa, &env)?;

    let mut metadata = module.metadata.clone();
    metadata.fuel = metering.map(|m| m.costs.metadata(m.mode));
    let imported = module.num_imported_funcs();
    let mut functions = Vec::with_capacity(compiled.len());
    for (i, code) in compiled.into_iter().enumerate() {
        let info = &mut metadata.functions[i];
        info.code_size = code.bytes.len() as u32;
        info.traps = code.traps.clone();
        let index = imported + i as u32;
        functions.push(emit::ObjectFunction {
            name: abi::function_symbol(&options.prefix, index),
            signature: env.wasm_signature(module.func_type(index)),
            code,
        });
    }

    let types = &module.metadata.types;
    let trampolines = |make: fn(
        &translate::ModuleEnv<'_>,
        &abi::FuncType,
        u32,
    ) -> cranelift_codegen::ir::Function,
                       symbol: fn(&str, u32) -> String,
                       base: usize|
     -> Result<Vec<emit::ObjectFunction>, CompileError> {
        types
            .par_iter()
            .enumerate()
            .map(|(t, ty)| {
                let func = make(&env, ty, (base + t) as u32);
                let signature = func.signature.clone();
                let id = cranelift_module::FuncId::from_u32((base + t) as u32);
                let code = codegen::compile_function(&*isa, func, id, u32::MAX)?;
                Ok(emit::ObjectFunction {
                    name: symbol(&options.prefix, t as u32),
                    signature,
                    code,
                })
            })
            .collect()
    };
    let out_of_fuel_stub = match metering {
        Some(_) => {
            let func = codegen::out_of_fuel_stub(&env);
            let signature = func.signature.clone();
            let id = cranelift_module::FuncId::from_u32(env.out_of_fuel_stub_id());
            Some(emit::ObjectFunction {
                name: abi::out_of_fuel_stub_symbol(&options.prefix),
                signature,
                code: codegen::compile_function(&*isa, func, id, u32::MAX)?,
            })
        }
        None => None,
    };
    let n = functions.len() + usize::from(out_of_fuel_stub.is_some());
    let entry_trampolines =
        trampolines(codegen::entry_trampoline, abi::entry_trampoline_symbol, n)?;
    let host_trampolines = trampolines(
        codegen::host_trampoline,
        abi::host_trampoline_symbol,
        n + types.len(),
    )?;

    emit::emit_object(
        isa,
        emit::ObjectContents {
            prefix: options.prefix.clone(),
            metadata,
            functions,
            out_of_fuel_stub,
            entry_trampolines,
            host_trampolines,
        },
    )
}
