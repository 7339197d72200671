//! Metered blocks: the analysis behind [`plan_function`].
//!
//! A metered block is a run of operators that execute together: once its
//! first operator runs, every later one runs too, unless something traps or
//! a forward `br_if` leaves it early. It starts at function entry, at the
//! first operator of a loop body and of each `if` arm, after a `br_if` back
//! to a loop, and after the `end` of a construct that a branch targets or
//! whose arms merge there. `block`, calls and forward `br_if`s do not end
//! it, and the `end` of a construct reached only by falling through
//! continues it. Its whole cost is charged at its entry; a forward `br_if`
//! that is taken refunds the cost of the operators it skips, so the fuel
//! consumed stays exactly the cost of what ran.
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
    /// Charges, in operator order.
    pub charges: Vec<Charge>,
    /// Indices of the bulk and grow operators whose dynamic cost is in
    /// `charges` already (their constant operand was folded), sorted.
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
    /// The open metered block: its first operator and its cost so far.
    open: Option<Charge>,
    /// Forward `br_if`s in the open block, with its cost up to and
    /// including each of them.
    exits: Vec<Charge>,
    charges: Vec<Charge>,
    refunds: Vec<Charge>,
}

impl Planner {
    fn close(&mut self) {
        if let Some(c) = self.open.take() {
            for exit in self.exits.drain(..) {
                let skipped = c.cost - exit.cost;
                if skipped > 0 {
                    self.refunds.push(Charge {
                        op_index: exit.op_index,
                        cost: skipped,
                    });
                }
            }
            if c.cost > 0 {
                self.charges.push(c);
            }
        }
    }

    fn start(&mut self, op_index: usize) {
        self.close();
        self.open = Some(Charge { op_index, cost: 0 });
    }

    fn add(&mut self, op_index: usize, cost: u64) {
        match self.mode {
            FuelMode::PerOp => {
                if cost > 0 {
                    self.charges.push(Charge { op_index, cost });
                }
            }
            FuelMode::Exact => {
                let open = self
                    .open
                    .as_mut()
                    .expect("reachable code is in a metered block");
                open.cost = open.cost.saturating_add(cost);
            }
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
                let exit = Charge {
                    op_index,
                    cost: open.cost,
                };
                self.exits.push(exit);
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
        charges: Vec::new(),
        refunds: Vec::new(),
    };
    p.start(0);
    let entry = costs
        .function_entry
        .saturating_add(costs.local.saturating_mul(declared_locals));
    if entry > 0 {
        p.charges.push(Charge {
            op_index: 0,
            cost: entry,
        });
    }
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
        if let (Some(price), Some(units)) = (unit_price(&op, costs), last_const) {
            if units <= FOLDED_UNITS_LIMIT {
                cost = cost.saturating_add(price.saturating_mul(u64::from(units)));
                prepaid.push(i);
            }
        }
        last_const = match op {
            Operator::I32Const { value } => Some(value as u32),
            _ => None,
        };
        if p.reachable {
            p.add(i, cost);
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
    if p.mode == FuelMode::Exact {
        merge_entry_charge(&mut p.charges);
    }
    Ok(FuelPlan {
        charges: p.charges,
        prepaid,
        refunds: p.refunds,
    })
}

/// In exact mode the entry cost and the first metered block are both
/// charged before operator 0; fold them into one charge.
fn merge_entry_charge(charges: &mut Vec<Charge>) {
    if charges.len() >= 2 && charges[0].op_index == 0 && charges[1].op_index == 0 {
        let entry = charges.remove(0);
        charges[0].cost = charges[0].cost.saturating_add(entry.cost);
    }
}
