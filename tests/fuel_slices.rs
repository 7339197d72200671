//! Sliced loops charge exactly: for loops of every form and comparison
//! whose start, step and bound are the function's arguments (so that the
//! trip count is computed at run time, with no constant to fold), and for
//! constant steps, `exact` mode must return and consume what `per-op`
//! mode does, on a grid of values near zero and near the ends of the
//! `i32` range, steps of both signs and zero. A loop that would not end
//! soon runs out of its budget in both modes at the same point.
//!
//! `fuelc compile --fuel-report` must call every loop here sliced, so the
//! runs that fit their budget take the sliced copy, and the trip count
//! computed at the loop's entry decides what they consume.
//!
//! Loops whose start, step and bound are all constants have their count
//! computed when they are compiled; a second family of loops, with such
//! constants near zero and the ends of the range, checks that count.
//!
//! A sliced loop that traps in one of its iterations must stop where
//! `per-op` mode stops at budgets up to the call's cost, and with plenty of
//! fuel may have consumed more, by at most the loop's charge
//! (`docs/fuel.md`, "The contract", 7).

mod support;

use fuelc::fuel::{loop_report, CostModel, LoopReport, Metering};
use fuelc::CompileOptions;
use fuelc_runtime::abi::{BoundsChecks, FuelMode};
use fuelc_runtime::{CallError, Extern, Instance, Module, Store, Val};

/// Enough for about 2,000 iterations: longer loops run out of fuel.
const BUDGET: u64 = 20_000;

const COMPARES: [&str; 10] = [
    "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u",
];

/// The functions of the test module, each `(start, step, bound) -> count`:
/// the number of times its body ran.
fn functions() -> Vec<(String, String)> {
    let mut functions = Vec::new();
    let count = "(local.set $n (i32.add (local.get $n) (i32.const 1)))";
    for cmp in COMPARES {
        for (op, step) in [
            ("add", "(local.get $s)"),
            ("sub", "(local.get $s)"),
            ("add", "(i32.const 3)"),
            ("sub", "(i32.const 4)"),
        ] {
            let stepped = format!("(i32.{op} (local.get $i) {step})");
            let constant = if step.contains("const") { "_const" } else { "" };
            // do { ... } while (cmp(i += s, b))
            functions.push((
                format!("do_{cmp}_{op}{constant}"),
                format!(
                    "(loop $l {count} (i32.store (i32.const 0) (local.get $n)) \
                     (br_if $l (i32.{cmp} (local.tee $i {stepped}) (local.get $b))))"
                ),
            ));
            // for (; !cmp(i, b); i += s)
            functions.push((
                format!("for_{cmp}_{op}{constant}"),
                format!(
                    "(block $out (loop $l (br_if $out (i32.{cmp} (local.get $i) (local.get $b))) \
                     {count} (local.set $i {stepped}) (br $l)))"
                ),
            ));
            // for (;;) { i += s; if (cmp(i, b)) break; ... }
            functions.push((
                format!("for_after_{cmp}_{op}{constant}"),
                format!(
                    "(block $out (loop $l (local.set $i {stepped}) \
                     (br_if $out (i32.{cmp} (local.get $i) (local.get $b))) {count} (br $l)))"
                ),
            ));
            if op == "sub" && constant.is_empty() {
                continue;
            }
            // The same loops with early exits, taken in the third
            // iteration when the loop gets that far.
            let third = "(i32.eq (local.get $n) (i32.const 3))";
            let returned = "(return (i32.add (local.get $n) (i32.const 1000)))";
            functions.push((
                format!("do_break_{cmp}_{op}{constant}"),
                format!(
                    "(block $out (loop $l {count} (br_if $out {third}) \
                     (i32.store (i32.const 0) (local.get $n)) \
                     (br_if $l (i32.{cmp} (local.tee $i {stepped}) (local.get $b)))))"
                ),
            ));
            functions.push((
                format!("do_return_{cmp}_{op}{constant}"),
                format!(
                    "(loop $l {count} (local.set $i {stepped}) \
                     (if {third} (then {returned})) \
                     (br_if $l (i32.{cmp} (local.get $i) (local.get $b))))"
                ),
            ));
            functions.push((
                format!("for_break_{cmp}_{op}{constant}"),
                format!(
                    "(block $out (loop $l (br_if $out (i32.{cmp} (local.get $i) (local.get $b))) \
                     {count} (block $in (br_if $out {third}) \
                     (br_if $in (i32.eqz (local.get $s)))) \
                     (i32.store (i32.const 0) (local.get $n)) (local.set $i {stepped}) (br $l)))"
                ),
            ));
            // A body of several metered blocks: an `if` whose arms
            // branch is not merged, and one arm may leave.
            let branchy = "(if (i32.and (local.get $n) (i32.const 1)) \
                 (then (block (br_if 0 (i32.eq (local.get $n) (i32.const 5))) \
                 (i32.store (i32.const 4) (local.get $n)))) \
                 (else (block (br_if 0 (local.get $s)) (i32.store (i32.const 8) (local.get $i))) \
                 (if (i32.eq (local.get $n) (i32.const 4)) (then (br $out)))))";
            functions.push((
                format!("do_blocks_{cmp}_{op}{constant}"),
                format!(
                    "(block $out (loop $l {count} {branchy} \
                     (br_if $l (i32.{cmp} (local.tee $i {stepped}) (local.get $b)))))"
                ),
            ));
            functions.push((
                format!("for_after_break_{cmp}_{op}{constant}"),
                format!(
                    "(block $out (loop $l (local.set $i {stepped}) \
                     (if {third} (then (i32.store (i32.const 4) (local.get $i)) (br $out))) \
                     (br_if $out (i32.{cmp} (local.get $i) (local.get $b))) {count} (br $l)))"
                ),
            ));
        }
    }
    functions
}

