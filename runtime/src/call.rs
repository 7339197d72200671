//! Calls across the host/wasm boundary: entering wasm from the host (stack
//! limit, activation, turning unwinds into results) and host functions
//! called from wasm (value conversion, result checks, errors and panics).
//!
//! This file must not find functions or check their arguments against a
//! store (`store.rs`), nor unwind by itself (`trap/`).

use crate::abi::{EntryTrampoline, FuncType, HostCallContext, StoreContext, TrapCode, ValRaw};
use crate::builtins::BUILTINS;
use crate::host::{Caller, HostError};
use crate::instance::InstanceData;
use crate::module::Module;
use crate::stack;
use crate::trap::{self, Escape, Trap, TrapRecord, Unwound};
use crate::val::{check_vals, FuncRefSet, Val};
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

/// Why a call from the host failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The function trapped.
    #[error("{0}")]
    Trap(Trap),
    /// The function or the arguments do not fit the call.
    #[error("invalid call: {0}")]
    Arguments(String),
    /// A host function ended the program with this exit status
    /// ([`HostError::Exit`]).
    #[error("exit with status {0}")]
    Exit(i32),
}

/// The closure behind a host function.
pub(crate) type HostCallback =
    Box<dyn FnMut(&mut Caller<'_>, &[Val]) -> Result<Vec<Val>, HostError>>;

/// A function implemented by the host.
pub(crate) struct HostFunc {
    ty: FuncType,
    sig_id: u32,
    callback: RefCell<HostCallback>,
}

impl HostFunc {
    /// A host function of type `ty`.
    pub(crate) fn new(ty: FuncType, callback: HostCallback) -> HostFunc {
        HostFunc {
            sig_id: crate::sigs::intern(&ty),
            ty,
            callback: RefCell::new(callback),
        }
    }

    /// Its type.
    pub(crate) fn ty(&self) -> &FuncType {
        &self.ty
    }

    /// Its canonical signature id.
    pub(crate) fn sig_id(&self) -> u32 {
        self.sig_id
    }

    /// Runs the closure for `caller` on `args` (already checked) and checks
    /// its results against the type, with function references known to
    /// `refs`.
    pub(crate) fn call(
        &self,
        caller: &mut Caller<'_>,
        args: &[Val],
        refs: &FuncRefSet,
    ) -> Result<Vec<Val>, HostError> {
        let mut callback = self
            .callback
            .try_borrow_mut()
            .map_err(|_| "host function called while it is running")?;
        let results = callback(caller, args)?;
        check_vals(&self.ty.results, &results, refs, "results")?;
        Ok(results)
    }
}

/// What a module's import of a host function points generated code to:
/// `#[repr(C)]` with the [`HostCallContext`] first, so the context pointer
/// in the function reference is a pointer to the whole record.
#[repr(C)]
pub(crate) struct HostImport {
    ctx: HostCallContext,
    func: *const HostFunc,
    refs: *const FuncRefSet,
    module: Module,
    index: u32,
    /// The importing instance, once it is in place.
    instance: *const InstanceData,
}

impl HostImport {
    /// The import of `func` as function `index` of `module`, in the store
    /// with context `store` and function references `refs`. The store must
    /// keep `func` and `refs` alive and in place as long as this record.
    pub(crate) fn new(
        store: *mut StoreContext,
        func: *const HostFunc,
        refs: *const FuncRefSet,
        module: Module,
        index: u32,
    ) -> HostImport {
        HostImport {
            ctx: HostCallContext {
                store,
                builtins: &BUILTINS,
                data: func.cast_mut().cast(),
            },
            func,
            refs,
            module,
            index,
            instance: std::ptr::null(),
        }
    }

    /// Records the importing instance, whose memory the host function's
    /// [`Caller`] reaches. The store must keep it alive and in place as long
    /// as this record.
    pub(crate) fn set_instance(&mut self, instance: *const InstanceData) {
        self.instance = instance;
    }
}

/// A host function call that must unwind: its trap record and, if the
/// closure panicked or exited, how.
pub(crate) struct HostFailure {
    pub(crate) record: TrapRecord,
    pub(crate) escape: Option<Escape>,
}

/// The body of the `host_call` builtin: reads the arguments from `values`,
/// runs the host function and writes its results back.
///
/// # Safety
/// `ctx` must be the context of a function reference the runtime made for a
/// [`HostImport`] that is still alive, and `values` an array of
/// `max(params, results, 1)` slots holding the arguments.
pub(crate) unsafe fn host_call(ctx: *mut u8, values: *mut ValRaw) -> Result<(), HostFailure> {
    // SAFETY: by the contract, `ctx` is the context at the start of a live
    // `HostImport`, whose function, reference set and instance the store
    // keeps alive; the instance was set before its code could run.
    let (import, func, refs, instance) = unsafe {
        let import = &*ctx.cast::<HostImport>();
        (import, &*import.func, &*import.refs, &*import.instance)
    };
    // Wasm is suspended in this call: nothing else uses the instance's
    // memory or the store's state until it returns.
    let mut caller = Caller::new(instance.memory_object(), instance.store_state());
    let ty = func.ty();
    let len = ty.params.len().max(ty.results.len()).max(1);
    // SAFETY: by the contract, `values` has `len` slots, used only here.
    let values = unsafe { std::slice::from_raw_parts_mut(values, len) };
    let run = || -> Result<(), HostError> {
        let args: Vec<Val> = ty
            .params
            .iter()
            .zip(values.iter())
            .map(|(t, raw)| Val::from_raw(*raw, *t))
            .collect();
        let results = func.call(&mut caller, &args, refs)?;
        for (slot, v) in values.iter_mut().zip(results) {
            *slot = v.to_raw();
        }
        Ok(())
    };
    let outcome = panic::catch_unwind(AssertUnwindSafe(run));
    let record = TrapRecord::new(TrapCode::HostError, import.module.inner(), import.index);
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(HostError::Message(_))) => Err(HostFailure {
            record,
            escape: None,
        }),
        Ok(Err(HostError::Exit(status))) => Err(HostFailure {
            record,
            escape: Some(Escape::Exit(status)),
        }),
        Err(payload) => Err(HostFailure {
            record,
            escape: Some(Escape::Panic(payload)),
        }),
    }
}

