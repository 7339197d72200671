//! Metered blocks: the analysis behind [`plan_function`].
//!
//! A metered block is a run of operators that execute together: once its
//! first operator runs, every later one runs too, unless something traps or
//! a forward `br_if` leaves it early. It starts at function entry, at the
//! first operator of a loop body and of each `if` arm, after a `br_if` back
//! to a loop, after the `end` of a construct that a branch targets or whose
//! arms merge there, and after a call or an operator with a dynamic cost
//! (whose own charges must see the fuel per-op mode would have). `block` and
//! forward `br_if`s do not end it, and the `end` of a construct reached only
//! by falling through continues it. Its whole cost is charged at its entry;
//! a forward `br_if` that is taken refunds the cost of the operators it
//! skips, so the fuel consumed stays exactly the cost of what ran. In exact
//! mode a `block` that opened in the metered block and that only forward
//! `br_if`s and leaving arms of the same metered block target may *join*:
//! the metered block goes on after its `end`, and those branches refund
//! only what they skip up to it ([`Planner::join`]).
//!
//! In exact mode an `if` whose arms are straight-line (no control, calls or
//! dynamic costs in them, except that one arm may end with a `br`,
//! `return` or `unreachable`) does not end the block either. When both
//! arms fall through, the block is charged for the dearest arm, and the
//! cheaper arm refunds the difference when it starts (an addition, no
//! check). An arm that leaves is an exit like a forward `br_if`. So a loop
//! body with such branches pays one check per iteration.
//!
//! A block's charge is the cost of its dearest path: the path that falls
//! through to its end, or one through an exit. Each exit refunds what its
//! path costs less; when an exit's path is the dearest, the fall-through
//! path gets its surplus back on the other arm of the last `if` that
//! leaves (exits after that `if` cost no more than the fall-through path).
//!
//! A `br` back to a loop may pay ahead for the loop's first metered block
//! ([`Latch`]), which it then enters past its charge.
//!
//! When the fuel is short of a block's cost, the block runs its exact
//! fallback instead: a copy metered per operator (see [`Charge::fallback`]),
//! so that it stops exactly where per-op mode stops. The plan therefore also
//! lists every operator's own charge ([`FuelPlan::op_charges`]).
//!
//! The walk decides reachability with the translator's model of control,
//! [`ControlStack`]: code the translator does not translate is never
//! charged.

use fuelc_runtime::abi::FuelMode;
use wasmparser::{BlockType, FunctionBody, Operator, OperatorsReader};

use super::cost::{operator_name, OperatorCost};
use super::loops::{
    self, CountedLoop, InnerLoop, LocalWrite, LoopInfo, LoopScan, NotCounted, SliceAdjustment,
};
use super::Metering;
use crate::control::{ConstructKind, ControlStack};
use crate::error::CompileError;

/// Constant operands of at most this many units (bytes, elements or pages)
/// have their dynamic cost charged with the metered block, as Wasmtime does;
/// larger or non-constant ones are charged by the runtime when the
/// operation runs.
pub const FOLDED_UNITS_LIMIT: u32 = 128;

/// Where and how much one function charges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FuelPlan {
    /// Exact mode: one charge per metered block with a cost, in operator
    /// order. Empty in per-op mode.
    pub blocks: Vec<Charge>,
    /// Every reachable operator's own charge (the per-op plan), in operator
    /// order; the function-entry charge comes first, before operator 0. Per-op
    /// mode emits these; exact mode emits them in fallbacks.
    pub op_charges: Vec<Charge>,
    /// Indices of the bulk and grow operators whose dynamic cost is in
    /// their own charge already (their constant operand was folded), sorted.
    pub prepaid: Vec<usize>,
    /// Refunds in operator order: on the taken edge of a forward `br_if`
    /// (keyed by the `br_if`), and on the cheaper arm of an `if` merged into
    /// its metered block (keyed by the `if` for the then arm, by the `else`
    /// for the else arm, by the `end` for the missing else arm).
    pub refunds: Vec<Charge>,
    /// Exact mode: the `block` operators whose `end` is in the metered block
    /// they open in, sorted. A fallback translates these blocks with frames
    /// of its own, since its branches to them must stay in the fallback.
    pub inner_blocks: Vec<usize>,
    /// Exact mode: the `br`s back to a loop whose metered block also pays
    /// for the loop's first metered block, in operator order (see
    /// [`Latch`]).
    pub latches: Vec<Latch>,
    /// Exact mode: every reachable loop, in operator order, and whether its
    /// trip count is known at its entry (see [`super::loops`]).
    pub loops: Vec<LoopInfo>,
    /// Exact mode: what the sliced copies of counted loops add to what
    /// they owe back, by operator, sorted (see [`CountedLoop::credit`]).
    pub slice_adjustments: Vec<SliceAdjustment>,
}

impl FuelPlan {
    /// The loop opened by operator `op_index`, if it is charged once at its
    /// entry (see [`super::loops`]): how it is counted.
    pub fn slice_at(&self, op_index: usize) -> Option<CountedLoop> {
        let i = self
            .loops
            .binary_search_by_key(&op_index, |l| l.op_index)
            .ok()?;
        let counted = self.loops[i].verdict.ok()?;
        counted.sliceable().ok()?;
        Some(counted)
    }