/// The constant starts and bounds of the loops whose count is known when
/// they are compiled.
const CONSTANTS: [i32; 4] = [0, 7, -20, i32::MAX - 5];

/// Functions `() -> count` for every function of [`functions`] with a
/// constant step, with each of [`CONSTANTS`] as its start and as its
/// bound.
fn constant_functions() -> Vec<(String, String)> {
    let mut constant = Vec::new();
    for (name, body) in functions() {
        if !name.ends_with("_const") {
            continue;
        }
        for (i, start) in CONSTANTS.iter().enumerate() {
            for (j, bound) in CONSTANTS.iter().enumerate() {
                let body = body.replace("(local.get $b)", &format!("(i32.const {bound})"));
                constant.push((
                    format!("{name}_{i}_{j}"),
                    format!("(local.set $i (i32.const {start})) {body}"),
                ));
            }
        }
    }
    constant
}

/// A module exporting `functions`, each `(start $i, step $s, bound $b) ->
/// $n` with locals `$n $j $k`, and its memory.
fn module_text(functions: impl IntoIterator<Item = (String, String)>) -> String {
    let mut text = String::from("(module (memory (export \"mem\") 1)");
    for (name, body) in functions {
        text += &format!(
            "(func (export \"{name}\") (param $i i32) (param $s i32) (param $b i32) \
             (result i32) (local $n i32) (local $j i32) (local $k i32) {body} (local.get $n))"
        );
    }
    text + ")"
}

/// What `fuelc compile --fuel exact --fuel-report` says of `wasm`'s loops.
fn report(wasm: &[u8]) -> LoopReport {
    let parsed = fuelc::parse::parse(wasm, "slices", BoundsChecks::Guard).expect("valid");
    let metering = Metering {
        mode: FuelMode::Exact,
        costs: CostModel::wasmtime(),
    };
    loop_report(&parsed, &metering).expect("plans")
}

fn compile(wasm: &[u8], mode: FuelMode) -> Module {
    let mut options = CompileOptions::host(&format!("slices_{mode:?}"));
    options.bounds_checks = support::bounds_checks_for_many_instances();
    options.metering = Some(Metering {
        mode,
        costs: CostModel::wasmtime(),
    });
    let object = fuelc::compile(wasm, &options).expect("compiles");
    fuelc::loader::load_object(&object, &options.prefix).expect("loads")
}

