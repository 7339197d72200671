//! A small C API over the runtime, declared in `include/fuelc_runtime.h`
//! (keep the two in step): stores and their fuel, modules from descriptors,
//! instantiation, calling an export by name, and the calling thread's last
//! error. Host functions for imports are in `imports.rs`, access to other
//! exports in `exports.rs`.
//!
//! These files only adapt types and report errors; they must not contain
//! runtime logic.

mod exports;
mod imports;

pub use exports::{fuelc_global_get, fuelc_global_set, fuelc_memory, fuelc_table_size};
pub use imports::{
    fuelc_caller_fuel_remaining, fuelc_caller_memory, fuelc_instantiate_with_imports, FuelcCaller,
    FuelcHostCallback, FuelcImport,
};

use crate::store::{Extern, Instance, Store};
use crate::trap::Trap;
use crate::val::{raw_from_u64, raw_to_u64, Val};
use crate::{CallError, FuncType, InstantiateError, Module, ValType};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ptr;

/// Success.
pub const FUELC_OK: i32 = 0;
/// Failure; `fuelc_last_error` says why.
pub const FUELC_ERROR: i32 = 1;
/// The wasm code trapped; `fuelc_last_error`, `fuelc_last_trap_code` and
/// `fuelc_last_trap_function` describe the trap.
pub const FUELC_TRAP: i32 = 2;

/// [`FuelcVal::kind`] of an `i32`.
pub const FUELC_I32: u32 = 0;
/// [`FuelcVal::kind`] of an `i64`.
pub const FUELC_I64: u32 = 1;
/// [`FuelcVal::kind`] of an `f32` (bits).
pub const FUELC_F32: u32 = 2;
/// [`FuelcVal::kind`] of an `f64` (bits).
pub const FUELC_F64: u32 = 3;
/// [`FuelcVal::kind`] of a `funcref` (address of the reference, 0 = null).
pub const FUELC_FUNCREF: u32 = 4;
/// [`FuelcVal::kind`] of an `externref` (handle + 1, 0 = null).
pub const FUELC_EXTERNREF: u32 = 5;

/// The payload of a [`FuelcVal`] (`fuelc_val.of` in C).
#[repr(C)]
#[derive(Clone, Copy)]
pub union FuelcValPayload {
    /// For [`FUELC_I32`].
    pub i32: i32,
    /// For [`FUELC_I64`].
    pub i64: i64,
    /// For [`FUELC_F32`].
    pub f32: u32,
    /// For [`FUELC_F64`].
    pub f64: u64,
    /// For [`FUELC_FUNCREF`] and [`FUELC_EXTERNREF`].
    pub reference: u64,
}

/// A tagged value (`fuelc_val` in C).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FuelcVal {
    /// One of the `FUELC_*` kinds.
    pub kind: u32,
    /// Zero.
    pub reserved: u32,
    /// The value.
    pub of: FuelcValPayload,
}

/// The `FUELC_*` kind of each value type.
const KINDS: [(u32, ValType); 6] = [
    (FUELC_I32, ValType::I32),
    (FUELC_I64, ValType::I64),
    (FUELC_F32, ValType::F32),
    (FUELC_F64, ValType::F64),
    (FUELC_FUNCREF, ValType::FuncRef),
    (FUELC_EXTERNREF, ValType::ExternRef),
];

/// Checks that values of type `ty` fit a `fuelc_val` (a `v128` does not).
fn c_compatible_type(ty: ValType) -> Result<(), String> {
    if kind_of(ty) == u32::MAX {
        return Err(format!("{ty:?} values cannot cross the C API"));
    }
    Ok(())
}

/// Checks that every value of `ty` fits a `fuelc_val`.
fn c_compatible(ty: &FuncType) -> Result<(), String> {
    ty.params
        .iter()
        .chain(&ty.results)
        .try_for_each(|t| c_compatible_type(*t))
}

/// The `FUELC_*` kind of `ty` (`u32::MAX` for types C cannot hold).
fn kind_of(ty: ValType) -> u32 {
    KINDS
        .iter()
        .find(|(_, t)| *t == ty)
        .map_or(u32::MAX, |(kind, _)| *kind)
}

impl FuelcVal {
    fn to_val(self) -> Result<Val, String> {
        let ty = KINDS
            .iter()
            .find(|(kind, _)| *kind == self.kind)
            .map(|(_, ty)| *ty)
            .ok_or_else(|| format!("unknown value kind {}", self.kind))?;
        // SAFETY: reads the field the kind selects, which the caller
        // initialized; every field is a plain integer.
        let bits = unsafe {
            match ty {
                ValType::I32 | ValType::F32 => u64::from(self.of.f32),
                _ => self.of.reference,
            }
        };
        Ok(Val::from_raw(raw_from_u64(bits), ty))
    }