    /// The loops directly inside the counted loop `outer` that its charge
    /// includes and whose trip counts it computes when it is entered (see
    /// [`CountedLoop::counted_inner`]).
    pub fn counted_inner(&self, outer: usize) -> impl Iterator<Item = CountedLoop> + '_ {
        self.loops
            .iter()
            .filter(move |l| l.charged_with == Some(outer))
            .filter_map(|l| l.verdict.ok())
            .filter(|c| c.static_entries().is_none())
    }
}

/// A `br` back to a loop whose metered block's charge includes the charge
/// of the loop's first metered block (its *header block*), so that the
/// branch enters the header block past its charge: a loop whose body is
/// several metered blocks and ends with a `br` (as loops around a `switch`
/// do) pays one charge fewer per iteration.
///
/// A `br_if` back to a loop is no latch: when it is not taken (once per
/// run of the loop) it would have to refund the header block's charge,
/// which costs about what the charge it saves per iteration costs, and
/// loops that `br_if` closes often run once or twice per entry (a loop
/// that replaces a tail call, for example).
///
/// The latch's metered block always has a fallback, which ends with its own
/// copy of the branch: that copy, having paid nothing ahead, branches to
/// the loop's header before the header block's charge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latch {
    /// The `br`.
    pub op_index: usize,
    /// The `loop` it branches to.
    pub loop_index: usize,
}

/// Fuel to charge before the operator with index `op_index` (counted from
/// the first operator of the body) executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charge {
    /// Index of the operator the charge precedes.
    pub op_index: usize,
    /// Fuel to charge; never zero.
    pub cost: u64,
    /// For a metered block whose single charge could stop elsewhere than
    /// per-op charges would (it covers two or more charged operators, a
    /// forward exit that skips some, a merged `if`, or a free operator with
    /// an effect before its one charged operator): how its exact fallback
    /// runs. `None`
    /// for per-operator charges and blocks whose charge is the one charge
    /// per-op mode would make.
    pub fallback: Option<Fallback>,
}

/// The exact fallback of a metered block: when the fuel is short of the
/// block's cost, operators `op_index..join` run in a copy metered one by
/// one; then the charges of operators `join..=last` are made one by one,
/// and the copy rejoins the block's code before operator `join`.
///
/// A latch's block (see [`Latch`]) has `join == last + 1`: its copy runs
/// every operator, its branch included, and rejoins after it.
///
/// Operators `join..last` have no effect that could be seen if the call
/// stopped before them (locals, constants, comparisons, non-trapping
/// scalar arithmetic: this module's `unobservable`), so charging them
/// before they run stops where per-op mode stops, with the same state;
/// rejoining early lets the block's last operator (typically a branch)
/// and what computes its operands stay in one piece of code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fallback {
    /// Where the copy rejoins.
    pub join: usize,
    /// The block's last operator.
    pub last: usize,
}

impl Charge {
    fn new(op_index: usize, cost: u64) -> Charge {
        Charge {
            op_index,
            cost,
            fallback: None,
        }
    }
}

/// The metered block being planned.
struct OpenBlock {
    first: usize,
    /// The last operator added so far.
    last: usize,
    /// Where a fallback would rejoin if `last` stays the last operator:
    /// the start of the run of unobservable operators right before it.
    join: usize,
    /// The start of the run of unobservable operators that ends with
    /// `last`, if `last` is one.
    run: Option<usize>,
    /// The cost of the path through it that falls through to its end (the
    /// dearer arm of each merged `if`); exits may cost more.
    cost: u64,
    /// How many of its operators (and the entry) have a cost of their own.
    charged: u32,
    /// Whether its charge needs the fallback even if it covers fewer than
    /// two charged operators and no exit refunds: it holds an `if` with
    /// straight-line arms (`merge_if`) or the `end` of a block that forward
    /// branches target (`join`), or a free operator with an effect (see
    /// [`has_effect`]) comes before its first costed one, so that charging
    /// at its entry would stop before that effect, where per-op mode stops
    /// after it.
    needs_fallback: bool,
}

/// What the planner keeps in each control frame.
struct PlanFrame {
    /// The operator that opens it.
    op_index: usize,
    /// The metered block open when it opened ([`Planner::block_id`]).
    opened_in: u64,
    /// An `if` whose straight-line arms are part of the enclosing metered
    /// block (see [`Planner::merge_if`]).
    merged: bool,
    /// A loop whose type may give it parameters.
    params: bool,
}

