//! Counted loops: the loops whose number of iterations is known when they
//! are entered, so that they can be charged once, from their trip count,
//! instead of once per iteration.
//!
//! The fuel planner's walk ([`super::plan_function`]) records what it sees
//! inside each loop (`LoopScan`: the locals written, branches out of it,
//! what rules it out); once the walk is over and the loop's metered blocks
//! are known, `classify` decides for each loop whether it is counted and
//! how its trip count follows from values at its entry ([`CountedLoop`]),
//! or why it is not ([`NotCounted`]). `fuelc compile --fuel-report` prints
//! the verdicts.
//!
//! A loop is counted when:
//! - it has no parameters, and holds no call, operator with a dynamic cost
//!   or `br_table` out of it (its other branches out of it, and `return`s,
//!   are its *early exits*, besides its *exit test*);
//! - each loop directly inside it is charged with it (a *nest*): it is in
//!   the body's top level, sliced, with no early exit, and its trip count
//!   is a constant, so that every iteration runs it as many times;
//! - every iteration is charged the same: its dearest path. When its body
//!   is one metered block (besides one after each inner loop), merged
//!   branches refund what cheaper paths cost less, as anywhere; when it is
//!   several, an iteration is charged all of them, and a sliced copy
//!   credits the other blocks' costs at the start of each iteration and
//!   debits each one where it starts ([`SliceAdjustment`]);
//! - it is a *do-while* loop, whose body ends with `br_if` back to it (the
//!   exit test: it leaves when the branch is not taken), or a *for* loop,
//!   whose body ends with `br` back to it and holds a `br_if` out of it at
//!   its top level that compares an induction variable (the exit test: it
//!   leaves when the branch is taken);
//! - the exit test compares an induction variable with a bound that the
//!   loop does not change (a constant or a local it does not write). An
//!   induction variable is a local that every path through the body
//!   writes exactly once before branching back, with its own value plus or
//!   minus the same step, which the loop does not change (checked by a
//!   walk of the body's paths with the shared model of control,
//!   [`ControlStack`]). The test may compare its value before the step or
//!   after it.
//!
//! Which counted loops are *sliced* (charged at their entry) is
//! [`CountedLoop::sliceable`]'s decision.
//!
//! This module decides and describes; it must not generate code.

use std::fmt;

use wasmparser::Operator;

use super::analysis::{Charge, Latch};
use crate::control::{ConstructKind, ControlStack};

/// What the planner's walk records about one loop.
#[derive(Clone, Debug)]
pub(super) struct LoopScan {
    /// The `loop` operator.
    pub op_index: usize,
    /// Its byte offset in the module.
    pub offset: usize,
    /// Index of its frame in the planner's control stack.
    pub frame: usize,
    /// Whether its type may give it parameters.
    pub params: bool,
    /// Its `end`, once the walk reaches it.
    pub end: Option<usize>,
    /// The locals written inside it, inner constructs included.
    pub writes: Vec<LocalWrite>,
    /// `br_if`s at its top level that leave it: its exit test, and early
    /// exits.
    pub exits: Vec<usize>,
    /// Whether a `br`, a `br_if` inside a construct of its body, or a
    /// `return` leaves it.
    pub leaves_early: bool,
    /// Reachable branches back to it.
    pub back_edges: Vec<usize>,
    /// The loops directly inside it (not inside one of those), in order.
    pub inner: Vec<InnerLoop>,
    /// The first thing found inside it that rules it out.
    pub obstacle: Option<NotCounted>,
}

/// A loop directly inside another one.
#[derive(Clone, Copy, Debug)]
pub(super) struct InnerLoop {
    /// Its scan's index.
    pub scan: usize,
    /// Whether it is at the top level of the outer loop's body (not inside
    /// a block or an `if` there).
    pub top_level: bool,
}

/// A write to a local inside a loop.
#[derive(Clone, Copy, Debug)]
pub(super) struct LocalWrite {
    pub local: u32,
    /// The `local.set` or `local.tee`.
    pub op_index: usize,
}

impl LoopScan {
    pub fn new(op_index: usize, offset: usize, frame: usize, params: bool) -> LoopScan {
        LoopScan {
            op_index,
            offset,
            frame,
            params,
            end: None,
            writes: Vec::new(),
            exits: Vec::new(),
            leaves_early: false,
            back_edges: Vec::new(),
            inner: Vec::new(),
            obstacle: None,
        }
    }

    /// Records `reason` unless something ruled the loop out before.
    pub fn rule_out(&mut self, reason: NotCounted) {
        self.obstacle.get_or_insert(reason);
    }
}

/// What the fuel planner found out about one loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopInfo {
    /// The `loop` operator.
    pub op_index: usize,
    /// Its byte offset in the module.
    pub offset: usize,
    /// Whether it is counted, and how.
    pub verdict: Result<CountedLoop, NotCounted>,
    /// The `loop` directly around it whose charge includes it, if any.
    pub charged_with: Option<usize>,
}

/// How a counted loop's trip count follows from values at its entry.
///
/// Let `v(j)` be the induction variable's value when iteration `j` (from
/// 0) starts: its value at the loop's entry plus `j` steps, wrapping. The
/// exit test of iteration `j` compares `v(j)`, or `v(j)` plus one step when
/// [`after_step`](Self::after_step), with the bound. The loop's body is
/// entered `1 + J` times, where `J` is the first `j` whose exit test leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountedLoop {
    /// Where the exit test is.
    pub form: LoopForm,
    /// The exit test, a `br_if`.
    pub exit_test: usize,
    /// The body's last operator: the branch back to the loop.
    pub last: usize,
    /// The induction variable.
    pub local: u32,
    /// Its value at the loop's entry, when a constant is written to it in
    /// the straight-line code right before the loop.
    pub start: Option<i64>,
    /// Whether it is an `i64` (else an `i32`).
    pub wide: bool,
    /// What each iteration adds to it (or subtracts, with `step_down`).
    pub step: Invariant,
    /// Whether the step is subtracted.
    pub step_down: bool,
    /// Whether the exit test sees the variable after the step.
    pub after_step: bool,
    /// The comparison whose truth takes the `br_if`, with the induction
    /// variable on its left.
    pub compare: Compare,
    /// Its right-hand side.
    pub bound: Invariant,
    /// What one iteration of the body is charged (its dearest path).
    pub iteration_cost: u64,
    /// Whether a branch or `return` may leave it other than its exit
    /// test (an *early exit*: the iterations it skips are refunded).
    pub exits_early: bool,
    /// How many loops inside it are charged with it (a *nest*).
    pub inner_loops: u32,
    /// How many of those, directly inside it, run a number of times that
    /// is computed when it is entered (it is the same in each of its
    /// iterations). The iterations of the others, whose counts are
    /// constants, are in [`iteration_cost`](Self::iteration_cost); each
    /// of these adds its count times its own iteration cost.
    pub counted_inner: u32,
    /// What its sliced copy credits at the start of each iteration: the
    /// costs of the metered blocks of its body that not every iteration
    /// runs, which it debits where they start.
    pub credit: u64,
}

