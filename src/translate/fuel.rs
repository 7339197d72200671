//! Fuel charges in generated code.
//!
//! Metered code keeps the remaining fuel in Cranelift's pinned register
//! (see [`abi::FUEL_REGISTER_X86_64`]) for the whole time wasm runs, across
//! wasm-to-wasm calls. A charge compares it with the metered block's cost,
//! calls the `out_of_fuel` builtin on a cold path when it is short, and
//! subtracts. Around every builtin call the register is written to
//! `StoreContext::fuel` and read back, so the runtime sees and may change
//! the current value.
//!
//! This module must not decide where charges go; `crate::fuel` does.

use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, Value};
use fuelc_runtime::abi::{self, Builtin, VmctxLayout};

use super::{trusted, FuncTranslator};

impl FuncTranslator<'_, '_> {
    fn store_context(&mut self) -> Value {
        self.load_ptr(self.vmctx, VmctxLayout::STORE, true)
    }

    /// Writes the fuel register to `StoreContext::fuel`.
    pub(super) fn flush_fuel(&mut self) {
        let store = self.store_context();
        let fuel = self.builder.ins().get_pinned_reg(types::I64);
        self.builder
            .ins()
            .store(trusted(), fuel, store, abi::store_offsets::FUEL as i32);
    }

    /// Reads `StoreContext::fuel` back into the fuel register.
    pub(super) fn reload_fuel(&mut self) {
        let store = self.store_context();
        let fuel = self.builder.ins().load(
            types::I64,
            trusted(),
            store,
            abi::store_offsets::FUEL as i32,
        );
        self.builder.ins().set_pinned_reg(fuel);
    }

    /// The `units` operand of a builtin with a dynamic cost (see
    /// [`Builtin::has_units`]): `operand`, or 0 when the current operator's
    /// cost was charged with its metered block.
    pub(super) fn dynamic_units(&mut self, operand: Value) -> Value {
        if self.fuel.prepaid.binary_search(&self.op_index).is_ok() {
            self.builder.ins().iconst(types::I32, 0)
        } else {
            operand
        }
    }

    /// The refund planned for the current operator (a forward `br_if`), if
    /// any.
    pub(super) fn refund(&self) -> Option<u64> {
        self.fuel
            .refunds
            .binary_search_by_key(&self.op_index, |r| r.op_index)
            .ok()
            .map(|i| self.fuel.refunds[i].cost)
    }

    /// Adds `amount` back to the fuel register.
    pub(super) fn emit_refund(&mut self, amount: u64) {
        let fuel = self.builder.ins().get_pinned_reg(types::I64);
        let amount = self.builder.ins().iconst(types::I64, amount as i64);
        let back = self.builder.ins().iadd(fuel, amount);
        self.builder.ins().set_pinned_reg(back);
    }

    /// Emits the charges planned for the current operator, if any.
    pub(super) fn apply_charges(&mut self) {
        while let Some(charge) = self.fuel.charges.get(self.next_charge) {
            if charge.op_index != self.op_index {
                break;
            }
            let cost = charge.cost;
            self.next_charge += 1;
            if self.reachable {
                self.emit_charge(cost);
            }
        }
    }

    /// Charges `cost` fuel, calling the out-of-fuel builtin first when the
    /// register holds less. The fast path is a compare, a branch and a
    /// subtraction; comparing before subtracting keeps them independent.
    fn emit_charge(&mut self, cost: u64) {
        let fuel = self.builder.ins().get_pinned_reg(types::I64);
        let short = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, fuel, cost as i64);
        let refuel = self.builder.create_block();
        let charge = self.builder.create_block();
        self.builder.set_cold_block(refuel);
        self.builder.ins().brif(short, refuel, &[], charge, &[]);
        self.builder.seal_block(refuel);
        self.builder.switch_to_block(refuel);
        let required = self.builder.ins().iconst(types::I64, cost as i64);
        self.call_builtin(Builtin::out_of_fuel, &[required]);
        self.builder.ins().jump(charge, &[]);
        self.builder.seal_block(charge);
        self.builder.switch_to_block(charge);
        let fuel = self.builder.ins().get_pinned_reg(types::I64);
        let cost_value = self.builder.ins().iconst(types::I64, cost as i64);
        let rest = self.builder.ins().isub(fuel, cost_value);
        self.builder.ins().set_pinned_reg(rest);
    }
}