struct Planner {
    mode: FuelMode,
    control: ControlStack<PlanFrame>,
    /// The open metered block.
    open: Option<OpenBlock>,
    /// Counts the metered blocks started, so that a frame knows whether
    /// the block it opened in is still open.
    block_id: u64,
    /// The exits of the open block: forward `br_if`s and arms that leave.
    exits: Vec<Exit>,
    /// Frames that `br_if`s in merged arms of the open block target (their
    /// refunds are planned with their `if`, not as exits).
    arm_targets: Vec<usize>,
    /// In the open block, the last `if` with an arm that leaves: its `end`
    /// and the key of the refund on its other arm.
    surplus: Option<(usize, usize)>,
    blocks: Vec<Charge>,
    op_charges: Vec<Charge>,
    refunds: Vec<Charge>,
    inner_blocks: Vec<usize>,
    latches: Vec<Latch>,
    /// Exact mode: what the walk saw in each loop.
    scans: Vec<LoopScan>,
    /// The loops open around the current operator, innermost last
    /// (indices into `scans`).
    open_loops: Vec<usize>,
}

/// An exit of the open metered block.
struct Exit {
    /// The refund's key: the `br_if`, or the arm that leaves.
    key: usize,
    /// The cost of its path: the operators before it and the exit itself.
    cost: u64,
    /// The frame it branches to, if it branches forward (not for `return`
    /// or `unreachable`).
    target: Option<usize>,
    /// Whether its path could go on after the `end` of its target as the
    /// fall-through path does (`join`): not for an arm that holds
    /// `br_if`s, whose refunds take the arm's path to end at its exit.
    joinable: bool,
}

impl Planner {
    fn close(&mut self) {
        let Some(block) = self.open.take() else {
            return;
        };
        let mut refunded = false;
        let through = block.cost;
        let charge = self.exits.iter().map(|e| e.cost).fold(through, u64::max);
        let surplus = self.surplus.take();
        for exit in self.exits.drain(..) {
            // What the path has paid when it leaves: the fall-through path
            // gets its surplus back at the last `if` with a leaving arm.
            let paid = match surplus {
                Some((end, _)) if exit.key <= end => charge,
                _ => through,
            };
            debug_assert!(paid >= exit.cost, "no path costs more than the charge");
            let skipped = paid - exit.cost;
            if skipped > 0 {
                refunded = true;
                self.refunds.push(Charge::new(exit.key, skipped));
            }
        }
        self.arm_targets.clear();
        if let Some((_, key)) = surplus {
            if charge > through {
                self.refunds.push(Charge::new(key, charge - through));
            }
        }
        let block = OpenBlock {
            cost: charge,
            ..block
        };
        if block.cost > 0 && self.mode == FuelMode::Exact {
            // A latch ends its block (its cost includes the prepaid header
            // block), and its copy ends with its own branch.
            let latch = self
                .latches
                .last()
                .is_some_and(|l| l.op_index == block.last);
            let exact_alone = block.charged < 2 && !refunded && !block.needs_fallback;
            self.blocks.push(Charge {
                op_index: block.first,
                cost: block.cost,
                fallback: (!exact_alone).then_some(Fallback {
                    join: if latch { block.last + 1 } else { block.join },
                    last: block.last,
                }),
            });
        }
    }

    fn start(&mut self, op_index: usize) {
        self.close();
        self.block_id += 1;
        self.open = Some(OpenBlock {
            first: op_index,
            last: op_index,
            join: op_index,
            run: None,
            cost: 0,
            charged: 0,
            needs_fallback: false,
        });
    }

    /// Adds reachable operator `op_index` with its own cost to the open
    /// block; `unobservable` as [`unobservable`] says, `effect` as
    /// [`has_effect`] does.
    fn add(&mut self, op_index: usize, cost: u64, unobservable: bool, effect: bool) {
        let open = self
            .open
            .as_mut()
            .expect("reachable code is in a metered block");
        if cost == 0 && effect && open.charged == 0 {
            open.needs_fallback = true;
        }
        debug_assert!(op_index >= open.last, "operators come in order");
        open.last = op_index;
        open.join = open.run.unwrap_or(op_index);
        open.run = if unobservable {
            open.run.or(Some(op_index))
        } else {
            None
        };
        if cost > 0 {
            // An arm's cost is in the block's already (`merge_if`).
            if !self.control.innermost().data.merged {
                open.cost = open.cost.saturating_add(cost);
            }
            open.charged += 1;
            self.op_charges.push(Charge::new(op_index, cost));
        }
    }

    /// Whether the current operator is in an arm of a merged `if`.
    fn in_merged_arm(&self) -> bool {
        self.control.innermost().data.merged
    }

    /// Opens the frame of the construct that operator `op_index` starts
    /// (`params` for a loop whose type may give it parameters); the body of
    /// a loop and the arms of an `if` start metered blocks.
    fn open_frame(&mut self, kind: ConstructKind, op_index: usize, params: bool) {
        let frame = PlanFrame {
            op_index,
            opened_in: self.block_id,
            merged: false,
            params,
        };
        self.control.push(kind, frame);
        if kind != ConstructKind::Block {
            self.start(op_index + 1);
        }
    }

    fn stop(&mut self) {
        self.control.stop();
        self.close();
    }

    /// Records a branch to the frame `depth` levels out; returns whether
    /// it goes back to a loop header.
    fn branch_to(&mut self, depth: u32) -> bool {
        self.control.branch(depth).kind == ConstructKind::Loop
    }

