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
//! skips, so the fuel consumed stays exactly the cost of what ran.
//!
//! When the fuel is short of a block's cost, the block runs its exact
//! fallback instead: a copy metered per operator (see [`Charge::fallback`]),
//! so that it stops exactly where per-op mode stops. The plan therefore also
//! lists every operator's own charge ([`FuelPlan::op_charges`]).
//!
//! The walk tracks reachability exactly as the translator does (code after
//! `br`, `br_table`, `return` and `unreachable` up to the enclosing `else`
//! or `end` is never translated and so never charged). This module must
//! stay in step with `translate::control` on that point and nothing else.

use fuelc_runtime::abi::FuelMode;
use wasmparser::{FunctionBody, Operator};

use super::cost::{operator_name, OperatorCost};
use super::Metering;
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
    /// Refunds on the taken edge of forward `br_if`s, in operator order.
    pub refunds: Vec<Charge>,
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
    /// per-op charges would (it covers two or more charged operators, or a
    /// forward exit that skips some): how its exact fallback runs. `None`
    /// for per-operator charges and blocks whose charge is the one charge
    /// per-op mode would make.
    pub fallback: Option<Fallback>,
}

/// The exact fallback of a metered block: when the fuel is short of the
/// block's cost, operators `op_index..join` run in a copy metered one by
/// one; then the charges of operators `join..=last` are made one by one,
/// and the copy rejoins the block's code before operator `join`.
///
/// Operators `join..last` have no effect that could be seen if the call
/// stopped before them (see [`unobservable`]), so charging them before they
/// run stops where per-op mode stops, with the same state; rejoining early
/// lets the block's last operator (typically a branch) and what computes
/// its operands stay in one piece of code.
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
    cost: u64,
    /// How many of its operators (and the entry) have a cost of their own.
    charged: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Function,
    Block,
    Loop,
    If { else_seen: bool },
}

struct Frame {
    kind: Kind,
    /// Whether control can arrive after the construct's `end` (a branch
    /// targets it, or an arm falls through).
    next_reachable: bool,
    /// Whether a branch targets the construct's `end`.
    targeted: bool,
}

struct Planner {
    mode: FuelMode,
    frames: Vec<Frame>,
    reachable: bool,
    unreachable_depth: u32,
    /// The open metered block.
    open: Option<OpenBlock>,
    /// Forward `br_if`s in the open block, with its cost up to and
    /// including each of them.
    exits: Vec<Charge>,
    blocks: Vec<Charge>,
    op_charges: Vec<Charge>,
    refunds: Vec<Charge>,
}

impl Planner {
    fn close(&mut self) {
        let Some(block) = self.open.take() else {
            return;
        };
        let mut refunded = false;
        for exit in self.exits.drain(..) {
            let skipped = block.cost - exit.cost;
            if skipped > 0 {
                refunded = true;
                self.refunds.push(Charge::new(exit.op_index, skipped));
            }
        }
        if block.cost > 0 && self.mode == FuelMode::Exact {
            let exact_alone = block.charged < 2 && !refunded;
            self.blocks.push(Charge {
                op_index: block.first,
                cost: block.cost,
                fallback: (!exact_alone).then_some(Fallback {
                    join: block.join,
                    last: block.last,
                }),
            });
        }
    }

    fn start(&mut self, op_index: usize) {
        self.close();
        self.open = Some(OpenBlock {
            first: op_index,
            last: op_index,
            join: op_index,
            run: None,
            cost: 0,
            charged: 0,
        });
    }

    /// Adds reachable operator `op_index` with its own cost to the open
    /// block; `unobservable` as [`unobservable`] says.
    fn add(&mut self, op_index: usize, cost: u64, unobservable: bool) {
        let open = self
            .open
            .as_mut()
            .expect("reachable code is in a metered block");
        debug_assert!(op_index >= open.last, "operators come in order");
        open.last = op_index;
        open.join = open.run.unwrap_or(op_index);
        open.run = if unobservable {
            open.run.or(Some(op_index))
        } else {
            None
        };
        if cost > 0 {
            open.cost = open.cost.saturating_add(cost);
            open.charged += 1;
            self.op_charges.push(Charge::new(op_index, cost));
        }
    }

    fn stop(&mut self) {
        self.reachable = false;
        self.close();
    }

