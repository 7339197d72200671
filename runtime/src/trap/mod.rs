//! Traps: the public [`Trap`] value, the per-thread chain of active calls
//! into wasm ("activations") that says where to unwind to, and the two ways
//! a trap unwinds: from the signal handler, for a hardware fault at a known
//! trap site, and from runtime code called by wasm ([`raise`]). A fault in
//! metered code also saves the fuel register, which the signal handler
//! reads, into the store's context, so the fuel consumed up to the trap is
//! exact.
//!
//! Unwinding is a `siglongjmp` to the buffer `unwind.c` sets up around the
//! entry trampoline. It abandons wasm frames, trampolines and the frames of
//! builtins, which hold nothing that needs dropping when they raise. This
//! file must not decide when or how wasm is entered (`call.rs`) nor install
//! signal handlers (`signals.rs`).

mod signals;

pub(crate) use signals::prepare_thread;

use crate::abi::{EntryTrampoline, StoreContext, TrapCode, ValRaw};
use crate::module::{Module, ModuleInner};
use std::any::Any;
use std::cell::Cell;
use std::ffi::c_void;
use std::ptr;

/// Why a call into wasm stopped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} in function {function}", code.message())]
pub struct Trap {
    /// What happened.
    pub code: TrapCode,
    /// The function that trapped (see [`ModuleMetadata::function_name`](crate::ModuleMetadata::function_name)).
    pub function: String,
}

/// A trap as recorded at the moment it happens: no allocation, no
/// destructor. Turned into a [`Trap`] once unwound.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TrapRecord {
    code: TrapCode,
    module: *const ModuleInner,
    func_index: u32,
}

impl TrapRecord {
    /// A trap `code` in function `func_index` (index space) of `module`.
    pub(crate) fn new(code: TrapCode, module: &ModuleInner, func_index: u32) -> TrapRecord {
        TrapRecord {
            code,
            module,
            func_index,
        }
    }

    /// The trap, naming the function through whichever of `modules` it
    /// came from.
    fn resolve(self, modules: &[Module]) -> Trap {
        let function = modules
            .iter()
            .find(|m| ptr::eq(m.inner(), self.module))
            .map_or_else(
                || format!("func[{}]", self.func_index),
                |m| m.metadata().function_name(self.func_index),
            );
        Trap {
            code: self.code,
            function,
        }
    }
}

/// One call into wasm in progress on this thread. Lives on the stack of
/// [`catch`]; reached from the signal handler and [`raise`] through
/// `CURRENT`, so every field that changes after creation is a `Cell`.
struct Activation {
    /// The enclosing activation on this thread, or null.
    prev: *const Activation,
    /// The modules whose code may run in this activation (its store's).
    modules: *const [Module],
    /// The context of their store.
    store: *mut StoreContext,
    /// The stack limit wasm code runs with.
    stack_limit: usize,
    /// The jump buffer of `fuelc_rt_enter`, set once it runs.
    jmp_buf: Cell<*mut c_void>,
    /// Set just before unwinding.
    trap: Cell<Option<TrapRecord>>,
    /// Why a host function unwound other than by failing, if it did.
    escape: Cell<Option<Escape>>,
}

/// How a host function may leave wasm other than by trapping.
pub(crate) enum Escape {
    /// It panicked; the payload is resumed once unwound.
    Panic(Box<dyn Any + Send>),
    /// It ended the program with this exit status (WASI `proc_exit`).
    Exit(i32),
}

thread_local! {
    /// The innermost activation of this thread, or null. Const-initialized
    /// and without destructor, so the signal handler may read it.
    static CURRENT: Cell<*const Activation> = const { Cell::new(ptr::null()) };
}

unsafe extern "C" {
    fn fuelc_rt_enter(
        slot: *mut *mut c_void,
        trampoline: EntryTrampoline,
        vmctx: *mut u8,
        code: *const u8,
        values: *mut ValRaw,
    );
    fn fuelc_rt_longjmp(buf: *mut c_void) -> !;
}

/// The stack limit of the innermost call into wasm on this thread, if any:
/// nested calls keep it.
pub(crate) fn current_stack_limit() -> Option<usize> {
    let current = CURRENT.with(Cell::get);
    // SAFETY: a non-null `CURRENT` points to the activation of a `catch`
    // still running further up this thread's stack.
    unsafe { current.as_ref() }.map(|a| a.stack_limit)
}