    /// A `br_if` at `op_index`: a backward one ends the metered block; a
    /// forward one stays in it and refunds what it skips when taken.
    fn br_if(&mut self, op_index: usize, depth: u32) {
        let backward = self.branch_to(depth);
        if self.in_merged_arm() {
            // An exit of the arm that leaves, planned with its `if`.
            self.arm_targets.push(self.control.index(depth));
            return;
        }
        match (&self.open, self.mode) {
            (Some(open), FuelMode::Exact) if !backward => {
                self.exits.push(Exit {
                    key: op_index,
                    cost: open.cost,
                    target: Some(self.control.index(depth)),
                    joinable: true,
                });
            }
            _ => self.start(op_index + 1),
        }
    }

    /// A `br` at `op_index`: the metered block ends with it; one back to a
    /// loop, outside a merged arm, may be a [`Latch`].
    fn br(&mut self, op_index: usize, depth: u32) {
        let in_arm = self.in_merged_arm();
        if self.branch_to(depth) && !in_arm {
            self.prepay_header(op_index, depth);
        }
        self.leave();
    }

    /// Makes the `br` at `op_index` back to the loop `depth` levels out,
    /// the last operator of the open metered block, a [`Latch`] when it
    /// can be: in exact mode, for a loop without parameters (the branch
    /// enters its header block past the header's parameters) whose header
    /// block has a charge and is not the open block.
    fn prepay_header(&mut self, op_index: usize, depth: u32) {
        let frame = self.control.frame(depth);
        let loop_index = frame.data.op_index;
        let header = loop_index + 1;
        let prepayable = frame.kind == ConstructKind::Loop && !frame.data.params;
        let (Some(open), FuelMode::Exact, true) = (self.open.as_mut(), self.mode, prepayable)
        else {
            return;
        };
        if open.first == header {
            return;
        }
        let Ok(i) = self.blocks.binary_search_by_key(&header, |c| c.op_index) else {
            return;
        };
        open.cost = open.cost.saturating_add(self.blocks[i].cost);
        // Short of the two charges, the block must still run as far as
        // per-op mode would.
        open.needs_fallback = true;
        self.latches.push(Latch {
            op_index,
            loop_index,
        });
    }

    /// Makes the `if` just added, whose arms are `arms`, part of the open
    /// metered block: when both arms fall through, the block pays for the
    /// dearest and the cheaper one refunds the difference; an arm that
    /// leaves is an exit of the block.
    fn merge_if(&mut self, arms: &StraightArms) {
        let open = self.open.as_mut().expect("the if is in a metered block");
        open.needs_fallback = true;
        let (then_arm, else_arm) = (arms.then_arm, arms.else_arm);
        match (then_arm.leaves, else_arm.leaves) {
            (false, false) => {
                let dearest = then_arm.cost.max(else_arm.cost);
                for arm in [then_arm, else_arm] {
                    if arm.cost < dearest {
                        self.refunds.push(Charge::new(arm.key, dearest - arm.cost));
                    }
                }
                open.cost = open.cost.saturating_add(dearest);
            }
            (leaving, _) => {
                let (exit, through) = if leaving {
                    (then_arm, else_arm)
                } else {
                    (else_arm, then_arm)
                };
                // Once the arm has started (and taken its refund), the
                // block has paid exactly for the arm's path: a `br_if`
                // out of it refunds what its path costs less.
                for &(key, cost) in &arms.exits {
                    debug_assert!(cost <= exit.cost, "a br_if's path is a prefix of its arm's");
                    if exit.cost > cost {
                        self.refunds.push(Charge::new(key, exit.cost - cost));
                    }
                }
                self.exits.push(Exit {
                    key: exit.key,
                    cost: open.cost.saturating_add(exit.cost),
                    // Counted from inside the `if`, not yet pushed.
                    target: exit.depth.map(|d| self.control.open_frames() - d as usize),
                    joinable: arms.exits.is_empty(),
                });
                self.surplus = Some((arms.end, through.key));
                open.cost = open.cost.saturating_add(through.cost);
            }
        }
        let frame = PlanFrame {
            op_index: arms.then_arm.key,
            opened_in: self.block_id,
            merged: true,
            params: false,
        };
        self.control.push(ConstructKind::If, frame);
    }

    /// At the `end` of block frame `index`, which falls through and opened
    /// in the open metered block: when the forward `br_if`s and leaving
    /// arms that target it cost no more than the fall-through path up to
    /// the `end`, the metered block goes on after the `end`, and each of
    /// them refunds what its path costs less up to the `end` instead of
    /// up to the end of the metered block (its path then goes on as the
    /// fall-through path does). Returns whether it did.
    ///
    /// Not when some exit costs more than the fall-through path so far:
    /// the fall-through path may then be owed a surplus on an `if` that
    /// the joining paths skip. Otherwise no surplus is owed so far, and
    /// exits that leave after the `end` are refunded as ones that leave
    /// before it.
    fn join(&mut self, index: usize) -> bool {
        let open = self.open.as_mut().expect("the block is in a metered block");
        let through = open.cost;
        let joinable = !self.arm_targets.contains(&index)
            && self
                .exits
                .iter()
                .all(|e| e.cost <= through && (e.target != Some(index) || e.joinable));
        if !joinable {
            return false;
        }
        let refunds = &mut self.refunds;
        self.exits.retain(|exit| {
            if exit.target != Some(index) {
                return true;
            }
            if through > exit.cost {
                refunds.push(Charge::new(exit.key, through - exit.cost));
            }
            false
        });
        self.surplus = None;
        open.needs_fallback = true;
        true
    }

