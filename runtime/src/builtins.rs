//! The runtime functions generated code calls through the [`Builtins`]
//! table: thin `extern "C"` adapters that find the calling instance from its
//! context, run the operation (`instance.rs`, `call.rs`; fuel charges and
//! the out-of-fuel handler in `instance.rs` and `fuel.rs`) and raise a trap
//! if it fails.
//!
//! Raising is always the last action of an adapter, with nothing that needs
//! dropping alive in its frame. This file must not implement the operations
//! themselves.

use crate::abi::{Builtins, TrapCode, VmctxLayout};
use crate::call;
use crate::instance::InstanceData;
use crate::trap::{self, TrapRecord};

macro_rules! builtins_table {
    ($($(#[$doc:meta])* $name:ident($($param:ident: $ty:tt),*) -> $result:tt;)*) => {
        /// The table every instance and host-call context points to.
        pub(crate) static BUILTINS: Builtins = Builtins { $($name,)* };
    };
}

crate::for_each_builtin!(builtins_table);

/// The instance whose context is `vmctx`.
///
/// # Safety
/// `vmctx` must be the context of a live instance made by this runtime,
/// passed by its generated code.
unsafe fn instance<'a>(vmctx: *mut u8) -> &'a mut InstanceData {
    // SAFETY: the instance slot of every context holds its `InstanceData`,
    // which the store keeps alive and nothing else refers to while wasm
    // code runs.
    unsafe {
        &mut *vmctx
            .add(VmctxLayout::INSTANCE as usize)
            .cast::<*mut InstanceData>()
            .read()
    }
}

/// Runs `op` on the instance whose context is `vmctx` and returns its
/// result, or raises a trap in function `caller` if it fails (resuming a
/// panic of the store's out-of-fuel handler, if that is why).
///
/// # Safety
/// `vmctx` as for [`instance`]. Must be the last action of a builtin called
/// by wasm code, whose frame holds nothing that needs dropping.
unsafe fn run<R>(
    vmctx: *mut u8,
    caller: i32,
    op: impl FnOnce(&mut InstanceData) -> Result<R, TrapCode>,
) -> R {
    // SAFETY: forwarded from the caller.
    let instance = unsafe { instance(vmctx) };
    match op(instance) {
        Ok(result) => result,
        Err(code) => {
            let record = TrapRecord::new(code, instance.module().inner(), caller as u32);
            let escape = instance.take_fuel_panic().map(trap::Escape::Panic);
            // SAFETY: `op` is consumed, `escape` moves into the activation
            // and this frame holds only copies and references; the caller
            // guarantees the same for its frame.
            unsafe { trap::raise(record, escape) }
        }
    }
}

/// Wasm's unsigned 32-bit operand.
fn u(v: i32) -> u64 {
    u64::from(v as u32)
}

/// Wasm's result of a growth: the old size, or -1.
fn grown(old: Option<u64>) -> i32 {
    old.map_or(-1, |old| old as i32)
}

/// Defines adapters for operations that may trap: each takes the context,
/// the calling function's index and its operands, runs `op` on the
/// instance and traps if it fails.
macro_rules! trapping_builtins {
    ($($name:ident($($param:ident: $ty:ty),*) $(-> $result:ty)? => |$instance:ident| $op:expr;)*) => {$(
        unsafe extern "C" fn $name(vmctx: *mut u8, caller: i32, $($param: $ty),*) $(-> $result)? {
            // SAFETY: called by generated code with its own context, as the
            // last action of a frame that holds only integers.
            unsafe { run(vmctx, caller, |$instance| $op) }
        }
    )*};
}

trapping_builtins! {
    memory_grow(delta: i32, units: i32) -> i32 =>
        |i| i.memory_grow(u(delta), u(units)).map(grown);
    memory_fill(dst: i32, value: i32, len: i32, units: i32) =>
        |i| i.memory_fill(u(dst), value as u8, u(len), u(units));
    memory_copy(dst: i32, src: i32, len: i32, units: i32) =>
        |i| i.memory_copy(u(dst), u(src), u(len), u(units));
    memory_init(segment: i32, dst: i32, src: i32, len: i32, units: i32) =>
        |i| i.memory_init(segment as u32, u(dst), u(src), u(len), u(units));
    table_grow(table: i32, init: i64, delta: i32, units: i32) -> i32 =>
        |i| i.table_grow(table as u32, init as u64, u(delta), u(units)).map(grown);
    table_fill(table: i32, dst: i32, value: i64, len: i32, units: i32) =>
        |i| i.table_fill(table as u32, u(dst), value as u64, u(len), u(units));
    table_copy(dst_table: i32, src_table: i32, dst: i32, src: i32, len: i32, units: i32) =>
        |i| i.table_copy(dst_table as u32, src_table as u32, u(dst), u(src), u(len), u(units));
    table_init(table: i32, segment: i32, dst: i32, src: i32, len: i32, units: i32) =>
        |i| i.table_init(table as u32, segment as u32, u(dst), u(src), u(len), u(units));
    out_of_fuel(required: i64) =>
        |i| i.ensure_fuel(required as u64);
}

unsafe extern "C" fn data_drop(vmctx: *mut u8, _caller: i32, segment: i32) {
    // SAFETY: called by generated code with its own context.
    unsafe { instance(vmctx) }.data_drop(segment as u32);
}

unsafe extern "C" fn elem_drop(vmctx: *mut u8, _caller: i32, segment: i32) {
    // SAFETY: called by generated code with its own context.
    unsafe { instance(vmctx) }.elem_drop(segment as u32);
}

unsafe extern "C" fn host_call(ctx: *mut u8, values: *mut u8) {
    // SAFETY: called by a host-call trampoline with the context of the
    // function reference it was called through and its value array.
    let outcome = unsafe { call::host_call(ctx, values.cast()) };
    if let Err(failure) = outcome {
        // SAFETY: last action; `failure` is moved into the activation and
        // nothing else here needs dropping.
        unsafe { trap::raise(failure.record, failure.escape) }
    }
}
