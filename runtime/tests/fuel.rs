//! Fuel in the runtime with hand-made modules (see `support`): accounting
//! across `set_fuel` and `add_fuel`, the out-of-fuel handler behind the
//! `out_of_fuel` builtin, the dynamic costs builtins charge and their order
//! against bounds checks and growth limits, refusing to mix metered and unmetered modules in
//! one store, and the fuel register saved by the trap handler.

#![deny(clippy::undocumented_unsafe_blocks)]

mod support;

use fuelc_runtime::abi::{
    ConstExpr, DataSegment, ElementMode, ElementSegment, Export, ExportKind, FuelMetadata, FuelMode,
};
use fuelc_runtime::{
    CallError, Extern, Instance, InstantiateError, Limits, MemoryType, Module, RefType, Store,
    TableType, TrapCode, Val,
};
use std::cell::RefCell;
use std::rc::Rc;
use support::*;

// Module "fuel": one memory of 1 page (max 2) holding a passive data
// segment of 4 bytes, one table of 4 funcrefs (max 6) and a passive element
// segment of 4 nulls. Bulk operations take `(dst, len)` as `[i32, i64]`.

/// Calls a builtin the way generated code would, from a frame that holds
/// only integers.
macro_rules! builtin {
    ($vmctx:expr, $name:ident($($arg:expr),*)) => {
        // SAFETY: called as generated code calls builtins.
        unsafe { (builtins($vmctx).$name)($vmctx, $($arg),*) }
    };
}

extern "C" fn fill(vmctx: *mut u8, dst: i32, len: i64) -> i64 {
    builtin!(vmctx, memory_fill(1, dst, 7, len as i32, len as i32));
    0
}

extern "C" fn copy(vmctx: *mut u8, dst: i32, len: i64) -> i64 {
    builtin!(vmctx, memory_copy(2, dst, 0, len as i32, len as i32));
    0
}

extern "C" fn init(vmctx: *mut u8, dst: i32, len: i64) -> i64 {
    builtin!(vmctx, memory_init(3, 0, dst, 0, len as i32, len as i32));
    0
}

extern "C" fn grow(vmctx: *mut u8, delta: i32) -> i32 {
    builtin!(vmctx, memory_grow(4, delta, delta))
}

extern "C" fn table_fill(vmctx: *mut u8, dst: i32, len: i64) -> i64 {
    builtin!(vmctx, table_fill(5, 0, dst, 0, len as i32, len as i32));
    0
}

extern "C" fn table_copy(vmctx: *mut u8, dst: i32, len: i64) -> i64 {
    builtin!(vmctx, table_copy(6, 0, 0, dst, 0, len as i32, len as i32));
    0
}

extern "C" fn table_init(vmctx: *mut u8, dst: i32, len: i64) -> i64 {
    builtin!(vmctx, table_init(7, 0, 0, dst, 0, len as i32, len as i32));
    0
}

extern "C" fn table_grow(vmctx: *mut u8, delta: i32) -> i32 {
    builtin!(vmctx, table_grow(8, 0, 0, delta, delta))
}

/// Fuel per memory byte, table element and memory page in [`costs`]:
/// distinct, so a charge shows which unit it used.
const BYTE: u64 = 2;
const ELEMENT: u64 = 3;
const PAGE: u64 = 5;

/// The unit costs of the metered "fuel" module in most tests.
fn costs() -> FuelMetadata {
    fuel_costs(BYTE, ELEMENT, PAGE)
}

