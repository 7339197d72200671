//! What the end-to-end tests share: starting programs built for the test
//! target, which run under the command in `FUELC_TEST_RUNNER` (for example
//! `qemu-aarch64 -L /usr/aarch64-linux-gnu`) when the tests are
//! cross-compiled, as cargo's target runner runs the tests themselves.

// Each test crate includes this module and uses only part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// A command running `program`, a binary for the test target.
pub fn target_command(program: &Path) -> Command {
    let runner = std::env::var("FUELC_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(runner) => {
            let mut command = Command::new(runner);
            command.args(words).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// A command running the `fuelc` binary under test.
pub fn fuelc_command() -> Command {
    target_command(Path::new(env!("CARGO_BIN_EXE_fuelc")))
}

/// How tests that instantiate thousands of memories compile their modules:
/// with guard pages natively, and with explicit bounds checks under a test
/// runner, because qemu-user never frees its bookkeeping for the 8 GiB
/// reservation of each guarded memory and runs out of memory after a few
/// thousand. Charges do not depend on the mode (`docs/fuel.md`, point 6).
pub fn bounds_checks_for_many_instances() -> fuelc_runtime::abi::BoundsChecks {
    if std::env::var_os("FUELC_TEST_RUNNER").is_some() {
        fuelc_runtime::abi::BoundsChecks::Explicit
    } else {
        fuelc_runtime::abi::BoundsChecks::Guard
    }
}

/// Everything observable about one metered call, compared between the
/// metering modes by the fuel tests.
#[derive(Debug, PartialEq, Eq)]
pub struct Observation {
    /// The results as text ([`format_val`]), or the trap and the function
    /// it names.
    pub outcome: Result<Vec<String>, (fuelc_runtime::TrapCode, String)>,
    pub consumed: u64,
    pub remaining: u64,
    /// The out-of-fuel handler's `(required, remaining)` calls, in order.
    pub handler_calls: Vec<(u64, u64)>,
    /// A checksum ([`fnv`]) of the state the test watches (memories,
    /// globals), if any.
    pub state: Option<u64>,
}

impl Observation {
    /// Whether this run in `exact` mode agrees with `per_op`'s: equal, or
    /// both stopped by the same trap (not out of fuel) with the same
    /// handler calls and state, and `exact` having consumed at least as
    /// much (it may have paid ahead for code the trap skipped:
    /// `docs/fuel.md`, "The contract", 7).
    pub fn agrees_with(&self, per_op: &Observation) -> bool {
        match (&self.outcome, &per_op.outcome) {
            (Err((code, function)), Err((reference, ref_function)))
                if *code != fuelc_runtime::TrapCode::OutOfFuel
                    && code == reference
                    && function == ref_function =>
            {
                self.consumed >= per_op.consumed
                    && self.consumed + self.remaining == per_op.consumed + per_op.remaining
                    && self.handler_calls == per_op.handler_calls
                    && self.state == per_op.state
            }
            _ => self == per_op,
        }
    }
}

/// A value as text: floats as their bits, a function reference only as
/// null or not, since two modules place functions at different addresses.
pub fn format_val(v: &fuelc_runtime::Val) -> String {
    use fuelc_runtime::Val;
    match v {
        Val::F32(bits) => format!("f32:{bits:#x}"),
        Val::F64(bits) => format!("f64:{bits:#x}"),
        Val::FuncRef(f) => format!("funcref:{}", if f.is_some() { "func" } else { "null" }),
        other => format!("{other:?}"),
    }
}

/// Where an FNV-1a checksum starts.
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over `bytes`, continued from `h`.
pub fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

/// A cost model in which memory accesses, global and local writes and much
/// of what computes their operands are free, so that a metered block may do them before its
/// only costed operator.
pub fn free_effects_model() -> fuelc::fuel::CostModel {
    fuelc::fuel::CostModel::from_toml(
        r#"
base = "wasmtime"
[operators]
I32Const = 0
I32And = 0
I32Or = 0
LocalGet = 0
LocalSet = 0
LocalTee = 0
GlobalGet = 0
GlobalSet = 0
I32Load = 0
I32Load8U = 0
I32Store = 0
I32Store8 = 0
I64Store = 0
"#,
    )
    .expect("the free-effects model parses")
}

/// How a test's out-of-fuel handler treats a stop.
#[derive(Clone, Copy, Debug)]
pub enum Refuel {
    /// It declines: the call stops.
    Never,
    /// It adds this much each time.
    Step(u64),
    /// It adds what the charge misses.
    Missing,
}

impl Refuel {
    /// What the handler returns for a charge of `required` with
    /// `remaining` left.
    pub fn grant(self, required: u64, remaining: u64) -> Option<u64> {
        match self {
            Refuel::Never => None,
            Refuel::Step(step) => Some(step),
            Refuel::Missing => Some(required - remaining),
        }
    }
}