    /// After a `br`, `return` or `unreachable`: the rest of the arm of a
    /// merged `if` is unreachable (its other arm or its `end` is not),
    /// anywhere else the metered block ends.
    fn leave(&mut self) {
        if self.in_merged_arm() {
            self.control.stop();
        } else {
            self.stop();
        }
    }

    /// Handles `else` and `end` at the current nesting level.
    fn end_or_else(&mut self, op_index: usize, is_else: bool) {
        if self.in_merged_arm() {
            // The arms stay in the metered block; the else arm, and the
            // `end` (one arm at least falls through), are reachable.
            if is_else {
                self.control.else_arm();
            } else {
                self.control.end();
                debug_assert!(self.control.is_reachable(), "a merged arm falls through");
            }
            return;
        }
        if is_else {
            self.control.else_arm();
            self.start(op_index + 1);
            return;
        }
        let fell_through = self.control.is_reachable();
        let index = self.control.index(0);
        let frame = self.control.innermost();
        let targeted = frame.targeted();
        // A block that opened in the open metered block and is left by
        // falling through keeps it open when it can (`join`).
        let in_open_block = fell_through
            && self.mode == FuelMode::Exact
            && frame.kind == ConstructKind::Block
            && self.open.is_some()
            && frame.data.opened_in == self.block_id;
        let block_op = frame.data.op_index;
        let joins = in_open_block && targeted && self.join(index);
        if in_open_block && (joins || !targeted) {
            self.inner_blocks.push(block_op);
        }
        let merges = match self.control.end().kind {
            ConstructKind::Function => {
                self.stop();
                return;
            }
            ConstructKind::If => true,
            ConstructKind::Block | ConstructKind::Loop => targeted && !joins,
        };
        if !self.control.is_reachable() {
            self.close();
        } else if merges || !fell_through {
            self.start(op_index + 1);
        }
    }
}

impl Planner {
    /// Opens the scan of the loop whose frame was just pushed at
    /// `op_index`; the loop around it, if any, records it as an inner loop.
    fn scan_loop(&mut self, op_index: usize, offset: usize, params: bool) {
        let frame = self.control.open_frames() - 1;
        if let Some(&outer) = self.open_loops.last() {
            let inner = InnerLoop {
                scan: self.scans.len(),
                top_level: frame - 1 == self.scans[outer].frame,
            };
            self.scans[outer].inner.push(inner);
        }
        self.open_loops.push(self.scans.len());
        self.scans
            .push(LoopScan::new(op_index, offset, frame, params));
    }

    /// Records what operator `op_index` at byte `offset` (one that runs,
    /// or the `end` of a frame) tells the innermost loop around it, before the operator's
    /// own effect on control. An inner loop's writes count as the outer
    /// loop's when it ends; whatever else it holds is in the inner loop's
    /// scan only, and the outer loop is counted only if the inner loop is
    /// (see `loops::classify`).
    fn scan_operator(
        &mut self,
        op_index: usize,
        offset: usize,
        op: &Operator<'_>,
        charges_itself: bool,
    ) {
        let Some(&current) = self.open_loops.last() else {
            return;
        };
        let innermost = self.control.open_frames() - 1;
        let scan = &mut self.scans[current];
        let top_level = innermost == scan.frame;
        match *op {
            Operator::LocalSet { local_index } | Operator::LocalTee { local_index } => {
                scan.writes.push(LocalWrite {
                    local: local_index,
                    op_index,
                });
            }
            Operator::Call { .. } | Operator::CallIndirect { .. } => {
                scan.rule_out(NotCounted::Call(offset));
            }
            _ if charges_itself => scan.rule_out(NotCounted::DynamicCost(offset)),
            Operator::Return => scan.leaves_early = true,
            Operator::Br { relative_depth } => {
                self.scan_branch(op_index, relative_depth, BranchKind::Br);
            }
            Operator::BrIf { relative_depth } => {
                let kind = if top_level {
                    BranchKind::TopLevelBrIf
                } else {
                    BranchKind::Br
                };
                self.scan_branch(op_index, relative_depth, kind);
            }
            Operator::BrTable { ref targets } => {
                let depths = targets.targets().filter_map(Result::ok);
                for depth in depths.chain([targets.default()]) {
                    self.scan_branch(op_index, depth, BranchKind::Table(offset));
                }
            }
            Operator::End if top_level => {
                scan.end = Some(op_index);
                self.open_loops.pop();
                if let Some(&outer) = self.open_loops.last() {
                    let writes = self.scans[current].writes.clone();
                    self.scans[outer].writes.extend(writes);
                }
            }
            _ => {}
        }
    }

