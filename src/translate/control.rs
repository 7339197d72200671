//! Structured control flow: `block`, `loop`, `if`/`else`, `end`, branches
//! and `return`.
//!
//! Each open construct has a [`Frame`] in the translator's
//! [`ControlStack`] (shared with fuel planning, which so charges exactly
//! the code translated). Its results flow to a continuation block (`next`)
//! through block parameters; a loop's branch target is its header, whose
//! block parameters are the loop's parameters. Values that enter an `if`
//! are kept on the operand stack and reused by the `else` arm, since the
//! condition's block dominates both arms.
//!
//! Code that the control stack finds unreachable (after `br`, `br_table`,
//! `return` or `unreachable`, up to the enclosing `else` or `end`) is not
//! translated.
//!
//! This module must not translate anything but control flow.

use cranelift_codegen::ir::{self, BlockArg, InstBuilder, JumpTableData, Type, Value};
use wasmparser::{BlockType, BrTable};

use cranelift_frontend::Variable;

use super::{clif_type, FuncTranslator};
use crate::control::{ConstructKind, ControlStack};
use crate::error::CompileError;
use crate::parse::val_type;
use fuelc_runtime::abi::{FuncType, TrapCode};

/// The Cranelift blocks a construct starts with, besides its continuation.
pub(super) enum Start {
    /// The function body and a `block` start in the enclosing code.
    Inline,
    /// A `loop`; branches go to `header`, except that latches (see
    /// `crate::fuel::Latch`) go to `prepaid`, the header block past its
    /// charge, once the charge is emitted.
    Loop {
        header: ir::Block,
        prepaid: Option<ir::Block>,
    },
    /// An `if`; `else_block` starts the else arm, which receives
    /// `else_params` as its operands.
    If {
        else_block: ir::Block,
        else_params: Vec<Value>,
    },
}

/// What the translator keeps for one open control construct.
pub(super) struct Frame {
    start: Start,
    /// Continuation block; its parameters are the construct's results.
    next: ir::Block,
    num_params: usize,
    num_results: usize,
    /// Operand stack height below the construct's parameters.
    height: usize,
    /// Variables holding the topmost operands under the frame, when it was
    /// opened in a metered block with a fallback (see
    /// `save_operands_under` in `fuel.rs`); empty otherwise.
    saved_under: Vec<Variable>,
}

impl Frame {
    /// The block that follows the construct's `end`.
    pub(super) fn next(&self) -> ir::Block {
        self.next
    }

    /// How many results the construct has.
    pub(super) fn num_results(&self) -> usize {
        self.num_results
    }

    /// A loop's header block.
    pub(super) fn loop_header(&self) -> Option<ir::Block> {
        match self.start {
            Start::Loop { header, .. } => Some(header),
            _ => None,
        }
    }
}

/// The control stack at the body's first operator, with the function
/// body's frame, whose continuation returns.
pub(super) fn function_control(
    builder: &mut cranelift_frontend::FunctionBuilder<'_>,
    ty: &FuncType,
) -> ControlStack<Frame> {
    let next = builder.create_block();
    for t in &ty.results {
        builder.append_block_param(next, clif_type(*t));
    }
    ControlStack::new(Frame {
        start: Start::Inline,
        next,
        num_params: 0,
        num_results: ty.results.len(),
        height: 0,
        saved_under: Vec::new(),
    })
}

pub(super) fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|v| BlockArg::Value(*v)).collect()
}

