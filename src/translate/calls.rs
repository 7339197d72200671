//! Calls: direct calls to defined functions, calls to imported functions,
//! `call_indirect`, and calls to the runtime's builtins.
//!
//! A defined function is called directly by symbol with this instance's
//! context. An imported function is called through its [`abi::FuncRef`] in
//! the instance context, with the callee's context. `call_indirect` checks
//! the table bounds, the null entry and the canonical signature id before
//! calling through the entry's `FuncRef`. Builtins are called through the
//! `Builtins` table with `(vmctx, caller, args...)`.
//!
//! This module must not decide what a builtin does; that is the runtime's.

use cranelift_codegen::ir::{
    self, condcodes::IntCC, types, ExtFuncData, ExternalName, InstBuilder, UserExternalName, Value,
};
use fuelc_runtime::abi::{self, Builtin, TrapCode, VmctxLayout};

use super::{trusted, trusted_readonly, FuncTranslator, DEFINED_FUNC_NAMESPACE};

impl FuncTranslator<'_, '_> {
    fn type_sig(&mut self, type_index: u32) -> ir::SigRef {
        if let Some(sig) = self.type_sigs[type_index as usize] {
            return sig;
        }
        let ty = &self.env.module.metadata.types[type_index as usize];
        let sig = self.env.wasm_signature(ty);
        let sig = self.builder.import_signature(sig);
        self.type_sigs[type_index as usize] = Some(sig);
        sig
    }

    /// Pops a call's arguments and pushes its results.
    fn finish_call(&mut self, call: ir::Inst) {
        let results = self.builder.inst_results(call).to_vec();
        self.stack.extend_from_slice(&results);
    }

    fn pop_args(&mut self, type_index: u32, callee_vmctx: Value) -> Vec<Value> {
        let n = self.env.module.metadata.types[type_index as usize]
            .params
            .len();
        let mut args = Vec::with_capacity(n + 1);
        args.push(callee_vmctx);
        args.extend_from_slice(self.peek_n(n));
        self.stack.truncate(self.stack.len() - n);
        args
    }

    pub(super) fn translate_call(&mut self, function_index: u32) {
        let type_index = self.env.module.func_types[function_index as usize];
        let imported = self.env.module.num_imported_funcs();
        if function_index < imported {
            let funcref = self.env.layout.funcref(function_index);
            let code = self.load_ptr(self.vmctx, funcref + abi::funcref_offsets::CODE, true);
            let callee = self.load_ptr(self.vmctx, funcref + abi::funcref_offsets::VMCTX, true);
            self.call_indirect_code(type_index, code, callee);
            return;
        }
        let defined = (function_index - imported) as usize;
        let func = match self.direct_funcs[defined] {
            Some(f) => f,
            None => {
                let signature = self.type_sig(type_index);
                let name = self
                    .builder
                    .func
                    .declare_imported_user_function(UserExternalName::new(
                        DEFINED_FUNC_NAMESPACE,
                        defined as u32,
                    ));
                let f = self.builder.import_function(ExtFuncData {
                    name: ExternalName::user(name),
                    signature,
                    colocated: true,
                    patchable: false,
                });
                self.direct_funcs[defined] = Some(f);
                f
            }
        };
        let args = self.pop_args(type_index, self.vmctx);
        let call = self.builder.ins().call(func, &args);
        self.finish_call(call);
    }

    fn call_indirect_code(&mut self, type_index: u32, code: Value, callee_vmctx: Value) {
        let sig = self.type_sig(type_index);
        let args = self.pop_args(type_index, callee_vmctx);
        let call = self.builder.ins().call_indirect(sig, code, &args);
        self.finish_call(call);
    }

    pub(super) fn translate_call_indirect(&mut self, type_index: u32, table: u32) {
        let index = self.pop();
        let address = self.table_element_address(table, index, TrapCode::UndefinedElement);
        let funcref = self.builder.ins().load(types::I64, trusted(), address, 0);
        self.builder
            .ins()
            .trapz(funcref, super::clif_trap(TrapCode::UninitializedElement));
        let actual = self.builder.ins().load(
            types::I32,
            trusted_readonly(),
            funcref,
            abi::funcref_offsets::SIG_ID as i32,
        );
        let expected = self.builder.ins().load(
            types::I32,
            trusted_readonly(),
            self.vmctx,
            self.env.layout.sig_id(type_index) as i32,
        );
        let mismatch = self.builder.ins().icmp(IntCC::NotEqual, actual, expected);
        self.trap_if(mismatch, TrapCode::BadSignature);
        let code = self.load_ptr(funcref, abi::funcref_offsets::CODE, true);
        let callee = self.load_ptr(funcref, abi::funcref_offsets::VMCTX, true);
        self.call_indirect_code(type_index, code, callee);
    }

    /// Calls `builtin` with `(vmctx, caller, args...)` and returns its
    /// result, if it has one.
    pub(super) fn call_builtin(&mut self, builtin: Builtin, args: &[Value]) -> Option<Value> {
        let index = builtin as usize;
        if self.builtin_sigs.len() <= index {
            self.builtin_sigs.resize(index + 1, None);
        }
        let sig = match self.builtin_sigs[index] {
            Some(sig) => sig,
            None => {
                let sig = self
                    .builder
                    .import_signature(self.env.builtin_signature(builtin));
                self.builtin_sigs[index] = Some(sig);
                sig
            }
        };
        let builtins = self.load_ptr(self.vmctx, VmctxLayout::BUILTINS, true);
        let code = self.load_ptr(builtins, builtin.offset(), true);
        let caller = self
            .builder
            .ins()
            .iconst(types::I32, i64::from(self.func_index));
        let mut all = vec![self.vmctx, caller];
        all.extend_from_slice(args);
        let metered = self.env.metering.is_some();
        if metered {
            self.flush_fuel();
        }
        let call = self.builder.ins().call_indirect(sig, code, &all);
        let result = self.builder.inst_results(call).first().copied();
        if metered {
            self.reload_fuel();
        }
        result
    }

    /// Pops `n` operands and calls `builtin` with `immediates` followed by
    /// them; pushes the result, if any.
    pub(super) fn translate_builtin(&mut self, builtin: Builtin, immediates: &[u32], n: usize) {
        let mut args: Vec<Value> = immediates
            .iter()
            .map(|i| self.builder.ins().iconst(types::I32, i64::from(*i)))
            .collect();
        args.extend_from_slice(self.peek_n(n));
        self.stack.truncate(self.stack.len() - n);
        if builtin.has_units() {
            let operand = *args.last().expect("the length or delta operand");
            let units = self.dynamic_units(operand);
            args.push(units);
        }
        if let Some(result) = self.call_builtin(builtin, &args) {
            self.push(result);
        }
    }
}