/// How a call into wasm ended other than by returning.
pub(crate) enum Unwound {
    /// A trap.
    Trap(Trap),
    /// A host function panicked or exited.
    Escape(Escape),
}

/// Calls `trampoline(vmctx, code, values)` as a new activation whose code
/// comes from `modules` of the store whose context is `store`, and catches
/// what unwinds to it.
///
/// # Safety
/// `trampoline`, `vmctx`, `code` and `values` must form a valid call of a
/// function of a live instance of one of `modules` in that store, with
/// `values` sized and filled for its type, and `stack_limit` must already be
/// in `store`.
pub(crate) unsafe fn catch(
    modules: &[Module],
    store: *mut StoreContext,
    stack_limit: usize,
    trampoline: EntryTrampoline,
    vmctx: *mut u8,
    code: *const u8,
    values: *mut ValRaw,
) -> Result<(), Unwound> {
    let activation = Activation {
        prev: CURRENT.with(Cell::get),
        modules,
        store,
        stack_limit,
        jmp_buf: Cell::new(ptr::null_mut()),
        trap: Cell::new(None),
        escape: Cell::new(None),
    };
    CURRENT.with(|c| c.set(&activation));
    // SAFETY: the call is valid by the caller's contract. A trap jumps back
    // into `fuelc_rt_enter`, which then returns here normally; the frames it
    // abandons hold nothing to drop.
    unsafe { fuelc_rt_enter(activation.jmp_buf.as_ptr(), trampoline, vmctx, code, values) };
    CURRENT.with(|c| c.set(activation.prev));
    if let Some(escape) = activation.escape.take() {
        return Err(Unwound::Escape(escape));
    }
    match activation.trap.get() {
        Some(record) => Err(Unwound::Trap(record.resolve(modules))),
        None => Ok(()),
    }
}

/// Records `record` (and how a host function escaped, if it did) in the
/// innermost activation and unwinds to it.
///
/// # Safety
/// Must be called from runtime code that wasm code called on this thread,
/// as the last action of every Rust frame between here and that wasm code:
/// none of them may hold a value that needs dropping.
pub(crate) unsafe fn raise(record: TrapRecord, escape: Option<Escape>) -> ! {
    let current = CURRENT.with(Cell::get);
    // SAFETY: a non-null `CURRENT` is a live activation (see above).
    let Some(activation) = (unsafe { current.as_ref() }) else {
        // Runtime code called without wasm on the stack: there is nowhere
        // to unwind to.
        std::process::abort();
    };
    activation.trap.set(Some(record));
    activation.escape.set(escape);
    // SAFETY: the buffer was set by `fuelc_rt_enter`, which is still active
    // because wasm code (that it called) called us; the caller guarantees
    // the abandoned frames hold nothing to drop.
    unsafe { fuelc_rt_longjmp(activation.jmp_buf.get()) }
}

/// Called by the signal handler with the faulting program counter and the
/// value of the fuel register at the fault: if `pc` is a trap site of a
/// module of the innermost activation, stores `fuel` into the store's
/// context when that module is metered, records the trap and unwinds there;
/// otherwise returns. Must not allocate, lock or panic.
///
/// # Safety
/// Must only be called from a signal handler for a fault of this thread.
unsafe fn unwind_from_fault(pc: usize, fuel: u64) {
    let current = CURRENT.with(Cell::get);
    // SAFETY: a non-null `CURRENT` is a live activation (see above).
    let Some(activation) = (unsafe { current.as_ref() }) else {
        return;
    };
    // SAFETY: the store's module list outlives the activation and does not
    // change while wasm runs (the store is borrowed by the call).
    let modules = unsafe { &*activation.modules };
    for module in modules {
        if let Some((func_index, code)) = module.inner().trap_at(pc) {
            if module.metadata().fuel.is_some() {
                // SAFETY: the store outlives its activations, and while its
                // wasm code runs nothing else refers to its context; metered
                // code keeps the live fuel in the register, not here.
                unsafe { (*activation.store).fuel = fuel };
            }
            activation
                .trap
                .set(Some(TrapRecord::new(code, module.inner(), func_index)));
            // SAFETY: the fault happened in wasm code of this activation, so
            // only wasm frames and the handler's frame lie between here and
            // the live jump buffer; SA_NODEFER leaves the signal unblocked.
            unsafe { fuelc_rt_longjmp(activation.jmp_buf.get()) }
        }
    }
}