    /// A value of type `ty` with all bits zero: 0, +0.0 or null.
    fn zero(ty: ValType) -> FuelcVal {
        FuelcVal {
            kind: kind_of(ty),
            reserved: 0,
            of: FuelcValPayload { reference: 0 },
        }
    }

    fn from_val(v: Val) -> FuelcVal {
        FuelcVal {
            kind: kind_of(v.ty()),
            reserved: 0,
            // The raw form has the value zero-extended in its low bytes, as
            // every payload field reads it.
            of: FuelcValPayload {
                reference: raw_to_u64(v.to_raw()),
            },
        }
    }
}

/// A store and the instance handles given out for it (`fuelc_store`).
pub struct FuelcStore {
    store: Store,
    /// Boxed: C holds their addresses, which must survive the vector growing.
    #[allow(clippy::vec_box)]
    instances: Vec<Box<Instance>>,
}

/// The last failure of a thread.
struct LastError {
    message: CString,
    trap: Option<(u32, CString)>,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// `s` as a C string, with interior NULs shown as `\0`.
fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

/// Records a failure and returns its status.
fn fail(message: &str, trap: Option<&Trap>) -> i32 {
    let error = LastError {
        message: c_string(message),
        trap: trap.map(|t| (u32::from(t.code as u8), c_string(&t.function))),
    };
    // Fails only while the thread is being torn down.
    let _ = LAST_ERROR.try_with(|last| *last.borrow_mut() = Some(error));
    if trap.is_some() {
        FUELC_TRAP
    } else {
        FUELC_ERROR
    }
}

/// Creates an empty store. Free it with [`fuelc_store_free`].
#[no_mangle]
pub extern "C" fn fuelc_store_new() -> *mut FuelcStore {
    Box::into_raw(Box::new(FuelcStore {
        store: Store::new(),
        instances: Vec::new(),
    }))
}

/// Frees a store, its instances and their objects.
///
/// # Safety
/// `store` must be null or come from [`fuelc_store_new`], not yet freed.
#[no_mangle]
pub unsafe extern "C" fn fuelc_store_free(store: *mut FuelcStore) {
    if !store.is_null() {
        // SAFETY: made by `Box::into_raw` in `fuelc_store_new`.
        drop(unsafe { Box::from_raw(store) });
    }
}

/// Sets the remaining fuel of `store`; fuel consumed so far stays counted.
///
/// # Safety
/// `store` must be a live store of this API.
#[no_mangle]
pub unsafe extern "C" fn fuelc_store_set_fuel(store: *mut FuelcStore, fuel: u64) {
    // SAFETY: guaranteed by the caller.
    unsafe { (*store).store.set_fuel(fuel) }
}

/// Adds `fuel` to the remaining fuel of `store`, saturating.
///
/// # Safety
/// `store` must be a live store of this API.
#[no_mangle]
pub unsafe extern "C" fn fuelc_store_add_fuel(store: *mut FuelcStore, fuel: u64) {
    // SAFETY: guaranteed by the caller.
    unsafe { (*store).store.add_fuel(fuel) }
}

/// The remaining fuel of `store`.
///
/// # Safety
/// `store` must be a live store of this API.
#[no_mangle]
pub unsafe extern "C" fn fuelc_store_fuel_remaining(store: *const FuelcStore) -> u64 {
    // SAFETY: guaranteed by the caller.
    unsafe { (*store).store.fuel_remaining() }
}

/// The fuel `store` has consumed since it was created.
///
/// # Safety
/// `store` must be a live store of this API.
#[no_mangle]
pub unsafe extern "C" fn fuelc_store_fuel_consumed(store: *const FuelcStore) -> u64 {
    // SAFETY: guaranteed by the caller.
    unsafe { (*store).store.fuel_consumed() }
}

/// An out-of-fuel handler (`fuelc_out_of_fuel_handler` in C): called with
/// its data, the fuel required and the fuel remaining; returns nonzero
/// after setting `*add` to the fuel to add, or 0 to stop.
pub type FuelcOutOfFuelHandler =
    unsafe extern "C" fn(data: *mut c_void, required: u64, remaining: u64, add: *mut u64) -> c_int;

/// Sets the out-of-fuel handler of `store` (see
/// [`Store::set_out_of_fuel_handler`]); null restores the default, which
/// always stops.
///
/// # Safety
/// `store` must be a live store of this API, and `handler`, if not null,
/// safe to call with `data` whenever the store runs wasm code, from the
/// thread running it.
#[no_mangle]
pub unsafe extern "C" fn fuelc_store_set_out_of_fuel_handler(
    store: *mut FuelcStore,
    handler: Option<FuelcOutOfFuelHandler>,
    data: *mut c_void,
) {
    // SAFETY: guaranteed by the caller.
    let store = unsafe { &mut (*store).store };
    match handler {
        Some(handler) => store.set_out_of_fuel_handler(move |required, remaining| {
            let mut add = 0;
            // SAFETY: the caller vouches for calling `handler` with `data`;
            // `add` is valid for a write.
            let refuel = unsafe { handler(data, required, remaining, &mut add) };
            (refuel != 0).then_some(add)
        }),
        None => store.set_out_of_fuel_handler(|_, _| None),
    }
}

/// Loads the module whose descriptor is at `descriptor`, or returns null.
/// Free it with [`fuelc_module_free`].
///
/// # Safety
/// `descriptor` must be null or point to a descriptor in loaded code that
/// stays loaded while the module or any of its instances lives.
#[no_mangle]
pub unsafe extern "C" fn fuelc_module_new(descriptor: *const c_void) -> *mut Module {
    // SAFETY: forwarded from the caller.
    match unsafe { Module::from_descriptor(descriptor.cast(), None) } {
        Ok(module) => Box::into_raw(Box::new(module)),
        Err(e) => {
            fail(&e.to_string(), None);
            ptr::null_mut()
        }
    }
}

/// Frees a module; its instances keep what they need.
///
/// # Safety
/// `module` must be null or come from [`fuelc_module_new`], not yet freed.
#[no_mangle]
pub unsafe extern "C" fn fuelc_module_free(module: *mut Module) {
    if !module.is_null() {
        // SAFETY: made by `Box::into_raw` in `fuelc_module_new`.
        drop(unsafe { Box::from_raw(module) });
    }
}

/// Instantiates a module that has no imports and stores the instance (owned
/// by the store) in `*out`.
///
/// # Safety
/// `store` and `module` must be live objects of this API and `out` valid
/// for a write.
#[no_mangle]
pub unsafe extern "C" fn fuelc_instantiate(
    store: *mut FuelcStore,
    module: *const Module,
    out: *mut *const Instance,
) -> i32 {
    // SAFETY: forwarded from the caller; no imports are read.
    unsafe { fuelc_instantiate_with_imports(store, module, ptr::null(), 0, out) }
}

/// Instantiates `module` in `store` with `imports` (already made objects of
/// the store, in the module's import order) and stores the instance in
/// `*out`.
fn instantiate(
    store: &mut FuelcStore,
    module: &Module,
    imports: &[Extern],
    out: *mut *const Instance,
) -> i32 {
    match store.store.instantiate(module, imports) {
        Ok(instance) => {
            let instance = Box::new(instance);
            // SAFETY: `out` is valid for a write (the callers' contract).
            unsafe { *out = &*instance };
            store.instances.push(instance);
            FUELC_OK
        }
        Err(InstantiateError::Trap(trap)) => fail(&trap.to_string(), Some(&trap)),
        Err(e) => fail(&e.to_string(), None),
    }
}

/// Calls the function exported as `name` by `instance` with `nargs`
/// arguments, and writes its results to `results` (room for `results_len`)
/// and their number to `*nresults` (if not null).
///
/// # Safety
/// `store` must be a live store, `instance` one of its instances, `name` a
/// NUL-terminated string, `args` valid for `nargs` reads and `results` for
/// `results_len` writes (each may be null when its length is 0).
#[no_mangle]
pub unsafe extern "C" fn fuelc_call(
    store: *mut FuelcStore,
    instance: *const Instance,
    name: *const c_char,
    args: *const FuelcVal,
    nargs: usize,
    results: *mut FuelcVal,
    results_len: usize,
    nresults: *mut usize,
) -> i32 {
    // SAFETY: guaranteed by the caller.
    let (store, instance) = unsafe { (&mut (*store).store, *instance) };
    // SAFETY: `args` is valid for `nargs` reads.
    let args = unsafe { slice(args, nargs) };
    // SAFETY: `name` is a NUL-terminated string.
    let func = match unsafe { export(store, instance, name) } {
        Ok(Extern::Func(func)) => func,
        Ok(_) => return fail("the export is not a function", None),
        Err(status) => return status,
    };
    let ty = store.func_type(func);
    if let Err(e) = c_compatible(&ty) {
        return fail(&e, None);
    }
    if ty.results.len() > results_len {
        return fail("the results buffer is too small", None);
    }
    let args = match args
        .iter()
        .map(|a| a.to_val())
        .collect::<Result<Vec<Val>, String>>()
    {
        Ok(args) => args,
        Err(e) => return fail(&e, None),
    };
    match store.call(func, &args) {
        Ok(values) => {
            for (i, v) in values.iter().enumerate() {
                // SAFETY: `results` has room for `results_len` values, at
                // least as many as the function returns (checked above).
                unsafe { results.add(i).write(FuelcVal::from_val(*v)) };
            }
            if !nresults.is_null() {
                // SAFETY: a non-null `nresults` is valid for a write.
                unsafe { *nresults = values.len() };
            }
            FUELC_OK
        }
        Err(CallError::Trap(trap)) => fail(&trap.to_string(), Some(&trap)),
        Err(e) => fail(&e.to_string(), None),
    }
}

/// The `len` values at `values`; empty when `len` is 0 (then `values` may
/// be null).
///
/// # Safety
/// Unless `len` is 0, `values` must be valid for `len` reads for `'a`.
unsafe fn slice<'a, T>(values: *const T, len: usize) -> &'a [T] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(values, len) }
    }
}

