//! Fuel charges in generated code, and the exact fallback of metered blocks.
//!
//! Metered code keeps the remaining fuel in Cranelift's pinned register
//! (see [`abi::FUEL_REGISTER_X86_64`]) for the whole time wasm runs, across
//! wasm-to-wasm calls. Around every builtin call the register is written to
//! `StoreContext::fuel` and read back, so the runtime sees and may change
//! the current value.
//!
//! Two kinds of charge:
//!
//! - A *checked charge* ([`FuncTranslator::emit_charge`]) compares the
//!   register with the cost, calls the module's out-of-fuel stub on a cold
//!   path when it is short (the stub preserves every register, so the hot
//!   code keeps its values in registers), and subtracts. Per-op mode uses
//!   it for every operator, exact mode for metered blocks whose one charge
//!   stops where per-op charges would.
//! - A *block charge with fallback*: exact mode charges a metered block's
//!   whole cost at its entry; when the register holds less, control goes to
//!   a cold copy of the block (its *fallback*) whose operators are charged
//!   one by one, exactly as per-op mode charges them, and which rejoins the
//!   fast code before the block's last operator. So a short budget stops at
//!   the operator, with the remaining fuel and the effects, of per-op mode.
//!
//! The fallback is translated when the fast code reaches the block's last
//! operator, from a copy of the operator reader saved at its first. Inside
//! a metered block only straight-line operators, `block`, the `end` of a
//! construct reached only by falling through or joined (see
//! `crate::fuel`), forward `br_if`s and merged `if`s (whose arms may end
//! with a branch) occur; anything else ends the block. So the fallback
//! needs control frames of its own only for the constructs that open and
//! close within it: those `if`s, and the blocks the plan lists in
//! `FuelPlan::inner_blocks`. Other `block`s and `end`s change nothing in
//! it (the fast code opens and closes their frames), and each branch
//! reuses the target the fast code resolved, unless it goes to one of the
//! fallback's own frames. A loop whose `end` is in the block keeps its
//! header open for the fallback's branches until the fallback is
//! translated.
//!
//! A latch (see `crate::fuel::Latch`) has paid for its loop's header
//! block, so its `br` enters that block past its charge (the loop frame's
//! `prepaid` block); the latch's fallback has paid nothing ahead and runs
//! its own copy of the `br`, to the header, so it rejoins nothing.
//!
//! The two copies compute their own operands, and control leaving through a
//! `br_if` does not pass the join. Operands under a frame that the block
//! opens stay on the stack until the frame's `end`, which `br_if`s from
//! either copy reach; so both copies write them to variables when the frame
//! opens, and the frame's `end` reads them back (SSA construction merges
//! the copies where they differ).
//!
//! This module must not decide where charges go; `crate::fuel` does.

use cranelift_codegen::ir::{
    self, condcodes::IntCC, types, ExtFuncData, ExternalName, InstBuilder, UserExternalName, Value,
};
use cranelift_frontend::Variable;
use fuelc_runtime::abi::{self, VmctxLayout};
use wasmparser::OperatorsReader;

use super::{trusted, FuncTranslator, DEFINED_FUNC_NAMESPACE};
use crate::error::CompileError;
use crate::fuel::Charge;

/// The exact fallback of the metered block being translated.
pub(super) struct Fallback {
    /// Cold block the block's charge branches to when the fuel is short.
    entry: ir::Block,
    /// Index of the block's first operator.
    first: usize,
    /// Where the fallback rejoins, and the block's last operator.
    range: crate::fuel::Fallback,
    /// The operand stack at the block's entry.
    stack: Vec<Value>,
    /// Targets and arities of the block's branches, in order, as the fast
    /// code resolved them.
    branches: Vec<(ir::Block, usize)>,
    /// For each `block` the block opens, in order: the variables holding
    /// the operands under its frame.
    frames: Vec<Vec<Variable>>,
    /// Headers of loops that end inside the block, sealed once the
    /// fallback (whose arms may branch to them) is translated.
    headers: Vec<ir::Block>,
}