/// A store with one instance of `module`.
fn instantiate(module: &Module) -> (Store, Instance) {
    let mut store = Store::new();
    let instance = store.instantiate(module, &[]).expect("instantiates");
    (store, instance)
}

/// What one call of export `name` with `budget` does: its result or trap,
/// and the fuel consumed and remaining. An out-of-fuel stop leaves the
/// store usable for the next call.
fn call(
    (store, instance): &mut (Store, Instance),
    name: &str,
    args: &[i32],
    budget: u64,
) -> (String, u64, u64) {
    let Some(Extern::Func(func)) = store.export(*instance, name) else {
        panic!("no export {name}");
    };
    store.set_fuel(budget);
    let args: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
    let outcome = match store.call(func, &args) {
        Ok(values) => format!("{values:?}"),
        Err(CallError::Trap(trap)) => format!("{:?}", trap.code),
        Err(other) => panic!("{name}{args:?}: {other}"),
    };
    // The words the loops store, where the call ended.
    let Some(Extern::Memory(memory)) = store.export(*instance, "mem") else {
        panic!("no memory export");
    };
    let outcome = format!("{outcome} {:?}", &store.memory_data(memory)[..8]);
    let remaining = store.fuel_remaining();
    (outcome, budget - remaining, remaining)
}

/// A call with [`BUDGET`]: its outcome and the fuel it consumed.
fn run(instance: &mut (Store, Instance), name: &str, args: [i32; 3]) -> (String, u64) {
    let (outcome, consumed, _) = call(instance, name, &args, BUDGET);
    (outcome, consumed)
}

/// Runs each of the functions `names` of the test module in both modes
/// on a grid of starts, steps and bounds: how many calls, how many
/// completed, and where the modes differ.
fn compare_on_grid(
    exact: &mut (Store, Instance),
    per_op: &mut (Store, Instance),
    names: &[String],
) -> (usize, usize, Vec<String>) {
    let (min, max) = (i32::MIN, i32::MAX);
    let values = [0, 1, 5, -5, 100, -100, max, max - 3, min, min + 2];
    let steps = [1, 3, -1, -4, 0, 2, min, 1 << 30];
    let (mut runs, mut completed, mut failures) = (0, 0, Vec::new());
    for name in names {
        for start in values {
            for step in steps {
                for bound in values {
                    let args = [start, step, bound];
                    let expected = run(per_op, name, args);
                    let actual = run(exact, name, args);
                    runs += 1;
                    completed += usize::from(expected.0.starts_with("[I32"));
                    if actual != expected {
                        failures.push(format!(
                            "{name}{args:?}: exact {actual:?}, per-op {expected:?}"
                        ));
                    }
                }
            }
        }
    }
    (runs, completed, failures)
}

#[test]
fn sliced_loops_consume_what_per_op_mode_consumes() {
    let all = functions().into_iter().chain(constant_functions());
    let wasm = wat::parse_str(module_text(all)).expect("the test module parses");
    let report = report(&wasm);
    let text = report.to_string();
    // Some constant loops never reach their bound without wrapping: those
    // are not sliced, and say so.
    let never = text
        .matches("wraps around or never reaches its bound")
        .count();
    assert_eq!(
        report.sliced + never,
        functions().len() + constant_functions().len(),
        "{report}"
    );
    assert!(
        never > 0 && report.sliced > functions().len() + never,
        "{report}"
    );

    let mut exact = instantiate(&compile(&wasm, FuelMode::Exact));
    let mut per_op = instantiate(&compile(&wasm, FuelMode::PerOp));
    let names: Vec<String> = functions().into_iter().map(|f| f.0).collect();
    let (mut runs, mut completed, mut failures) = compare_on_grid(&mut exact, &mut per_op, &names);
    for (name, _) in constant_functions() {
        let expected = run(&mut per_op, &name, [0; 3]);
        let actual = run(&mut exact, &name, [0; 3]);
        runs += 1;
        completed += usize::from(expected.0.starts_with("[I32"));
        if actual != expected {
            failures.push(format!("{name}: exact {actual:?}, per-op {expected:?}"));
        }
    }
    report_agreement("fuel slices", (runs, completed, failures), 3);
}

