//! Runtime for native objects compiled by `fuelc`.
//!
//! A compiled object exports one [`ModuleDescriptor`]; [`Module::from_descriptor`]
//! checks and decodes it, and a [`Store`] instantiates modules, owns every
//! memory, table, global, host function and instance they use, and calls
//! into them. Traps in generated code (hardware faults at known trap sites)
//! and traps raised by the runtime's builtins unwind back to the call that
//! entered wasm and come back as [`Trap`] values. Metered modules spend
//! their store's fuel (see [`Store::set_fuel`] and `docs/fuel.md`).
//!
//! This file only declares modules and the public surface; behaviour lives in
//! the modules below. [`abi`] is the contract with generated code and is
//! shared with the compiler.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod abi;
mod bounds;
mod builtins;
mod call;
pub mod capi;
pub mod command;
mod fuel;
mod global;
mod host;
mod instance;
mod link;
mod memory;
mod module;
mod sigs;
mod stack;
mod store;
mod table;
mod trap;
mod typed;
mod val;
mod validate;
pub mod wasi;

pub use abi::{
    FuncType, GlobalType, Limits, MemoryType, ModuleDescriptor, ModuleMetadata, RefType, TableType,
    TrapCode, ValType,
};
pub use call::CallError;
pub use host::{Caller, HostError};
pub use instance::InstantiateError;
pub use module::{Module, ModuleError};
pub use store::{Extern, Func, Global, Instance, Memory, Store, Table};
pub use trap::Trap;
pub use typed::{TypedFunc, WasmType, WasmTypeList};
pub use val::{FuncAddr, Val};