    /// A branch of `kind` to the frame `depth` levels out, in the
    /// innermost loop: back to it, or out of it.
    fn scan_branch(&mut self, op_index: usize, depth: u32, kind: BranchKind) {
        let target = self.control.index(depth);
        let current = *self.open_loops.last().expect("called inside a loop");
        let scan = &mut self.scans[current];
        if target == scan.frame {
            scan.back_edges.push(op_index);
        } else if target < scan.frame {
            match kind {
                BranchKind::TopLevelBrIf => scan.exits.push(op_index),
                BranchKind::Br => scan.leaves_early = true,
                BranchKind::Table(offset) => scan.rule_out(NotCounted::BranchTable(offset)),
            }
        }
    }
}

/// A branch, as [`Planner::scan_branch`] records it.
#[derive(Clone, Copy)]
enum BranchKind {
    /// A `br_if` at the top level of the loop's body: if it leaves, it may
    /// be the loop's exit test.
    TopLevelBrIf,
    /// A `br`, or a `br_if` in a construct of the body.
    Br,
    /// A `br_table`, at this byte offset.
    Table(usize),
}

/// One arm of an `if` whose arms are straight-line.
#[derive(Clone, Copy)]
struct Arm {
    /// What per-op mode charges on it: its operators, and the `else` (then
    /// arm) or the `end` (else arm, or then arm of an `if` without else)
    /// when the arm falls through to them.
    cost: u64,
    /// Whether it ends with a `br` out of the `if`, `return` or
    /// `unreachable`.
    leaves: bool,
    /// The depth of the `br` it leaves by, counted from inside the `if`.
    depth: Option<u32>,
    /// The operator that keys a refund on it: the `if` for the then arm,
    /// the `else` for the else arm, or the `end` when there is no else.
    key: usize,
}

impl Arm {
    /// An arm keyed by operator `key` before any of its operators.
    fn empty(key: usize) -> Arm {
        Arm {
            cost: 0,
            leaves: false,
            depth: None,
            key,
        }
    }
}

/// The arms of an `if` found straight-line by [`straight_arms`].
struct StraightArms {
    then_arm: Arm,
    else_arm: Arm,
    /// Index of the `if`'s `end`.
    end: usize,
    /// The `br_if`s of the arm that leaves, each with the arm's cost up to
    /// and including it.
    exits: Vec<(usize, u64)>,
}

/// Scans the arms of the `if` at `if_index` from `reader` (positioned
/// right after it); `None` unless both arms are straight-line: no control
/// operator, call, dynamic cost or forbidden operator, except that an arm
/// may end with a `br`, `return` or `unreachable`, and one of them at most
/// leaves the `if` that way (a `br` to the `if` itself does not); that one
/// may also hold `br_if`s out of the `if`.
fn straight_arms(
    mut reader: OperatorsReader<'_>,
    if_index: usize,
    costs: &super::CostModel,
) -> Option<StraightArms> {
    let mut arm = Arm::empty(if_index);
    // Whether the arm has ended with a branch (or trap) before its `else`
    // or `end`, which are then not reached (nor charged) through it.
    let mut ended = false;
    let mut then_arm = None;
    // The arm's `br_if`s, each with the arm's cost up to and including it;
    // allowed only in an arm that leaves, whose exits they join.
    let mut br_ifs = Vec::new();
    let mut exits = Vec::new();
    for index in if_index + 1.. {
        let op = reader.read().ok()?;
        let OperatorCost::Fuel(cost) = costs.operator(&op) else {
            return None;
        };
        let closes_arm = matches!(op, Operator::Else | Operator::End);
        if ended && !closes_arm {
            return None;
        }
        if !ended {
            arm.cost = arm.cost.saturating_add(u64::from(cost));
        }
        if closes_arm {
            if arm.leaves {
                exits = std::mem::take(&mut br_ifs);
            } else if !br_ifs.is_empty() {
                // Only an arm that leaves may hold a `br_if`.
                return None;
            }
        }
        match op {
            Operator::Else => {
                then_arm = Some(arm);
                arm = Arm::empty(index);
                ended = false;
            }
            Operator::End => {
                let (then_arm, else_arm) = match then_arm {
                    Some(then_arm) => (then_arm, arm),
                    None => (arm, Arm::empty(index)),
                };
                if then_arm.leaves && else_arm.leaves {
                    return None;
                }
                return Some(StraightArms {
                    then_arm,
                    else_arm,
                    end: index,
                    exits,
                });
            }
            // A `br` to the `if` itself goes on after its `end`, as falling
            // through does.
            Operator::Br { relative_depth: 0 } => ended = true,
            Operator::Br { relative_depth } => {
                ended = true;
                arm.leaves = true;
                arm.depth = Some(relative_depth);
            }
            Operator::Return | Operator::Unreachable => {
                ended = true;
                arm.leaves = true;
            }
            Operator::BrIf { relative_depth } if relative_depth > 0 => {
                br_ifs.push((index, arm.cost));
            }
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::BrIf { .. }
            | Operator::BrTable { .. }
            | Operator::Call { .. }
            | Operator::CallIndirect { .. } => return None,
            _ if unit_price(&op, costs).is_some() => return None,
            _ => {}
        }
    }
    None
}