/// Prints what [`compare_on_grid`] found, and fails on any difference or
/// when fewer than one call in `complete_one_in` completed.
fn report_agreement(
    what: &str,
    (runs, completed, failures): (usize, usize, Vec<String>),
    complete_one_in: usize,
) {
    println!(
        "{what}: {runs} calls, {completed} complete, {} differ",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{}",
        failures[..failures.len().min(20)].join("\n")
    );
    assert!(
        completed * complete_one_in >= runs,
        "only {completed} of {runs} complete"
    );
}

/// A loop of `n` iterations that stores out of bounds, and traps, in
/// iteration `k` (if `k < n`).
const TRAPPING: &str = r#"(module (memory (export "mem") 1)
  (func (export "f") (param $n i32) (param $k i32) (result i32) (local $i i32)
    (loop $l
      (i32.store
        (select (i32.const 0x7fff0000) (i32.shl (local.get $i) (i32.const 2))
                (i32.eq (local.get $i) (local.get $k)))
        (local.get $i))
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (local.get $i)))"#;

/// The fuel one iteration of [`TRAPPING`]'s loop is charged: its body's
/// 17 operators, from the `i32.const` to the `br_if`, cost 1 each in the
/// `wasmtime` model.
const TRAPPING_ITERATION: u64 = 17;

/// A call of [`TRAPPING`] on a fresh instance of `module`.
fn run_trapping(module: &Module, args: [i32; 2], budget: u64) -> (String, u64, u64) {
    call(&mut instantiate(module), "f", &args, budget)
}

#[test]
fn a_trap_in_a_sliced_loop_stops_where_per_op_mode_stops() {
    let wasm = wat::parse_str(TRAPPING).expect("parses");
    let report = report(&wasm);
    assert_eq!(report.sliced, 1, "{report}");
    assert!(
        report
            .to_string()
            .contains(&format!("; {TRAPPING_ITERATION} fuel per")),
        "{report}"
    );
    let exact = compile(&wasm, FuelMode::Exact);
    let per_op = compile(&wasm, FuelMode::PerOp);
    const PLENTY: u64 = 1 << 40;
    let mut trapped = 0;
    for n in [1, 2, 10, 100] {
        for k in [0, 1, n / 2, n - 1, n] {
            let args = [n, k];
            let reference = run_trapping(&per_op, args, PLENTY);
            let cost = reference.1;
            for budget in [cost - 1, cost] {
                assert_eq!(
                    run_trapping(&exact, args, budget),
                    run_trapping(&per_op, args, budget),
                    "f{args:?} with budget {budget}"
                );
            }
            let (outcome, consumed, _) = run_trapping(&exact, args, PLENTY);
            assert_eq!(outcome, reference.0, "f{args:?}");
            if k < n {
                trapped += 1;
                assert!(outcome.starts_with("MemoryOutOfBounds"), "{outcome}");
                let charge = n as u64 * TRAPPING_ITERATION;
                assert!(
                    consumed >= cost && consumed <= cost + charge,
                    "f{args:?}: exact consumed {consumed}, per-op {cost}, loop charge {charge}"
                );
            } else {
                assert_eq!(consumed, cost, "f{args:?}");
            }
        }
    }
    assert!(trapped >= 12);
}