impl CountedLoop {
    /// How many times the body is entered when the loop starts with the
    /// induction variable at `start` and the step and bound are `step` and
    /// `bound` (all as the loop's type holds them: an `i32` sign-extended),
    /// or `None` when the variable would wrap around before the exit test
    /// leaves (or never leaves): such a run is left to the loop's
    /// per-iteration metering. This is the definition that the code which
    /// charges a counted loop at its entry computes.
    pub fn entries(&self, start: i64, step: i64, bound: i64) -> Option<u64> {
        let bits = if self.wide { 64 } else { 32 };
        let step = if self.step_down {
            wrap(-i128::from(step), bits, true)
        } else {
            wrap(i128::from(step), bits, true)
        };
        use Compare::*;
        let signed = matches!(self.compare, LtS | GtS | LeS | GeS);
        // The first value the exit test compares, and the bound, as the
        // comparison reads them.
        let first = i128::from(start) + if self.after_step { step } else { 0 };
        let first = wrap(first, bits, signed);
        let bound = wrap(i128::from(bound), bits, signed);
        // Whether the test leaves when the comparison holds.
        let leaves_when = self.form == LoopForm::For;
        let holds = |x: i128| match self.compare {
            Eq => x == bound,
            Ne => x != bound,
            LtS | LtU => x < bound,
            GtS | GtU => x > bound,
            LeS | LeU => x <= bound,
            GeS | GeU => x >= bound,
        };
        if holds(first) == leaves_when {
            return Some(1);
        }
        if step == 0 {
            return None;
        }
        // The first iteration j whose test leaves: j >= 1 from here.
        let j = match (self.compare, leaves_when) {
            // Leaves when the value differs: the next one does.
            (Eq, false) | (Ne, true) => 1,
            // Leaves when the value reaches the bound, wrapping or not:
            // when the distance is a multiple of the step, at that
            // multiple (it passes no earlier).
            (Ne, false) | (Eq, true) => {
                let modulus = 1i128 << bits;
                let (distance, stride) = if step > 0 {
                    ((bound - first).rem_euclid(modulus), step)
                } else {
                    ((first - bound).rem_euclid(modulus), -step)
                };
                if distance % stride != 0 {
                    return None;
                }
                distance / stride
            }
            // An ordered comparison: it leaves once the value crosses a
            // threshold, which it must reach without wrapping.
            _ => {
                // Leaves when `x >= up` (moving up) or `x <= down`.
                let (up, down) = match (self.compare, leaves_when) {
                    (LtS | LtU, false) | (GeS | GeU, true) => (Some(bound), None),
                    (LeS | LeU, false) | (GtS | GtU, true) => (Some(bound + 1), None),
                    (GtS | GtU, false) | (LeS | LeU, true) => (None, Some(bound)),
                    (GeS | GeU, false) | (LtS | LtU, true) => (None, Some(bound - 1)),
                    _ => unreachable!("equalities are handled above"),
                };
                let (min, max) = range(bits, signed);
                let j = match (up, down) {
                    (Some(t), _) if step > 0 => (t - first + step - 1) / step,
                    (_, Some(t)) if step < 0 => (first - t - step - 1) / -step,
                    _ => return None,
                };
                if !(min..=max).contains(&(first + j * step)) {
                    return None;
                }
                j
            }
        };
        u64::try_from(j + 1).ok()
    }
}

/// The largest iteration cost a slice charges: with at most 2^32 + 1
/// entries of an `i32` loop, the charge fits in 64 bits.
const MAX_SLICED_ITERATION_COST: u64 = 1 << 31;

impl CountedLoop {
    /// Whether the loop is charged once at its entry (*sliced*), or why
    /// not. Slices are built for `i32` variables so far.
    pub fn sliceable(&self) -> Result<(), &'static str> {
        if self.wide {
            return Err("an i64 induction variable is not sliced yet");
        }
        if self.iteration_cost >= MAX_SLICED_ITERATION_COST {
            return Err("an iteration costs 2^31 fuel or more");
        }
        if self.static_entries() == Some(None) {
            return Err("its variable wraps around or never reaches its bound");
        }
        Ok(())
    }

    /// When the start, step and bound are constants: how many times the
    /// body is entered ([`CountedLoop::entries`]), known when the loop is
    /// compiled.
    pub fn static_entries(&self) -> Option<Option<u64>> {
        match (self.start, self.step, self.bound) {
            (Some(start), Invariant::Const(step), Invariant::Const(bound)) => {
                Some(self.entries(start, step, bound))
            }
            _ => None,
        }
    }
}

/// The constant written to `local` in the straight-line code right before
/// the `loop` at `loop_index`, if any: operators that neither branch nor
/// write it may come between, and the starts of blocks and `if` arms that
/// the loop is in (control reaches them only from the operator before).
fn start_value(ops: &[Operator<'_>], loop_index: usize, local: u32) -> Option<i64> {
    for at in (0..loop_index).rev() {
        match ops[at] {
            Operator::Block { .. } | Operator::If { .. } => {}
            Operator::LocalSet { local_index } | Operator::LocalTee { local_index }
                if local_index == local =>
            {
                return match ops[at.checked_sub(1)?] {
                    Operator::I32Const { value } => Some(i64::from(value)),
                    Operator::I64Const { value } => Some(value),
                    _ => None,
                };
            }
            Operator::Loop { .. }
            | Operator::Else
            | Operator::End
            | Operator::Br { .. }
            | Operator::BrIf { .. }
            | Operator::BrTable { .. }
            | Operator::Return
            | Operator::Unreachable
            | Operator::Call { .. }
            | Operator::CallIndirect { .. } => return None,
            _ => {}
        }
    }
    None
}

/// `value` reduced to `bits` bits, read as signed or unsigned.
fn wrap(value: i128, bits: u32, signed: bool) -> i128 {
    let modulus = 1i128 << bits;
    let unsigned = value.rem_euclid(modulus);
    if signed && unsigned >= modulus / 2 {
        unsigned - modulus
    } else {
        unsigned
    }
}

/// The values a `bits`-bit integer holds, read as signed or unsigned.
fn range(bits: u32, signed: bool) -> (i128, i128) {
    if signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    }
}

/// Where a counted loop's exit test is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopForm {
    /// The body ends with a `br_if` back to the loop: it goes on while the
    /// comparison holds.
    DoWhile,
    /// The body ends with a `br` back to the loop and holds one `br_if`
    /// out of it: it leaves when the comparison holds.
    For,
}

/// A value that a loop does not change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invariant {
    /// A constant (an `i32` one sign-extended).
    Const(i64),
    /// A local the loop does not write, read at its entry.
    Local(u32),
}

/// An integer comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `lt_s`
    LtS,
    /// `lt_u`
    LtU,
    /// `gt_s`
    GtS,
    /// `gt_u`
    GtU,
    /// `le_s`
    LeS,
    /// `le_u`
    LeU,
    /// `ge_s`
    GeS,
    /// `ge_u`
    GeU,
}

impl Compare {
    /// The comparison with its operands swapped: `a < b` is `b > a`.
    fn swapped(self) -> Compare {
        use Compare::*;
        match self {
            Eq | Ne => self,
            LtS => GtS,
            LtU => GtU,
            GtS => LtS,
            GtU => LtU,
            LeS => GeS,
            LeU => GeU,
            GeS => LeS,
            GeU => LeU,
        }
    }

    fn symbol(self) -> &'static str {
        use Compare::*;
        match self {
            Eq => "==",
            Ne => "!=",
            LtS => "<s",
            LtU => "<u",
            GtS => ">s",
            GtU => ">u",
            LeS => "<=s",
            LeU => "<=u",
            GeS => ">=s",
            GeU => ">=u",
        }
    }
}

/// Why a loop is not counted; operators are named by byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotCounted {
    /// Its type may give it parameters.
    Params,
    /// It calls a function (whose charges must see per-op mode's fuel).
    Call(usize),
    /// An operator with a dynamic cost, charged by the runtime.
    DynamicCost(usize),
    /// A `br_table` may leave it.
    BranchTable(usize),
    /// It holds a loop (at this offset) that cannot be charged with it,
    /// for this reason.
    InnerLoop(usize, &'static str),
    /// Its body ends neither with a `br_if` nor with a `br` back to it.
    NoBackEdge,
    /// Its body ends with a latch (see `super::analysis::Latch`), which
    /// pays ahead for the next iteration's first block.
    Latch,
    /// A branch back to it before the end of its body (a `continue`).
    Continue(usize),
    /// It ends with a `br` back to it and has no exit test.
    NoExitTest,
    /// The exit test's condition is not an induction variable compared
    /// with an invariant bound.
    Condition(usize),
}

