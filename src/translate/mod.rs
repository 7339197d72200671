//! Per-function translation: WebAssembly operators to Cranelift IR.
//!
//! [`translate_function`] lowers one validated function body into a
//! Cranelift [`Function`] with cranelift-frontend. The translator keeps the
//! Wasm operand stack as a stack of SSA values, the Wasm locals as frontend
//! [`Variable`]s, and one control frame (`control::Frame`) per open
//! `block`/`loop`/`if`.
//! Submodules split the work by concern:
//!
//! - `control`: blocks, loops, ifs and branches;
//! - `operators`: the `VisitOperator` dispatch, one entry per operator;
//! - `memory`: linear memory, tables and globals, addressed through the
//!   instance context;
//! - `calls`: direct, imported and indirect calls, and runtime builtins.
//!
//! This module must not validate (its input is already validated) and must
//! not know about object files or symbols beyond the function naming
//! convention of [`ModuleEnv`].

mod calls;
mod control;
mod fuel;
mod memory;
mod operators;
mod simd;
mod slice;

use cranelift_codegen::ir::{
    self, types, AbiParam, ArgumentPurpose, Function, InstBuilder, MemFlagsData, Signature, Type,
    UserExternalName, UserFuncName, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use fuelc_runtime::abi::{self, FuncType, ValType, VmctxLayout};
use wasmparser::FunctionBody;

use crate::control::ControlStack;
use crate::error::CompileError;
use crate::fuel::{plan_function, FuelPlan, Metering};
use crate::parse::ParsedModule;

/// Module-wide facts every function translation needs.
pub struct ModuleEnv<'a> {
    /// The validated module.
    pub module: &'a ParsedModule<'a>,
    /// Layout of the instance context.
    pub layout: VmctxLayout,
    /// Calling convention of wasm functions and builtins.
    pub call_conv: CallConv,
    /// Target facts the frontend needs.
    pub frontend_config: TargetFrontendConfig,
    /// How code is metered, if it is.
    pub metering: Option<&'a Metering>,
}

/// Name namespace of defined functions and the out-of-fuel stub; the index
/// is the defined-function index (function index minus imported functions)
/// or [`ModuleEnv::out_of_fuel_stub_id`]. Object emission declares defined
/// functions first, then the stub, so that this index is their `FuncId`.
pub const DEFINED_FUNC_NAMESPACE: u32 = 0;

impl<'a> ModuleEnv<'a> {
    /// The environment for `module`, generating code for `isa`, metered
    /// as `metering` says.
    pub fn new(
        module: &'a ParsedModule<'a>,
        isa: &dyn TargetIsa,
        metering: Option<&'a Metering>,
    ) -> Self {
        ModuleEnv {
            module,
            layout: module.metadata.vmctx_layout(),
            call_conv: isa.default_call_conv(),
            frontend_config: isa.frontend_config(),
            metering,
        }
    }

    /// The `FuncId` (and user name index in [`DEFINED_FUNC_NAMESPACE`]) of
    /// the out-of-fuel stub of a metered module: right after the defined
    /// functions.
    pub fn out_of_fuel_stub_id(&self) -> u32 {
        self.module.bodies.len() as u32
    }

    /// Signature of the out-of-fuel stub, in Cranelift's `preserve_all`
    /// convention, so that calling it clobbers no register:
    /// `(vmctx, caller_key: i64, required_key: i64)`, the caller's function
    /// index and the fuel required keyed to the fuel register (`fuel ^
    /// caller`, `fuel - required`; see `emit_charge` in `translate::fuel`).
    pub fn out_of_fuel_stub_signature(&self) -> Signature {
        let mut sig = Signature::new(CallConv::PreserveAll);
        sig.params.extend([AbiParam::new(types::I64); 3]);
        sig
    }

    /// Native signature of runtime builtin `builtin`.
    pub fn builtin_signature(&self, builtin: abi::Builtin) -> Signature {
        let native = |t: &abi::BuiltinType| match t {
            abi::BuiltinType::Ptr | abi::BuiltinType::I64 => AbiParam::new(types::I64),
            abi::BuiltinType::I32 => AbiParam::new(types::I32),
        };
        let signature = builtin.signature();
        let mut sig = Signature::new(self.call_conv);
        sig.params.extend(signature.params.iter().map(native));
        sig.returns.extend(signature.result.iter().map(native));
        sig
    }

    /// Native signature of a wasm function of type `ty`:
    /// `(vmctx, params...) -> results`.
    pub fn wasm_signature(&self, ty: &FuncType) -> Signature {
        let mut sig = Signature::new(self.call_conv);
        sig.params
            .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
        sig.params
            .extend(ty.params.iter().map(|t| AbiParam::new(clif_type(*t))));
        sig.returns
            .extend(ty.results.iter().map(|t| AbiParam::new(clif_type(*t))));
        sig
    }
}

/// The Cranelift type that holds a wasm value type. References are
/// pointer-sized words (see [`abi::FuncRef`]).
pub fn clif_type(t: ValType) -> Type {
    match t {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::FuncRef | ValType::ExternRef => types::I64,
    }
}

