//! Trampolines between the runtime's array calling convention and native
//! wasm signatures, one pair per function type.
//!
//! - The entry trampoline `(vmctx, code, values)` loads the parameters from
//!   a [`ValRaw`](fuelc_runtime::abi::ValRaw) array, calls
//!   `code(vmctx, params...)` and stores the results back into the array.
//! - The host trampoline has the type's native signature; it spills the
//!   parameters into an array on its stack and calls the `host_call`
//!   builtin of the [`HostCallContext`](fuelc_runtime::abi::HostCallContext)
//!   it receives as context, then returns the results from the array.
//!
//! - The out-of-fuel stub of a metered module, `(vmctx, caller, required)`
//!   in the `preserve_all` convention: writes the fuel register to the
//!   store, calls the `out_of_fuel` builtin and reads the register back.
//!   Metered code calls it on the cold path of a charge, which therefore
//!   clobbers no register the surrounding code holds.
//!
//! This module must not know what the runtime does with the values.

use crate::translate::DEFINED_FUNC_NAMESPACE;
use cranelift_codegen::ir::{
    types, AbiParam, Function, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind,
    UserExternalName, UserFuncName, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use fuelc_runtime::abi::{store_offsets, Builtin, FuncType, VmctxLayout, VAL_RAW_SIZE};

use crate::translate::{clif_type, ModuleEnv};

/// Name namespace of trampolines (their ids come from object emission).
const TRAMPOLINE_NAMESPACE: u32 = 1;

fn value_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

fn load_values(
    builder: &mut FunctionBuilder<'_>,
    types: &[types::Type],
    values: Value,
) -> Vec<Value> {
    types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            builder
                .ins()
                .load(*t, value_flags(), values, (i as u32 * VAL_RAW_SIZE) as i32)
        })
        .collect()
}

fn store_values(builder: &mut FunctionBuilder<'_>, results: &[Value], values: Value) {
    for (i, v) in results.iter().enumerate() {
        builder
            .ins()
            .store(value_flags(), *v, values, (i as u32 * VAL_RAW_SIZE) as i32);
    }
}

fn store_context(builder: &mut FunctionBuilder<'_>, vmctx: Value) -> Value {
    builder.ins().load(
        types::I64,
        MemFlagsData::trusted().with_readonly(),
        vmctx,
        VmctxLayout::STORE as i32,
    )
}

/// Loads `StoreContext::fuel` of the store behind `vmctx` (an instance
/// context or a host-call context; both start with the store pointer).
fn load_store_fuel(builder: &mut FunctionBuilder<'_>, vmctx: Value) -> Value {
    let store = store_context(builder, vmctx);
    builder
        .ins()
        .load(types::I64, value_flags(), store, store_offsets::FUEL as i32)
}

/// Stores the fuel register into `StoreContext::fuel`.
fn store_store_fuel(builder: &mut FunctionBuilder<'_>, vmctx: Value) {
    let store = store_context(builder, vmctx);
    let fuel = builder.ins().get_pinned_reg(types::I64);
    builder
        .ins()
        .store(value_flags(), fuel, store, store_offsets::FUEL as i32);
}

/// Loads the address of runtime builtin `builtin` from the builtin table
/// of `vmctx` (an instance context or a host-call context).
fn load_builtin(builder: &mut FunctionBuilder<'_>, vmctx: Value, builtin: Builtin) -> Value {
    let flags = MemFlagsData::trusted().with_readonly();
    let builtins = builder
        .ins()
        .load(types::I64, flags, vmctx, VmctxLayout::BUILTINS as i32);
    builder
        .ins()
        .load(types::I64, flags, builtins, builtin.offset() as i32)
}

/// Starts the body with its entry block and returns the parameters.
fn enter(builder: &mut FunctionBuilder<'_>) -> Vec<Value> {
    let block = builder.create_block();
    builder.append_block_params_for_function_params(block);
    builder.switch_to_block(block);
    builder.seal_block(block);
    builder.block_params(block).to_vec()
}

fn param_types(ty: &FuncType) -> Vec<types::Type> {
    ty.params.iter().map(|t| clif_type(*t)).collect()
}

fn result_types(ty: &FuncType) -> Vec<types::Type> {
    ty.results.iter().map(|t| clif_type(*t)).collect()
}