/// Whether running `op` or not cannot be told apart once a call stops
/// after it: it does not trap, write memory, tables or globals, call, or
/// transfer control (locals and operands are not seen after a stop, and
/// the out-of-fuel handler sees only fuel). Vector operators are left out.
fn unobservable(op: &Operator<'_>) -> bool {
    use Operator::*;
    matches!(
        op,
        Nop | Drop
            | Select
            | TypedSelect { .. }
            | LocalGet { .. }
            | LocalSet { .. }
            | LocalTee { .. }
            | GlobalGet { .. }
            | I32Const { .. }
            | I64Const { .. }
            | F32Const { .. }
            | F64Const { .. }
            | RefNull { .. }
            | RefIsNull
            | RefFunc { .. }
            | I32Eqz
            | I32Eq
            | I32Ne
            | I32LtS
            | I32LtU
            | I32GtS
            | I32GtU
            | I32LeS
            | I32LeU
            | I32GeS
            | I32GeU
            | I64Eqz
            | I64Eq
            | I64Ne
            | I64LtS
            | I64LtU
            | I64GtS
            | I64GtU
            | I64LeS
            | I64LeU
            | I64GeS
            | I64GeU
            | F32Eq
            | F32Ne
            | F32Lt
            | F32Gt
            | F32Le
            | F32Ge
            | F64Eq
            | F64Ne
            | F64Lt
            | F64Gt
            | F64Le
            | F64Ge
            | I32Clz
            | I32Ctz
            | I32Popcnt
            | I32Add
            | I32Sub
            | I32Mul
            | I32And
            | I32Or
            | I32Xor
            | I32Shl
            | I32ShrS
            | I32ShrU
            | I32Rotl
            | I32Rotr
            | I64Clz
            | I64Ctz
            | I64Popcnt
            | I64Add
            | I64Sub
            | I64Mul
            | I64And
            | I64Or
            | I64Xor
            | I64Shl
            | I64ShrS
            | I64ShrU
            | I64Rotl
            | I64Rotr
            | F32Abs
            | F32Neg
            | F32Ceil
            | F32Floor
            | F32Trunc
            | F32Nearest
            | F32Sqrt
            | F32Add
            | F32Sub
            | F32Mul
            | F32Div
            | F32Min
            | F32Max
            | F32Copysign
            | F64Abs
            | F64Neg
            | F64Ceil
            | F64Floor
            | F64Trunc
            | F64Nearest
            | F64Sqrt
            | F64Add
            | F64Sub
            | F64Mul
            | F64Div
            | F64Min
            | F64Max
            | F64Copysign
            | I32WrapI64
            | I64ExtendI32S
            | I64ExtendI32U
            | F32ConvertI32S
            | F32ConvertI32U
            | F32ConvertI64S
            | F32ConvertI64U
            | F32DemoteF64
            | F64ConvertI32S
            | F64ConvertI32U
            | F64ConvertI64S
            | F64ConvertI64U
            | F64PromoteF32
            | I32ReinterpretF32
            | I64ReinterpretF64
            | F32ReinterpretI32
            | F64ReinterpretI64
            | I32Extend8S
            | I32Extend16S
            | I64Extend8S
            | I64Extend16S
            | I64Extend32S
            | I32TruncSatF32S
            | I32TruncSatF32U
            | I32TruncSatF64S
            | I32TruncSatF64U
            | I64TruncSatF32S
            | I64TruncSatF32U
            | I64TruncSatF64S
            | I64TruncSatF64U
    )
}

/// Whether running `op` or not can be told apart once a call stops after
/// it (it is not [`unobservable`]), other than by where control goes
/// within or out of its metered block, which the block's plan accounts for.
fn has_effect(op: &Operator<'_>) -> bool {
    use Operator::*;
    !unobservable(op)
        && !matches!(
            op,
            Block { .. }
                | Loop { .. }
                | If { .. }
                | Else
                | End
                | Br { .. }
                | BrIf { .. }
                | BrTable { .. }
                | Return
        )
}

/// The per-unit price of `op`'s dynamic cost, if it has one.
fn unit_price(op: &Operator<'_>, costs: &super::CostModel) -> Option<u64> {
    match op {
        Operator::MemoryGrow { .. } => Some(costs.memory_page),
        Operator::MemoryFill { .. } | Operator::MemoryCopy { .. } | Operator::MemoryInit { .. } => {
            Some(costs.memory_byte)
        }
        Operator::TableGrow { .. }
        | Operator::TableFill { .. }
        | Operator::TableCopy { .. }
        | Operator::TableInit { .. } => Some(costs.table_element),
        _ => None,
    }
}

