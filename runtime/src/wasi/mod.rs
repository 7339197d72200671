//! WASI preview1 (`wasi_snapshot_preview1`) for programs run by this
//! runtime: host functions for every preview1 import, and running a
//! command module (`_start`) to its exit status.
//!
//! A [`WasiConfig`] says what the program sees: arguments, environment,
//! standard streams and preopened directories, the only part of the host
//! filesystem it can reach (see `path.rs` for the sandbox). [`imports`]
//! makes the host functions a module imports, [`run_command`] also
//! instantiates it and runs it, and [`WasiCtx`] gives direct access to the
//! functions (for hosts mixing WASI with imports of their own, or driving
//! them on a memory of their own).
//!
//! This file only links and runs; it must not implement preview1
//! functions (`calls/`) or know their signatures (`functions.rs`).

mod abi;
mod calls;
mod config;
mod fd;
mod functions;
mod memory;
mod path;
mod sys;

pub use abi::Errno;
pub use config::{Input, Output, WasiConfig};

use crate::abi::ImportKind;
use crate::{
    CallError, Extern, Func, FuncType, HostError, InstantiateError, Module, Store, Trap, Val,
    ValType,
};
use calls::WasiState;
use functions::{Function, MODULE};
use memory::GuestMemory;
use std::cell::RefCell;
use std::rc::Rc;

/// The state of one WASI program (its arguments, environment and fds),
/// shared by every host function made from it. Cloning shares it too.
#[derive(Clone)]
pub struct WasiCtx {
    state: Rc<RefCell<WasiState>>,
}

impl WasiCtx {
    /// A program configured by `config`. Inherited standard streams are
    /// duplicated from the host's now.
    pub fn new(config: WasiConfig) -> WasiCtx {
        WasiCtx {
            state: Rc::new(RefCell::new(WasiState::new(config))),
        }
    }

    /// The core wasm type of preview1 function `name`, if there is one.
    pub fn func_type(name: &str) -> Option<FuncType> {
        Function::find(name).map(Function::ty)
    }

    /// Calls preview1 function `name` with `args` on guest memory
    /// `memory`, as if the guest had: pointers in `args` are offsets into
    /// `memory`. Returns the `errno` result (`[I32(0)]` on success), or
    /// [`HostError::Exit`] for `proc_exit`. An unknown name or arguments
    /// not fitting its type are [`HostError::Message`].
    pub fn call(&self, memory: &mut [u8], name: &str, args: &[Val]) -> Result<Vec<Val>, HostError> {
        let function = Function::find(name)
            .ok_or_else(|| HostError::Message(format!("{MODULE} has no function {name}")))?;
        run(&self.state, function, memory, args)
    }

    /// A host function in `store` running preview1 function `name` on this
    /// program's state and its caller's memory, if preview1 has `name`.
    pub fn func(&self, store: &mut Store, name: &str) -> Option<Func> {
        Function::find(name).map(|function| self.host_func(store, function))
    }

    /// A host function in `store` running `function` on this program's
    /// state and its caller's memory.
    fn host_func(&self, store: &mut Store, function: &'static Function) -> Func {
        let state = Rc::clone(&self.state);
        store.new_host_func(function.ty(), move |caller, args| {
            run(&state, function, caller.memory_mut(), args)
        })
    }
}

/// Runs `function` on `state` and `memory`.
fn run(
    state: &RefCell<WasiState>,
    function: &Function,
    memory: &mut [u8],
    args: &[Val],
) -> Result<Vec<Val>, HostError> {
    let mut state = state.try_borrow_mut().map_err(|_| {
        HostError::Message(format!(
            "{MODULE}.{} called while another WASI function runs",
            function.name
        ))
    })?;
    (function.call)(&mut state, &mut GuestMemory::new(memory), args)
}

/// A function type as text, such as `(i32, i64) -> i32`.
fn type_text(ty: &FuncType) -> String {
    let list = |types: &[ValType]| {
        types
            .iter()
            .map(|t| format!("{t:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(&ty.params), list(&ty.results))
}

/// The host functions satisfying `module`'s imports, in import order, all
/// sharing one program configured by `config`.
///
/// Every import must be a `wasi_snapshot_preview1` function of the type
/// preview1 gives it; the error names the first import that is not.
pub fn imports(
    store: &mut Store,
    module: &Module,
    config: WasiConfig,
) -> Result<Vec<Extern>, String> {
    let ctx = WasiCtx::new(config);
    let meta = module.metadata();
    meta.imports
        .iter()
        .map(|import| {
            let name = format!("{}.{}", import.module, import.field);
            let function = Function::find(&import.field).filter(|_| import.module == MODULE);
            let (Some(function), ImportKind::Func(type_index)) = (function, &import.kind) else {
                return Err(format!(
                    "unknown import {name}: WASI provides only {MODULE} functions"
                ));
            };
            let declared = meta
                .types
                .get(*type_index as usize)
                .ok_or_else(|| format!("import {name} has no type {type_index}"))?;
            let expected = function.ty();
            if *declared != expected {
                return Err(format!(
                    "incompatible import type for {name}: WASI defines {}, the module declares {}",
                    type_text(&expected),
                    type_text(declared)
                ));
            }
            Ok(Extern::Func(ctx.host_func(store, function)))
        })
        .collect()
}

/// Why [`run_command`] failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WasiError {
    /// An import is not a preview1 function, or has the wrong type.
    #[error("link error: {0}")]
    Link(String),
    /// Instantiation failed.
    #[error("{0}")]
    Instantiate(InstantiateError),
    /// The module has no `_start` function of type `() -> ()`.
    #[error("{0}")]
    Start(String),
    /// The program trapped.
    #[error("{0}")]
    Trap(Trap),
}

/// Runs command module `module` with WASI configured by `config`:
/// instantiates it with [`imports`] and calls its `_start` export, which
/// must be a function of type `() -> ()`. Returns the exit status: the
/// code given to `proc_exit`, or 0 when `_start` returns.
///
/// The program's files stay open until `store` drops.
pub fn run_command(
    store: &mut Store,
    module: &Module,
    config: WasiConfig,
) -> Result<i32, WasiError> {
    let imports = imports(store, module, config).map_err(WasiError::Link)?;
    let instance = match store.instantiate(module, &imports) {
        Ok(instance) => instance,
        Err(InstantiateError::Exit(status)) => return Ok(status),
        Err(e) => return Err(WasiError::Instantiate(e)),
    };
    let Some(Extern::Func(start)) = store.export(instance, "_start") else {
        return Err(WasiError::Start(
            "the module exports no function _start".into(),
        ));
    };
    let ty = store.func_type(start);
    if !ty.params.is_empty() || !ty.results.is_empty() {
        return Err(WasiError::Start(format!(
            "_start has type {}, not () -> ()",
            type_text(&ty)
        )));
    }
    match store.call(start, &[]) {
        Ok(_) => Ok(0),
        Err(CallError::Exit(status)) => Ok(status),
        Err(CallError::Trap(trap)) => Err(WasiError::Trap(trap)),
        Err(CallError::Arguments(message)) => Err(WasiError::Start(message)),
    }
}