impl FuncTranslator<'_, '_> {
    fn block_type(&self, bt: BlockType) -> (Vec<Type>, Vec<Type>) {
        match bt {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), vec![clif_type(val_type(t))]),
            BlockType::FuncType(i) => {
                let ty = &self.env.module.metadata.types[i as usize];
                (
                    ty.params.iter().map(|t| clif_type(*t)).collect(),
                    ty.results.iter().map(|t| clif_type(*t)).collect(),
                )
            }
        }
    }

    pub(super) fn block_with_params(&mut self, types: &[Type]) -> ir::Block {
        let block = self.builder.create_block();
        for t in types {
            self.builder.append_block_param(block, *t);
        }
        block
    }

    /// Opens a frame whose top `num_params` operands are its parameters.
    fn push_frame(
        &mut self,
        kind: ConstructKind,
        start: Start,
        num_params: usize,
        results: &[Type],
    ) {
        let next = self.block_with_params(results);
        let height = self.stack.len() - num_params;
        let frame = Frame {
            start,
            next,
            num_params,
            num_results: results.len(),
            height,
            saved_under: Vec::new(),
        };
        self.control.push(kind, frame);
    }

    pub(super) fn translate_block(&mut self, bt: BlockType) -> Result<(), CompileError> {
        if !self.control.enters() {
            return Ok(());
        }
        let (params, results) = self.block_type(bt);
        let height = self.stack.len() - params.len();
        let saved_under = self.save_operands_under(height);
        if self.in_fallback() && !self.fallback_opens_frame(false) {
            // A fallback shares the frames of the blocks that end after
            // the metered block: the fast code opens and closes them.
            return Ok(());
        }
        self.push_frame(ConstructKind::Block, Start::Inline, params.len(), &results);
        self.control.innermost_mut().data.saved_under = saved_under;
        Ok(())
    }

    pub(super) fn translate_loop(&mut self, bt: BlockType) -> Result<(), CompileError> {
        debug_assert!(
            !self.in_fallback(),
            "only a block's last operator transfers control"
        );
        if !self.control.enters() {
            return Ok(());
        }
        let (params, results) = self.block_type(bt);
        let header = self.block_with_params(&params);
        let args = block_args(self.peek_n(params.len()));
        self.builder.ins().jump(header, &args);
        self.stack.truncate(self.stack.len() - params.len());
        self.builder.switch_to_block(header);
        self.stack
            .extend_from_slice(self.builder.block_params(header));
        let start = Start::Loop {
            header,
            prepaid: None,
        };
        self.push_frame(ConstructKind::Loop, start, params.len(), &results);
        Ok(())
    }

    pub(super) fn translate_if(&mut self, bt: BlockType) -> Result<(), CompileError> {
        if !self.control.enters() {
            return Ok(());
        }
        // Inside a fallback, only an `if` whose arms are in the metered
        // block occurs; its frame is the fallback's own.
        self.fallback_opens_frame(true);
        let cond = self.pop();
        let (params, results) = self.block_type(bt);
        let then_block = self.builder.create_block();
        let else_block = self.builder.create_block();
        self.builder
            .ins()
            .brif(cond, then_block, &[], else_block, &[]);
        self.builder.seal_block(then_block);
        self.builder.seal_block(else_block);
        self.builder.switch_to_block(then_block);
        self.emit_planned_refund();
        let start = Start::If {
            else_block,
            else_params: self.peek_n(params.len()).to_vec(),
        };
        self.push_frame(ConstructKind::If, start, params.len(), &results);
        Ok(())
    }

    pub(super) fn translate_else(&mut self) -> Result<(), CompileError> {
        if self.control.skips_else() {
            return Ok(());
        }
        self.jump_to_next_if_falling_through();
        // Frames are only opened in reachable code, so the else arm is
        // reachable through the `if`'s branch.
        let frame = &self.control.else_arm().data;
        let Start::If {
            else_block,
            else_params,
        } = &frame.start
        else {
            unreachable!("validated else closes an if");
        };
        self.stack.truncate(frame.height);
        self.stack.extend_from_slice(else_params);
        self.builder.switch_to_block(*else_block);
        self.emit_planned_refund();
        Ok(())
    }

    pub(super) fn translate_end(&mut self) -> Result<(), CompileError> {
        if self.control.skips_end() {
            return Ok(());
        }
        if self.in_fallback() && !self.fallback_closes_frame() {
            // Besides those of its own frames, only the `end` of a
            // construct that opened before the metered block and is reached
            // by falling through is in it before its last operator: the
            // results are on top of the stack already, and the fast code
            // closes the frame.
            return Ok(());
        }
        self.jump_to_next_if_falling_through();
        let ended = self.control.end();
        let frame = ended.data;
        match &frame.start {
            Start::If {
                else_block,
                else_params,
            } if !ended.else_seen => {
                // An `if` without `else` passes its parameters through.
                self.builder.switch_to_block(*else_block);
                self.emit_planned_refund();
                let args = block_args(else_params);
                self.builder.ins().jump(frame.next, &args);
            }
            Start::Loop { header, prepaid } => {
                self.seal_loop_header(*header);
                if let Some(prepaid) = prepaid {
                    self.seal_loop_header(*prepaid);
                }
            }
            _ => {}
        }
        self.stack.truncate(frame.height);
        self.builder.switch_to_block(frame.next);
        self.builder.seal_block(frame.next);
        // The results first: `use_var` may append parameters to the block.
        let results = self.builder.block_params(frame.next).to_vec();
        debug_assert_eq!(results.len(), frame.num_results);
        let reachable = self.control.is_reachable();
        if reachable {
            let first = frame.height - frame.saved_under.len();
            for (slot, var) in frame.saved_under.iter().enumerate() {
                self.stack[first + slot] = self.builder.use_var(*var);
            }
        }
        if ended.kind == ConstructKind::Function {
            if reachable {
                self.builder.ins().return_(&results);
            }
        } else {
            self.stack.extend_from_slice(&results);
        }
        Ok(())
    }

    /// At an `else` or `end` reached by falling through, passes the
    /// innermost construct's results to its continuation.
    fn jump_to_next_if_falling_through(&mut self) {
        if self.control.is_reachable() {
            let frame = &self.control.innermost().data;
            let args = block_args(&self.stack[self.stack.len() - frame.num_results..]);
            self.builder.ins().jump(frame.next, &args);
        }
    }

    /// The branch target of the frame `depth` levels out, and how many
    /// operands a branch to it carries.
    pub(super) fn branch_target(&mut self, depth: u32) -> (ir::Block, usize) {
        let frame = &self.control.branch(depth).data;
        match frame.start {
            Start::Loop { header, .. } => (header, frame.num_params),
            _ => (frame.next, frame.num_results),
        }
    }

    pub(super) fn translate_br(&mut self, depth: u32) -> Result<(), CompileError> {
        let (target, arity) = self.resolved_branch_target(depth);
        let target = self.latch_target(depth).unwrap_or(target);
        if let Some(exit) = self.slice_exit(Some(depth)) {
            self.pay_back_slice(exit);
        }
        let args = block_args(self.peek_n(arity));
        self.builder.ins().jump(target, &args);
        self.control.stop();
        Ok(())
    }

    pub(super) fn translate_br_if(&mut self, depth: u32) -> Result<(), CompileError> {
        let cond = self.pop();
        let (target, arity) = self.resolved_branch_target(depth);
        let args = block_args(self.peek_n(arity));
        let fallthrough = self.builder.create_block();
        // A branch out of a sliced copy pays back what the copy owes.
        let leaves_slice = self.slice_exit(Some(depth));
        match self.refund().or(leaves_slice.map(|_| 0)) {
            None => {
                self.builder
                    .ins()
                    .brif(cond, target, &args, fallthrough, &[]);
            }
            Some(amount) => {
                // The taken edge gives back the cost of what it skips.
                let refund = self.builder.create_block();
                self.builder.ins().brif(cond, refund, &[], fallthrough, &[]);
                self.builder.seal_block(refund);
                self.builder.switch_to_block(refund);
                if amount > 0 {
                    self.emit_refund(amount);
                }
                if let Some(exit) = leaves_slice {
                    self.pay_back_slice(exit);
                }
                self.builder.ins().jump(target, &args);
            }
        }
        self.builder.seal_block(fallthrough);
        self.builder.switch_to_block(fallthrough);
        Ok(())
    }

    /// For a latch in the fast code, the loop `depth` levels out's header
    /// block past its charge.
    fn latch_target(&mut self, depth: u32) -> Option<ir::Block> {
        if !self.is_latch() {
            return None;
        }
        let Start::Loop {
            prepaid: Some(prepaid),
            ..
        } = self.control.frame(depth).data.start
        else {
            unreachable!("a latch branches to a loop whose header block charged");
        };
        self.latches_taken += 1;
        Some(prepaid)
    }

    /// After its loop's header block charge: starts the block that the
    /// loop's latches enter, when it has any.
    pub(super) fn open_prepaid_entry(&mut self) {
        let prepaid = self.builder.create_block();
        self.builder.ins().jump(prepaid, &[]);
        self.builder.switch_to_block(prepaid);
        let frame = &mut self.control.innermost_mut().data;
        let Start::Loop { prepaid: entry, .. } = &mut frame.start else {
            unreachable!("a header block starts its loop's body");
        };
        debug_assert!(entry.is_none(), "one header block per loop");
        *entry = Some(prepaid);
    }

    pub(super) fn translate_br_table(&mut self, table: BrTable<'_>) -> Result<(), CompileError> {
        debug_assert!(
            !self.in_fallback(),
            "only a block's last operator transfers control"
        );
        let index = self.pop();
        let mut depths = table.targets().collect::<Result<Vec<u32>, _>>()?;
        depths.push(table.default());
        let mut targets = Vec::with_capacity(depths.len());
        let mut landings: Vec<(u32, ir::Block, ir::Block, usize)> = Vec::new();
        for depth in depths {
            let (target, arity) = self.branch_target(depth);
            if arity == 0 {
                targets.push(target);
                continue;
            }
            // Jump tables carry no block arguments: branch through a
            // landing block per distinct target that passes the operands.
            let landing = match landings.iter().find(|l| l.0 == depth) {
                Some(l) => l.1,
                None => {
                    let landing = self.builder.create_block();
                    landings.push((depth, landing, target, arity));
                    landing
                }
            };
            targets.push(landing);
        }
        let default = targets.pop().expect("br_table has a default");
        let dfg = &mut self.builder.func.dfg;
        let default_call = dfg.block_call(default, &[]);
        let calls: Vec<_> = targets.iter().map(|b| dfg.block_call(*b, &[])).collect();
        let jt = self
            .builder
            .create_jump_table(JumpTableData::new(default_call, &calls));
        self.builder.ins().br_table(index, jt);
        for (_, landing, target, arity) in landings {
            self.builder.seal_block(landing);
            self.builder.switch_to_block(landing);
            let args = block_args(self.peek_n(arity));
            self.builder.ins().jump(target, &args);
        }
        self.control.stop();
        Ok(())
    }

    pub(super) fn translate_return(&mut self) -> Result<(), CompileError> {
        let arity = self.control.function().data.num_results;
        let results = self.peek_n(arity).to_vec();
        if let Some(exit) = self.slice_exit(None) {
            self.pay_back_slice(exit);
        }
        self.builder.ins().return_(&results);
        self.control.stop();
        Ok(())
    }

    pub(super) fn translate_unreachable(&mut self) -> Result<(), CompileError> {
        self.trap(TrapCode::Unreachable);
        self.control.stop();
        Ok(())
    }

    /// Ends the current block with a trap.
    pub(super) fn trap(&mut self, code: TrapCode) {
        self.builder.ins().trap(super::clif_trap(code));
    }

    /// Traps with `code` when `cond` is non-zero.
    pub(super) fn trap_if(&mut self, cond: Value, code: TrapCode) {
        self.builder.ins().trapnz(cond, super::clif_trap(code));
    }
}
