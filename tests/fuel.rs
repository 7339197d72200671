//! Hand-written fuel cases: each cost rule and each edge of the contract in
//! `docs/fuel.md`, with expected totals computed by hand in the comments
//! (costs from the `wasmtime` preset unless a test says otherwise).

use fuelc::fuel::{CostModel, Metering};
use fuelc::CompileOptions;
use fuelc_runtime::abi::{FuelMode, TrapCode};
use fuelc_runtime::{CallError, Extern, Instance, Store, Trap, Val};

const MODES: [FuelMode; 2] = [FuelMode::Exact, FuelMode::PerOp];

/// A metered instance of `wat` in a fresh store.
fn instantiate(wat: &str, mode: FuelMode, costs: CostModel) -> (Store, Instance) {
    let wasm = wat::parse_str(wat).expect("test module parses");
    let mut options = CompileOptions::host("fuel_test");
    options.metering = Some(Metering { mode, costs });
    let object = fuelc::compile(&wasm, &options).expect("test module compiles");
    let module = fuelc::loader::load_object(&object, &options.prefix).expect("object loads");
    let mut store = Store::new();
    let instance = store.instantiate(&module, &[]).expect("instantiates");
    (store, instance)
}

fn call(store: &mut Store, instance: Instance, name: &str, args: &[Val]) -> Result<Vec<Val>, Trap> {
    let Some(Extern::Func(f)) = store.export(instance, name) else {
        panic!("no export {name}");
    };
    match store.call(f, args) {
        Ok(v) => Ok(v),
        Err(CallError::Trap(t)) => Err(t),
        Err(e) => panic!("bad call: {e}"),
    }
}

/// Runs `name(args)` with `budget` and returns (outcome, consumed, remaining).
fn run(
    wat: &str,
    mode: FuelMode,
    name: &str,
    args: &[Val],
    budget: u64,
) -> (Result<Vec<Val>, Trap>, u64, u64) {
    let (mut store, instance) = instantiate(wat, mode, CostModel::wasmtime());
    store.set_fuel(budget);
    let outcome = call(&mut store, instance, name, args);
    (outcome, store.fuel_consumed(), store.fuel_remaining())
}

fn assert_out_of_fuel(outcome: &Result<Vec<Val>, Trap>) {
    match outcome {
        Err(t) => assert_eq!(t.code, TrapCode::OutOfFuel, "{t}"),
        Ok(v) => panic!("expected OutOfFuel, got {v:?}"),
    }
}

/// entry 1 + i32.const 1 + end 0 = 2.
const CONST: &str = r#"(module (func (export "f") (result i32) i32.const 7))"#;

#[test]
fn exactly_enough_fuel_completes_and_leaves_zero() {
    for mode in MODES {
        let (outcome, consumed, remaining) = run(CONST, mode, "f", &[], 2);
        assert_eq!(outcome.unwrap(), vec![Val::I32(7)]);
        assert_eq!((consumed, remaining), (2, 0), "{mode:?}");
    }
}

#[test]
fn one_short_stops_where_per_op_stops() {
    for mode in MODES {
        // The entry (1) is paid, then i32.const cannot be: exact mode's
        // block of 2 falls back to per-operator charges.
        let (outcome, consumed, remaining) = run(CONST, mode, "f", &[], 1);
        assert_out_of_fuel(&outcome);
        assert_eq!((consumed, remaining), (1, 0), "{mode:?}");
        let (outcome, consumed, remaining) = run(CONST, mode, "f", &[], 0);
        assert_out_of_fuel(&outcome);
        assert_eq!((consumed, remaining), (0, 0), "{mode:?}");
    }
}

/// Per iteration with n > 0: local.get, i32.eqz, br_if (3) + get, get,
/// add, set (4) + get, const, sub, set (4) + br (1) = 12. The last check
/// costs 3, then local.get 1, plus entry 1: total 12n + 5.
const SUM: &str = r#"(module
  (func (export "sum") (param $n i32) (result i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $s (i32.add (local.get $s) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $s)))"#;