/// What the fast code resolved for a fallback, used up in order while the
/// fallback is translated.
pub(super) struct Replay {
    branches: std::vec::IntoIter<(ir::Block, usize)>,
    frames: std::vec::IntoIter<Vec<Variable>>,
    /// How many frames of its own (see [`FuncTranslator::fallback_opens_frame`])
    /// the fallback has opened and not yet closed.
    own_frames: usize,
}

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
    /// [`abi::Builtin::has_units`]): `operand`, or 0 when the current
    /// operator's cost was charged with its metered block.
    pub(super) fn dynamic_units(&mut self, operand: Value) -> Value {
        if self.fuel.prepaid.binary_search(&self.op_index).is_ok() {
            self.builder.ins().iconst(types::I32, 0)
        } else {
            operand
        }
    }

    /// Whether the current operator is being translated into a fallback.
    pub(super) fn in_fallback(&self) -> bool {
        self.replay.is_some()
    }

    /// For a `block` opened inside a metered block with a fallback: writes
    /// the operands under its frame (below `height`) that the metered block
    /// has replaced since its entry to variables, in the fast code (new
    /// variables, returned for the frame) or in the fallback (the variables
    /// the fast code made), so that the frame's `end` sees whichever copy
    /// reached it. The variables stand for the topmost operands under the
    /// frame. Operands the block has not touched are the same values in
    /// both copies; leaving them alone matters, since the frames around
    /// the metered block close with those values. Empty elsewhere.
    pub(super) fn save_operands_under(&mut self, height: usize) -> Vec<Variable> {
        let vars = if let Some(replay) = &mut self.replay {
            replay
                .frames
                .next()
                .expect("the fast code opened every frame")
        } else if let Some(fallback) = &mut self.fallback {
            let untouched = fallback
                .stack
                .iter()
                .zip(&self.stack[..height])
                .take_while(|(entry, now)| entry == now)
                .count();
            let dfg = &self.builder.func.dfg;
            let types: Vec<_> = self.stack[untouched..height]
                .iter()
                .map(|v| dfg.value_type(*v))
                .collect();
            let vars: Vec<Variable> = types
                .into_iter()
                .map(|ty| self.builder.declare_var(ty))
                .collect();
            fallback.frames.push(vars.clone());
            vars
        } else {
            return Vec::new();
        };
        for (var, value) in vars.iter().zip(&self.stack[height - vars.len()..height]) {
            self.builder.def_var(*var, *value);
        }
        vars
    }

    /// In a fallback, whether the construct the current operator opens has
    /// a frame of the fallback's own, and if so records it: an `if` (whose
    /// arms are in the metered block), and a `block` whose `end` is in the
    /// metered block too. Branches to them from the fallback must reach
    /// the fallback's code after their `end`, not the fast code's.
    pub(super) fn fallback_opens_frame(&mut self, is_if: bool) -> bool {
        let own = is_if || self.fuel.inner_blocks.binary_search(&self.op_index).is_ok();
        match &mut self.replay {
            Some(replay) if own => {
                replay.own_frames += 1;
                true
            }
            _ => false,
        }
    }

    /// In a fallback, whether the current `end` closes a frame of the
    /// fallback's own (then it is translated as usual); other `end`s
    /// change nothing in a fallback. Own frames nest inside the metered
    /// block, so the innermost open one is the one that closes.
    pub(super) fn fallback_closes_frame(&mut self) -> bool {
        match &mut self.replay {
            Some(replay) if replay.own_frames > 0 => {
                replay.own_frames -= 1;
                true
            }
            _ => false,
        }
    }

    /// Emits the refund planned for the current operator on the fast path,
    /// if any: on the taken edge of a forward `br_if`, or at the start of
    /// the cheaper arm of an `if` (see `crate::fuel::FuelPlan::refunds`).
    /// The caller positions the builder on that edge or arm. Fallbacks
    /// charge per operator and refund nothing.
    pub(super) fn emit_planned_refund(&mut self) {
        if let Some(amount) = self.refund() {
            self.emit_refund(amount);
        }
    }

    /// The refund planned for the current operator on the fast path, if
    /// any.
    pub(super) fn refund(&self) -> Option<u64> {
        if self.in_fallback() {
            return None;
        }
        self.fuel
            .refunds
            .binary_search_by_key(&self.op_index, |r| r.op_index)
            .ok()
            .map(|i| self.fuel.refunds[i].cost)
    }

    /// The target and arity of a branch (`br_if`, or `br` ending an arm) to
    /// `depth` in a metered block with a fallback: resolved by the fast
    /// code, reused by the fallback, whose frames differ.
    pub(super) fn resolved_branch_target(&mut self, depth: u32) -> (ir::Block, usize) {
        if let Some(replay) = &mut self.replay {
            let resolved = replay
                .branches
                .next()
                .expect("the fast code resolved every branch of the block");
            // A branch to a frame of the fallback's own goes to its code.
            if (depth as usize) >= replay.own_frames {
                return resolved;
            }
        }
        let target = self.branch_target(depth);
        if let Some(fallback) = &mut self.fallback {
            fallback.branches.push(target);
        }
        target
    }

    /// Seals the header of a loop at its `end`, or, when the `end` is in a
    /// metered block with a fallback, once the fallback is translated.
    pub(super) fn seal_loop_header(&mut self, header: ir::Block) {
        match &mut self.fallback {
            Some(fallback) => fallback.headers.push(header),
            None => self.builder.seal_block(header),
        }
    }

    /// Adds `amount` back to the fuel register, or, in the sliced copy of
    /// a loop, to what the copy owes back when it leaves.
    pub(super) fn emit_refund(&mut self, amount: u64) {
        if self.owe_refund(amount) {
            return;
        }
        let fuel = self.builder.ins().get_pinned_reg(types::I64);
        let back = self.builder.ins().iadd_imm_s(fuel, amount as i64);
        self.builder.ins().set_pinned_reg(back);
    }

    /// Whether every charge the plan holds for this mode has been emitted.
    pub(super) fn all_charges_emitted(&self) -> bool {
        let exact = self.env.metering.map(|m| m.mode) == Some(abi::FuelMode::Exact);
        let planned = if exact {
            self.fuel.blocks.len()
        } else {
            self.fuel.op_charges.len()
        };
        self.next_charge == planned
    }

    /// Emits the charges planned before the current operator, if any. In
    /// exact mode a block charge with a fallback opens the fallback; the
    /// caller then keeps a copy of the operator reader for
    /// [`FuncTranslator::translate_fallback`]. Returns whether it opened one.
    pub(super) fn apply_charges(&mut self) -> bool {
        let exact = self.env.metering.map(|m| m.mode) == Some(abi::FuelMode::Exact);
        let mut opened = false;
        loop {
            let planned = if exact {
                &self.fuel.blocks
            } else {
                &self.fuel.op_charges
            };
            let Some(&charge) = planned.get(self.next_charge) else {
                break;
            };
            if charge.op_index != self.op_index {
                break;
            }
            self.next_charge += 1;
            debug_assert!(
                self.control.is_reachable(),
                "charges are planned in reachable code"
            );
            if !self.control.is_reachable() {
                continue;
            }
            match charge.fallback {
                Some(range) => {
                    self.emit_block_charge(charge, range);
                    opened = true;
                }
                None => self.emit_charge(charge.cost),
            }
            if self.heads_latched_loop() {
                self.open_prepaid_entry();
            }
        }
        opened
    }

    /// Whether the current operator starts the header block of a loop that
    /// has latches.
    fn heads_latched_loop(&self) -> bool {
        self.fuel
            .latches
            .iter()
            .any(|l| l.loop_index + 1 == self.op_index)
    }

    /// Whether the current operator is a latch and is being translated in
    /// the fast code (a fallback's copy of it has paid nothing ahead).
    pub(super) fn is_latch(&self) -> bool {
        !self.in_fallback()
            && self
                .fuel
                .latches
                .binary_search_by_key(&self.op_index, |l| l.op_index)
                .is_ok()
    }

    /// Whether the open fallback rejoins before the current operator.
    pub(super) fn fallback_rejoins_here(&self) -> bool {
        self.fallback
            .as_ref()
            .is_some_and(|f| f.range.join == self.op_index)
    }

    /// Translates the open fallback from `reader` (positioned at the block's
    /// first operator) and rejoins the fast code before the current
    /// operator (see [`crate::fuel::Fallback`]).
    pub(super) fn translate_fallback(
        &mut self,
        mut reader: OperatorsReader<'_>,
    ) -> Result<(), CompileError> {
        let fallback = self.fallback.take().expect("a fallback is open");
        let (op_index, offset) = (self.op_index, self.offset);
        debug_assert_eq!(op_index, fallback.range.join);
        // The fast code jumps to the join first; what it passes is decided
        // once the fallback's stack is known, so it jumps from a block of
        // its own. After a latch's `br` both copies are unreachable, and
        // nothing rejoins.
        let fast_reachable = self.control.is_reachable();
        let fast_end = fast_reachable.then(|| {
            let fast_end = self.builder.create_block();
            self.builder.ins().jump(fast_end, &[]);
            self.builder.seal_block(fast_end);
            fast_end
        });
        let fast_stack = std::mem::replace(&mut self.stack, fallback.stack);
        let first_cold = self.builder.func.dfg.num_blocks();
        self.builder.switch_to_block(fallback.entry);
        self.control.set_reachable(true);
        self.replay = Some(Replay {
            branches: fallback.branches.into_iter(),
            frames: fallback.frames.into_iter(),
            own_frames: 0,
        });
        for index in fallback.first..fallback.range.join {
            self.offset = reader.original_position() as usize;
            self.op_index = index;
            self.emit_operator_charges(index);
            reader.visit_operator(self)??;
        }
        self.op_index = op_index;
        self.offset = offset;
        for index in fallback.range.join..=fallback.range.last {
            self.emit_operator_charges(index);
        }
        debug_assert!(
            self.replay
                .as_mut()
                .is_some_and(|r| r.branches.next().is_none()
                    && r.frames.next().is_none()
                    && r.own_frames == 0),
            "the fallback used all the fast code resolved"
        );
        self.replay = None;
        debug_assert_eq!(
            self.control.is_reachable(),
            fast_reachable,
            "same operators"
        );
        for header in fallback.headers {
            self.builder.seal_block(header);
        }
        let Some(fast_end) = fast_end else {
            self.mark_cold_from(first_cold, None);
            self.stack = fast_stack;
            return Ok(());
        };
        let slow_stack = std::mem::take(&mut self.stack);
        debug_assert_eq!(slow_stack.len(), fast_stack.len(), "same operators");
        // Operands the block did not touch are the same values in both
        // copies, defined before the block: only the others merge.
        let merged: Vec<usize> = (0..fast_stack.len())
            .filter(|&i| fast_stack[i] != slow_stack[i])
            .collect();
        let types: Vec<_> = merged
            .iter()
            .map(|&i| self.builder.func.dfg.value_type(fast_stack[i]))
            .collect();
        let join = self.block_with_params(&types);
        let pick = |stack: &[Value]| -> Vec<Value> { merged.iter().map(|&i| stack[i]).collect() };
        self.builder
            .ins()
            .jump(join, &super::control::block_args(&pick(&slow_stack)));
        self.mark_cold_from(first_cold, Some(join));
        self.builder.switch_to_block(fast_end);
        self.builder
            .ins()
            .jump(join, &super::control::block_args(&pick(&fast_stack)));
        self.builder.seal_block(join);
        self.builder.switch_to_block(join);
        self.stack = fast_stack;
        for (k, &i) in merged.iter().enumerate() {
            self.stack[i] = self.builder.block_params(join)[k];
        }
        Ok(())
    }

    /// Marks the blocks created since block number `first` cold, except
    /// `join`.
    pub(super) fn mark_cold_from(&mut self, first: usize, join: Option<ir::Block>) {
        for block in first..self.builder.func.dfg.num_blocks() {
            let block = ir::Block::from_u32(block as u32);
            if Some(block) != join {
                self.builder.set_cold_block(block);
            }
        }
    }

    /// Emits the per-operator charges of operator `index` (in a fallback).
    fn emit_operator_charges(&mut self, index: usize) {
        let charges = &self.fuel.op_charges;
        let start = charges.partition_point(|c| c.op_index < index);
        let costs: Vec<u64> = charges[start..]
            .iter()
            .take_while(|c| c.op_index == index)
            .map(|c| c.cost)
            .collect();
        for cost in costs {
            self.emit_charge(cost);
        }
    }

    /// Charges a metered block's whole cost, branching to its fallback (a
    /// cold block, translated later) when the register holds less. The hot
    /// path is a compare, a branch and a subtraction.
    fn emit_block_charge(&mut self, charge: Charge, range: crate::fuel::Fallback) {
        debug_assert!(self.fallback.is_none(), "metered blocks do not nest");
        let fuel = self.builder.ins().get_pinned_reg(types::I64);
        let short =
            self.builder
                .ins()
                .icmp_imm_u(IntCC::UnsignedLessThan, fuel, charge.cost as i64);
        let entry = self.builder.create_block();
        let body = self.builder.create_block();
        self.builder.set_cold_block(entry);
        self.builder.ins().brif(short, entry, &[], body, &[]);
        self.builder.seal_block(entry);
        self.builder.seal_block(body);
        self.builder.switch_to_block(body);
        let rest = self.subtract(fuel, charge.cost);
        self.builder.ins().set_pinned_reg(rest);
        self.fallback = Some(Fallback {
            entry,
            first: charge.op_index,
            range,
            stack: self.stack.clone(),
            branches: Vec::new(),
            frames: Vec::new(),
            headers: Vec::new(),
        });
    }

    /// Charges `cost` fuel, calling the out-of-fuel stub first when the
    /// register holds less. The hot path is a compare, a branch and a
    /// subtraction; the stub preserves every register, so the cold path
    /// disturbs nothing.
    fn emit_charge(&mut self, cost: u64) {
        let fuel = self.builder.ins().get_pinned_reg(types::I64);
        let short = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, fuel, cost as i64);
        let refuel = self.builder.create_block();
        let charge = self.builder.create_block();
        let available = self.builder.append_block_param(charge, types::I64);
        self.builder.set_cold_block(refuel);
        self.builder
            .ins()
            .brif(short, refuel, &[], charge, &[ir::BlockArg::Value(fuel)]);
        self.builder.seal_block(refuel);
        self.builder.switch_to_block(refuel);
        let stub = self.out_of_fuel_stub();
        // The stub's arguments are keyed to the fuel register rather than
        // passed as constants: Cranelift hoists a constant that a call uses
        // out of the loop around it and keeps it in a register (or a stack
        // slot) across the whole loop, hot path included, while a value
        // computed from the fuel is computed here, on the cold path.
        let caller_key = self
            .builder
            .ins()
            .bxor_imm_u(fuel, i64::from(self.func_index));
        let required_key = self
            .builder
            .ins()
            .iadd_imm_s(fuel, (cost as i64).wrapping_neg());
        self.builder
            .ins()
            .call(stub, &[self.vmctx, caller_key, required_key]);
        let refueled = self.builder.ins().get_pinned_reg(types::I64);
        self.builder
            .ins()
            .jump(charge, &[ir::BlockArg::Value(refueled)]);
        self.builder.seal_block(charge);
        self.builder.switch_to_block(charge);
        let rest = self.subtract(available, cost);
        self.builder.ins().set_pinned_reg(rest);
    }

    /// `fuel - cost`, for a charge that checked `fuel >= cost`.
    fn subtract(&mut self, fuel: Value, cost: u64) -> Value {
        let cost = self.builder.ins().iconst(types::I64, cost as i64);
        self.builder.ins().isub(fuel, cost)
    }

    /// The module's out-of-fuel stub (see `codegen::out_of_fuel_stub`).
    fn out_of_fuel_stub(&mut self) -> ir::FuncRef {
        if let Some(stub) = self.oof_stub {
            return stub;
        }
        let signature = self
            .builder
            .import_signature(self.env.out_of_fuel_stub_signature());
        let name = self
            .builder
            .func
            .declare_imported_user_function(UserExternalName::new(
                DEFINED_FUNC_NAMESPACE,
                self.env.out_of_fuel_stub_id(),
            ));
        let stub = self.builder.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.oof_stub = Some(stub);
        stub
    }
}
