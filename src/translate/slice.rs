//! Sliced loops: counted loops charged once, at their entry, for all their
//! iterations (see `crate::fuel::loops` for which loops are counted and
//! how many times their body runs).
//!
//! A sliced loop is translated twice. At the `loop`, the *slice charge*
//! computes how many times the body will be entered from the induction
//! variable, step and bound, and the cost of that many iterations. When
//! the count is known (the variable does not wrap around first) and the
//! fuel covers the cost, the fuel is charged and the *sliced copy* runs:
//! the body without its per-iteration charge (its refunds stay, so every
//! iteration costs exactly its path). Otherwise the *metered copy* runs:
//! the body as any loop is translated, charged per iteration with its
//! exact fallback, so it stops where per-op mode stops. Both copies leave
//! the loop to the same code.
//!
//! The sliced copy keeps its refunds in a variable (one addition each, in
//! a register) and adds them to the fuel when it leaves the loop; a trap in
//! it loses them (`docs/fuel.md`, "The contract"). An *early exit* (a
//! branch out of the loop other than its exit test, or a `return`) also
//! gives back the iterations it skips: from the induction variable's value
//! when the iteration began, it computes how many entries the loop had
//! left, as the slice charge computed them at its entry.
//!
//! Nothing in the body charges but its metered blocks: the sliced copy
//! drops their charges, inner loops' included, and in their place credits
//! and debits what blocks that some iterations skip cost
//! (`crate::fuel::loops::SliceAdjustment`); the metered copy slices its
//! inner loops on their own. The copies share everything outside the
//! loop: the frames around it, the blocks its exits target, and the
//! locals, which are variables that SSA construction merges where the
//! copies meet.
//!
//! This module must not decide which loops are sliced; `crate::fuel` does.

use cranelift_codegen::ir::{self, condcodes::IntCC, types, InstBuilder, Value};
use cranelift_frontend::Variable;
use wasmparser::OperatorsReader;

use super::control::block_args;
use super::FuncTranslator;
use crate::error::CompileError;
use crate::fuel::loops::{Compare, CountedLoop, Invariant, LoopForm};

/// The sliced copy of a loop being translated.
pub(super) struct SlicedCopy {
    /// The refunds its paths have made so far, owed back to the fuel when
    /// it leaves the loop.
    owed: Variable,
    /// Whether the plan has refunds in the loop (else nothing is owed).
    refunds: bool,
    /// Its exit test when it leaves the loop by being taken (a `for`
    /// loop's; a do-while loop's leaves by falling out).
    taken_exit: Option<usize>,
    /// The loop's frame in the control stack.
    frame: usize,
    /// How the loop is counted.
    counted: CountedLoop,
    /// When the loop has early exits: the induction variable's value when
    /// the current iteration began.
    iteration_start: Option<Value>,
}

/// How a branch or `return` leaves the sliced copy of a loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SliceExit {
    /// By the loop's exit test: the iterations it ran are all it was
    /// charged for.
    ExitTest,
    /// Before the exit test leaves: the iterations left are given back.
    Early,
}

