//! Fuel analysis: where metered code charges fuel, and how much.
//!
//! [`plan_function`] walks a function body once, before translation, and
//! returns the [`Charge`]s the translator must emit: one per metered block
//! in `exact` mode, one per operator in `per-op` mode. The translator then
//! emits each charge before the operator it names (see
//! `translate::FuncTranslator::emit_charge`). The contract these plans
//! implement is written down in `docs/fuel.md`.
//!
//! This module must not generate code; it only decides what is charged
//! where.

mod analysis;
pub mod cost;
pub mod loops;
mod report;

pub use analysis::{plan_function, Charge, Fallback, FuelPlan, Latch, FOLDED_UNITS_LIMIT};
pub use cost::{CostModel, OperatorCost};
pub use report::{loop_report, LoopReport};

use fuelc_runtime::abi::FuelMode;

/// How a module is metered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metering {
    /// Per-block or per-operator charging.
    pub mode: FuelMode,
    /// What everything costs.
    pub costs: CostModel,
}