impl fmt::Display for NotCounted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotCounted::Params => write!(f, "the loop has parameters"),
            NotCounted::Call(at) => write!(f, "it calls a function (at {at:#x})"),
            NotCounted::DynamicCost(at) => {
                write!(
                    f,
                    "the operator at {at:#x} has a cost known only when it runs"
                )
            }
            NotCounted::InnerLoop(at, why) => write!(f, "it holds a loop (at {at:#x}): {why}"),
            NotCounted::BranchTable(at) => {
                write!(f, "the br_table at {at:#x} may leave it")
            }
            NotCounted::NoBackEdge => write!(f, "its body does not end with a branch back to it"),
            NotCounted::Latch => write!(f, "its branch back pays ahead for its first block"),
            NotCounted::Continue(at) => write!(
                f,
                "the branch at {at:#x} goes back to it before the end of its body"
            ),
            NotCounted::NoExitTest => write!(f, "it has no exit test"),
            NotCounted::Condition(at) => write!(
                f,
                "its exit test (at {at:#x}) does not compare an induction variable \
                 with an invariant bound"
            ),
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invariant::Const(c) => write!(f, "{c}"),
            Invariant::Local(l) => write!(f, "local {l}"),
        }
    }
}

impl fmt::Display for CountedLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ty = if self.wide { "i64" } else { "i32" };
        let sign = if self.step_down { '-' } else { '+' };
        let (form, test) = match self.form {
            LoopForm::DoWhile => ("do-while", "again while"),
            LoopForm::For => ("for", "leaves when"),
        };
        let when = if self.after_step {
            ""
        } else {
            " (before the step)"
        };
        let from = match self.start {
            Some(start) => format!(" from {start}"),
            None => String::new(),
        };
        let early = if self.exits_early {
            "; early exits refund the iterations they skip"
        } else {
            ""
        };
        let nest = match (self.inner_loops, self.counted_inner) {
            (0, _) => String::new(),
            (1, 0) => " (with its inner loop)".to_string(),
            (1, _) => " (with its inner loop, counted at its entry)".to_string(),
            (n, 0) => format!(" (with its {n} inner loops)"),
            (n, k) => format!(" (with its {n} inner loops, {k} counted at its entry)"),
        };
        write!(
            f,
            "{form}: {ty} local {l}{from} {sign}= {step} per iteration, {test} local {l}{when} \
             {cmp} {bound}; {cost} fuel per iteration{nest}{early}",
            l = self.local,
            step = self.step,
            cmp = self.compare.symbol(),
            bound = self.bound,
            cost = self.iteration_cost,
        )
    }
}

/// Decides, for each loop the walk scanned, whether it is counted, and
/// what the sliced copies of counted loops credit and debit (sorted).
/// `ops` are the function's operators, `offsets` their byte offsets,
/// `blocks` its metered blocks and `latches` its latches.
pub(super) fn classify(
    scans: &[LoopScan],
    ops: &[Operator<'_>],
    offsets: &[usize],
    blocks: &[Charge],
    latches: &[Latch],
) -> (Vec<LoopInfo>, Vec<SliceAdjustment>) {
    let function = Function {
        scans,
        ops,
        offsets,
        blocks,
        latches,
    };
    // A loop's scan comes before those of the loops inside it, whose
    // verdicts its own depends on: decide from the last.
    let mut verdicts = vec![None; scans.len()];
    let mut adjustments = Vec::new();
    for (i, scan) in scans.iter().enumerate().rev() {
        verdicts[i] = Some(function.counted(scan, &verdicts, &mut adjustments));
    }
    adjustments.sort_by_key(|a: &SliceAdjustment| a.op_index);
    let mut infos: Vec<LoopInfo> = scans
        .iter()
        .zip(verdicts)
        .map(|(scan, verdict)| LoopInfo {
            op_index: scan.op_index,
            offset: scan.offset,
            verdict: verdict.expect("every loop is decided"),
            charged_with: None,
        })
        .collect();
    for (i, scan) in scans.iter().enumerate() {
        if infos[i].verdict.is_ok() {
            for inner in &scan.inner {
                infos[inner.scan].charged_with = Some(scan.op_index);
            }
        }
    }
    (infos, adjustments)
}

/// What a sliced copy adds to what it owes back before operator
/// `op_index` (see [`CountedLoop::credit`]): a loop's credit at the start
/// of each iteration (its header, the first operator of its body), or,
/// negative, the cost of a metered block that some iterations skip, where
/// it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SliceAdjustment {
    /// The operator it comes before.
    pub op_index: usize,
    /// What it adds.
    pub amount: i64,
}

/// What [`classify`] reads of a function.
struct Function<'a, 'o> {
    scans: &'a [LoopScan],
    ops: &'a [Operator<'o>],
    offsets: &'a [usize],
    blocks: &'a [Charge],
    latches: &'a [Latch],
}

/// What a loop's body holds besides its own operators.
struct Body {
    /// Its last operator: the branch back to the loop.
    last: usize,
    /// Its inner loops, charged with it: each one's `loop` and `end`.
    inner: Vec<(usize, usize)>,
}