fn fuel_module(fuel: Option<FuelMetadata>) -> Module {
    let (fuel_trap, site) = fuel_trap_code();
    let mut meta = metadata("fuel");
    meta.fuel = fuel;
    meta.functions = vec![
        plain(T_I32_I32),
        plain(T_I32I64_I64),
        plain(T_I32I64_I64),
        plain(T_I32I64_I64),
        plain(T_I32_I32),
        plain(T_I32I64_I64),
        plain(T_I32I64_I64),
        plain(T_I32I64_I64),
        plain(T_I32_I32),
        trapping(T_V_V, site, TrapCode::Unreachable),
    ];
    meta.memories = vec![MemoryType {
        limits: Limits {
            min: 1,
            max: Some(2),
        },
    }];
    meta.tables = vec![TableType {
        element: RefType::FuncRef,
        limits: Limits {
            min: 4,
            max: Some(6),
        },
    }];
    meta.data = vec![DataSegment {
        active: None,
        bytes: vec![1, 2, 3, 4],
    }];
    meta.elements = vec![ElementSegment {
        mode: ElementMode::Passive,
        element: RefType::FuncRef,
        items: vec![ConstExpr::RefNull(RefType::FuncRef); 4],
    }];
    let names = [
        "spend",
        "fill",
        "copy",
        "init",
        "grow",
        "table_fill",
        "table_copy",
        "table_init",
        "table_grow",
        "fuel_trap",
    ];
    meta.exports = names
        .iter()
        .enumerate()
        .map(|(i, name)| Export {
            name: (*name).into(),
            kind: ExportKind::Func,
            index: i as u32,
        })
        .chain([
            Export {
                name: "mem".into(),
                kind: ExportKind::Memory,
                index: 0,
            },
            Export {
                name: "tab".into(),
                kind: ExportKind::Table,
                index: 0,
            },
        ])
        .collect();
    load(
        &meta,
        vec![
            spend as *const u8,
            fill as *const u8,
            copy as *const u8,
            init as *const u8,
            grow as *const u8,
            table_fill as *const u8,
            table_copy as *const u8,
            table_init as *const u8,
            table_grow as *const u8,
            fuel_trap,
        ],
    )
}

/// A new store with `fuel` fuel and an instance of [`fuel_module`].
fn fuel_instance(meta: Option<FuelMetadata>, fuel: u64) -> (Store, Instance) {
    let mut store = Store::new();
    store.set_fuel(fuel);
    let instance = store.instantiate(&fuel_module(meta), &[]).unwrap();
    (store, instance)
}

/// Calls a `(dst, len)` bulk operation.
fn bulk(
    store: &mut Store,
    instance: Instance,
    name: &str,
    dst: i32,
    len: i64,
) -> Result<(), CallError> {
    call(store, instance, name, &[Val::I32(dst), Val::I64(len)]).map(|_| ())
}

/// Calls an `[i32] -> [i32]` function.
fn call_i32(store: &mut Store, instance: Instance, name: &str, x: i32) -> Result<i32, CallError> {
    match call(store, instance, name, &[Val::I32(x)])?[..] {
        [Val::I32(r)] => Ok(r),
        ref other => panic!("{other:?}"),
    }
}

fn fuel(store: &Store) -> (u64, u64) {
    (store.fuel_remaining(), store.fuel_consumed())
}

fn memory(store: &Store, instance: Instance) -> &[u8] {
    let Some(Extern::Memory(m)) = store.export(instance, "mem") else {
        panic!("no memory");
    };
    store.memory_data(m)
}

/// The sizes of the memory (in pages) and of the table.
fn sizes(store: &Store, instance: Instance) -> (u64, u64) {
    let Some(Extern::Table(t)) = store.export(instance, "tab") else {
        panic!("no table");
    };
    let pages = memory(store, instance).len() as u64 / 65536;
    (pages, store.table_size(t))
}