/// Nests: `(name, body, sliced)`, `sliced` the number of its loops that
/// the report calls sliced. The outer loop runs from `$i` by `$s` while
/// it compares with `$b` as `cmp` says; inner loops count `$j` or `$k`
/// from 0 to a constant.
fn nests(cmp: &str) -> Vec<(String, String, usize)> {
    let count = "(local.set $n (i32.add (local.get $n) (i32.const 1)))";
    let store = "(i32.store (i32.const 0) (local.get $n))";
    // An inner loop: `var` from 0 stepped by `step` while `test` holds
    // (`lt_u`, `ne`...) against `bound`.
    let counted = |var: &str, step: i32, test: &str, bound: &str, body: &str| {
        format!(
            "(local.set {var} (i32.const 0)) (loop $in{var} {count} {store} {body} \
             (br_if $in{var} (i32.{test} (local.tee {var} (i32.add (local.get {var}) \
             (i32.const {step}))) {bound})))"
        )
    };
    let inner = |var: &str, trips: i32, body: &str| {
        counted(var, 1, "lt_u", &format!("(i32.const {trips})"), body)
    };
    let outer = |body: &str| {
        format!(
            "(loop $out {body} (br_if $out (i32.{cmp} (local.tee $i (i32.add (local.get $i) \
             (local.get $s))) (local.get $b))))"
        )
    };
    let square = inner("$j", 3, "");
    let triangle = format!(
        "(local.set $k (i32.and (local.get $i) (i32.const 7))) \
         (local.set $j (i32.const 0)) (loop $tri {count} \
         (br_if $tri (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) \
         (local.get $k))))"
    );
    let set_k = "(local.set $k (i32.and (local.get $s) (i32.const 7)))";
    let break_early = "(br_if $exit (i32.eq (local.get $n) (i32.const 7)))";
    vec![
        // Rectangular: the outer loop is charged with its inner loop.
        ("rectangle", outer(&format!("{store} {square} {count}")), 2),
        (
            "two_inner",
            outer(&format!("{square} {store} {}", inner("$k", 2, ""))),
            3,
        ),
        ("three_deep", outer(&inner("$k", 2, &square)), 3),
        // Inner loops whose counts are computed at the outer loop's entry
        // (its bound is set before the outer loop; with `ne` and a step of
        // 3, the count is often unknown, and the nest runs metered).
        (
            "counted_inner",
            format!(
                "{set_k} {}",
                outer(&format!(
                    "{store} {}",
                    counted("$j", 1, "lt_u", "(local.get $k)", "")
                ))
            ),
            2,
        ),
        (
            "counted_inner_ne",
            format!(
                "{set_k} {}",
                outer(&counted("$j", 3, "ne", "(local.get $k)", ""))
            ),
            2,
        ),
        // Not charged as one: the inner loop is sliced alone.
        ("triangle", outer(&triangle), 1),
        (
            "inner_in_if",
            outer(&format!(
                "(if (i32.and (local.get $n) (i32.const 1)) (then {square}))"
            )),
            1,
        ),
        (
            "outer_breaks",
            format!(
                "(block $exit {})",
                outer(&format!("{square} {break_early}"))
            ),
            1,
        ),
        (
            "inner_breaks",
            format!("(block $exit {})", outer(&inner("$j", 3, break_early))),
            1,
        ),
        (
            "for_outer",
            format!(
                "(block $exit (loop $out {square} (local.set $i (i32.add (local.get $i) \
                 (local.get $s))) (br_if $exit (i32.{cmp} (local.get $i) (local.get $b))) \
                 (br $out)))"
            ),
            1,
        ),
    ]
    .into_iter()
    .map(|(name, body, sliced)| (format!("{name}_{cmp}"), body, sliced))
    .collect()
}

#[test]
fn sliced_nests_consume_what_per_op_mode_consumes() {
    let all: Vec<_> = ["lt_s", "ne", "gt_u", "le_s"]
        .into_iter()
        .flat_map(nests)
        .collect();
    let text = module_text(all.iter().map(|(n, b, _)| (n.clone(), b.clone())));
    let wasm = wat::parse_str(text).expect("the nest module parses");
    let report = report(&wasm);
    let sliced: usize = all.iter().map(|n| n.2).sum();
    assert_eq!(report.sliced, sliced, "{report}");
    // Each sliced nest's outer loop, and the middle one of three.
    let text = report.to_string();
    assert_eq!(text.matches("(with its").count(), 4 * 6, "{report}");
    assert_eq!(
        text.matches("counted at its entry)").count(),
        4 * 2,
        "{report}"
    );

    let mut exact = instantiate(&compile(&wasm, FuelMode::Exact));
    let mut per_op = instantiate(&compile(&wasm, FuelMode::PerOp));
    let names: Vec<String> = all.into_iter().map(|n| n.0).collect();
    let outcome = compare_on_grid(&mut exact, &mut per_op, &names);
    report_agreement("fuel nests", outcome, 4);
}