/// The Cranelift trap code that stands for a fuelc trap code.
pub fn clif_trap(code: abi::TrapCode) -> ir::TrapCode {
    ir::TrapCode::unwrap_user(code as u8)
}

/// The fuelc trap code a Cranelift trap code stands for.
pub fn wasm_trap(code: ir::TrapCode) -> Option<abi::TrapCode> {
    match code {
        ir::TrapCode::STACK_OVERFLOW => Some(abi::TrapCode::StackOverflow),
        ir::TrapCode::HEAP_OUT_OF_BOUNDS => Some(abi::TrapCode::MemoryOutOfBounds),
        ir::TrapCode::INTEGER_OVERFLOW => Some(abi::TrapCode::IntegerOverflow),
        ir::TrapCode::INTEGER_DIVISION_BY_ZERO => Some(abi::TrapCode::IntegerDivisionByZero),
        ir::TrapCode::BAD_CONVERSION_TO_INTEGER => Some(abi::TrapCode::BadConversionToInteger),
        other => abi::TrapCode::from_u8(other.as_raw().get()),
    }
}

/// Memory flags for loads from the instance context and runtime structures
/// that never trap (the pointers are valid by construction).
fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Memory flags for trusted loads of values that cannot change while the
/// function runs.
fn trusted_readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly()
}

/// Translates defined function `defined_index` into Cranelift IR.
pub fn translate_function(
    env: &ModuleEnv<'_>,
    defined_index: u32,
    body: &FunctionBody<'_>,
    builder_ctx: &mut FunctionBuilderContext,
) -> Result<Function, CompileError> {
    let func_index = env.module.num_imported_funcs() + defined_index;
    let ty = env.module.func_type(func_index);
    let sig = env.wasm_signature(ty);
    let mut func = Function::with_name_signature(
        UserFuncName::User(UserExternalName::new(DEFINED_FUNC_NAMESPACE, defined_index)),
        sig,
    );
    let mut builder = FunctionBuilder::new(&mut func, builder_ctx);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let vmctx = builder.block_params(entry)[0];
    let params: Vec<Value> = builder.block_params(entry)[1..].to_vec();

    let mut t = FuncTranslator::new(env, builder, func_index, vmctx, ty);
    t.set_stack_limit();
    let declared_locals = t.declare_locals(ty, &params, body)?;
    if let Some(metering) = env.metering {
        t.fuel = plan_function(body, declared_locals, metering)?;
    }
    let mut reader = body.get_operators_reader()?;
    // The reader at the first operator of the metered block whose exact
    // fallback is open (see `fuel.rs`).
    let mut fallback_reader = None;
    let mut op_index = 0;
    while !reader.eof() {
        op_index = t.translate_next(&mut reader, &mut fallback_reader, op_index, true)?;
    }
    debug_assert!(t.fallback.is_none(), "every fallback rejoined");
    debug_assert!(t.all_charges_emitted(), "every planned charge was emitted");
    debug_assert_eq!(
        t.latches_taken,
        t.fuel.latches.len(),
        "every planned latch was translated as one"
    );
    reader.finish()?;
    t.builder.finalize(env.frontend_config);
    Ok(func)
}

impl<'r> FuncTranslator<'_, '_> {
    /// Translates operator `op_index`, where `reader` is: after the
    /// charges planned before it, and the exact fallback that rejoins
    /// before it, if any (read from `fallback_reader`, saved when the
    /// fallback's block was charged). When `slices` and the operator opens
    /// a sliced loop, translates the loop's body up to its last operator
    /// (see `slice.rs`). Returns the index of the next operator.
    fn translate_next(
        &mut self,
        reader: &mut wasmparser::OperatorsReader<'r>,
        fallback_reader: &mut Option<wasmparser::OperatorsReader<'r>>,
        op_index: usize,
        slices: bool,
    ) -> Result<usize, CompileError> {
        self.offset = reader.original_position() as usize;
        self.op_index = op_index;
        if self.apply_charges() {
            *fallback_reader = Some(reader.clone());
        }
        if self.fallback_rejoins_here() {
            let from_first = fallback_reader.take().expect("saved with the fallback");
            self.translate_fallback(from_first)?;
        }
        if let Some(counted) = self.fuel.slice_at(op_index) {
            if slices && self.control.is_reachable() {
                return self.translate_sliced_loop(reader, fallback_reader, counted);
            }
        }
        reader.visit_operator(self)??;
        Ok(op_index + 1)
    }
}