#[test]
fn consumed_fuel_is_counted_across_set_and_add() {
    let (mut store, instance) = fuel_instance(Some(costs()), 0);
    assert_eq!(fuel(&store), (0, 0), "a new store has no fuel");
    store.set_fuel(100);
    assert_eq!(call_i32(&mut store, instance, "spend", 30), Ok(30));
    assert_eq!(fuel(&store), (70, 30));
    store.add_fuel(5);
    assert_eq!(fuel(&store), (75, 30));
    store.set_fuel(10);
    assert_eq!(
        fuel(&store),
        (10, 30),
        "setting fuel keeps what was consumed"
    );
    assert_eq!(call_i32(&mut store, instance, "spend", 4), Ok(4));
    assert_eq!(fuel(&store), (6, 34));
    store.add_fuel(u64::MAX);
    assert_eq!(fuel(&store), (u64::MAX, 34), "adding saturates");
    assert_eq!(call_i32(&mut store, instance, "spend", 1), Ok(1));
    assert_eq!(fuel(&store), (u64::MAX - 1, 35));
}

#[test]
fn the_default_handler_stops_and_the_store_stays_usable() {
    let (mut store, instance) = fuel_instance(Some(costs()), 3);
    assert_eq!(
        call_i32(&mut store, instance, "spend", 10),
        Err(trap(TrapCode::OutOfFuel, "spend"))
    );
    assert_eq!(fuel(&store), (3, 0), "nothing is charged");
    let message = call_i32(&mut store, instance, "spend", 10)
        .unwrap_err()
        .to_string();
    assert_eq!(message, "out of fuel in function spend");
    store.add_fuel(7);
    assert_eq!(call_i32(&mut store, instance, "spend", 10), Ok(10));
    assert_eq!(fuel(&store), (0, 10));
}

#[test]
fn the_handler_refuels_or_stops() {
    let (mut store, instance) = fuel_instance(Some(costs()), 3);
    let calls = Rc::new(RefCell::new(Vec::new()));
    let log = calls.clone();
    store.set_out_of_fuel_handler(move |required, remaining| {
        log.borrow_mut().push((required, remaining));
        (required < 100).then_some(20)
    });
    assert_eq!(call_i32(&mut store, instance, "spend", 10), Ok(10));
    assert_eq!(fuel(&store), (13, 10), "the handler's 20 were added");
    assert_eq!(
        call_i32(&mut store, instance, "spend", 100),
        Err(trap(TrapCode::OutOfFuel, "spend")),
        "the handler stops"
    );
    assert_eq!(fuel(&store), (13, 10));
    store.set_out_of_fuel_handler(|_, _| Some(1));
    assert_eq!(
        call_i32(&mut store, instance, "spend", 15),
        Err(trap(TrapCode::OutOfFuel, "spend")),
        "what the handler adds is not enough"
    );
    assert_eq!(fuel(&store), (14, 10), "what it added stays");
    assert_eq!(*calls.borrow(), [(10, 3), (100, 13)]);
}

#[test]
fn handler_panics_propagate_and_the_store_stays_usable() {
    let (mut store, instance) = fuel_instance(Some(costs()), 3);
    store.set_out_of_fuel_handler(|_, _| panic!("handler panic"));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        call_i32(&mut store, instance, "spend", 10)
    }));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"handler panic"));
    assert_eq!(fuel(&store), (3, 0));
    store.set_out_of_fuel_handler(|_, _| None);
    store.add_fuel(7);
    assert_eq!(call_i32(&mut store, instance, "spend", 10), Ok(10));
}

#[test]
fn bulk_operations_charge_per_unit() {
    let (mut store, instance) = fuel_instance(Some(costs()), 1000);
    let mut consumed = 0;
    for (name, len, unit) in [
        ("fill", 10, BYTE),
        ("copy", 6, BYTE),
        ("init", 4, BYTE),
        ("table_fill", 3, ELEMENT),
        ("table_copy", 2, ELEMENT),
        ("table_init", 4, ELEMENT),
    ] {
        assert_eq!(bulk(&mut store, instance, name, 0, len), Ok(()), "{name}");
        consumed += len as u64 * unit;
        assert_eq!(fuel(&store), (1000 - consumed, consumed), "{name}");
    }
    assert_eq!(memory(&store, instance)[..6], [1, 2, 3, 4, 7, 7]);
}

