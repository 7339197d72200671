//! Cranelift compilation: turns translated functions and trampolines into
//! machine code, in parallel, and records each function's trap sites.
//!
//! Every job (a wasm function or a trampoline) is translated to IR and
//! compiled on a rayon worker with its own contexts; results come back in
//! index order, so output does not depend on scheduling. This module must
//! not lay out the object file; it hands [`CompiledFunction`]s to `emit`.

pub mod isa;
mod trampolines;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::Function;
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{FuncId, ModuleReloc};
use fuelc_runtime::abi::TrapSite;
use rayon::prelude::*;

use crate::error::CompileError;
use crate::translate::{translate_function, wasm_trap, ModuleEnv};

pub use trampolines::{entry_trampoline, host_trampoline, out_of_fuel_stub};

/// Machine code of one function, ready to be placed in an object.
pub struct CompiledFunction {
    /// The code bytes.
    pub bytes: Vec<u8>,
    /// Required alignment of the code.
    pub alignment: u64,
    /// Relocations, already in terms of object-level function ids.
    pub relocs: Vec<ModuleReloc>,
    /// Trap sites, sorted by offset.
    pub traps: Vec<TrapSite>,
}

/// Compiles `func`, whose object-level id is `id`. `func_index` names the
/// function in errors.
pub fn compile_function(
    isa: &dyn TargetIsa,
    func: Function,
    id: FuncId,
    func_index: u32,
) -> Result<CompiledFunction, CompileError> {
    let mut ctx = Context::for_function(func);
    ctx.compile(isa, &mut ControlPlane::default())
        .map_err(|e| CompileError::Codegen {
            function: func_index,
            message: format!("{:?}", e.inner),
        })?;
    let buffer = &ctx.compiled_code().expect("compiled above").buffer;
    let mut traps = Vec::with_capacity(buffer.traps().len());
    for trap in buffer.traps() {
        let code = wasm_trap(trap.code).ok_or_else(|| CompileError::Codegen {
            function: func_index,
            message: format!("unexpected trap code {}", trap.code),
        })?;
        traps.push(TrapSite {
            offset: trap.offset,
            code,
        });
    }
    traps.sort_by_key(|t| t.offset);
    let bytes = buffer.data().to_vec();
    let alignment = u64::from(buffer.alignment);
    let relocs = buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, id))
        .collect();
    Ok(CompiledFunction {
        bytes,
        alignment,
        relocs,
        traps,
    })
}

/// Translates and compiles every defined function of the module, in
/// parallel. Defined function `i` has object-level id `i`.
pub fn compile_functions(
    isa: &dyn TargetIsa,
    env: &ModuleEnv<'_>,
) -> Result<Vec<CompiledFunction>, CompileError> {
    let imported = env.module.num_imported_funcs();
    env.module
        .bodies
        .par_iter()
        .enumerate()
        .map_init(FunctionBuilderContext::new, |builder_ctx, (i, body)| {
            let i = i as u32;
            let func = translate_function(env, i, body, builder_ctx)?;
            compile_function(isa, func, FuncId::from_u32(i), imported + i)
        })
        .collect()
}