#[test]
fn loop_costs_are_summed_per_iteration() {
    for mode in MODES {
        let (outcome, consumed, remaining) = run(SUM, mode, "sum", &[Val::I32(10)], 1000);
        assert_eq!(outcome.unwrap(), vec![Val::I32(55)]);
        assert_eq!(consumed, 12 * 10 + 5, "{mode:?}");
        assert_eq!(remaining, 1000 - consumed);
    }
}

#[test]
fn out_of_fuel_inside_a_loop_stops_at_the_operator_per_op_stops_at() {
    // Every operator costs 0 or 1, so per-op mode pays all 50 and stops at
    // the next operator with a cost. Exact mode charges a metered block of
    // 12 per iteration (49, 37, 25, 13, 1 left), then falls back to
    // per-operator charges in the block it cannot pay: the same 50, 0.
    for mode in MODES {
        let (outcome, consumed, remaining) = run(SUM, mode, "sum", &[Val::I32(1000)], 50);
        assert_out_of_fuel(&outcome);
        assert_eq!((consumed, remaining), (50, 0), "{mode:?}");
    }
}

#[test]
fn handler_refuels_and_execution_resumes_in_place() {
    for mode in MODES {
        let (mut store, instance) = instantiate(SUM, mode, CostModel::wasmtime());
        let calls = std::rc::Rc::new(std::cell::Cell::new(0u32));
        let seen = calls.clone();
        store.set_out_of_fuel_handler(move |required, remaining| {
            assert!(remaining < required);
            seen.set(seen.get() + 1);
            Some(20)
        });
        store.set_fuel(10);
        let outcome = call(&mut store, instance, "sum", &[Val::I32(10)]).unwrap();
        assert_eq!(outcome, vec![Val::I32(55)]);
        assert_eq!(store.fuel_consumed(), 125, "{mode:?}");
        assert!(calls.get() >= 5, "handler ran {} times", calls.get());
        // Fuel is conserved: budget plus everything the handler added.
        assert_eq!(
            store.fuel_remaining() + store.fuel_consumed(),
            10 + 20 * u64::from(calls.get())
        );
    }
}

#[test]
fn handler_that_declines_stops_with_out_of_fuel() {
    for mode in MODES {
        let (mut store, instance) = instantiate(SUM, mode, CostModel::wasmtime());
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let log = seen.clone();
        store.set_out_of_fuel_handler(move |required, remaining| {
            log.borrow_mut().push((required, remaining));
            None
        });
        store.set_fuel(30);
        assert_out_of_fuel(&call(&mut store, instance, "sum", &[Val::I32(10)]));
        // All 30 are spent (operators cost 0 or 1); the handler is asked
        // once, for the next operator's 1.
        assert_eq!(store.fuel_remaining(), 0, "{mode:?}");
        assert_eq!(*seen.borrow(), [(1, 0)], "{mode:?}");
    }
}

#[test]
fn the_instance_stays_usable_after_running_out() {
    let (mut store, instance) = instantiate(SUM, FuelMode::Exact, CostModel::wasmtime());
    store.set_fuel(20);
    assert_out_of_fuel(&call(&mut store, instance, "sum", &[Val::I32(10)]));
    store.set_fuel(1000);
    let outcome = call(&mut store, instance, "sum", &[Val::I32(10)]).unwrap();
    assert_eq!(outcome, vec![Val::I32(55)]);
    assert_eq!(store.fuel_remaining(), 1000 - 125);
}

