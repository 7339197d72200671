//! Exact at every budget, on generated modules: for modules that the
//! `wasm-smith` crate generates from fixed seeds, and for programs that
//! `structured` generates to be made of the control shapes exact mode
//! plans specially (under the `wasmtime` cost model, and for odd seeds one
//! that makes memory accesses and global writes free), `exact` mode must stop
//! where `per-op` mode (the reference) stops, with the same remaining fuel,
//! the same out-of-fuel handler calls, the same results and the same
//! memories and globals (`docs/fuel.md`, "The contract", point 1).
//!
//! Each exported function is called with zero arguments of its types. A
//! reference run in per-op mode with [`REFERENCE_BUDGET`] fuel finds its
//! cost C when it completes; then both modes run on fresh instances with
//! budgets around C (or fixed budgets, when it does not complete) and a
//! handler that records its calls and declines, at budgets that stop at
//! sampled per-op charges (for calls that cost little), and with budget 0
//! and a handler that refuels by a small step each time. After a trap other than
//! running out of fuel, `exact` may have consumed more than `per-op` (point
//! 7): only there may the totals differ, and only that way.
//!
//! `FUELC_FUEL_RANDOM_SEEDS=N` runs seeds `0..N` instead of the default
//! [`DEFAULT_SEEDS`], and `FUELC_FUEL_STRUCTURED_SEEDS=N` programs instead
//! of [`DEFAULT_STRUCTURED_SEEDS`] (README gives the longer run).

#[path = "fuel_random/structured.rs"]
mod structured;
mod support;

use std::cell::RefCell;
use std::rc::Rc;

use arbitrary::Unstructured;
use fuelc::fuel::{CostModel, Metering};
use fuelc::CompileOptions;
use fuelc_runtime::abi::{FuelMode, TrapCode};
use fuelc_runtime::{CallError, Extern, Instance, Module, Store, Val, ValType};
use support::{fnv, format_val, Observation, Refuel, FNV_START};

/// Seeds run by default: enough to cover every kind of operator many times
/// while keeping the test to seconds natively and minutes under qemu.
const DEFAULT_SEEDS: u64 = 120;

/// Programs from `structured` run by default.
const DEFAULT_STRUCTURED_SEEDS: u64 = 250;

/// Fuel of the reference run: generated functions may loop forever.
const REFERENCE_BUDGET: u64 = 200_000;

/// Fuel for instantiation: start functions may loop forever too.
const INSTANTIATION_BUDGET: u64 = 1_000_000;

/// Bytes of entropy wasm-smith builds one module from.
const ENTROPY: usize = 8 << 10;

/// The module for `seed`: Wasm 2.0 features only, no imports, everything
/// exported.
fn generate(seed: u64) -> Option<Vec<u8>> {
    let mut rng = structured::Rng::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let entropy: Vec<u8> = (0..ENTROPY).map(|_| (rng.next() >> 24) as u8).collect();
    let config = wasm_smith::Config {
        max_imports: 0,
        export_everything: true,
        allow_start_export: true,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        simd_enabled: true,
        relaxed_simd_enabled: false,
        tail_call_enabled: false,
        threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        shared_everything_threads_enabled: false,
        compact_imports_enabled: false,
        custom_descriptors_enabled: false,
        acquire_release_atomics_enabled: false,
        multibyte_array_access_enabled: false,
        extended_const_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        max_memories: 1,
        max_memory32_bytes: 4 << 16,
        max_tables: 2,
        max_table_elements: 64,
        // Odd seeds make modules that do not trap (accesses are masked into
        // bounds, divisions guarded), so that more calls complete.
        disallow_traps: seed % 2 == 1,
        min_funcs: 1,
        max_funcs: 12,
        max_instructions: 400,
        ..wasm_smith::Config::default()
    };
    let module = wasm_smith::Module::new(config, &mut Unstructured::new(&entropy)).ok()?;
    Some(module.to_bytes())
}

/// Compiles `wasm`, which `label` names in messages.
fn compile(label: &str, wasm: &[u8], mode: FuelMode, costs: &CostModel) -> Module {
    let prefix: String = label.chars().filter(char::is_ascii_alphanumeric).collect();
    let mut options = CompileOptions::host(&format!("{prefix}_{mode:?}"));
    options.bounds_checks = support::bounds_checks_for_many_instances();
    options.metering = Some(Metering {
        mode,
        costs: costs.clone(),
    });
    let object = fuelc::compile(wasm, &options)
        .unwrap_or_else(|e| panic!("{label} ({mode:?}): a valid module must compile: {e}"));
    fuelc::loader::load_object(&object, &options.prefix)
        .unwrap_or_else(|e| panic!("{label} ({mode:?}): {e}"))
}

