//! The `spectest` host module that spec scripts import from: three globals
//! of value 666 (666.6 for floats), a table of 10 to 20 funcrefs, a memory
//! of 1 to 2 pages and `print*` functions that do nothing.

use std::collections::HashMap;

use fuelc_runtime::abi::{FuncType, GlobalType, Limits, MemoryType, RefType, TableType, ValType};
use fuelc_runtime::{Extern, Store, Val};

/// The `print*` functions and their parameter types.
const PRINTS: [(&str, &[ValType]); 7] = [
    ("print", &[]),
    ("print_i32", &[ValType::I32]),
    ("print_i64", &[ValType::I64]),
    ("print_f32", &[ValType::F32]),
    ("print_f64", &[ValType::F64]),
    ("print_i32_f32", &[ValType::I32, ValType::F32]),
    ("print_f64_f64", &[ValType::F64, ValType::F64]),
];

/// Creates the `spectest` items in `store`, by export name.
pub fn create(store: &mut Store) -> Result<HashMap<String, Extern>, String> {
    let mut exports = HashMap::new();
    for (name, params) in PRINTS {
        let ty = FuncType {
            params: params.to_vec(),
            results: Vec::new(),
        };
        let func = store.new_host_func(ty, |_, _| Ok(Vec::new()));
        exports.insert(name.to_owned(), Extern::Func(func));
    }
    let globals = [
        ("global_i32", ValType::I32, Val::I32(666)),
        ("global_i64", ValType::I64, Val::I64(666)),
        ("global_f32", ValType::F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", ValType::F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, content, value) in globals {
        let ty = GlobalType {
            content,
            mutable: false,
        };
        let global = store.new_global(ty, value)?;
        exports.insert(name.to_owned(), Extern::Global(global));
    }
    let table = TableType {
        element: RefType::FuncRef,
        limits: Limits {
            min: 10,
            max: Some(20),
        },
    };
    let table = store.new_table(table, Val::FuncRef(None))?;
    exports.insert("table".to_owned(), Extern::Table(table));
    let memory = MemoryType {
        limits: Limits {
            min: 1,
            max: Some(2),
        },
    };
    let memory = store.new_memory(memory)?;
    exports.insert("memory".to_owned(), Extern::Memory(memory));
    Ok(exports)
}
