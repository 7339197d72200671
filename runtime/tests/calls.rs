//! End-to-end tests of the runtime with hand-made modules (see `support`):
//! calls, argument checks, traps from hardware faults and from builtins,
//! stack limits, host functions, imports and instantiation.

#![deny(clippy::undocumented_unsafe_blocks)]

mod support;

use fuelc_runtime::abi::{
    BoundsChecks, ConstExpr, DataSegment, ElementMode, ElementSegment, Export, ExportKind, FuncRef,
    GlobalDefinition, Import, ImportKind, TableDefinition,
};
use fuelc_runtime::{
    CallError, Extern, GlobalType, Instance, InstantiateError, Limits, Memory, MemoryType, Module,
    RefType, Store, Table, TableType, TrapCode, Val, ValType,
};
use std::cell::{Cell, RefCell};
use std::hint::black_box;
use std::rc::Rc;
use support::*;

fn export(name: &str, kind: ExportKind, index: u32) -> Export {
    Export {
        name: name.into(),
        kind,
        index,
    }
}

fn memory_type(min: u64, max: Option<u64>) -> MemoryType {
    MemoryType {
        limits: Limits { min, max },
    }
}

// Module "basic": no imports, one memory of 1 page (max 2).

extern "C" fn answer(_: *mut u8) -> i32 {
    42
}

extern "C" fn add(_: *mut u8, a: i32, b: i64) -> i64 {
    i64::from(a) + b
}

extern "C" fn fill_oob(vmctx: *mut u8) {
    // SAFETY: a builtin called as generated code would.
    unsafe { (builtins(vmctx).memory_fill)(vmctx, 3, -1, 0, 1, 1) }
}

extern "C" fn grow(vmctx: *mut u8, delta: i32) -> i32 {
    // SAFETY: a builtin called as generated code would.
    unsafe { (builtins(vmctx).memory_grow)(vmctx, 4, delta, delta) }
}

// It only ends by trapping.
#[allow(unconditional_recursion)]
extern "C" fn recurse(vmctx: *mut u8, n: i32) -> i32 {
    let frame = [n; 64];
    if (black_box(&frame) as *const [i32; 64] as usize) < stack_limit(vmctx) {
        // SAFETY: the stub only traps.
        unsafe { fuelc_test_stack_trap(vmctx) };
    }
    let r = recurse(vmctx, n + 1);
    black_box(&frame);
    r + 1
}

fn basic_module(bounds_checks: BoundsChecks) -> Module {
    use ExportKind::*;
    let (load_far, fault) = load_far_code();
    let mut meta = metadata("basic");
    meta.bounds_checks = bounds_checks;
    meta.functions = vec![
        plain(T_V_I32),
        plain(T_I32I64_I64),
        trapping(T_V_V, 0, TrapCode::Unreachable),
        plain(T_V_V),
        plain(T_I32_I32),
        plain(T_I32_I32),
        trapping(T_V_V, 0, TrapCode::StackOverflow),
        trapping(T_V_I32, fault, TrapCode::MemoryOutOfBounds),
    ];
    meta.memories = vec![memory_type(1, Some(2))];
    meta.exports = vec![
        export("answer", Func, 0),
        export("add", Func, 1),
        export("boom", Func, 2),
        export("fill_oob", Func, 3),
        export("grow", Func, 4),
        export("recurse", Func, 5),
        export("load_far", Func, 7),
        export("mem", Memory, 0),
    ];
    meta.function_names = vec![(2, "unreachable_here".into()), (6, "stack_check".into())];
    load(
        &meta,
        vec![
            answer as *const u8,
            add as *const u8,
            ud2_code(),
            fill_oob as *const u8,
            grow as *const u8,
            recurse as *const u8,
            stack_trap_code(),
            load_far,
        ],
    )
}

/// A new store with an instance of [`basic_module`] compiled for `mode`.
fn basic_instance(mode: BoundsChecks) -> (Store, Instance) {
    let mut store = Store::new();
    let instance = store.instantiate(&basic_module(mode), &[]).unwrap();
    (store, instance)
}