impl<'r> FuncTranslator<'_, '_> {
    /// Translates the counted loop whose `loop` `reader` is at, up to its
    /// body's last operator (the branch back): the slice charge, the
    /// sliced copy and the metered copy.
    /// Returns the index of the loop's `end`, where `reader` is left.
    pub(super) fn translate_sliced_loop(
        &mut self,
        reader: &mut OperatorsReader<'r>,
        fallback_reader: &mut Option<OperatorsReader<'r>>,
        counted: CountedLoop,
    ) -> Result<usize, CompileError> {
        debug_assert!(self.fallback.is_none(), "a loop starts no metered block");
        let loop_index = self.op_index;
        let entry_stack = self.stack.clone();
        let metered = self.emit_slice_charge(&counted);

        // The sliced copy: nothing in it charges.
        let owed = self.builder.declare_var(types::I64);
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.builder.def_var(owed, zero);
        let inside = |at: usize| (loop_index..=counted.last).contains(&at);
        let refunds = self.fuel.refunds.iter().any(|r| inside(r.op_index))
            || self
                .fuel
                .slice_adjustments
                .iter()
                .any(|a| inside(a.op_index));
        let mut copy = reader.clone();
        self.offset = copy.original_position() as usize;
        copy.visit_operator(self)??;
        let iteration_start = counted
            .exits_early
            .then(|| self.builder.use_var(self.locals[counted.local as usize].0));
        self.sliced = Some(SlicedCopy {
            owed,
            refunds,
            taken_exit: (counted.form == LoopForm::For).then_some(counted.exit_test),
            frame: self.control.open_frames() - 1,
            counted,
            iteration_start,
        });
        for index in loop_index + 1..=counted.last {
            self.op_index = index;
            self.offset = copy.original_position() as usize;
            self.adjust_slice();
            copy.visit_operator(self)??;
        }
        let exit = self.close_sliced_copy();
        self.sliced = None;

        // The metered copy, as any loop is translated, and cold: it runs
        // only when the fuel is short or the count unknown.
        self.stack = entry_stack;
        self.control.set_reachable(true);
        self.builder.set_cold_block(metered);
        let first_cold = self.builder.func.dfg.num_blocks();
        self.builder.switch_to_block(metered);
        // Its inner loops are sliced on their own.
        let mut index = loop_index;
        while index <= counted.last {
            let inner = index != loop_index;
            index = self.translate_next(reader, fallback_reader, index, inner)?;
        }
        // Where the loop's `end` goes on, after either copy.
        let next = self.control.innermost().data.next();
        self.mark_cold_from(first_cold, Some(next));
        debug_assert_eq!(
            exit.is_some(),
            self.control.is_reachable(),
            "both copies fall out of the loop, or neither"
        );
        if let Some((block, results)) = exit {
            // Both copies go on before the loop's `end`, where the next
            // metered block may start, with the loop's results merged.
            let types: Vec<_> = results
                .iter()
                .map(|v| self.builder.func.dfg.value_type(*v))
                .collect();
            let join = self.block_with_params(&types);
            let height = self.stack.len() - results.len();
            self.builder
                .ins()
                .jump(join, &block_args(&self.stack[height..]));
            self.builder.switch_to_block(block);
            self.builder.ins().jump(join, &block_args(&results));
            self.builder.seal_block(join);
            self.builder.switch_to_block(join);
            self.stack.truncate(height);
            self.stack
                .extend_from_slice(self.builder.block_params(join));
        }
        Ok(counted.last + 1)
    }

    /// Closes the sliced copy's loop frame after its last operator (the
    /// metered copy opens its own): seals its header, and returns where it
    /// falls out of the loop, with the loop's results, if it does.
    fn close_sliced_copy(&mut self) -> Option<(ir::Block, Vec<Value>)> {
        let falls_out = self.control.is_reachable();
        let frame = self.control.end().data;
        let header = frame.loop_header().expect("a sliced loop's frame");
        self.builder.seal_block(header);
        if !falls_out {
            return None;
        }
        // A do-while loop's exit test leaves by falling out.
        self.pay_back_slice(SliceExit::ExitTest);
        let exit = self.builder.create_block();
        self.builder.ins().jump(exit, &[]);
        self.builder.seal_block(exit);
        self.builder.switch_to_block(exit);
        let results = self.stack[self.stack.len() - frame.num_results()..].to_vec();
        Some((exit, results))
    }

    /// In the sliced copy of a loop, adds `amount` to what the copy owes
    /// back, and returns `true`; elsewhere returns `false`.
    pub(super) fn owe_refund(&mut self, amount: u64) -> bool {
        if self.sliced.is_none() {
            return false;
        }
        self.owe(amount as i64);
        true
    }

    /// In the sliced copy, before the current operator: the credit of the
    /// loop whose iteration starts, or the debit of the metered block that
    /// starts, if any (`crate::fuel::loops::SliceAdjustment`).
    fn adjust_slice(&mut self) {
        let adjustments = &self.fuel.slice_adjustments;
        let Ok(i) = adjustments.binary_search_by_key(&self.op_index, |a| a.op_index) else {
            return;
        };
        if self.control.is_reachable() {
            self.owe(adjustments[i].amount);
        }
    }

    /// Adds `amount` to what the sliced copy owes back.
    fn owe(&mut self, amount: i64) {
        let sliced = self.sliced.as_ref().expect("in a sliced copy");
        debug_assert!(
            sliced.refunds,
            "refunds or adjustments in the loop were planned"
        );
        let owed = sliced.owed;
        let before = self.builder.use_var(owed);
        let after = self.builder.ins().iadd_imm_s(before, amount);
        self.builder.def_var(owed, after);
    }

    /// Whether the current operator, a branch to the frame `depth` levels
    /// out or a `return` (`None`), leaves the sliced copy being translated
    /// (when taken), and how.
    pub(super) fn slice_exit(&self, depth: Option<u32>) -> Option<SliceExit> {
        let sliced = self.sliced.as_ref()?;
        if sliced.taken_exit == Some(self.op_index) {
            return Some(SliceExit::ExitTest);
        }
        let leaves = depth.is_none_or(|d| self.control.index(d) < sliced.frame);
        debug_assert!(
            !leaves || sliced.iteration_start.is_some(),
            "the plan knows the loop's early exits"
        );
        leaves.then_some(SliceExit::Early)
    }

    /// Where the sliced copy leaves the loop by `exit`: adds back to the
    /// fuel what the copy owes and, for an early exit, the cost of the
    /// entries the loop had left after the current one.
    pub(super) fn pay_back_slice(&mut self, exit: SliceExit) {
        let sliced = self.sliced.as_ref().expect("in a sliced copy");
        let owed = sliced.refunds.then_some(sliced.owed);
        let early = match exit {
            SliceExit::Early => Some((
                sliced.counted,
                sliced.iteration_start.expect("kept for early exits"),
            )),
            SliceExit::ExitTest => None,
        };
        let mut back = owed.map(|owed| self.builder.use_var(owed));
        if let Some((counted, start)) = early {
            let (entries, _) = self.emit_entries(&counted, start);
            let left = self.builder.ins().iadd_imm_s(entries, -1);
            let left = self
                .builder
                .ins()
                .imul_imm_s(left, counted.iteration_cost as i64);
            back = Some(match back {
                Some(owed) => self.builder.ins().iadd(owed, left),
                None => left,
            });
        }
        let Some(back) = back else {
            return;
        };
        let fuel = self.builder.ins().get_pinned_reg(types::I64);
        let fuel = self.builder.ins().iadd(fuel, back);
        self.builder.ins().set_pinned_reg(fuel);
    }

    /// At a counted loop's `loop`: computes how many times its body will
    /// be entered and what that costs, and goes on to the sliced copy,
    /// having charged it, when the count is known and the fuel covers it,
    /// else to the metered copy. Returns the metered copy's entry.
    ///
    /// With a constant start, step and bound the count is known when the
    /// loop is compiled (`CountedLoop::static_entries`); otherwise it is
    /// computed at run time ([`Self::emit_entries`]). So are the counts of
    /// the inner loops of a nest whose counts are not constants
    /// (`CountedLoop::counted_inner`): each adds its count times its
    /// iteration cost to the nest's.
    fn emit_slice_charge(&mut self, counted: &CountedLoop) -> ir::Block {
        let (entries, mut known) = match counted.static_entries() {
            Some(Some(entries)) => {
                let entries = self.builder.ins().iconst(types::I64, entries as i64);
                let known = self.builder.ins().iconst(types::I8, 1);
                (entries, known)
            }
            _ => {
                let start = self.builder.use_var(self.locals[counted.local as usize].0);
                self.emit_entries(counted, start)
            }
        };
        let inner: Vec<CountedLoop> = self.fuel.counted_inner(self.op_index).collect();
        debug_assert_eq!(inner.len(), counted.counted_inner as usize);
        let fuel = self.builder.ins().get_pinned_reg(types::I64);
        let mut iteration = self
            .builder
            .ins()
            .iconst(types::I64, counted.iteration_cost as i64);
        for loop_ in &inner {
            let start = loop_
                .start
                .expect("an inner loop counted at entry starts at a constant");
            let start = self.builder.ins().iconst(types::I32, start);
            let (entries, inner_known) = self.emit_entries(loop_, start);
            known = self.builder.ins().band(known, inner_known);
            let cost = self
                .builder
                .ins()
                .imul_imm_s(entries, loop_.iteration_cost as i64);
            iteration = self.builder.ins().iadd(iteration, cost);
        }
        // The nest's iteration costs less than 2^64, but `entries` times
        // it may not: such a charge is more fuel than there can be.
        let cost = self.builder.ins().imul(entries, iteration);
        let mut enough = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, fuel, cost);
        if !inner.is_empty() {
            let high = self.builder.ins().umulhi(entries, iteration);
            let fits = self.builder.ins().icmp_imm_u(IntCC::Equal, high, 0);
            enough = self.builder.ins().band(enough, fits);
        }
        let go = self.builder.ins().band(known, enough);
        let sliced = self.builder.create_block();
        let metered = self.builder.create_block();
        self.builder.ins().brif(go, sliced, &[], metered, &[]);
        self.builder.seal_block(sliced);
        self.builder.seal_block(metered);
        self.builder.switch_to_block(sliced);
        let rest = self.builder.ins().isub(fuel, cost);
        self.builder.ins().set_pinned_reg(rest);
        metered
    }

    /// How many times a counted loop's body will be entered from an
    /// iteration that begins with the induction variable at `variable`
    /// (the loop's entry, or an early exit's iteration), and whether that
    /// count is known. The computation follows `CountedLoop::entries` in
    /// 64-bit arithmetic, where every `i32` value and count fits. With a
    /// constant step, Cranelift folds the tests on the step away.
    fn emit_entries(&mut self, counted: &CountedLoop, variable: Value) -> (Value, Value) {
        use Compare::*;
        let signed = matches!(counted.compare, LtS | GtS | LeS | GeS);
        let local = |t: &mut Self, l: u32| t.builder.use_var(t.locals[l as usize].0);
        let invariant = |t: &mut Self, v: Invariant| match v {
            Invariant::Const(c) => t.builder.ins().iconst(types::I32, c),
            Invariant::Local(l) => local(t, l),
        };
        // What each iteration adds to the variable (wrapping).
        let step32 = invariant(self, counted.step);
        let step32 = if counted.step_down {
            self.builder.ins().ineg(step32)
        } else {
            step32
        };
        let first32 = if counted.after_step {
            self.builder.ins().iadd(variable, step32)
        } else {
            variable
        };
        let bound32 = invariant(self, counted.bound);
        let widen = |t: &mut Self, v: Value| {
            if signed {
                t.builder.ins().sextend(types::I64, v)
            } else {
                t.builder.ins().uextend(types::I64, v)
            }
        };
        let first = widen(self, first32);
        let bound = widen(self, bound32);
        let step = self.builder.ins().sextend(types::I64, step32);
        let moves = self.builder.ins().icmp_imm_u(IntCC::NotEqual, step, 0);
        let leaves_when = counted.form == LoopForm::For;
        let (entries, known) = match (counted.compare, leaves_when) {
            // Leaves at the first value that differs from the bound: the
            // first, or the second if the variable moves.
            (Eq, false) | (Ne, true) => {
                let differs = self.builder.ins().icmp(IntCC::NotEqual, first, bound);
                let two = self.builder.ins().iconst(types::I64, 2);
                let one = self.builder.ins().iconst(types::I64, 1);
                let entries = self.builder.ins().select(differs, one, two);
                let known = self.builder.ins().bor(differs, moves);
                (entries, known)
            }
            // Leaves at the bound, a whole number of steps away (wrapping).
            (Ne, false) | (Eq, true) => {
                let up = self
                    .builder
                    .ins()
                    .icmp_imm_s(IntCC::SignedGreaterThan, step, 0);
                let ahead = self.builder.ins().isub(bound32, first32);
                let behind = self.builder.ins().isub(first32, bound32);
                let distance32 = self.builder.ins().select(up, ahead, behind);
                let distance = self.builder.ins().uextend(types::I64, distance32);
                let back = self.builder.ins().ineg(step);
                let stride = self.builder.ins().select(up, step, back);
                let one = self.builder.ins().iconst(types::I64, 1);
                let divisor = self.builder.ins().select(moves, stride, one);
                let steps = self.builder.ins().udiv(distance, divisor);
                let rest = self.builder.ins().urem(distance, divisor);
                let whole = self.builder.ins().icmp_imm_u(IntCC::Equal, rest, 0);
                let known = self.builder.ins().band(moves, whole);
                let entries = self.builder.ins().iadd_imm_s(steps, 1);
                (entries, known)
            }
            // Leaves once the value crosses a threshold.
            (compare, leaves_when) => {
                let (up, offset) = match (compare, leaves_when) {
                    // Leaves when x >= bound + offset.
                    (LtS | LtU, false) | (GeS | GeU, true) => (true, 0),
                    (LeS | LeU, false) | (GtS | GtU, true) => (true, 1),
                    // Leaves when x <= bound + offset.
                    (GtS | GtU, false) | (LeS | LeU, true) => (false, 0),
                    _ => (false, -1),
                };
                let threshold = self.builder.ins().iadd_imm_s(bound, offset);
                self.crossing(first, threshold, up, step, signed)
            }
        };
        (entries, known)
    }

    /// How many entries a loop makes whose exit test leaves once the
    /// compared value, starting at `first` and moving by `step` (signed,
    /// 64-bit), reaches `threshold` from below (`up`) or from above, and
    /// whether that count is known: the value starts there, or moves
    /// toward it and gets there without leaving the `i32` range (read
    /// `signed` or not).
    fn crossing(
        &mut self,
        first: Value,
        threshold: Value,
        up: bool,
        step: Value,
        signed: bool,
    ) -> (Value, Value) {
        // How far the value is from the threshold, in the direction it
        // must travel, if not there yet.
        let (gap, toward, stride) = if up {
            let gap = self.builder.ins().isub(threshold, first);
            let toward = self
                .builder
                .ins()
                .icmp_imm_s(IntCC::SignedGreaterThan, step, 0);
            (gap, toward, step)
        } else {
            let gap = self.builder.ins().isub(first, threshold);
            let toward = self
                .builder
                .ins()
                .icmp_imm_s(IntCC::SignedLessThan, step, 0);
            (gap, toward, self.builder.ins().ineg(step))
        };
        let zero = self.builder.ins().iconst(types::I64, 0);
        let gap = self.builder.ins().smax(gap, zero);
        let there = self.builder.ins().icmp_imm_u(IntCC::Equal, gap, 0);
        let one = self.builder.ins().iconst(types::I64, 1);
        let stride = self.builder.ins().select(toward, stride, one);
        let rounded = self.builder.ins().iadd(gap, stride);
        let rounded = self.builder.ins().iadd_imm_s(rounded, -1);
        let steps = self.builder.ins().udiv(rounded, stride);
        let travel = self.builder.ins().imul(steps, stride);
        let (min, max) = if signed {
            (i64::from(i32::MIN), i64::from(i32::MAX))
        } else {
            (0, i64::from(u32::MAX))
        };
        let in_range = if up {
            let last = self.builder.ins().iadd(first, travel);
            self.builder
                .ins()
                .icmp_imm_s(IntCC::SignedLessThanOrEqual, last, max)
        } else {
            let last = self.builder.ins().isub(first, travel);
            self.builder
                .ins()
                .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, last, min)
        };
        let gets_there = self.builder.ins().band(toward, in_range);
        let known = self.builder.ins().bor(there, gets_there);
        let entries = self.builder.ins().iadd_imm_s(steps, 1);
        (entries, known)
    }
}