/// The entry trampoline for `ty`, named by `index` within trampolines.
pub fn entry_trampoline(env: &ModuleEnv<'_>, ty: &FuncType, index: u32) -> Function {
    let mut sig = Signature::new(env.call_conv);
    sig.params.extend([AbiParam::new(types::I64); 3]);
    let mut func = Function::with_name_signature(
        UserFuncName::User(UserExternalName::new(TRAMPOLINE_NAMESPACE, index)),
        sig,
    );
    let mut ctx = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut func, &mut ctx);
    let [vmctx, code, values] = enter(&mut builder)[..] else {
        unreachable!("three parameters")
    };
    let mut args = vec![vmctx];
    args.extend(load_values(&mut builder, &param_types(ty), values));
    let callee = builder.import_signature(env.wasm_signature(ty));
    // Metered code runs with the store's fuel in the pinned register, which
    // the C caller expects preserved: save it, load the fuel, and restore it
    // after storing the fuel back.
    let saved = env.metering.map(|_| {
        let saved = builder.ins().get_pinned_reg(types::I64);
        let fuel = load_store_fuel(&mut builder, vmctx);
        builder.ins().set_pinned_reg(fuel);
        saved
    });
    let call = builder.ins().call_indirect(callee, code, &args);
    let results = builder.inst_results(call).to_vec();
    if let Some(saved) = saved {
        store_store_fuel(&mut builder, vmctx);
        builder.ins().set_pinned_reg(saved);
    }
    store_values(&mut builder, &results, values);
    builder.ins().return_(&[]);
    builder.finalize(env.frontend_config);
    func
}

/// The host-call trampoline for `ty`, named by `index` within trampolines.
pub fn host_trampoline(env: &ModuleEnv<'_>, ty: &FuncType, index: u32) -> Function {
    let mut func = Function::with_name_signature(
        UserFuncName::User(UserExternalName::new(TRAMPOLINE_NAMESPACE, index)),
        env.wasm_signature(ty),
    );
    let mut ctx = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut func, &mut ctx);
    let params = enter(&mut builder);
    let host_ctx = params[0];
    let slots = ty.params.len().max(ty.results.len()).max(1) as u32;
    let slot = builder.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        slots * VAL_RAW_SIZE,
        4,
    ));
    let values = builder.ins().stack_addr(types::I64, slot, 0);
    store_values(&mut builder, &params[1..], values);
    let host_call = load_builtin(&mut builder, host_ctx, Builtin::host_call);
    let mut call_sig = Signature::new(env.call_conv);
    call_sig.params.extend([AbiParam::new(types::I64); 2]);
    let call_sig = builder.import_signature(call_sig);
    if env.metering.is_some() {
        store_store_fuel(&mut builder, host_ctx);
    }
    builder
        .ins()
        .call_indirect(call_sig, host_call, &[host_ctx, values]);
    if env.metering.is_some() {
        let fuel = load_store_fuel(&mut builder, host_ctx);
        builder.ins().set_pinned_reg(fuel);
    }
    let results = load_values(&mut builder, &result_types(ty), values);
    builder.ins().return_(&results);
    builder.finalize(env.frontend_config);
    func
}

/// The out-of-fuel stub of a metered module.
pub fn out_of_fuel_stub(env: &ModuleEnv<'_>) -> Function {
    let mut func = Function::with_name_signature(
        UserFuncName::User(UserExternalName::new(
            DEFINED_FUNC_NAMESPACE,
            env.out_of_fuel_stub_id(),
        )),
        env.out_of_fuel_stub_signature(),
    );
    let mut ctx = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut func, &mut ctx);
    let params = enter(&mut builder);
    let vmctx = params[0];
    // Undo the keying of the arguments to the fuel register (see
    // `ModuleEnv::out_of_fuel_stub_signature`).
    let fuel = builder.ins().get_pinned_reg(types::I64);
    let caller = builder.ins().bxor(params[1], fuel);
    let caller = builder.ins().ireduce(types::I32, caller);
    let required = builder.ins().isub(fuel, params[2]);
    let out_of_fuel = load_builtin(&mut builder, vmctx, Builtin::out_of_fuel);
    let call_sig = builder.import_signature(env.builtin_signature(Builtin::out_of_fuel));
    store_store_fuel(&mut builder, vmctx);
    builder
        .ins()
        .call_indirect(call_sig, out_of_fuel, &[vmctx, caller, required]);
    let fuel = load_store_fuel(&mut builder, vmctx);
    builder.ins().set_pinned_reg(fuel);
    builder.ins().return_(&[]);
    builder.finalize(env.frontend_config);
    func
}