impl Function<'_, '_> {
    /// The verdict on the loop `scan`, given those on the loops inside
    /// it, in `verdicts` (indexed as the scans); a counted loop adds its
    /// credit and debits to `adjustments`.
    fn counted(
        &self,
        scan: &LoopScan,
        verdicts: &[Option<Result<CountedLoop, NotCounted>>],
        adjustments: &mut Vec<SliceAdjustment>,
    ) -> Result<CountedLoop, NotCounted> {
        let (ops, offsets) = (self.ops, self.offsets);
        if scan.params {
            return Err(NotCounted::Params);
        }
        if let Some(reason) = scan.obstacle {
            return Err(reason);
        }
        debug_assert!(scan.end.is_some(), "the walk reaches every loop's end");
        let end = scan.end.ok_or(NotCounted::NoBackEdge)?;
        let last = end - 1;
        match scan.back_edges[..] {
            [only] if only == last => {}
            [] => return Err(NotCounted::NoBackEdge),
            // Branches come in order: the first is before the end.
            [first, ..] => return Err(NotCounted::Continue(offsets[first])),
        }
        let form = match ops[last] {
            Operator::BrIf { relative_depth: 0 } => LoopForm::DoWhile,
            Operator::Br { relative_depth: 0 } if scan.exits.is_empty() => {
                return Err(NotCounted::NoExitTest)
            }
            Operator::Br { relative_depth: 0 } => LoopForm::For,
            _ => return Err(NotCounted::NoBackEdge),
        };
        // Inner loops are charged with this one when each runs the same
        // number of times in every iteration.
        let mut body = Body {
            last,
            inner: Vec::new(),
        };
        let mut nested: u64 = 0;
        let (mut counted_inner, mut counted_cost) = (0, 0);
        let invariant = |v: Invariant| match v {
            Invariant::Const(_) => true,
            Invariant::Local(l) => !scan.writes.iter().any(|w| w.local == l),
        };
        for inner in &scan.inner {
            let inner_scan = &self.scans[inner.scan];
            let refuse = |why| Err(NotCounted::InnerLoop(inner_scan.offset, why));
            let decided = verdicts[inner.scan].as_ref();
            debug_assert!(decided.is_some(), "inner loops are decided first");
            let counted = match decided {
                Some(Ok(counted)) if counted.sliceable().is_ok() => counted,
                _ => return refuse("it is not sliced"),
            };
            if !inner.top_level {
                return refuse("it is inside a block or an if");
            }
            if counted.exits_early {
                return refuse("it has early exits");
            }
            if counted.counted_inner > 0 {
                return refuse("it holds a loop whose trip count is computed at run time");
            }
            match counted.static_entries() {
                Some(Some(entries)) => {
                    nested = nested.saturating_add(entries.saturating_mul(counted.iteration_cost));
                }
                // Its count is computed when the outer loop is entered.
                _ if counted.start.is_some()
                    && invariant(counted.step)
                    && invariant(counted.bound) =>
                {
                    counted_inner += 1;
                    counted_cost += counted.iteration_cost;
                }
                _ => return refuse("its trip count may change from one iteration to the next"),
            }
            body.inner.push((inner_scan.op_index, counted.last + 1));
        }
        // The body's own metered blocks: the one it starts with and those
        // that start where its inner loops end (their exit test, a `br_if`
        // back, ends their block) run once per iteration; any other runs
        // in some iterations only, and is credited and debited.
        let header = scan.op_index + 1;
        let in_inner = |at: usize| body.inner.iter().any(|&(l, e)| l < at && at < e);
        let own = self
            .blocks
            .iter()
            .filter(|c| (header..end).contains(&c.op_index) && !in_inner(c.op_index));
        let once_per_iteration =
            |c: &&Charge| c.op_index == header || body.inner.iter().any(|&(_, e)| c.op_index == e);
        let (once, sometimes): (Vec<&Charge>, Vec<&Charge>) = own.partition(once_per_iteration);
        if self.latches.iter().any(|l| l.loop_index == scan.op_index) {
            return Err(NotCounted::Latch);
        }
        let credit = sometimes
            .iter()
            .fold(0, |sum: u64, c| sum.saturating_add(c.cost));
        let iteration_cost = once.iter().fold(nested.saturating_add(credit), |sum, c| {
            sum.saturating_add(c.cost)
        });
        // An iteration costs less than 2^31 times the entries of each inner
        // loop counted at run time (at most 2^32 + 1): the cost of one
        // iteration of the nest fits in 64 bits.
        if counted_cost > 0
            && iteration_cost.saturating_add(counted_cost) >= MAX_SLICED_ITERATION_COST
        {
            return Err(NotCounted::InnerLoop(
                self.scans[scan.inner[0].scan].offset,
                "the nest's iterations cost 2^31 fuel or more",
            ));
        }
        // A do-while loop's exit test is its last operator; a `for` loop's is
        // the first `br_if` out of it that compares an induction variable with
        // a bound. Every other way out is an early exit.
        let (exit_test, test) = match form {
            LoopForm::DoWhile => (
                last,
                exit_condition(scan, ops, last, &body)
                    .ok_or(NotCounted::Condition(offsets[last]))?,
            ),
            LoopForm::For => scan
                .exits
                .iter()
                .find_map(|&exit| Some((exit, exit_condition(scan, ops, exit, &body)?)))
                .ok_or(NotCounted::Condition(offsets[scan.exits[0]]))?,
        };
        let exits_early = scan.leaves_early || scan.exits.iter().any(|&e| e != exit_test);
        // A nest's exit test and early exits refund only the rest of their own
        // metered block: none may come before an inner loop's end.
        if let Some(&(at, end)) = body.inner.last() {
            if exits_early || exit_test < end {
                return Err(NotCounted::InnerLoop(
                    offsets[at],
                    "the outer loop may leave before it",
                ));
            }
        }
        let counted = CountedLoop {
            form,
            exit_test,
            last,
            local: test.induction.local,
            start: start_value(ops, scan.op_index, test.induction.local),
            wide: test.induction.wide,
            step: test.induction.step,
            step_down: test.induction.step_down,
            after_step: test.after_step,
            compare: test.compare,
            bound: test.bound,
            iteration_cost,
            exits_early,
            inner_loops: body.inner.len() as u32,
            counted_inner,
            credit,
        };
        if credit > 0 && counted.sliceable().is_ok() {
            // Less than an iteration's cost, below 2^31.
            let amount = |cost: u64| cost as i64;
            adjustments.push(SliceAdjustment {
                op_index: header,
                amount: amount(credit),
            });
            adjustments.extend(sometimes.iter().map(|c| SliceAdjustment {
                op_index: c.op_index,
                amount: -amount(c.cost),
            }));
        }
        Ok(counted)
    }
}

/// An induction variable: a local that every path through the body steps
/// exactly once (with its own value plus or minus an invariant step)
/// before it branches back.
#[derive(Clone, Debug)]
struct Induction {
    local: u32,
    wide: bool,
    step: Invariant,
    step_down: bool,
    /// Each `local.get` of it in the body, and whether the path to it has
    /// stepped it.
    reads: Vec<(usize, bool)>,
}

/// The exit test, understood.
struct ExitCondition {
    induction: Induction,
    after_step: bool,
    compare: Compare,
    bound: Invariant,
}