/// Plans the charges of one function body.
///
/// `declared_locals` counts the body's locals, not its parameters. Fails
/// when the body uses an operator the cost model forbids.
pub fn plan_function(
    body: &FunctionBody<'_>,
    declared_locals: u64,
    metering: &Metering,
) -> Result<FuelPlan, CompileError> {
    let mut prepaid = Vec::new();
    // The value of the previous operator when it was an `i32.const`.
    let mut last_const: Option<u32> = None;
    let costs = &metering.costs;
    let mut p = Planner {
        mode: metering.mode,
        control: ControlStack::new(PlanFrame {
            op_index: 0,
            opened_in: 0,
            merged: false,
            params: false,
        }),
        open: None,
        block_id: 0,
        exits: Vec::new(),
        arm_targets: Vec::new(),
        surplus: None,
        blocks: Vec::new(),
        op_charges: Vec::new(),
        refunds: Vec::new(),
        inner_blocks: Vec::new(),
        latches: Vec::new(),
        scans: Vec::new(),
        open_loops: Vec::new(),
    };
    let scans_loops = p.mode == FuelMode::Exact;
    // Every operator, reachable or not, and its byte offset, for the loop
    // analysis.
    let mut ops = Vec::new();
    let mut offsets = Vec::new();
    p.start(0);
    let entry = costs
        .function_entry
        .saturating_add(costs.local.saturating_mul(declared_locals));
    // The entry is charged with the first metered block (exact) or on its
    // own before operator 0 (per-op).
    p.add(0, entry, true, false);
    let mut reader = body.get_operators_reader()?;
    let mut op_index = 0;
    while !reader.eof() {
        let offset = reader.original_position() as usize;
        let op = reader.read()?;
        let i = op_index;
        op_index += 1;
        if scans_loops {
            ops.push(op.clone());
            offsets.push(offset);
        }
        let reachable = p.control.is_reachable();
        if !reachable {
            // Only the `else` or `end` that ends the unreachable code is
            // planned.
            let skipped = match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    !p.control.enters()
                }
                Operator::Else => p.control.skips_else(),
                Operator::End => p.control.skips_end(),
                _ => true,
            };
            if skipped {
                continue;
            }
        }
        let mut cost = match costs.operator(&op) {
            OperatorCost::Fuel(c) => u64::from(c),
            OperatorCost::Forbidden => {
                return Err(CompileError::Forbidden {
                    offset,
                    operator: operator_name(&op).to_string(),
                })
            }
        };
        // Whether the operator charges fuel at run time of its own (a call
        // enters a function that charges, a dynamic cost is charged by the
        // runtime): its metered block ends with it.
        let mut charges_itself =
            matches!(op, Operator::Call { .. } | Operator::CallIndirect { .. });
        if let Some(price) = unit_price(&op, costs) {
            match last_const {
                Some(units) if units <= FOLDED_UNITS_LIMIT => {
                    cost = cost.saturating_add(price.saturating_mul(u64::from(units)));
                    prepaid.push(i);
                }
                _ => charges_itself = true,
            }
        }
        last_const = match op {
            Operator::I32Const { value } => Some(value as u32),
            _ => None,
        };
        if scans_loops {
            p.scan_operator(i, offset, &op, charges_itself);
        }
        if reachable {
            p.add(i, cost, unobservable(&op), has_effect(&op));
            if charges_itself {
                p.start(i + 1);
            }
        }
        match op {
            Operator::If { .. } if p.mode == FuelMode::Exact => {
                match straight_arms(reader.clone(), i, costs) {
                    Some(arms) => p.merge_if(&arms),
                    None => p.open_frame(ConstructKind::If, i, false),
                }
            }
            Operator::Block { .. } => p.open_frame(ConstructKind::Block, i, false),
            Operator::Loop { blockty } => {
                let params = matches!(blockty, BlockType::FuncType(_));
                p.open_frame(ConstructKind::Loop, i, params);
                if scans_loops {
                    p.scan_loop(i, offset, params);
                }
            }
            Operator::If { .. } => p.open_frame(ConstructKind::If, i, false),
            Operator::Else => p.end_or_else(i, true),
            Operator::End => p.end_or_else(i, false),
            Operator::Br { relative_depth } => p.br(i, relative_depth),
            Operator::BrIf { relative_depth } => p.br_if(i, relative_depth),
            Operator::BrTable { targets } => {
                for depth in targets.targets() {
                    p.branch_to(depth?);
                }
                p.branch_to(targets.default());
                p.stop();
            }
            Operator::Return | Operator::Unreachable => p.leave(),
            _ => {}
        }
    }
    p.close();
    // Arm refunds are planned when their `if` is, exit refunds when their
    // block closes.
    p.refunds.sort_by_key(|r| r.op_index);
    p.inner_blocks.sort_unstable();
    debug_assert!(p.open_loops.is_empty(), "every loop ends");
    let (loops, slice_adjustments) =
        loops::classify(&p.scans, &ops, &offsets, &p.blocks, &p.latches);
    Ok(FuelPlan {
        blocks: p.blocks,
        op_charges: p.op_charges,
        prepaid,
        refunds: p.refunds,
        inner_blocks: p.inner_blocks,
        latches: p.latches,
        loops,
        slice_adjustments,
    })
}