/// The state of one function's translation.
pub(crate) struct FuncTranslator<'a, 'f> {
    env: &'a ModuleEnv<'a>,
    builder: FunctionBuilder<'f>,
    /// Index of the function being translated (imports included).
    func_index: u32,
    /// The instance context parameter.
    vmctx: Value,
    /// One variable per local, parameters first.
    locals: Vec<(Variable, Type)>,
    /// The wasm operand stack.
    stack: Vec<Value>,
    /// Open control frames (the outermost is the function body), and
    /// whether the current operator can execute.
    control: ControlStack<control::Frame>,
    /// Byte offset of the operator being translated.
    offset: usize,
    /// Imported signatures of indirect-call types, by type index.
    type_sigs: Vec<Option<ir::SigRef>>,
    /// Imported signatures of builtins, by builtin index.
    builtin_sigs: Vec<Option<ir::SigRef>>,
    /// Imported defined functions, by defined index.
    direct_funcs: Vec<Option<ir::FuncRef>>,
    /// Index of the operator being translated.
    op_index: usize,
    /// Planned fuel charges (empty when unmetered).
    fuel: FuelPlan,
    /// Index of the next charge to emit, in `fuel.blocks` (exact mode) or
    /// `fuel.op_charges` (per-op mode).
    next_charge: usize,
    /// How many of the plan's latches have entered their loop's header
    /// block past its charge.
    latches_taken: usize,
    /// The exact fallback of the metered block being translated, if it
    /// has one.
    fallback: Option<fuel::Fallback>,
    /// While a fallback is translated: what the fast code resolved for it.
    replay: Option<fuel::Replay>,
    /// The module's out-of-fuel stub, once imported.
    oof_stub: Option<ir::FuncRef>,
    /// While the sliced copy of a loop is translated: where its refunds
    /// collect (see `slice.rs`).
    sliced: Option<slice::SlicedCopy>,
}

impl<'a, 'f> FuncTranslator<'a, 'f> {
    fn new(
        env: &'a ModuleEnv<'a>,
        mut builder: FunctionBuilder<'f>,
        func_index: u32,
        vmctx: Value,
        ty: &FuncType,
    ) -> Self {
        let control = control::function_control(&mut builder, ty);
        FuncTranslator {
            env,
            builder,
            func_index,
            vmctx,
            locals: Vec::new(),
            stack: Vec::new(),
            control,
            offset: 0,
            type_sigs: vec![None; env.module.metadata.types.len()],
            builtin_sigs: Vec::new(),
            direct_funcs: vec![None; env.module.bodies.len()],
            op_index: 0,
            fuel: FuelPlan::default(),
            next_charge: 0,
            latches_taken: 0,
            fallback: None,
            replay: None,
            oof_stub: None,
            sliced: None,
        }
    }

    /// Makes the prologue trap with `StackOverflow` when the stack pointer
    /// would fall below the store's stack limit.
    fn set_stack_limit(&mut self) {
        let func = &mut *self.builder.func;
        let vmctx = func.create_global_value(ir::GlobalValueData::VMContext);
        let flags = func.dfg.mem_flags.insert(trusted_readonly()).unwrap();
        let store = func.create_global_value(ir::GlobalValueData::Load {
            base: vmctx,
            offset: (VmctxLayout::STORE as i32).into(),
            global_type: types::I64,
            flags,
        });
        let limit = func.create_global_value(ir::GlobalValueData::Load {
            base: store,
            offset: (abi::store_offsets::STACK_LIMIT as i32).into(),
            global_type: types::I64,
            flags,
        });
        func.stack_limit = Some(limit);
    }

    /// Declares parameters and locals as variables; locals start at zero.
    /// Returns the number of declared locals (parameters not included).
    fn declare_locals(
        &mut self,
        ty: &FuncType,
        params: &[Value],
        body: &FunctionBody<'_>,
    ) -> Result<u64, CompileError> {
        let mut declared = 0u64;
        for (t, v) in ty.params.iter().zip(params) {
            let clif = clif_type(*t);
            let var = self.builder.declare_var(clif);
            self.builder.def_var(var, *v);
            self.locals.push((var, clif));
        }
        for local in body.get_locals_reader()? {
            let (count, t) = local?;
            let clif = clif_type(crate::parse::val_type(t));
            declared += u64::from(count);
            for _ in 0..count {
                let var = self.builder.declare_var(clif);
                let zero = self.zero(clif);
                self.builder.def_var(var, zero);
                self.locals.push((var, clif));
            }
        }
        Ok(declared)
    }

    /// The zero (or null) value of a type; all-zero lanes for a vector.
    fn zero(&mut self, ty: Type) -> Value {
        match ty {
            types::F32 => self.builder.ins().f32const(0.0),
            types::F64 => self.builder.ins().f64const(0.0),
            _ if ty.is_vector() => {
                let c = self.builder.func.dfg.constants.insert(vec![0u8; 16].into());
                self.builder.ins().vconst(ty, c)
            }
            _ => self.builder.ins().iconst(ty, 0),
        }
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().expect("validated operand stack")
    }

    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    /// The top `n` operands, bottom first, left on the stack.
    fn peek_n(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    /// Error for an operator outside the supported feature set. Validation
    /// rejects those first, so this is a safety net, not a user path.
    fn unsupported(&self, op: &str) -> CompileError {
        CompileError::Unsupported {
            offset: self.offset,
            feature: format!("operator {op}"),
        }
    }
}