#[test]
fn only_successful_growth_is_charged() {
    let (mut store, instance) = fuel_instance(Some(costs()), 100);
    assert_eq!(call_i32(&mut store, instance, "grow", 1), Ok(1));
    assert_eq!(fuel(&store), (100 - PAGE, PAGE));
    assert_eq!(call_i32(&mut store, instance, "table_grow", 2), Ok(4));
    let consumed = PAGE + 2 * ELEMENT;
    assert_eq!(fuel(&store), (100 - consumed, consumed));
    for (name, delta) in [
        ("grow", 1),
        ("grow", -1),
        ("table_grow", 1),
        ("table_grow", -1),
    ] {
        assert_eq!(
            call_i32(&mut store, instance, name, delta),
            Ok(-1),
            "{name} {delta}: past the maximum"
        );
        assert_eq!(fuel(&store), (100 - consumed, consumed), "{name} {delta}");
    }
    assert_eq!(sizes(&store, instance), (2, 6));
    store.set_fuel(0);
    assert_eq!(
        call_i32(&mut store, instance, "grow", 1),
        Ok(-1),
        "a grow that fails needs no fuel"
    );
    assert_eq!(call_i32(&mut store, instance, "grow", 0), Ok(2));
    assert_eq!(call_i32(&mut store, instance, "table_grow", 0), Ok(6));
    assert_eq!(fuel(&store), (0, consumed), "a grow of 0 costs nothing");
}

#[test]
fn growth_without_enough_fuel_changes_nothing() {
    let (mut store, instance) = fuel_instance(Some(costs()), PAGE - 1);
    assert_eq!(
        call_i32(&mut store, instance, "grow", 1),
        Err(trap(TrapCode::OutOfFuel, "grow"))
    );
    store.set_fuel(2 * ELEMENT - 1);
    assert_eq!(
        call_i32(&mut store, instance, "table_grow", 2),
        Err(trap(TrapCode::OutOfFuel, "table_grow"))
    );
    assert_eq!(fuel(&store), (2 * ELEMENT - 1, 0));
    assert_eq!(sizes(&store, instance), (1, 4), "nothing grew");
    let calls = Rc::new(RefCell::new(Vec::new()));
    let log = calls.clone();
    store.set_out_of_fuel_handler(move |required, remaining| {
        log.borrow_mut().push((required, remaining));
        Some(100)
    });
    assert_eq!(call_i32(&mut store, instance, "grow", 2), Ok(-1));
    assert_eq!(call_i32(&mut store, instance, "table_grow", 3), Ok(-1));
    assert!(calls.borrow().is_empty(), "a failing grow asks for no fuel");
    assert_eq!(call_i32(&mut store, instance, "table_grow", 2), Ok(4));
    assert_eq!(fuel(&store), (99, 2 * ELEMENT));
    store.set_fuel(PAGE - 1);
    assert_eq!(call_i32(&mut store, instance, "grow", 1), Ok(1));
    assert_eq!(
        *calls.borrow(),
        [(2 * ELEMENT, 2 * ELEMENT - 1), (PAGE, PAGE - 1)]
    );
    assert_eq!(fuel(&store), (99, 2 * ELEMENT + PAGE));
    assert_eq!(sizes(&store, instance), (2, 6));
}

#[test]
fn out_of_bounds_operations_pay_nothing() {
    let (mut store, instance) = fuel_instance(Some(costs()), 1000);
    for (name, dst, code) in [
        ("fill", 65534, TrapCode::MemoryOutOfBounds),
        ("copy", 65534, TrapCode::MemoryOutOfBounds),
        ("init", 65534, TrapCode::MemoryOutOfBounds),
        ("table_fill", 3, TrapCode::TableOutOfBounds),
        ("table_copy", 3, TrapCode::TableOutOfBounds),
        ("table_init", 3, TrapCode::TableOutOfBounds),
    ] {
        assert_eq!(
            bulk(&mut store, instance, name, dst, 4),
            Err(trap(code, name))
        );
        assert_eq!(fuel(&store), (1000, 0), "{name}");
    }
    assert_eq!(
        bulk(&mut store, instance, "init", 0, 5),
        Err(trap(TrapCode::MemoryOutOfBounds, "init")),
        "past the end of the segment"
    );
    assert_eq!(fuel(&store), (1000, 0));
}