/// A wasm function ready to be called through its entry trampoline.
pub(crate) struct WasmEntry {
    /// The entry trampoline of the function's type.
    pub(crate) trampoline: EntryTrampoline,
    /// The callee's context.
    pub(crate) vmctx: *mut u8,
    /// The callee's code.
    pub(crate) code: *const u8,
}

/// Calls `entry` with the arguments in `values`, leaving the results there.
/// Sets the store's stack limit `max_stack` below here unless this thread
/// is already running wasm (then the outer limit holds), and restores it
/// afterwards. A host function's panic is resumed here; its exit becomes
/// [`CallError::Exit`].
///
/// # Safety
/// `entry` must be a function of a live instance of one of `modules` whose
/// store context is `ctx`, and `values` sized and filled for its type.
pub(crate) unsafe fn invoke(
    ctx: *mut StoreContext,
    modules: &[Module],
    max_stack: usize,
    entry: &WasmEntry,
    values: &mut [ValRaw],
) -> Result<(), CallError> {
    trap::prepare_thread();
    let limit = trap::current_stack_limit().unwrap_or_else(|| stack::limit(max_stack));
    // SAFETY: `ctx` is the store's live context; wasm does not run yet.
    let saved = unsafe { std::mem::replace(&mut (*ctx).stack_limit, limit) };
    // SAFETY: forwarded from the caller; the limit is in place.
    let outcome = unsafe {
        trap::catch(
            modules,
            ctx,
            limit,
            entry.trampoline,
            entry.vmctx,
            entry.code,
            values.as_mut_ptr(),
        )
    };
    // SAFETY: as above; wasm has returned.
    unsafe { (*ctx).stack_limit = saved };
    match outcome {
        Ok(()) => Ok(()),
        Err(Unwound::Trap(trap)) => Err(CallError::Trap(trap)),
        Err(Unwound::Escape(Escape::Exit(status))) => Err(CallError::Exit(status)),
        Err(Unwound::Escape(Escape::Panic(payload))) => panic::resume_unwind(payload),
    }
}