/// An expression rebuilt from the operators that compute a value.
#[derive(Debug)]
enum Expr {
    Get {
        local: u32,
        op_index: usize,
    },
    Tee {
        local: u32,
    },
    Const(i64),
    /// `i32.add`/`i64.add` (`sub` false) or `sub`, with whether it is `i64`.
    AddSub {
        sub: bool,
        wide: bool,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Compare(Compare, Box<Expr>, Box<Expr>),
    Eqz(Box<Expr>),
}

/// The longest expression [`expr`] rebuilds, in operators.
const MAX_EXPR_OPS: usize = 16;

/// Rebuilds the expression whose last operator is `ops[at]`; returns it
/// and the index of its first operator. Only the operators an exit test
/// or a step is made of are understood; the operand of a `local.tee` is
/// not rebuilt (the tee's own write is looked up instead).
fn expr(ops: &[Operator<'_>], at: usize, budget: &mut usize) -> Option<(Expr, usize)> {
    *budget = budget.checked_sub(1)?;
    let binary = |ops: &[Operator<'_>], budget: &mut usize| -> Option<(Expr, Expr, usize)> {
        let (rhs, start) = expr(ops, at.checked_sub(1)?, budget)?;
        let (lhs, start) = expr(ops, start.checked_sub(1)?, budget)?;
        Some((lhs, rhs, start))
    };
    use Operator::*;
    let compare = match ops[at] {
        LocalGet { local_index } => {
            return Some((
                Expr::Get {
                    local: local_index,
                    op_index: at,
                },
                at,
            ))
        }
        LocalTee { local_index } => {
            // Its operand is the write's value, which `induction` checks.
            let (_, start) = expr(ops, at.checked_sub(1)?, budget)?;
            return Some((Expr::Tee { local: local_index }, start));
        }
        I32Const { value } => return Some((Expr::Const(i64::from(value)), at)),
        I64Const { value } => return Some((Expr::Const(value), at)),
        I32Add | I32Sub | I64Add | I64Sub => {
            let (lhs, rhs, start) = binary(ops, budget)?;
            let sub = matches!(ops[at], I32Sub | I64Sub);
            let wide = matches!(ops[at], I64Add | I64Sub);
            let (lhs, rhs) = (Box::new(lhs), Box::new(rhs));
            return Some((
                Expr::AddSub {
                    sub,
                    wide,
                    lhs,
                    rhs,
                },
                start,
            ));
        }
        I32Eqz | I64Eqz => {
            let (operand, start) = expr(ops, at.checked_sub(1)?, budget)?;
            return Some((Expr::Eqz(Box::new(operand)), start));
        }
        I32Eq | I64Eq => Compare::Eq,
        I32Ne | I64Ne => Compare::Ne,
        I32LtS | I64LtS => Compare::LtS,
        I32LtU | I64LtU => Compare::LtU,
        I32GtS | I64GtS => Compare::GtS,
        I32GtU | I64GtU => Compare::GtU,
        I32LeS | I64LeS => Compare::LeS,
        I32LeU | I64LeU => Compare::LeU,
        I32GeS | I64GeS => Compare::GeS,
        I32GeU | I64GeU => Compare::GeU,
        _ => return None,
    };
    let (lhs, rhs, start) = binary(ops, budget)?;
    Some((Expr::Compare(compare, Box::new(lhs), Box::new(rhs)), start))
}

/// What an operand of the exit test is.
enum Operand {
    /// The induction variable, after its step or before it.
    Induction(Induction, bool),
    Invariant(Invariant),
}

/// Understands the condition of the exit test `br_if` at `test`.
fn exit_condition(
    scan: &LoopScan,
    ops: &[Operator<'_>],
    test: usize,
    body: &Body,
) -> Option<ExitCondition> {
    let mut budget = MAX_EXPR_OPS;
    let (condition, start) = expr(ops, test.checked_sub(1)?, &mut budget)?;
    // The condition must be computed inside the loop, at its top level
    // (nothing before the body's first operator is rebuilt).
    if start <= scan.op_index {
        return None;
    }
    let (compare, lhs, rhs) = match condition {
        Expr::Compare(c, lhs, rhs) => (c, *lhs, *rhs),
        Expr::Eqz(operand) => (Compare::Eq, *operand, Expr::Const(0)),
        // `br_if` on a value branches when it is not zero.
        other => (Compare::Ne, other, Expr::Const(0)),
    };
    let (lhs, rhs) = (
        operand(scan, ops, body, &lhs)?,
        operand(scan, ops, body, &rhs)?,
    );
    let (induction, after_step, compare, bound) = match (lhs, rhs) {
        (Operand::Induction(i, after), Operand::Invariant(b)) => (i, after, compare, b),
        (Operand::Invariant(b), Operand::Induction(i, after)) => (i, after, compare.swapped(), b),
        _ => return None,
    };
    Some(ExitCondition {
        induction,
        after_step,
        compare,
        bound,
    })
}

/// Classifies one operand of the exit test of the loop with `body`.
fn operand(scan: &LoopScan, ops: &[Operator<'_>], body: &Body, e: &Expr) -> Option<Operand> {
    match *e {
        Expr::Const(c) => Some(Operand::Invariant(Invariant::Const(c))),
        Expr::Get { local, op_index } => match induction(scan, ops, body, local) {
            Ok(None) => Some(Operand::Invariant(Invariant::Local(local))),
            Ok(Some(i)) => {
                let &(_, after) = i.reads.iter().find(|r| r.0 == op_index)?;
                Some(Operand::Induction(i, after))
            }
            Err(()) => None,
        },
        Expr::Tee { local, .. } => match induction(scan, ops, body, local) {
            Ok(Some(i)) => Some(Operand::Induction(i, true)),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `local` is invariant in the loop with `body` (`Ok(None)`), an
/// induction variable (`Ok(Some)`), or neither (`Err`).
fn induction(
    scan: &LoopScan,
    ops: &[Operator<'_>],
    body: &Body,
    local: u32,
) -> Result<Option<Induction>, ()> {
    let writes: Vec<usize> = scan
        .writes
        .iter()
        .filter(|w| w.local == local)
        .map(|w| w.op_index)
        .collect();
    let Some(&first) = writes.first() else {
        return Ok(None);
    };
    let step = step_of(scan, ops, local, first).ok_or(())?;
    for &w in &writes[1..] {
        if step_of(scan, ops, local, w) != Some(step) {
            return Err(());
        }
    }
    let reads = stepped_once(scan, ops, body, local).ok_or(())?;
    let (wide, step, step_down) = step;
    Ok(Some(Induction {
        local,
        wide,
        step,
        step_down,
        reads,
    }))
}

/// The step of the write to `local` at `write` when it writes the local's
/// value plus or minus an invariant: whether it is `i64`, the step, and
/// whether it is subtracted.
fn step_of(
    scan: &LoopScan,
    ops: &[Operator<'_>],
    local: u32,
    write: usize,
) -> Option<(bool, Invariant, bool)> {
    let mut budget = MAX_EXPR_OPS;
    let (
        Expr::AddSub {
            sub,
            wide,
            lhs,
            rhs,
        },
        start,
    ) = expr(ops, write.checked_sub(1)?, &mut budget)?
    else {
        return None;
    };
    if start <= scan.op_index {
        return None;
    }
    let is_self = |e: &Expr| matches!(*e, Expr::Get { local: l, .. } if l == local);
    let step = match (&*lhs, &*rhs) {
        (l, step) if is_self(l) => step,
        (step, r) if is_self(r) && !sub => step,
        _ => return None,
    };
    let step = match *step {
        Expr::Const(c) => Invariant::Const(c),
        Expr::Get { local: s, .. } if !scan.writes.iter().any(|w| w.local == s) => {
            Invariant::Local(s)
        }
        _ => return None,
    };
    Some((wide, step, sub))
}

/// Whether a path through the body has written the induction variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stepped {
    No,
    Once,
}

/// What the path walk keeps for each open construct of the body.
struct PathFrame {
    /// Whether the paths that reach its `end` have stepped the variable,
    /// once some do.
    arrivals: Option<Stepped>,
    /// Whether the path that opened it had (an `if`'s else arm starts so).
    entry: Stepped,
}

/// Adds a path to `arrivals`; `None` when it disagrees with the others.
fn arrive(arrivals: &mut Option<Stepped>, path: Stepped) -> Option<()> {
    match *arrivals.get_or_insert(path) == path {
        true => Some(()),
        false => None,
    }
}

/// Walks the body's paths (with the translator's model of control,
/// [`ControlStack`]) and checks that each writes `local` at most once and
/// exactly once before branching back to the loop; returns, for each
/// `local.get` of it, whether its path has written it. `None` when some
/// paths disagree. Branches out of the loop are not followed (the exit
/// test and early exits). An inner loop is a step of its own when it
/// writes `local` (refused), and passed over when it does not.
fn stepped_once(
    scan: &LoopScan,
    ops: &[Operator<'_>],
    body: &Body,
    local: u32,
) -> Option<Vec<(usize, bool)>> {
    let frame = |entry| PathFrame {
        arrivals: None,
        entry,
    };
    // The frame standing for everything around the loop, and the loop's.
    let mut control = ControlStack::new(frame(Stepped::No));
    control.push(ConstructKind::Loop, frame(Stepped::No));
    let mut path = Stepped::No;
    let mut reads = Vec::new();
    let mut inner_end = None;
    for (index, op) in ops
        .iter()
        .enumerate()
        .take(body.last + 1)
        .skip(scan.op_index + 1)
    {
        if inner_end.is_some_and(|end| index <= end) {
            continue;
        }
        if let Some(&(_, end)) = body.inner.iter().find(|l| l.0 == index) {
            let writes = |w: &LocalWrite| w.local == local && (index..end).contains(&w.op_index);
            if scan.writes.iter().any(writes) {
                return None;
            }
            inner_end = Some(end);
            continue;
        }
        if !control.is_reachable() {
            let skipped = match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    !control.enters()
                }
                Operator::Else => control.skips_else(),
                Operator::End => control.skips_end(),
                _ => true,
            };
            if skipped {
                continue;
            }
        }
        match *op {
            Operator::LocalGet { local_index } if local_index == local => {
                reads.push((index, path == Stepped::Once));
            }
            Operator::LocalSet { local_index } | Operator::LocalTee { local_index }
                if local_index == local =>
            {
                if path == Stepped::Once {
                    return None;
                }
                path = Stepped::Once;
            }
            Operator::Block { .. } => control.push(ConstructKind::Block, frame(path)),
            Operator::If { .. } => control.push(ConstructKind::If, frame(path)),
            Operator::Loop { .. } => return None,
            Operator::Else => {
                let reachable = control.is_reachable();
                let arm = &mut control.else_arm().data;
                if reachable {
                    arrive(&mut arm.arrivals, path)?;
                }
                path = arm.entry;
            }
            Operator::End => {
                let reachable = control.is_reachable();
                let innermost = control.innermost_mut();
                let without_else = innermost.kind == ConstructKind::If && !innermost.else_seen;
                let data = &mut innermost.data;
                if reachable {
                    arrive(&mut data.arrivals, path)?;
                }
                if without_else {
                    arrive(&mut data.arrivals, data.entry)?;
                }
                let ended = control.end();
                if control.is_reachable() {
                    path = ended.data.arrivals?;
                }
            }
            Operator::Br { relative_depth } => {
                branch(&mut control, relative_depth, path)?;
                control.stop();
            }
            Operator::BrIf { relative_depth } => branch(&mut control, relative_depth, path)?,
            Operator::BrTable { ref targets } => {
                for depth in targets.targets().chain([Ok(targets.default())]) {
                    branch(&mut control, depth.ok()?, path)?;
                }
                control.stop();
            }
            Operator::Return | Operator::Unreachable => control.stop(),
            _ => {}
        }
    }
    Some(reads)
}

/// A branch `depth` levels out on a path that has `path`: back to the loop
/// only once the variable is stepped; to the end of a construct in the
/// body, as one more arrival there; out of the loop, anyhow.
fn branch(control: &mut ControlStack<PathFrame>, depth: u32, path: Stepped) -> Option<()> {
    // Frame 0 stands for the code around the loop, frame 1 is the loop's.
    if depth as usize + 1 >= control.open_frames() {
        return Some(());
    }
    let target = control.branch(depth);
    if target.kind == ConstructKind::Loop {
        return (path == Stepped::Once).then_some(());
    }
    arrive(&mut target.data.arrivals, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuel::{plan_function, CostModel, Metering};
    use fuelc_runtime::abi::{BoundsChecks, FuelMode};

    /// The verdicts on the loops of the first function of `wat`, planned in
    /// `mode` with the uniform cost model (every operator costs 1).
    fn verdicts_in(mode: FuelMode, wat: &str) -> Vec<Result<CountedLoop, NotCounted>> {
        let wasm = wat::parse_str(wat).unwrap();
        let module = crate::parse::parse(&wasm, "t", BoundsChecks::Guard).unwrap();
        let metering = Metering {
            mode,
            costs: CostModel::uniform(),
        };
        let body = &module.bodies[0];
        let mut declared = 0;
        for local in body.get_locals_reader().unwrap() {
            declared += u64::from(local.unwrap().0);
        }
        let plan = plan_function(body, declared, &metering).unwrap();
        plan.loops.into_iter().map(|l| l.verdict).collect()
    }

    fn verdicts(wat: &str) -> Vec<Result<CountedLoop, NotCounted>> {
        verdicts_in(FuelMode::Exact, wat)
    }

    /// A module with one function `(param $n i32) (param $p i32)`, locals
    /// `$i $x` (i32) and `$w $v` (i64), whose body is `body`.
    fn func(body: &str) -> String {
        format!(
            "(module (memory 1) (func $f (param $n i32) (param $p i32) (local $i i32) \
             (local $x i32) (local $w i64) (local $v i64) {body}) (func $g))"
        )
    }

    fn counted(wat: &str) -> CountedLoop {
        match &verdicts(wat)[..] {
            [Ok(c)] => *c,
            other => panic!("expected one counted loop, got {other:?}"),
        }
    }

    fn not_counted(wat: &str) -> NotCounted {
        match &verdicts(wat)[..] {
            [Err(why)] => *why,
            other => panic!("expected one loop, not counted, got {other:?}"),
        }
    }

    #[test]
    fn a_rotated_loop_counting_up_to_a_local() {
        let c = counted(&func(
            "(loop $l
               (i32.store (local.get $i) (local.get $i))
               (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                                   (local.get $n))))",
        ));
        assert_eq!(
            c,
            CountedLoop {
                form: LoopForm::DoWhile,
                exit_test: 10,
                last: 10,
                local: 2,
                start: None,
                wide: false,
                step: Invariant::Const(1),
                step_down: false,
                after_step: true,
                compare: Compare::LtS,
                bound: Invariant::Local(0),
                // The body's ten operators (`local.get` to `br_if`), one
                // fuel each.
                iteration_cost: 10,
                exits_early: false,
                inner_loops: 0,
                counted_inner: 0,
                credit: 0,
            }
        );
    }

    #[test]
    fn a_bound_before_the_variable_mirrors_the_comparison() {
        // `n > i + 4` is `i + 4 < n`; `ne` stays `ne`.
        let c = counted(&func(
            "(loop $l
               (br_if $l (i32.gt_u (local.get $n)
                                   (local.tee $i (i32.add (i32.const 4) (local.get $i))))))",
        ));
        assert_eq!(
            (c.compare, c.step, c.after_step),
            (Compare::LtU, Invariant::Const(4), true)
        );
        let c = counted(&func(
            "(loop $l
               (br_if $l (i32.ne (local.get $n)
                                 (local.tee $i (i32.add (local.get $i) (i32.const 4))))))",
        ));
        assert_eq!(c.compare, Compare::Ne);
    }

    #[test]
    fn counting_down_to_zero_and_by_a_subtracted_step() {
        // `while (--i)`: the `br_if` takes the stepped value itself.
        let c = counted(&func(
            "(loop $l (br_if $l (local.tee $i (i32.add (local.get $i) (i32.const -1)))))",
        ));
        assert_eq!(
            (c.compare, c.bound, c.step, c.step_down),
            (
                Compare::Ne,
                Invariant::Const(0),
                Invariant::Const(-1),
                false
            )
        );
        let c = counted(&func(
            "(loop $l
               (local.set $i (i32.sub (local.get $i) (i32.const 3)))
               (br_if $l (i32.gt_s (local.get $i) (local.get $n))))",
        ));
        assert_eq!(
            (c.compare, c.step, c.step_down, c.after_step),
            (Compare::GtS, Invariant::Const(3), true, true)
        );
        // `i32.eqz` as the condition: again while the value is zero.
        let c = counted(&func(
            "(loop $l (br_if $l (i32.eqz (local.tee $i (i32.add (local.get $i) (i32.const 1))))))",
        ));
        assert_eq!((c.compare, c.bound), (Compare::Eq, Invariant::Const(0)));
    }

    #[test]
    fn a_for_loop_tests_before_the_step() {
        let c = counted(&func(
            "(block $out
               (loop $l
                 (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
                 (i32.store (local.get $i) (i32.const 0))
                 (local.set $i (i32.add (local.get $i) (local.get $p)))
                 (br $l)))",
        ));
        assert_eq!(
            (c.form, c.compare, c.after_step, c.step),
            (LoopForm::For, Compare::GeU, false, Invariant::Local(1))
        );
    }

    #[test]
    fn an_i64_induction_variable_and_a_bound_read_from_memory() {
        let c = counted(&func(
            "(local.set $v (i64.load (i32.const 0)))
             (loop $l
               (br_if $l (i64.lt_u (local.tee $w (i64.add (local.get $w) (i64.const 2)))
                                   (local.get $v))))",
        ));
        assert_eq!(
            (c.wide, c.local, c.step, c.bound),
            (true, 4, Invariant::Const(2), Invariant::Local(5))
        );
        // A bound computed in the loop is not understood, even from
        // invariant values.
        let why = not_counted(&func(
            "(loop $l
               (br_if $l (i64.lt_u (local.tee $w (i64.add (local.get $w) (i64.const 2)))
                                   (i64.extend_i32_u (local.get $x)))))",
        ));
        assert!(matches!(why, NotCounted::Condition(_)), "{why:?}");
    }

    #[test]
    fn branches_merged_into_the_body_keep_it_counted() {
        let c = counted(&func(
            "(loop $l
               (if (local.get $p)
                 (then (local.set $x (i32.add (local.get $x) (i32.const 1))))
                 (else (local.set $x (i32.const 0))))
               (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                                 (i32.const 10))))",
        ));
        assert_eq!(c.bound, Invariant::Const(10));
    }

