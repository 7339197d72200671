//! Exports other than functions, from C: an instance's memory, globals and
//! tables by export name.
//!
//! This file only adapts types and reports errors; it must not contain
//! runtime logic.

use super::{bytes_out, c_compatible_type, export, fail, FuelcStore, FuelcVal, FUELC_OK};
use crate::store::{Extern, Instance};

/// The memory `instance` exports as `name`: its address, and its length in
/// bytes in `*len` (unless null). Null if there is no such memory (the
/// reason is recorded) or it is empty. Valid until wasm code next runs in
/// the store (it may grow the memory) or the store is freed.
///
/// # Safety
/// `store` must be a live store, `instance` one of its instances, `name` a
/// NUL-terminated string and `len` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fuelc_memory(
    store: *mut FuelcStore,
    instance: *const Instance,
    name: *const std::ffi::c_char,
    len: *mut usize,
) -> *mut u8 {
    // SAFETY: guaranteed by the caller.
    let (store, instance) = unsafe { (&mut (*store).store, *instance) };
    // SAFETY: `name` is a NUL-terminated string.
    let data: &mut [u8] = match unsafe { export(store, instance, name) } {
        Ok(Extern::Memory(memory)) => store.memory_data_mut(memory),
        Ok(_) => {
            fail("the export is not a memory", None);
            &mut []
        }
        Err(_) => &mut [],
    };
    // SAFETY: `len` is null or valid for a write.
    unsafe { bytes_out(data, len) }
}

/// Reads the global `instance` exports as `name` into `*out`. Returns
/// `FUELC_OK` or `FUELC_ERROR`.
///
/// # Safety
/// `store` must be a live store, `instance` one of its instances, `name` a
/// NUL-terminated string and `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fuelc_global_get(
    store: *mut FuelcStore,
    instance: *const Instance,
    name: *const std::ffi::c_char,
    out: *mut FuelcVal,
) -> i32 {
    // SAFETY: guaranteed by the caller.
    let (store, instance) = unsafe { (&mut (*store).store, *instance) };
    // SAFETY: `name` is a NUL-terminated string.
    match unsafe { export(store, instance, name) } {
        Ok(Extern::Global(global)) => {
            let value = store.global_get(global);
            if let Err(e) = c_compatible_type(value.ty()) {
                return fail(&e, None);
            }
            // SAFETY: `out` is valid for a write.
            unsafe { *out = FuelcVal::from_val(value) };
            FUELC_OK
        }
        Ok(_) => fail("the export is not a global", None),
        Err(status) => status,
    }
}

/// Sets the mutable global `instance` exports as `name` to `*value`, which
/// must have its type. Returns `FUELC_OK` or `FUELC_ERROR`.
///
/// # Safety
/// `store` must be a live store, `instance` one of its instances, `name` a
/// NUL-terminated string and `value` valid for a read.
#[no_mangle]
pub unsafe extern "C" fn fuelc_global_set(
    store: *mut FuelcStore,
    instance: *const Instance,
    name: *const std::ffi::c_char,
    value: *const FuelcVal,
) -> i32 {
    // SAFETY: guaranteed by the caller.
    let (store, instance, value) = unsafe { (&mut (*store).store, *instance, *value) };
    // SAFETY: `name` is a NUL-terminated string.
    let global = match unsafe { export(store, instance, name) } {
        Ok(Extern::Global(global)) => global,
        Ok(_) => return fail("the export is not a global", None),
        Err(status) => return status,
    };
    match value.to_val().and_then(|v| store.global_set(global, v)) {
        Ok(()) => FUELC_OK,
        Err(e) => fail(&e, None),
    }
}

/// Stores the number of elements of the table `instance` exports as `name`
/// in `*size`. Returns `FUELC_OK` or `FUELC_ERROR`.
///
/// # Safety
/// `store` must be a live store, `instance` one of its instances, `name` a
/// NUL-terminated string and `size` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fuelc_table_size(
    store: *mut FuelcStore,
    instance: *const Instance,
    name: *const std::ffi::c_char,
    size: *mut u64,
) -> i32 {
    // SAFETY: guaranteed by the caller.
    let (store, instance) = unsafe { (&mut (*store).store, *instance) };
    // SAFETY: `name` is a NUL-terminated string.
    match unsafe { export(store, instance, name) } {
        Ok(Extern::Table(table)) => {
            // SAFETY: `size` is valid for a write.
            unsafe { *size = store.table_size(table) };
            FUELC_OK
        }
        Ok(_) => fail("the export is not a table", None),
        Err(status) => status,
    }
}