/// g: entry 1 + const, const, add = 4. f: entry 1 + call 1 + const 1 +
/// add 1 = 4. Total 8; `ind` calls g through the table: entry 1 + const 1 +
/// call_indirect 1 + g's 4 = 7.
const CALLS: &str = r#"(module
  (type $t (func (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $g)
  (func $g (type $t) i32.const 1 i32.const 2 i32.add)
  (func (export "f") (result i32) call $g i32.const 5 i32.add)
  (func (export "ind") (result i32) (call_indirect (type $t) (i32.const 0))))"#;

#[test]
fn calls_charge_the_call_and_the_callee_entry() {
    for mode in MODES {
        let (outcome, consumed, _) = run(CALLS, mode, "f", &[], 100);
        assert_eq!(outcome.unwrap(), vec![Val::I32(8)]);
        assert_eq!(consumed, 8, "{mode:?}");
        let (outcome, consumed, _) = run(CALLS, mode, "ind", &[], 100);
        assert_eq!(outcome.unwrap(), vec![Val::I32(3)]);
        assert_eq!(consumed, 7, "{mode:?}");
    }
}

#[test]
fn out_of_fuel_inside_a_callee_names_the_callee() {
    for mode in MODES {
        // f: entry 1 + call 1, then g: entry 1 + const 1 + const 1 = 5, and
        // g's i32.add cannot be paid.
        let (outcome, consumed, remaining) = run(CALLS, mode, "f", &[], 5);
        assert_out_of_fuel(&outcome);
        assert_eq!((consumed, remaining), (5, 0), "{mode:?}");
        assert_eq!(outcome.unwrap_err().function, "g");
        // Across call_indirect: entry, const, call_indirect (3), then g's
        // entry and first const (2); its second const cannot be paid.
        let (outcome, consumed, remaining) = run(CALLS, mode, "ind", &[], 5);
        assert_out_of_fuel(&outcome);
        assert_eq!((consumed, remaining), (5, 0), "{mode:?}");
        assert_eq!(outcome.unwrap_err().function, "g");
    }
}

/// entry 1 + local.get, i32.const, local.get 3 + memory.fill 1 = 5 static,
/// plus 1 per byte.
const FILL: &str = r#"(module
  (memory (export "mem") 1)
  (func (export "fill") (param i32 i32)
    (memory.fill (local.get 0) (i32.const 7) (local.get 1))))"#;

#[test]
fn bulk_operations_pay_per_byte_after_their_bounds_check() {
    for mode in MODES {
        let (outcome, consumed, _) = run(FILL, mode, "fill", &[Val::I32(0), Val::I32(100)], 1000);
        outcome.unwrap();
        assert_eq!(consumed, 105, "{mode:?}");
        // Out of bounds: traps in the bounds check, pays only the static 5.
        let (outcome, consumed, _) =
            run(FILL, mode, "fill", &[Val::I32(65500), Val::I32(100)], 1000);
        assert_eq!(outcome.unwrap_err().code, TrapCode::MemoryOutOfBounds);
        assert_eq!(consumed, 5, "{mode:?}");
    }
}

#[test]
fn out_of_fuel_during_a_bulk_operation_leaves_memory_untouched() {
    let (mut store, instance) = instantiate(FILL, FuelMode::Exact, CostModel::wasmtime());
    store.set_fuel(50);
    let outcome = call(&mut store, instance, "fill", &[Val::I32(0), Val::I32(100)]);
    assert_out_of_fuel(&outcome);
    assert_eq!(store.fuel_remaining(), 45);
    let Some(Extern::Memory(mem)) = store.export(instance, "mem") else {
        panic!("no memory export");
    };
    assert!(store.memory_data(mem)[..100].iter().all(|b| *b == 0));
}

/// Per call: entry 1, local.get, i64.eqz, if (4); then-arm i64.const (1);
/// else-arm get, get, const, sub, call, mul (6). fac(n) = 10n + 5.
const FAC: &str = r#"(module
  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1))))))))"#;

#[test]
fn recursion_is_charged_per_call() {
    for mode in MODES {
        let (outcome, consumed, _) = run(FAC, mode, "fac", &[Val::I64(5)], 1000);
        assert_eq!(outcome.unwrap(), vec![Val::I64(120)]);
        assert_eq!(consumed, 55, "{mode:?}");
    }
    let (outcome, consumed, remaining) = run(FAC, FuelMode::Exact, "fac", &[Val::I64(20)], 100);
    assert_out_of_fuel(&outcome);
    assert_eq!(consumed + remaining, 100);
    assert!(remaining < 6, "stopped with {remaining} left");
}

#[test]
fn uniform_model_charges_every_operator_once() {
    // uniform: no entry cost; const 1 + end 1 = 2 for CONST, and for SUM
    // every operator including block, loop, br and end costs 1.
    let (mut store, instance) = instantiate(CONST, FuelMode::Exact, CostModel::uniform());
    store.set_fuel(100);
    call(&mut store, instance, "f", &[]).unwrap();
    assert_eq!(store.fuel_consumed(), 2);
}