    #[test]
    fn a_variable_stepped_on_each_path_once_is_counted() {
        // `if (skip) { i++; continue; } ...; i++;` as clang emits it: the
        // `continue` branches to the end of a block around the body.
        let c = counted(&func(
            "(loop $l
               (block $next
                 (if (i32.load8_u (local.get $i))
                   (then (local.set $i (i32.add (local.get $i) (i32.const 1)))
                         (br $next)))
                 (i32.store (local.get $x)
                   (i32.load (local.tee $i (i32.add (local.get $i) (i32.const 1))))))
               (br_if $l (i32.ne (local.get $i) (local.get $n))))",
        ));
        assert_eq!(
            (c.compare, c.after_step, c.step),
            (Compare::Ne, true, Invariant::Const(1))
        );
        // Stepped on both arms of an if/else.
        let c = counted(&func(
            "(loop $l
               (if (local.get $p)
                 (then (local.set $i (i32.add (local.get $i) (i32.const 2))))
                 (else (local.set $i (i32.add (i32.const 2) (local.get $i)))))
               (br_if $l (i32.lt_u (local.get $i) (local.get $n))))",
        ));
        assert_eq!((c.compare, c.after_step), (Compare::LtU, true));
    }

    #[test]
    fn a_constant_start_makes_the_count_known_when_compiling() {
        // for (i = 3; i < 10; i += 2): tests 3, 5, 7, 9, 11.
        let c = counted(&func(
            "(local.set $x (i32.const 1))
             (local.set $i (i32.const 3))
             (i32.store (i32.const 0) (local.get $x))
             (block $out
               (loop $l
                 (br_if $out (i32.ge_s (local.get $i) (i32.const 10)))
                 (local.set $i (i32.add (local.get $i) (i32.const 2)))
                 (br $l)))",
        ));
        assert_eq!(c.start, Some(3));
        assert_eq!(c.static_entries(), Some(Some(5)));
        // A branch between the write and the loop hides the start.
        let c = counted(&func(
            "(local.set $i (i32.const 3))
             (block (br_if 0 (local.get $p)))
             (loop $l
               (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                                   (i32.const 10))))",
        ));
        assert_eq!((c.start, c.static_entries()), (None, None));
        // From 5 by 4 up to exactly 16 with `ne`: 9, 13, 17, ... never.
        let c = counted(&func(
            "(local.set $i (i32.const 5))
             (loop $l
               (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4)))
                                 (i32.const 16))))",
        ));
        assert_eq!(c.static_entries(), Some(None));
        assert!(c.sliceable().is_err());
    }

    #[test]
    fn early_exits_leave_a_loop_counted() {
        let step = "(local.tee $i (i32.add (local.get $i) (i32.const 1)))";
        let again = format!("(br_if $l (i32.lt_s {step} (local.get $n)))");
        for body in [
            format!("(block $out (loop $l (br_if $out (local.get $p)) {again}))"),
            format!("(loop $l (if (local.get $p) (then (return))) {again})"),
            format!("(block $out (loop $l (block (br_if $out (local.get $p))) {again}))"),
        ] {
            let c = counted(&func(&body));
            assert!(c.exits_early, "{body}");
            assert_eq!((c.local, c.form), (2, LoopForm::DoWhile), "{body}");
        }
        // A `for` loop's exit test is the `br_if` that compares an
        // induction variable; one before it that does not is an early exit.
        let c = counted(&func(
            "(block $out (loop $l
               (br_if $out (i32.load (local.get $p)))
               (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
               (local.set $i (i32.add (local.get $i) (i32.const 2)))
               (br $l)))",
        ));
        assert_eq!(
            (c.form, c.exit_test, c.compare, c.exits_early),
            (LoopForm::For, 8, Compare::GeU, true)
        );
        let c = counted(&func(&format!("(loop $l (nop) {again})")));
        assert!(!c.exits_early);
    }

    #[test]
    fn a_body_of_several_blocks_is_charged_all_of_them() {
        // The `if` is not merged (its arm branches): the body is three
        // metered blocks, the `if`'s arm runs in some iterations only.
        let body = "(loop $l (if (local.get $p) (then (block (br_if 0 (local.get $x))
                      (local.set $x (i32.const 1)))))
                    (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                                        (local.get $n))))";
        let c = counted(&func(body));
        // Every operator of the body, from `local.get $p` to the `br_if`
        // back, runs once on the dearest path: 16, one fuel each; all but
        // the first block's `local.get` and `if` are credited.
        assert_eq!((c.iteration_cost, c.credit), (16, 14));
        assert!(c.sliceable().is_ok());
    }

    #[test]
    fn loops_that_are_not_counted_say_why() {
        let step = "(local.tee $i (i32.add (local.get $i) (i32.const 1)))";
        let again = format!("(br_if $l (i32.lt_s {step} (local.get $n)))");
        /// Whether a reason is the expected one.
        type Expected = fn(NotCounted) -> bool;
        let cases: Vec<(String, Expected)> = vec![
            (format!("(loop $l (call $g) {again})"), |r| {
                matches!(r, NotCounted::Call(_))
            }),
            (
                format!("(loop $l (drop (memory.grow (local.get $p))) {again})"),
                |r| matches!(r, NotCounted::DynamicCost(_)),
            ),
            (
                format!(
                    "(block $out (loop $l (block $a (block $b (br_table $a $b $out \
                     (local.get $p)))) {again}))"
                ),
                |r| matches!(r, NotCounted::BranchTable(_)),
            ),
            (
                format!("(loop $l (br_if $l (local.get $p)) {again})"),
                |r| matches!(r, NotCounted::Continue(_)),
            ),
            (
                // The bound changes in the loop.
                format!("(loop $l (local.set $n (local.get $p)) {again})"),
                |r| matches!(r, NotCounted::Condition(_)),
            ),
            (
                // The variable is stepped twice.
                format!("(loop $l (local.set $i (local.get $p)) {again})"),
                |r| matches!(r, NotCounted::Condition(_)),
            ),
            (
                // Stepped inside an `if`, not once per iteration.
                "(loop $l (if (local.get $p) (then (local.set $i (i32.add (local.get $i)
                   (i32.const 1))))) (br_if $l (i32.lt_s (local.get $i) (local.get $n))))"
                    .to_string(),
                |r| matches!(r, NotCounted::Condition(_)),
            ),
            (
                // Stepped twice on one path.
                "(loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
                   (local.set $i (i32.add (local.get $i) (i32.const 1)))
                   (br_if $l (i32.lt_s (local.get $i) (local.get $n))))"
                    .to_string(),
                |r| matches!(r, NotCounted::Condition(_)),
            ),
            (
                // Stepped by different amounts on the two arms.
                "(loop $l (if (local.get $p)
                     (then (local.set $i (i32.add (local.get $i) (i32.const 1))))
                     (else (local.set $i (i32.add (local.get $i) (i32.const 2)))))
                   (br_if $l (i32.lt_s (local.get $i) (local.get $n))))"
                    .to_string(),
                |r| matches!(r, NotCounted::Condition(_)),
            ),
            (
                // Not linear: `i * i < n`.
                "(loop $l (br_if $l (i32.lt_s (i32.mul (local.tee $i (i32.add (local.get $i)
                   (i32.const 1))) (local.get $i)) (local.get $n))))"
                    .to_string(),
                |r| matches!(r, NotCounted::Condition(_)),
            ),
            ("(loop $l (local.set $x (i32.const 1)))".to_string(), |r| {
                matches!(r, NotCounted::NoBackEdge)
            }),
            ("(loop $l (br $l))".to_string(), |r| {
                matches!(r, NotCounted::NoExitTest)
            }),
            (
                // The `br_if` at the end is unreachable: the `br` before it
                // is the back edge.
                "(loop $l (br $l) (br_if $l (local.get $p)))".to_string(),
                |r| matches!(r, NotCounted::Continue(_)),
            ),
            (
                format!("(loop $l (param i32) (drop) (i32.const 7) {again} (drop)) (i32.const 0)"),
                |r| matches!(r, NotCounted::Params),
            ),
        ];
        for (body, expected) in cases {
            let wat = format!(
                "(module (memory 1) (type $t (func (param i32))) (func $f (param $n i32) \
                 (param $p i32) (local $i i32) (local $x i32) (i32.const 0) {body} (drop)) \
                 (func $g))"
            );
            let why = not_counted(&wat);
            assert!(expected(why), "{body}: {why:?}");
        }
    }

    /// A function body: an inner loop of 4 iterations (`$i` from 0 by 1
    /// while `< 4`) that costs 10 fuel each in the uniform model, inside an
    /// outer loop counted by `$x` up to `$n`, with `before` and `after` the
    /// inner loop in the outer body.
    fn nest(before: &str, after: &str) -> String {
        format!(
            "(loop $outer
               {before}
               (local.set $i (i32.const 0))
               (loop $inner
                 (i32.store (local.get $i) (local.get $i))
                 (br_if $inner (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                                         (i32.const 4))))
               {after}
               (br_if $outer (i32.lt_s (local.tee $x (i32.add (local.get $x) (i32.const 1)))
                                       (local.get $n))))"
        )
    }

    #[test]
    fn a_rectangular_nest_is_charged_as_one_loop() {
        let v = verdicts(&func(&nest("", "(drop (local.get $p))")));
        let (Ok(outer), Ok(inner)) = (&v[0], &v[1]) else {
            panic!("{v:?}");
        };
        assert_eq!(
            (inner.iteration_cost, inner.static_entries()),
            (10, Some(Some(4)))
        );
        // The outer body's own blocks: `i32.const 0`, `local.set` and the
        // `loop` before the inner loop (3); its `end`, `local.get $p`,
        // `drop` and the exit test's 7 operators after it (10).
        assert_eq!(
            (outer.local, outer.inner_loops, outer.iteration_cost),
            (3, 1, 3 + 4 * 10 + 10)
        );
        assert!(outer.sliceable().is_ok());
    }

    #[test]
    fn a_nest_whose_inner_loop_may_vary_is_not_charged_as_one() {
        let refused = |body: String| match &verdicts(&func(&body))[..] {
            [Err(NotCounted::InnerLoop(_, why)), Ok(_)] => *why,
            other => panic!("{other:?}"),
        };
        // Its bound changes (a triangular nest's is the outer variable).
        assert_eq!(
            refused(nest("", "").replace("(i32.const 4)", "(local.get $x)")),
            "its trip count may change from one iteration to the next"
        );
        // It may be skipped.
        assert_eq!(
            refused(nest("(if (local.get $p) (then", "))")),
            "it is inside a block or an if"
        );
        // The outer loop may leave before it.
        assert_eq!(
            refused(format!(
                "(block $out {})",
                nest("(br_if $out (local.get $p))", "")
            )),
            "the outer loop may leave before it"
        );
    }

    /// Runs the loop `c` describes as wasm does, for at most `limit` body
    /// entries: `Some((entries, wrapped))` if its exit test leaves by then,
    /// `wrapped` telling whether the compared value wrapped around (as the
    /// comparison reads it) after the first test.
    fn simulate(
        c: &CountedLoop,
        start: i64,
        step: i64,
        bound: i64,
        limit: u64,
    ) -> Option<(u64, bool)> {
        let bits = if c.wide { 64 } else { 32 };
        let mask = if c.wide {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        use Compare::*;
        let signed = matches!(c.compare, LtS | GtS | LeS | GeS);
        let read = |x: u64| -> i128 {
            if signed {
                i128::from(((x << (64 - bits)) as i64) >> (64 - bits))
            } else {
                i128::from(x)
            }
        };
        // The direction of a step, as `entries` reads it (a step of
        // -2^(bits-1) goes down either way).
        let signed_step = if c.step_down {
            -i128::from(step)
        } else {
            i128::from(step)
        };
        let up = wrap(signed_step, bits, true) > 0;
        let step = step as u64 & mask;
        let bound = read(bound as u64 & mask);
        let mut v = start as u64 & mask;
        let mut previous: Option<i128> = None;
        let mut wrapped = false;
        for entries in 1..=limit {
            let x = if c.after_step {
                if c.step_down {
                    v.wrapping_sub(step)
                } else {
                    v.wrapping_add(step)
                }
            } else {
                v
            } & mask;
            let x = read(x);
            if let Some(p) = previous {
                wrapped |= if up { x < p } else { x > p };
            }
            previous = Some(x);
            let holds = match c.compare {
                Eq => x == bound,
                Ne => x != bound,
                LtS | LtU => x < bound,
                GtS | GtU => x > bound,
                LeS | LeU => x <= bound,
                GeS | GeU => x >= bound,
            };
            if holds == (c.form == LoopForm::For) {
                return Some((entries, wrapped));
            }
            v = if c.step_down {
                v.wrapping_sub(step)
            } else {
                v.wrapping_add(step)
            } & mask;
        }
        None
    }

    fn shape(
        form: LoopForm,
        compare: Compare,
        after_step: bool,
        step_down: bool,
        wide: bool,
    ) -> CountedLoop {
        CountedLoop {
            form,
            exit_test: 0,
            last: 0,
            local: 0,
            start: None,
            wide,
            step: Invariant::Local(1),
            step_down,
            after_step,
            compare,
            bound: Invariant::Local(2),
            iteration_cost: 1,
            exits_early: false,
            inner_loops: 0,
            counted_inner: 0,
            credit: 0,
        }
    }

    #[test]
    fn entries_match_running_the_loop() {
        use Compare::*;
        const LIMIT: u64 = 300;
        let compares = [Eq, Ne, LtS, LtU, GtS, GtU, LeS, LeU, GeS, GeU];
        let mut counted = 0;
        for wide in [false, true] {
            let (min, max) = if wide {
                (i64::MIN, i64::MAX)
            } else {
                (i64::from(i32::MIN), i64::from(i32::MAX))
            };
            let values = [0, 1, 3, 10, 100, -1, -3, -100, max, max - 5, min, min + 4];
            let steps = [1, 2, 3, 7, -1, -2, -5, 0, max, min, 1 << 20];
            for form in [LoopForm::DoWhile, LoopForm::For] {
                for compare in compares {
                    for (after_step, step_down) in [(true, false), (false, false), (true, true)] {
                        let c = shape(form, compare, after_step, step_down, wide);
                        for start in values {
                            for step in steps {
                                for bound in values {
                                    let run = simulate(&c, start, step, bound, LIMIT);
                                    match c.entries(start, step, bound) {
                                        Some(e) if e <= LIMIT => {
                                            counted += 1;
                                            assert_eq!(
                                                run.map(|r| r.0),
                                                Some(e),
                                                "{c:?} from {start} by {step} to {bound}"
                                            );
                                        }
                                        Some(_) => {
                                            assert_eq!(run, None, "{c:?} {start} {step} {bound}")
                                        }
                                        // Left to per-iteration metering: only when
                                        // the value wraps or the loop runs long.
                                        None => assert!(
                                            !matches!(run, Some((_, false))),
                                            "{c:?} from {start} by {step} to {bound}: {run:?}"
                                        ),
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(counted > 10_000, "{counted}");
    }

    #[test]
    fn entries_of_long_loops() {
        use Compare::*;
        let up = shape(LoopForm::DoWhile, LtS, true, false, false);
        // `do { ... } while (++i < INT_MAX)` from 0: i + 1 reaches INT_MAX
        // at the end of entry INT_MAX.
        assert_eq!(up.entries(0, 1, i64::from(i32::MAX)), Some(i32::MAX as u64));
        // `<=` INT_MAX never leaves without wrapping.
        let le = shape(LoopForm::DoWhile, LeS, true, false, false);
        assert_eq!(le.entries(0, 1, i64::from(i32::MAX)), None);
        // `do { ... } while (++i != 0)` from 0 wraps around: 2^32 entries.
        let ne = shape(LoopForm::DoWhile, Ne, true, false, false);
        assert_eq!(ne.entries(0, 1, 0), Some(1 << 32));
        // By 4 from 0 to 10: never equal.
        assert_eq!(ne.entries(0, 4, 10), None);
        assert_eq!(ne.entries(0, 4, 12), Some(3));
        // An i64 `for (i = 0; i < 10^12; i += 1)`: 10^12 + 1 tests.
        let wide = shape(LoopForm::For, GeS, false, false, true);
        assert_eq!(
            wide.entries(0, 1, 1_000_000_000_000),
            Some(1_000_000_000_001)
        );
        // Down by 3 from 10 while i > 0 (after the step): 7, 4, 1, -2.
        let down = shape(LoopForm::DoWhile, GtS, true, true, false);
        assert_eq!(down.entries(10, 3, 0), Some(4));
        // As unsigned, -2 is large: it would wrap, so it is not counted.
        let down_u = shape(LoopForm::DoWhile, GtU, true, true, false);
        assert_eq!(down_u.entries(10, 3, 0), None);
    }

    #[test]
    fn per_op_mode_finds_no_loops() {
        let wat =
            func("(loop $l (br_if $l (local.tee $i (i32.add (local.get $i) (i32.const -1)))))");
        assert!(verdicts_in(FuelMode::PerOp, &wat).is_empty());
        assert_eq!(verdicts(&wat).len(), 1);
    }
}