#[test]
fn calls_return_results() {
    let (mut store, instance) = basic_instance(BoundsChecks::Guard);
    assert_eq!(
        call(&mut store, instance, "answer", &[]),
        Ok(vec![Val::I32(42)])
    );
    assert_eq!(
        call(&mut store, instance, "add", &[Val::I32(-2), Val::I64(44)]),
        Ok(vec![Val::I64(42)])
    );
    let Some(Extern::Func(add)) = store.export(instance, "add") else {
        panic!()
    };
    assert_eq!(
        store.func_type(add).params,
        vec![ValType::I32, ValType::I64]
    );
    assert!(store.export(instance, "missing").is_none());
}

#[test]
fn arguments_are_checked() {
    let (mut store, instance) = basic_instance(BoundsChecks::Guard);
    for args in [&[Val::I32(1)][..], &[Val::I64(1), Val::I64(2)], &[]] {
        assert!(matches!(
            call(&mut store, instance, "add", args),
            Err(CallError::Arguments(_))
        ));
    }
    let Some(Extern::Func(answer)) = store.export(instance, "answer") else {
        panic!()
    };
    let mut other = Store::new();
    assert!(matches!(
        other.call(answer, &[]),
        Err(CallError::Arguments(_))
    ));
}

#[test]
fn hardware_traps_unwind_and_name_the_function() {
    let (mut store, instance) = basic_instance(BoundsChecks::Guard);
    for _ in 0..3 {
        assert_eq!(
            call(&mut store, instance, "boom", &[]),
            Err(trap(TrapCode::Unreachable, "unreachable_here"))
        );
        assert_eq!(
            call(&mut store, instance, "load_far", &[]),
            Err(trap(TrapCode::MemoryOutOfBounds, "load_far"))
        );
        assert_eq!(
            call(&mut store, instance, "answer", &[]),
            Ok(vec![Val::I32(42)])
        );
    }
    let message = call(&mut store, instance, "boom", &[])
        .unwrap_err()
        .to_string();
    assert_eq!(message, "unreachable in function unreachable_here");
}

#[test]
fn builtins_trap_and_grow_memory() {
    let (mut store, instance) = basic_instance(BoundsChecks::Explicit);
    assert_eq!(
        call(&mut store, instance, "fill_oob", &[]),
        Err(trap(TrapCode::MemoryOutOfBounds, "fill_oob"))
    );
    assert_eq!(
        call(&mut store, instance, "grow", &[Val::I32(1)]),
        Ok(vec![Val::I32(1)])
    );
    assert_eq!(
        call(&mut store, instance, "grow", &[Val::I32(1)]),
        Ok(vec![Val::I32(-1)])
    );
    assert_eq!(
        call(&mut store, instance, "grow", &[Val::I32(0)]),
        Ok(vec![Val::I32(2)])
    );
    let Some(Extern::Memory(mem)) = store.export(instance, "mem") else {
        panic!()
    };
    assert_eq!(store.memory_data(mem).len(), 2 * 65536);
    store.memory_data_mut(mem)[70000] = 5;
    assert_eq!(store.memory_data(mem)[70000], 5);
}

#[test]
fn runaway_recursion_hits_the_stack_limit() {
    let (mut store, instance) = basic_instance(BoundsChecks::Guard);
    for max in [64 * 1024, 1 << 20] {
        store.set_max_stack(max);
        assert_eq!(
            call(&mut store, instance, "recurse", &[Val::I32(0)]),
            Err(trap(TrapCode::StackOverflow, "stack_check"))
        );
    }
}