#[test]
fn totals_match_across_opt_levels() {
    let wasm = wat::parse_str(SUM).unwrap();
    let mut totals = Vec::new();
    for opt in [
        fuelc::OptLevel::None,
        fuelc::OptLevel::Speed,
        fuelc::OptLevel::SpeedAndSize,
    ] {
        let mut options = CompileOptions::host("opt_test");
        options.opt_level = opt;
        options.metering = Some(Metering {
            mode: FuelMode::Exact,
            costs: CostModel::wasmtime(),
        });
        let object = fuelc::compile(&wasm, &options).unwrap();
        let module = fuelc::loader::load_object(&object, &options.prefix).unwrap();
        let mut store = Store::new();
        let instance = store.instantiate(&module, &[]).unwrap();
        store.set_fuel(10_000);
        call(&mut store, instance, "sum", &[Val::I32(37)]).unwrap();
        totals.push(store.fuel_consumed());
    }
    assert_eq!(totals, vec![12 * 37 + 5; 3]);
}

#[test]
fn forbidden_operators_fail_to_compile_with_name_and_offset() {
    let costs = CostModel::from_toml("[operators]\nMemoryFill = \"forbidden\"\n").unwrap();
    let wasm = wat::parse_str(FILL).unwrap();
    let mut options = CompileOptions::host("forbidden");
    options.metering = Some(Metering {
        mode: FuelMode::Exact,
        costs,
    });
    let err = fuelc::compile(&wasm, &options).unwrap_err().to_string();
    assert!(
        err.contains("MemoryFill") && err.contains("offset 0x"),
        "{err}"
    );
}

/// Static costs: entry 1 + one operand op + the operator 1 (+ ref.null 1).
const GROW: &str = r#"(module
  (memory 1 1)
  (table 1 1 funcref)
  (func (export "mem_const") (result i32) (memory.grow (i32.const 1)))
  (func (export "mem_param") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "tab_param") (param i32) (result i32)
    (table.grow (ref.null func) (local.get 0)))
  (func (export "fill_const") (param i32)
    (memory.fill (local.get 0) (i32.const 0) (i32.const 100)))
  (func (export "fill_big") (param i32)
    (memory.fill (local.get 0) (i32.const 0) (i32.const 200))))"#;

#[test]
fn failed_grows_pay_only_static_costs_unless_the_delta_is_a_small_constant() {
    for mode in MODES {
        let cases: [(&str, &[Val], u64); 4] = [
            ("mem_param", &[Val::I32(1)], 3),
            ("tab_param", &[Val::I32(1)], 4),
            // The constant 1 is folded into the block: 3 + 1.
            ("mem_const", &[], 4),
            ("mem_param", &[Val::I32(0)], 3),
        ];
        for (name, args, expected) in cases {
            let (outcome, consumed, _) = run(GROW, mode, name, args, 1000);
            let grown = if args == [Val::I32(0)] { 1 } else { -1 };
            assert_eq!(outcome.unwrap(), vec![Val::I32(grown)], "{name}");
            assert_eq!(consumed, expected, "{mode:?} {name}");
        }
    }
}

#[test]
fn small_constant_lengths_are_charged_with_the_block() {
    for mode in MODES {
        // entry, local.get, i32.const, i32.const, memory.fill = 5.
        let (outcome, consumed, _) = run(GROW, mode, "fill_const", &[Val::I32(0)], 1000);
        outcome.unwrap();
        assert_eq!(consumed, 105, "{mode:?}");
        // Out of bounds: the folded 100 was paid with the block.
        let (outcome, consumed, _) = run(GROW, mode, "fill_const", &[Val::I32(65500)], 1000);
        assert_eq!(outcome.unwrap_err().code, TrapCode::MemoryOutOfBounds);
        assert_eq!(consumed, 105, "{mode:?}");
        // 200 is above the folding limit: charged after the bounds check.
        let (outcome, consumed, _) = run(GROW, mode, "fill_big", &[Val::I32(65500)], 1000);
        assert_eq!(outcome.unwrap_err().code, TrapCode::MemoryOutOfBounds);
        assert_eq!(consumed, 5, "{mode:?}");
    }
}