#[test]
fn bulk_operations_without_enough_fuel_change_nothing() {
    let (mut store, instance) = fuel_instance(Some(costs()), 2 * BYTE - 1);
    for name in ["fill", "init"] {
        assert_eq!(
            bulk(&mut store, instance, name, 0, 2),
            Err(trap(TrapCode::OutOfFuel, name))
        );
    }
    assert_eq!(fuel(&store), (2 * BYTE - 1, 0));
    assert!(memory(&store, instance).iter().all(|&b| b == 0));
    let calls = Rc::new(RefCell::new(Vec::new()));
    let log = calls.clone();
    store.set_out_of_fuel_handler(move |required, remaining| {
        log.borrow_mut().push((required, remaining));
        Some(100)
    });
    assert_eq!(bulk(&mut store, instance, "fill", 0, 2), Ok(()));
    assert_eq!(*calls.borrow(), [(2 * BYTE, 2 * BYTE - 1)]);
    assert_eq!(fuel(&store), (99, 2 * BYTE));
    assert_eq!(memory(&store, instance)[..3], [7, 7, 0]);
}

#[test]
fn dynamic_costs_saturate() {
    let (mut store, instance) = fuel_instance(Some(fuel_costs(u64::MAX, 1, 1)), u64::MAX);
    assert_eq!(bulk(&mut store, instance, "fill", 0, 2), Ok(()));
    assert_eq!(fuel(&store), (0, u64::MAX));
}

#[test]
fn unmetered_modules_charge_nothing() {
    let (mut store, instance) = fuel_instance(None, 0);
    assert_eq!(bulk(&mut store, instance, "fill", 0, 10), Ok(()));
    assert_eq!(call_i32(&mut store, instance, "grow", 1), Ok(1));
    assert_eq!(call_i32(&mut store, instance, "table_grow", 1), Ok(4));
    assert_eq!(fuel(&store), (0, 0));
}

#[test]
fn stores_refuse_to_mix_metered_and_unmetered_modules() {
    for (first, second) in [(Some(costs()), None), (None, Some(costs()))] {
        let (mut store, _) = fuel_instance(first, 0);
        match store.instantiate(&fuel_module(second), &[]) {
            Err(InstantiateError::Link(message)) => {
                assert!(message.contains("metered and unmetered"), "{message}")
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
    let (mut store, _) = fuel_instance(Some(costs()), 0);
    let mut per_op = fuel_costs(1, 1, 1);
    per_op.mode = FuelMode::PerOp;
    assert!(store.instantiate(&fuel_module(Some(per_op)), &[]).is_ok());
}

#[test]
fn hardware_traps_save_the_fuel_register_of_metered_code() {
    let (mut store, instance) = fuel_instance(Some(costs()), 100_000);
    assert_eq!(
        call(&mut store, instance, "fuel_trap", &[]),
        Err(trap(TrapCode::Unreachable, "fuel_trap"))
    );
    assert_eq!(fuel(&store), (TRAP_FUEL, 100_000 - TRAP_FUEL));
    let (mut store, instance) = fuel_instance(None, 100_000);
    assert_eq!(
        call(&mut store, instance, "fuel_trap", &[]),
        Err(trap(TrapCode::Unreachable, "fuel_trap"))
    );
    assert_eq!(
        fuel(&store),
        (100_000, 0),
        "unmetered code has no fuel register"
    );
}