/// Hands `bytes` to C: stores their length in `*len` (unless `len` is
/// null) and returns their address, or null if there are none.
///
/// # Safety
/// `len` must be null or valid for a write.
unsafe fn bytes_out(bytes: &mut [u8], len: *mut usize) -> *mut u8 {
    if !len.is_null() {
        // SAFETY: guaranteed by the caller.
        unsafe { *len = bytes.len() };
    }
    if bytes.is_empty() {
        ptr::null_mut()
    } else {
        bytes.as_mut_ptr()
    }
}

/// The export `name` of `instance`; fails (recording why) if the name is
/// not UTF-8 or there is no such export.
///
/// # Safety
/// `name` must be a NUL-terminated string.
unsafe fn export(store: &Store, instance: Instance, name: *const c_char) -> Result<Extern, i32> {
    // SAFETY: guaranteed by the caller.
    let Ok(name) = unsafe { CStr::from_ptr(name) }.to_str() else {
        return Err(fail("export name is not UTF-8", None));
    };
    store
        .export(instance, name)
        .ok_or_else(|| fail(&format!("nothing is exported as {name:?}"), None))
}

/// The message of this thread's last failure, or null. Valid until the
/// thread's next failure.
#[no_mangle]
pub extern "C" fn fuelc_last_error() -> *const c_char {
    LAST_ERROR
        .try_with(|last| {
            last.borrow()
                .as_ref()
                .map_or(ptr::null(), |e| e.message.as_ptr())
        })
        .unwrap_or(ptr::null())
}