/// The names of the module's exported functions, memories and globals.
fn exports(wasm: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::ExportSection(reader)) = payload {
            names.extend(
                reader
                    .into_iter()
                    .filter_map(|e| e.ok())
                    .filter(|e| {
                        matches!(
                            e.kind,
                            wasmparser::ExternalKind::Func
                                | wasmparser::ExternalKind::Memory
                                | wasmparser::ExternalKind::Global
                        )
                    })
                    .map(|e| e.name.to_owned()),
            );
        }
    }
    names
}

fn zero(ty: &ValType) -> Val {
    match ty {
        ValType::I32 => Val::I32(0),
        ValType::I64 => Val::I64(0),
        ValType::F32 => Val::F32(0),
        ValType::F64 => Val::F64(0),
        ValType::V128 => Val::V128(0),
        ValType::FuncRef => Val::FuncRef(None),
        ValType::ExternRef => Val::ExternRef(None),
    }
}

fn state_checksum(store: &Store, instance: Instance, names: &[String]) -> u64 {
    let mut h = FNV_START;
    for name in names {
        match store.export(instance, name) {
            Some(Extern::Memory(m)) => h = fnv(h, store.memory_data(m)),
            Some(Extern::Global(g)) => h = fnv(h, format_val(&store.global_get(g)).as_bytes()),
            _ => {}
        }
    }
    h
}

/// Calls export `name` on a fresh instance of `module` with `budget` fuel;
/// `None` if instantiation does not complete.
fn observe(
    module: &Module,
    names: &[String],
    name: &str,
    budget: u64,
    refuel: Refuel,
) -> Option<Observation> {
    let mut store = Store::new();
    store.set_fuel(INSTANTIATION_BUDGET);
    let instance = store.instantiate(module, &[]).ok()?;
    let Some(Extern::Func(func)) = store.export(instance, name) else {
        return None;
    };
    let args: Vec<Val> = store.func_type(func).params.iter().map(zero).collect();
    let calls = Rc::new(RefCell::new(Vec::new()));
    let log = Rc::clone(&calls);
    store.set_out_of_fuel_handler(move |required, remaining| {
        log.borrow_mut().push((required, remaining));
        refuel.grant(required, remaining)
    });
    store.set_fuel(budget);
    let before = store.fuel_consumed();
    let outcome = match store.call(func, &args) {
        Ok(values) => Ok(values.iter().map(format_val).collect()),
        Err(CallError::Trap(trap)) => Err((trap.code, trap.function)),
        Err(other) => Err((TrapCode::Unreachable, format!("call error: {other}"))),
    };
    let handler_calls = calls.borrow().clone();
    Some(Observation {
        outcome,
        consumed: store.fuel_consumed() - before,
        remaining: store.fuel_remaining(),
        handler_calls,
        state: Some(state_checksum(&store, instance, names)),
    })
}

/// Whether the call exhausted the native stack. Where that happens depends
/// on the size of each function's frame, which differs between the modes'
/// code (as between targets), so such runs are counted but not compared.
fn overflowed(o: &Option<Observation>) -> bool {
    matches!(
        o,
        Some(Observation {
            outcome: Err((TrapCode::StackOverflow, _)),
            ..
        })
    )
}

fn budgets(reference: &Observation) -> Vec<u64> {
    let mut budgets = match reference.outcome {
        Ok(_) => {
            let c = reference.consumed;
            vec![0, 1, c / 3, c / 2, c.saturating_sub(1), c, c + 1]
        }
        Err(_) => vec![0, 1, 10, 100, 1000, 20_000],
    };
    budgets.sort_unstable();
    budgets.dedup();
    budgets
}

/// Calls that complete with at most this much fuel are also tried at
/// budgets that stop at sampled per-op charges ([`stop_points`]).
const STOP_POINT_LIMIT: u64 = 5000;

/// How many such budgets a call is tried at.
const STOP_POINTS: usize = 6;

/// Budgets at which export `name` of the per-op `module` stops right at
/// one of its charges (the fuel covers every charge before it and all but
/// one unit of it): the places where an exact-mode charge that pays ahead
/// could stop elsewhere. Found by running it from 0 fuel with a handler
/// that adds what each charge misses; [`STOP_POINTS`] of them, evenly
/// spread from an offset that `salt` picks.
fn stop_points(module: &Module, names: &[String], name: &str, salt: u64) -> Vec<u64> {
    let Some(run) = observe(module, names, name, 0, Refuel::Missing) else {
        return Vec::new();
    };
    let mut granted = 0;
    let stops: Vec<u64> = run
        .handler_calls
        .iter()
        .map(|&(required, remaining)| {
            debug_assert_eq!(remaining, 0, "each charge used up the last grant");
            granted += required;
            granted - 1
        })
        .collect();
    let step = stops.len().div_ceil(STOP_POINTS).max(1);
    let offset = (salt % step as u64) as usize;
    stops.into_iter().skip(offset).step_by(step).collect()
}

