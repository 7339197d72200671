//! Host functions from C: instantiation with imports given as callbacks
//! (`fuelc_instantiate_with_imports`) and what a callback may do with its
//! caller (`fuelc_caller_*`).
//!
//! This file only adapts C callbacks to [`Store::new_host_func`]; it must
//! not check imports itself (the store does).

use super::{bytes_out, c_compatible, fail, instantiate, slice, FuelcStore, FuelcVal};
use crate::abi::ImportKind;
use crate::host::Caller;
use crate::store::{Extern, Instance, Store};
use crate::val::Val;
use crate::Module;
use std::ffi::{c_int, c_void};

/// What C sees of a [`Caller`] (`fuelc_caller`): an opaque pointer valid
/// during one callback.
#[repr(C)]
pub struct FuelcCaller {
    _opaque: [u8; 0],
}

/// A host function (`fuelc_host_callback` in C): called with its data, the
/// caller, the arguments (as many as the import's type has parameters) and
/// room for the results (as many as it has results, kinds preset). Returns
/// 0 to go on, anything else to trap with `FUELC_TRAP_HOST_ERROR`.
pub type FuelcHostCallback = unsafe extern "C" fn(
    data: *mut c_void,
    caller: *mut FuelcCaller,
    args: *const FuelcVal,
    results: *mut FuelcVal,
) -> c_int;

/// One import (`fuelc_import`): a host function and its data.
#[repr(C)]
pub struct FuelcImport {
    /// The function.
    pub callback: Option<FuelcHostCallback>,
    /// Passed to every call of `callback`.
    pub data: *mut c_void,
}

/// A host function of `store` for import `index` of `module` running `import`.
fn host_func(
    store: &mut Store,
    module: &Module,
    index: usize,
    import: &FuelcImport,
) -> Result<Extern, String> {
    let meta = module.metadata();
    let wanted = &meta.imports[index];
    let ImportKind::Func(type_index) = wanted.kind else {
        return Err(format!(
            "import {}.{} is not a function: the C API supplies only function imports",
            wanted.module, wanted.field
        ));
    };
    let callback = import
        .callback
        .ok_or_else(|| format!("import {}.{} has no callback", wanted.module, wanted.field))?;
    let data = import.data;
    let ty = meta.types[type_index as usize].clone();
    c_compatible(&ty).map_err(|e| format!("import {}.{}: {e}", wanted.module, wanted.field))?;
    let results = ty.results.clone();
    let func = store.new_host_func(ty, move |caller, args| {
        let args: Vec<FuelcVal> = args.iter().map(|a| FuelcVal::from_val(*a)).collect();
        let mut out: Vec<FuelcVal> = results.iter().map(|t| FuelcVal::zero(*t)).collect();
        let caller: *mut Caller<'_> = caller;
        // SAFETY: the embedder vouches for `callback` with `data`; `args`
        // and `out` hold as many values as the type says, and `caller` is
        // valid during the call.
        let status = unsafe { callback(data, caller.cast(), args.as_ptr(), out.as_mut_ptr()) };
        if status != 0 {
            return Err(format!("host function returned {status}").into());
        }
        out.iter()
            .map(|v| v.to_val())
            .collect::<Result<Vec<Val>, String>>()
            .map_err(Into::into)
    });
    Ok(Extern::Func(func))
}

/// Instantiates `module` in `store` with `nimports` function imports from
/// `imports`, in the module's import order, and stores the instance (owned
/// by the store) in `*out`. Fails if the count differs, an import is not a
/// function, or a callback is null.
///
/// # Safety
/// `store` and `module` must be live objects of this API, `imports` valid
/// for `nimports` reads (or null if 0), `out` valid for a write, and every
/// callback safe to call with its data whenever the store runs wasm code,
/// from the thread running it.
#[no_mangle]
pub unsafe extern "C" fn fuelc_instantiate_with_imports(
    store: *mut FuelcStore,
    module: *const Module,
    imports: *const FuelcImport,
    nimports: usize,
    out: *mut *const Instance,
) -> i32 {
    // SAFETY: guaranteed by the caller.
    let (store, module, imports) = unsafe { (&mut *store, &*module, slice(imports, nimports)) };
    let expected = module.metadata().imports.len();
    if imports.len() != expected {
        return fail(
            &format!("the module has {expected} imports, {} given", imports.len()),
            None,
        );
    }
    let externs = imports
        .iter()
        .enumerate()
        .map(|(i, import)| host_func(&mut store.store, module, i, import))
        .collect::<Result<Vec<Extern>, String>>();
    match externs {
        Ok(externs) => instantiate(store, module, &externs, out),
        Err(e) => fail(&e, None),
    }
}

/// The caller's linear memory: its address, and its length in `*len`
/// (unless null). Null with length 0 if the caller has no memory. Valid
/// until the callback returns.
///
/// # Safety
/// `caller` must be the caller of a running callback, `len` null or valid
/// for a write.
#[no_mangle]
pub unsafe extern "C" fn fuelc_caller_memory(caller: *mut FuelcCaller, len: *mut usize) -> *mut u8 {
    // SAFETY: the caller of a running callback is a live `Caller`.
    let memory = unsafe { (*caller.cast::<Caller<'_>>()).memory_mut() };
    // SAFETY: `len` is null or valid for a write.
    unsafe { bytes_out(memory, len) }
}

/// The fuel remaining in the caller's store.
///
/// # Safety
/// `caller` must be the caller of a running callback.
#[no_mangle]
pub unsafe extern "C" fn fuelc_caller_fuel_remaining(caller: *const FuelcCaller) -> u64 {
    // SAFETY: the caller of a running callback is a live `Caller`.
    unsafe { (*caller.cast::<Caller<'_>>()).fuel_remaining() }
}
