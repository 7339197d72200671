//! Exact at every budget: for every invocation of `tests/fuel_programs`,
//! under four cost models, `exact` mode must stop where `per-op` mode (the
//! reference) stops, with the same remaining fuel, the same out-of-fuel
//! handler calls and the same memory (`docs/fuel.md`, "The contract").
//!
//! For each invocation, per-op mode first runs with plenty of fuel and
//! consumes C. Then both modes run on fresh instances with budgets 0, 1,
//! C − 1, C, C + 1 and a few fractions of C, with a handler that records
//! its `(required, remaining)` calls and declines; and with budget 0 and
//! handlers that refuel a fixed step each time (1, 7, 50 and 1000), so the
//! call completes across many out-of-fuel stops. Every run's outcome
//! (results, or trap kind and function), consumed and remaining fuel,
//! handler calls and a checksum of memory 0 must be equal in both modes,
//! except that after a trap `exact` may have consumed more (paid ahead);
//! a budget of C must complete with nothing left, and C − 1 must stop.

#[path = "support/programs.rs"]
mod programs;
mod support;

use std::cell::RefCell;
use std::rc::Rc;

use fuelc::fuel::{CostModel, Metering};
use fuelc::CompileOptions;
use fuelc_runtime::abi::{FuelMode, TrapCode};
use fuelc_runtime::{CallError, Extern, Module, Store};
use programs::{load_programs, typed_args, Invocation, Program};
use support::{fnv, format_val, Observation, Refuel, FNV_START};

/// The export under which the test reaches a program's memory 0.
const MEMORY_EXPORT: &str = "fuel_boundary_memory";

/// Fuel for the reference run.
const PLENTY: u64 = 1 << 40;

/// A cost model with irregular costs: free branches, dear arithmetic and
/// calls, locals and entries, so that blocks mix free and costed operators.
const IRREGULAR: &str = r#"
base = "wasmtime"
function_entry = 4
local = 2
memory_byte = 3
[operators]
BrIf = 0
LocalGet = 0
I32Add = 3
I64Mul = 7
Call = 5
I32Store = 2
"#;

fn cost_models() -> [(&'static str, CostModel); 4] {
    [
        ("wasmtime", CostModel::wasmtime()),
        ("uniform", CostModel::uniform()),
        (
            "irregular",
            CostModel::from_toml(IRREGULAR).expect("the irregular model parses"),
        ),
        ("free_effects", support::free_effects_model()),
    ]
}

/// The program's module, with memory 0 exported when it has one.
fn module_bytes(program: &Program) -> Vec<u8> {
    let has_memory = program.text.contains("(memory");
    if !has_memory {
        return program.wasm.clone();
    }
    let end = program.text.rfind(')').expect("a module ends with `)`");
    let text = format!(
        "{} (export \"{MEMORY_EXPORT}\" (memory 0)))",
        &program.text[..end]
    );
    wat::parse_str(&text).unwrap_or_else(|e| panic!("{}: {e}", program.name))
}

fn compile(program: &Program, wasm: &[u8], mode: FuelMode, costs: &CostModel) -> Module {
    let mut options = CompileOptions::host(&format!("{}_{mode:?}", program.name));
    options.bounds_checks = support::bounds_checks_for_many_instances();
    options.metering = Some(Metering {
        mode,
        costs: costs.clone(),
    });
    let object = fuelc::compile(wasm, &options)
        .unwrap_or_else(|e| panic!("{} ({mode:?}): {e}", program.name));
    fuelc::loader::load_object(&object, &options.prefix)
        .unwrap_or_else(|e| panic!("{} ({mode:?}): {e}", program.name))
}

/// Runs `invocation` on a fresh instance of `module` with `budget` fuel.
fn observe(module: &Module, invocation: &Invocation, budget: u64, refuel: Refuel) -> Observation {
    let mut store = Store::new();
    store.set_fuel(PLENTY);
    let instance = store.instantiate(module, &[]).expect("instantiates");
    let Some(Extern::Func(func)) = store.export(instance, &invocation.export) else {
        panic!("no exported function {}", invocation.export);
    };
    let args = typed_args(&store.func_type(func).params, &invocation.args).expect("arguments");
    let calls = Rc::new(RefCell::new(Vec::new()));
    let log = calls.clone();
    store.set_out_of_fuel_handler(move |required, remaining| {
        log.borrow_mut().push((required, remaining));
        refuel.grant(required, remaining)
    });
    store.set_fuel(budget);
    let before = store.fuel_consumed();
    let outcome = match store.call(func, &args) {
        Ok(values) => Ok(values.iter().map(format_val).collect()),
        Err(CallError::Trap(trap)) => Err((trap.code, trap.function)),
        Err(other) => panic!("{invocation}: {other}"),
    };
    let state = match store.export(instance, MEMORY_EXPORT) {
        Some(Extern::Memory(m)) => Some(fnv(FNV_START, store.memory_data(m))),
        _ => None,
    };
    let handler_calls = calls.borrow().clone();
    Observation {
        outcome,
        consumed: store.fuel_consumed() - before,
        remaining: store.fuel_remaining(),
        handler_calls,
        state,
    }
}

/// The budgets to try for a call that consumes `c`.
fn budgets(c: u64) -> Vec<u64> {
    let mut budgets = vec![0, 1, c / 3, c / 2, 2 * c / 3, c.saturating_sub(1), c, c + 1];
    budgets.sort_unstable();
    budgets.dedup();
    budgets
}

#[test]
fn exact_stops_where_per_op_stops_at_every_budget() {
    let programs = load_programs();
    let mut runs = 0;
    let mut failures = Vec::new();
    for program in &programs {
        let wasm = module_bytes(program);
        for (model, costs) in cost_models() {
            let exact = compile(program, &wasm, FuelMode::Exact, &costs);
            let per_op = compile(program, &wasm, FuelMode::PerOp, &costs);
            for invocation in &program.invocations {
                let reference = observe(&per_op, invocation, PLENTY, Refuel::Never);
                let c = reference.consumed;
                let completes = reference.outcome.is_ok();
                let mut cases: Vec<(u64, Refuel)> =
                    budgets(c).into_iter().map(|b| (b, Refuel::Never)).collect();
                cases.extend([1, 7, 50, 1000].map(|step| (0, Refuel::Step(step))));
                for (budget, refuel) in cases {
                    let expected = observe(&per_op, invocation, budget, refuel);
                    let actual = observe(&exact, invocation, budget, refuel);
                    runs += 1;
                    let at = format!(
                        "{} {invocation} ({model}, budget {budget}, {refuel:?})",
                        program.name
                    );
                    if !actual.agrees_with(&expected) {
                        failures.push(format!("{at}:\n  exact  {actual:?}\n  per-op {expected:?}"));
                        continue;
                    }
                    if completes && matches!(refuel, Refuel::Never) {
                        let stopped = actual.outcome.as_ref().err().map(|e| e.0);
                        if budget >= c
                            && (actual.outcome.is_err() || actual.remaining != budget - c)
                        {
                            failures.push(format!(
                                "{at}: budget {budget} >= cost {c} must complete: {actual:?}"
                            ));
                        }
                        if budget < c && stopped != Some(TrapCode::OutOfFuel) {
                            failures.push(format!(
                                "{at}: budget {budget} < cost {c} must run out: {actual:?}"
                            ));
                        }
                    }
                }
            }
        }
    }
    println!(
        "fuel boundary: {} programs, {runs} runs compared, {} differ",
        programs.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(runs >= 1000, "only {runs} runs");
}