/// What a test compared, and where `exact` and `per-op` differed.
#[derive(Default)]
struct Comparison {
    modules: usize,
    calls: usize,
    completing: usize,
    runs: usize,
    stack_limited: usize,
    /// Loops sliced in exact mode (counted loops charged at their entry).
    sliced_loops: usize,
    failures: Vec<String>,
}

impl Comparison {
    /// Runs every exported function of `wasm` in both modes at budgets
    /// around its cost, and records the runs that differ.
    fn module(&mut self, label: &str, wasm: &[u8], costs: &CostModel) {
        self.modules += 1;
        let metering = Metering {
            mode: FuelMode::Exact,
            costs: costs.clone(),
        };
        let parsed = fuelc::parse::parse(wasm, "report", fuelc_runtime::abi::BoundsChecks::Guard)
            .expect("a valid module");
        self.sliced_loops += fuelc::fuel::loop_report(&parsed, &metering)
            .expect("plans")
            .sliced;
        let names = exports(wasm);
        let exact = compile(label, wasm, FuelMode::Exact, costs);
        let per_op = compile(label, wasm, FuelMode::PerOp, costs);
        for name in &names {
            let Some(reference) = observe(&per_op, &names, name, REFERENCE_BUDGET, Refuel::Never)
            else {
                continue;
            };
            self.calls += 1;
            self.completing += usize::from(reference.outcome.is_ok());
            let mut cases: Vec<(u64, Refuel)> = budgets(&reference)
                .into_iter()
                .map(|b| (b, Refuel::Never))
                .collect();
            if reference.outcome.is_ok() {
                let step = if reference.consumed > 2000 { 97 } else { 3 };
                cases.push((0, Refuel::Step(step)));
                if reference.consumed <= STOP_POINT_LIMIT {
                    let stops = stop_points(&per_op, &names, name, reference.consumed);
                    cases.extend(stops.into_iter().map(|b| (b, Refuel::Never)));
                }
            }
            for (budget, refuel) in cases {
                let expected = observe(&per_op, &names, name, budget, refuel);
                let actual = observe(&exact, &names, name, budget, refuel);
                if overflowed(&actual) || overflowed(&expected) {
                    self.stack_limited += 1;
                    continue;
                }
                self.runs += 1;
                let same = match (&actual, &expected) {
                    (Some(a), Some(e)) => a.agrees_with(e),
                    (a, e) => a.is_none() && e.is_none(),
                };
                if !same {
                    self.failures.push(format!(
                        "{label} export {name:?} budget {budget} refuel {refuel:?}:\n  \
                         exact  {actual:?}\n  per-op {expected:?}"
                    ));
                }
            }
        }
    }

    /// Prints the counts and fails with the first differences.
    fn report(&self, what: &str) {
        println!(
            "{what}: {} modules ({} sliced loops), {} calls ({} complete), {} runs \
             compared ({} more ran out of stack), {} differ",
            self.modules,
            self.sliced_loops,
            self.calls,
            self.completing,
            self.runs,
            self.stack_limited,
            self.failures.len()
        );
        assert!(
            self.failures.is_empty(),
            "{}",
            self.failures
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            self.completing >= self.calls / 4,
            "only {} of {} calls complete",
            self.completing,
            self.calls
        );
    }
}

/// The number of seeds to run: `variable` if set, else `default`.
fn seeds(variable: &str, default: u64) -> u64 {
    std::env::var(variable)
        .ok()
        .map_or(default, |s| s.parse().expect("the seed count is a number"))
}

#[test]
fn exact_stops_where_per_op_stops_on_generated_modules() {
    let seeds = seeds("FUELC_FUEL_RANDOM_SEEDS", DEFAULT_SEEDS);
    let mut comparison = Comparison::default();
    for seed in 0..seeds {
        if let Some(wasm) = generate(seed) {
            comparison.module(&format!("seed {seed}"), &wasm, &CostModel::wasmtime());
        }
    }
    comparison.report("fuel random");
    assert!(
        comparison.modules * 2 >= seeds as usize,
        "only {} of {seeds} seeds made a module",
        comparison.modules
    );
}

#[test]
fn exact_stops_where_per_op_stops_on_generated_control_flow() {
    let seeds = seeds("FUELC_FUEL_STRUCTURED_SEEDS", DEFAULT_STRUCTURED_SEEDS);
    let mut comparison = Comparison::default();
    let models = [CostModel::wasmtime(), support::free_effects_model()];
    for seed in 0..seeds {
        let text = structured::program(seed);
        let wasm = wat::parse_str(&text)
            .unwrap_or_else(|e| panic!("structured seed {seed} is not valid: {e}\n{text}"));
        // Odd seeds make stores, loads and global writes free.
        let costs = &models[seed as usize % 2];
        comparison.module(&format!("structured seed {seed}"), &wasm, costs);
    }
    comparison.report("fuel structured");
    assert!(
        comparison.sliced_loops >= seeds as usize / 4,
        "only {} sliced loops in {seeds} programs",
        comparison.sliced_loops
    );
}