#[test]
fn traps_stay_on_their_thread() {
    let module = basic_module(BoundsChecks::Guard);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let module = module.clone();
            std::thread::spawn(move || {
                let mut store = Store::new();
                let instance = store.instantiate(&module, &[]).unwrap();
                for _ in 0..200 {
                    assert!(call(&mut store, instance, "boom", &[]).is_err());
                    assert!(call(&mut store, instance, "load_far", &[]).is_err());
                    assert!(call(&mut store, instance, "fill_oob", &[]).is_err());
                    assert_eq!(
                        call(&mut store, instance, "answer", &[]),
                        Ok(vec![Val::I32(42)])
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

// Module "importer": imports env.double ([i32] -> [i32]) and calls it.

extern "C" fn call_double(vmctx: *mut u8, x: i32) -> i32 {
    let offset = layout(0, 0, 2).funcref(0) as usize;
    // SAFETY: the import's record is at this offset of the context.
    let record = unsafe { vmctx.add(offset) }.cast::<FuncRef>();
    call_funcref_i32(record, x) + 1
}

fn importer_module() -> Module {
    let mut meta = metadata("importer");
    meta.imports = vec![Import {
        module: "env".into(),
        field: "double".into(),
        kind: ImportKind::Func(T_I32_I32),
    }];
    meta.functions = vec![plain(T_I32_I32)];
    meta.exports = vec![
        export("call_double", ExportKind::Func, 1),
        export("double", ExportKind::Func, 0),
    ];
    load(&meta, vec![call_double as *const u8])
}

/// An instance of [`importer_module`] in `store`, importing `double`.
fn importer_instance(store: &mut Store, double: Extern) -> Instance {
    store.instantiate(&importer_module(), &[double]).unwrap()
}

/// Calls `call_double(x)` of an importer instance.
fn call_double_of(store: &mut Store, instance: Instance, x: i32) -> Result<Vec<Val>, CallError> {
    call(store, instance, "call_double", &[Val::I32(x)])
}

fn i32_to_i32() -> fuelc_runtime::FuncType {
    types()[T_I32_I32 as usize].clone()
}

#[test]
fn wasm_calls_host_functions() {
    let mut store = Store::new();
    let double = store.new_host_func(i32_to_i32(), |_, args| match args {
        [Val::I32(x)] => Ok(vec![Val::I32(x * 2)]),
        _ => Err("bad arguments".into()),
    });
    let instance = importer_instance(&mut store, Extern::Func(double));
    assert_eq!(
        call_double_of(&mut store, instance, 5),
        Ok(vec![Val::I32(11)])
    );
    let Some(Extern::Func(reexported)) = store.export(instance, "double") else {
        panic!()
    };
    assert_eq!(reexported, double);
    assert_eq!(
        store.call(reexported, &[Val::I32(4)]),
        Ok(vec![Val::I32(8)])
    );
}

#[test]
fn host_errors_and_bad_results_trap() {
    let mut store = Store::new();
    let failing = store.new_host_func(i32_to_i32(), |_, _| Err("no".into()));
    let wrong = store.new_host_func(i32_to_i32(), |_, _| Ok(vec![Val::I64(1)]));
    for f in [failing, wrong] {
        let instance = importer_instance(&mut store, Extern::Func(f));
        assert_eq!(
            call_double_of(&mut store, instance, 1),
            Err(trap(TrapCode::HostError, "double"))
        );
    }
}

#[test]
fn host_panics_propagate_through_wasm() {
    let mut store = Store::new();
    let armed = Rc::new(Cell::new(true));
    let trigger = armed.clone();
    let double = store.new_host_func(i32_to_i32(), move |_, args| {
        if trigger.get() {
            panic!("host panic");
        }
        Ok(args.to_vec())
    });
    let instance = importer_instance(&mut store, Extern::Func(double));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        call_double_of(&mut store, instance, 1)
    }));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"host panic"));
    armed.set(false);
    assert_eq!(
        call_double_of(&mut store, instance, 1),
        Ok(vec![Val::I32(2)])
    );
}

#[test]
fn wasm_functions_satisfy_imports() {
    let (mut store, basic) = basic_instance(BoundsChecks::Guard);
    let Some(grow_func @ Extern::Func(_)) = store.export(basic, "grow") else {
        panic!()
    };
    let instance = importer_instance(&mut store, grow_func);
    // grow(0) returns the current size (1 page), plus one.
    assert_eq!(
        call_double_of(&mut store, instance, 0),
        Ok(vec![Val::I32(2)])
    );
}

#[test]
fn nested_stores_unwind_to_the_right_call() {
    let (inner, basic) = basic_instance(BoundsChecks::Guard);
    let inner = Rc::new(RefCell::new(inner));
    let mut outer = Store::new();
    let inner_store = inner.clone();
    let double = outer.new_host_func(i32_to_i32(), move |_, args| {
        let mut store = inner_store.borrow_mut();
        assert!(call(&mut store, basic, "boom", &[]).is_err());
        assert!(call(&mut store, basic, "recurse", &[Val::I32(0)]).is_err());
        Ok(args.to_vec())
    });
    let instance = importer_instance(&mut outer, Extern::Func(double));
    assert_eq!(
        call_double_of(&mut outer, instance, 3),
        Ok(vec![Val::I32(4)])
    );
}