    /// Records a branch to the frame `depth` levels out; returns whether
    /// it goes back to a loop header.
    fn branch_to(&mut self, depth: u32) -> bool {
        let index = self.frames.len() - 1 - depth as usize;
        let frame = &mut self.frames[index];
        if frame.kind == Kind::Loop {
            return true;
        }
        frame.targeted = true;
        frame.next_reachable = true;
        false
    }

    /// A `br_if` at `op_index`: a backward one ends the metered block; a
    /// forward one stays in it and refunds what it skips when taken.
    fn br_if(&mut self, op_index: usize, depth: u32) {
        let backward = self.branch_to(depth);
        match (&self.open, self.mode) {
            (Some(open), FuelMode::Exact) if !backward => {
                self.exits.push(Charge::new(op_index, open.cost));
            }
            _ => self.start(op_index + 1),
        }
    }

    /// Handles `else` and `end` at the current nesting level.
    fn end_or_else(&mut self, op_index: usize, is_else: bool) {
        let reachable = self.reachable;
        let frame = self.frames.last_mut().expect("validated nesting");
        if reachable {
            frame.next_reachable = true;
        }
        if is_else {
            frame.kind = Kind::If { else_seen: true };
            self.reachable = true;
            self.start(op_index + 1);
            return;
        }
        let frame = self.frames.pop().expect("validated nesting");
        let merges = match frame.kind {
            Kind::Function => {
                self.stop();
                return;
            }
            Kind::If { .. } => true,
            Kind::Block | Kind::Loop => frame.targeted,
        };
        let next_reachable =
            frame.next_reachable || matches!(frame.kind, Kind::If { else_seen: false });
        if !next_reachable {
            self.stop();
        } else if merges || !reachable {
            self.reachable = true;
            self.start(op_index + 1);
        }
    }
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
        frames: vec![Frame {
            kind: Kind::Function,
            next_reachable: false,
            targeted: false,
        }],
        reachable: true,
        unreachable_depth: 0,
        open: None,
        exits: Vec::new(),
        blocks: Vec::new(),
        op_charges: Vec::new(),
        refunds: Vec::new(),
    };
    p.start(0);
    let entry = costs
        .function_entry
        .saturating_add(costs.local.saturating_mul(declared_locals));
    // The entry is charged with the first metered block (exact) or on its
    // own before operator 0 (per-op).
    p.add(0, entry, true);
    let mut reader = body.get_operators_reader()?;
    let mut op_index = 0;
    while !reader.eof() {
        let offset = reader.original_position();
        let op = reader.read()?;
        let i = op_index;
        op_index += 1;
        if !p.reachable {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    p.unreachable_depth += 1;
                    continue;
                }
                Operator::End if p.unreachable_depth > 0 => {
                    p.unreachable_depth -= 1;
                    continue;
                }
                Operator::Else | Operator::End if p.unreachable_depth == 0 => {}
                _ => continue,
            }
        }
        let mut cost = match costs.operator(&op) {
            OperatorCost::Fuel(c) => u64::from(c),
            OperatorCost::Forbidden => {
                return Err(CompileError::Forbidden {
                    offset: offset as usize,
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
        if p.reachable {
            p.add(i, cost, unobservable(&op));
            if charges_itself {
                p.start(i + 1);
            }
        }
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                let kind = match op {
                    Operator::Block { .. } => Kind::Block,
                    Operator::Loop { .. } => Kind::Loop,
                    _ => Kind::If { else_seen: false },
                };
                p.frames.push(Frame {
                    kind,
                    next_reachable: false,
                    targeted: false,
                });
                if kind != Kind::Block {
                    p.start(i + 1);
                }
            }
            Operator::Else => p.end_or_else(i, true),
            Operator::End => p.end_or_else(i, false),
            Operator::Br { relative_depth } => {
                p.branch_to(relative_depth);
                p.stop();
            }
            Operator::BrIf { relative_depth } => p.br_if(i, relative_depth),
            Operator::BrTable { targets } => {
                for depth in targets.targets() {
                    p.branch_to(depth?);
                }
                p.branch_to(targets.default());
                p.stop();
            }
            Operator::Return | Operator::Unreachable => p.stop(),
            _ => {}
        }
    }
    p.close();
    Ok(FuelPlan {
        blocks: p.blocks,
        op_charges: p.op_charges,
        prepaid,
        refunds: p.refunds,
    })
}