/// The trap code (`TrapCode` number, 1-12) of this thread's last failure,
/// or 0 if it was not a trap.
#[no_mangle]
pub extern "C" fn fuelc_last_trap_code() -> u32 {
    LAST_ERROR
        .try_with(|last| {
            last.borrow()
                .as_ref()
                .and_then(|e| e.trap.as_ref())
                .map_or(0, |t| t.0)
        })
        .unwrap_or(0)
}

/// The function that trapped in this thread's last failure, or null if it
/// was not a trap. Valid until the thread's next failure.
#[no_mangle]
pub extern "C" fn fuelc_last_trap_function() -> *const c_char {
    LAST_ERROR
        .try_with(|last| {
            last.borrow()
                .as_ref()
                .and_then(|e| e.trap.as_ref())
                .map_or(ptr::null(), |t| t.1.as_ptr())
        })
        .unwrap_or(ptr::null())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        for v in [
            Val::I32(-1),
            Val::I64(1 << 40),
            Val::F32(0x7f80_0001),
            Val::F64(3),
            Val::FuncRef(None),
            Val::ExternRef(None),
            Val::ExternRef(Some(4)),
        ] {
            assert_eq!(FuelcVal::from_val(v).to_val(), Ok(v));
        }
        let bad = FuelcVal {
            kind: 99,
            reserved: 0,
            of: FuelcValPayload { i64: 0 },
        };
        assert!(bad.to_val().is_err());
    }

    #[test]
    fn bad_descriptors_report_errors() {
        // SAFETY: a null descriptor is allowed.
        let module = unsafe { fuelc_module_new(ptr::null()) };
        assert!(module.is_null());
        // SAFETY: the message is a valid C string until the next failure.
        let message = unsafe { CStr::from_ptr(fuelc_last_error()) };
        assert_eq!(message.to_str().unwrap(), "null module descriptor");
        assert_eq!(fuelc_last_trap_code(), 0);
        assert!(fuelc_last_trap_function().is_null());
        // SAFETY: null is allowed.
        unsafe { fuelc_module_free(ptr::null_mut()) };
        let store = fuelc_store_new();
        // SAFETY: made by `fuelc_store_new` just above.
        unsafe { fuelc_store_free(store) };
    }
}