#[test]
fn imports_are_type_checked() {
    let mut store = Store::new();
    let module = importer_module();
    let wrong_type = store.new_host_func(types()[T_V_I32 as usize].clone(), |_, _| Ok(vec![]));
    let memory = store.new_memory(memory_type(1, None)).unwrap();
    for imports in [vec![Extern::Func(wrong_type)], vec![Extern::Memory(memory)]] {
        match store.instantiate(&module, &imports) {
            Err(InstantiateError::Link(msg)) => {
                assert!(
                    msg.starts_with("incompatible import type for env.double"),
                    "{msg}"
                )
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
    assert!(matches!(
        store.instantiate(&module, &[]),
        Err(InstantiateError::Link(_))
    ));
    let mut other = Store::new();
    let foreign = other.new_host_func(i32_to_i32(), |_, a| Ok(a.to_vec()));
    assert!(matches!(
        store.instantiate(&module, &[Extern::Func(foreign)]),
        Err(InstantiateError::Link(_))
    ));
}

// Module "segments": imports a memory and a table, has globals, element and
// data segments and a start function.

const SEGMENTS_LAYOUT: (u32, u32, u32) = (1, 2, 3);

extern "C" fn start(vmctx: *mut u8) {
    // SAFETY: the memory definition is at offset 24 and its base first.
    unsafe {
        let def = *vmctx.add(24).cast::<*const *mut u8>();
        *(*def).add(100) = 0xaa;
    }
}

extern "C" fn call_table0(vmctx: *mut u8) -> i32 {
    let (tables, globals, funcs) = SEGMENTS_LAYOUT;
    let l = layout(tables, globals, funcs);
    // SAFETY: reads the table definition and the expected signature id
    // where the layout puts them, and calls element 0, a `[] -> [i32]`
    // function.
    unsafe {
        let table = *vmctx
            .add(l.table(0) as usize)
            .cast::<*const TableDefinition>();
        let record = *(*table).base as *const FuncRef;
        let expected = *vmctx.add(l.sig_id(T_V_I32) as usize).cast::<u32>();
        assert_eq!((*record).sig_id, expected);
        let f = std::mem::transmute::<*const u8, extern "C" fn(*mut u8) -> i32>((*record).code);
        f((*record).vmctx)
    }
}

fn segments_module(out_of_bounds: bool) -> Module {
    use ExportKind::*;
    let mut meta = metadata("segments");
    meta.imports = vec![
        Import {
            module: "env".into(),
            field: "mem".into(),
            kind: ImportKind::Memory(memory_type(1, None)),
        },
        Import {
            module: "env".into(),
            field: "tab".into(),
            kind: ImportKind::Table(TableType {
                element: RefType::FuncRef,
                limits: Limits { min: 2, max: None },
            }),
        },
    ];
    meta.functions = vec![plain(T_V_I32), plain(T_V_V), plain(T_V_I32)];
    meta.globals = vec![
        GlobalDefinition {
            ty: GlobalType {
                content: ValType::FuncRef,
                mutable: false,
            },
            init: ConstExpr::RefFunc(0),
        },
        GlobalDefinition {
            ty: GlobalType {
                content: ValType::I32,
                mutable: true,
            },
            init: ConstExpr::I32(7),
        },
    ];
    meta.elements = vec![
        ElementSegment {
            mode: ElementMode::Active {
                table: 0,
                offset: ConstExpr::I32(0),
            },
            element: RefType::FuncRef,
            items: vec![ConstExpr::RefFunc(0), ConstExpr::RefNull(RefType::FuncRef)],
        },
        ElementSegment {
            mode: ElementMode::Declared,
            element: RefType::FuncRef,
            items: vec![ConstExpr::RefFunc(2)],
        },
    ];
    meta.data = vec![DataSegment {
        active: Some((0, ConstExpr::I32(10))),
        bytes: vec![1, 2, 3],
    }];
    if out_of_bounds {
        meta.data.push(DataSegment {
            active: Some((0, ConstExpr::I32(65535))),
            bytes: vec![9, 9],
        });
    }
    meta.start = Some(1);
    meta.exports = vec![
        export("g0", Global, 0),
        export("g1", Global, 1),
        export("call_table0", Func, 2),
        export("mem", Memory, 0),
        export("tab", Table, 0),
    ];
    load(
        &meta,
        vec![
            answer as *const u8,
            start as *const u8,
            call_table0 as *const u8,
        ],
    )
}

fn table_type(min: u64) -> TableType {
    TableType {
        element: RefType::FuncRef,
        limits: Limits { min, max: None },
    }
}

/// Creates a memory of 1 page and a table of `table_min` null funcrefs in
/// `store` and instantiates [`segments_module`] with them.
fn instantiate_segments(
    store: &mut Store,
    out_of_bounds: bool,
    table_min: u64,
) -> (Memory, Table, Result<Instance, InstantiateError>) {
    let memory = store.new_memory(memory_type(1, None)).unwrap();
    let table = store
        .new_table(table_type(table_min), Val::FuncRef(None))
        .unwrap();
    let imports = [Extern::Memory(memory), Extern::Table(table)];
    let result = store.instantiate(&segments_module(out_of_bounds), &imports);
    (memory, table, result)
}

#[test]
fn instantiation_runs_segments_and_start() {
    let mut store = Store::new();
    let (memory, table, instance) = instantiate_segments(&mut store, false, 2);
    let instance = instance.unwrap();
    assert_eq!(&store.memory_data(memory)[10..13], &[1, 2, 3]);
    assert_eq!(store.memory_data(memory)[100], 0xaa);
    assert_eq!(
        call(&mut store, instance, "call_table0", &[]),
        Ok(vec![Val::I32(42)])
    );
    let Some(Extern::Global(g1)) = store.export(instance, "g1") else {
        panic!()
    };
    assert_eq!(store.global_get(g1), Val::I32(7));
    store.global_set(g1, Val::I32(8)).unwrap();
    assert_eq!(store.global_get(g1), Val::I32(8));
    assert!(store.global_set(g1, Val::I64(8)).is_err());
    let Some(Extern::Global(g0)) = store.export(instance, "g0") else {
        panic!()
    };
    assert!(
        store.global_set(g0, Val::FuncRef(None)).is_err(),
        "immutable"
    );
    let func = store.global_get(g0);
    assert!(matches!(func, Val::FuncRef(Some(_))));
    let ty = GlobalType {
        content: ValType::FuncRef,
        mutable: true,
    };
    assert!(store.new_global(ty, func).is_ok());
    assert!(store.new_table(table_type(1), func).is_ok());
    let mut other = Store::new();
    assert!(other.new_global(ty, func).is_err());
    assert!(other.new_table(table_type(1), func).is_err());
    let Some(Extern::Table(t)) = store.export(instance, "tab") else {
        panic!()
    };
    assert_eq!(t, table);
    assert_eq!(store.table_size(t), 2);
}

#[test]
fn failed_instantiation_keeps_earlier_writes() {
    let mut store = Store::new();
    let (memory, _, result) = instantiate_segments(&mut store, true, 2);
    match result {
        Err(InstantiateError::Trap(t)) => assert_eq!(t.code, TrapCode::MemoryOutOfBounds),
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert_eq!(&store.memory_data(memory)[10..13], &[1, 2, 3]);
    assert_eq!(
        store.memory_data(memory)[65535],
        0,
        "the failing segment wrote nothing"
    );
    assert_eq!(store.memory_data(memory)[100], 0, "start did not run");
}

#[test]
fn import_limits_use_current_sizes() {
    let mut store = Store::new();
    // One table element, where the import asks for at least two.
    let (_, _, result) = instantiate_segments(&mut store, false, 1);
    assert!(matches!(result, Err(InstantiateError::Link(_))));
    let explicit = store
        .instantiate(&basic_module(BoundsChecks::Explicit), &[])
        .unwrap();
    let Some(unguarded) = store.export(explicit, "mem") else {
        panic!()
    };
    let table = store.new_table(table_type(2), Val::FuncRef(None)).unwrap();
    let result = store.instantiate(&segments_module(false), &[unguarded, Extern::Table(table)]);
    match result {
        Err(InstantiateError::Link(msg)) => assert!(msg.contains("env.mem"), "{msg}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn host_objects_validate_their_values() {
    let mut store = Store::new();
    let ty = GlobalType {
        content: ValType::ExternRef,
        mutable: false,
    };
    let g = store.new_global(ty, Val::ExternRef(Some(5))).unwrap();
    assert_eq!(store.global_get(g), Val::ExternRef(Some(5)));
    assert!(store.new_global(ty, Val::I32(5)).is_err());
    assert!(store
        .new_table(table_type(1), Val::ExternRef(None))
        .is_err());
    assert!(store.new_memory(memory_type(2, Some(1))).is_err());
}
