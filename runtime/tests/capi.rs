//! The C API driven from Rust with a hand-made module (see `support`).

#![deny(clippy::undocumented_unsafe_blocks)]

mod support;

use fuelc_runtime::abi::{Export, ExportKind};
use fuelc_runtime::capi::*;
use fuelc_runtime::{Instance, TrapCode};
use std::ffi::CStr;
use std::ptr;
use support::*;

extern "C" fn add(_: *mut u8, a: i32, b: i64) -> i64 {
    i64::from(a) + b
}

fn val(kind: u32, bits: u64) -> FuelcVal {
    FuelcVal {
        kind,
        reserved: 0,
        of: FuelcValPayload { reference: bits },
    }
}

/// Calls the export `name` of `instance` through [`fuelc_call`] with room
/// for `room` results: the status and the results it reports. Empty arrays
/// are passed as null, and so is the result count when there is no room.
///
/// # Safety
/// `store` must be a live store of the C API and `instance` one of its
/// instances.
unsafe fn call(
    store: *mut FuelcStore,
    instance: *const Instance,
    name: &CStr,
    args: &[FuelcVal],
    room: usize,
) -> (i32, Vec<FuelcVal>) {
    let mut results = vec![val(FUELC_I32, 0); room];
    let mut n = 0;
    let args_ptr = if args.is_empty() {
        ptr::null()
    } else {
        args.as_ptr()
    };
    let (results_ptr, n_ptr) = if room == 0 {
        (ptr::null_mut(), ptr::null_mut())
    } else {
        (results.as_mut_ptr(), &raw mut n)
    };
    // SAFETY: each array is valid for its length or null when empty, and
    // `n_ptr` is null or points to `n`; the caller vouches for `store` and
    // `instance`.
    let status = unsafe {
        fuelc_call(
            store,
            instance,
            name.as_ptr(),
            args_ptr,
            args.len(),
            results_ptr,
            room,
            n_ptr,
        )
    };
    results.truncate(n);
    (status, results)
}

#[test]
fn c_api_instantiates_and_calls() {
    let mut meta = metadata("capi");
    meta.functions = vec![
        plain(T_I32I64_I64),
        trapping(T_V_V, 0, TrapCode::Unreachable),
    ];
    meta.exports = vec![
        Export {
            name: "add".into(),
            kind: ExportKind::Func,
            index: 0,
        },
        Export {
            name: "boom".into(),
            kind: ExportKind::Func,
            index: 1,
        },
    ];
    let desc = descriptor(&meta, vec![add as *const u8, ud2_code()]);
    // SAFETY: the descriptor is leaked, so it stays loaded; every object
    // passed back comes from this API and is freed once, at the end.
    unsafe {
        let module = fuelc_module_new(ptr::from_ref(desc).cast());
        assert!(!module.is_null());
        let store = fuelc_store_new();
        let mut instance = ptr::null();
        assert_eq!(fuelc_instantiate(store, module, &mut instance), FUELC_OK);

        let args = [val(FUELC_I32, 2), val(FUELC_I64, 40)];
        let (status, results) = call(store, instance, c"add", &args, 1);
        assert_eq!(status, FUELC_OK);
        assert_eq!(results.len(), 1);
        assert_eq!((results[0].kind, results[0].of.i64), (FUELC_I64, 42));

        let (status, _) = call(store, instance, c"add", &args, 0);
        assert_eq!(status, FUELC_ERROR, "no room for the result");
        let (status, _) = call(store, instance, c"nope", &[], 0);
        assert_eq!(status, FUELC_ERROR);
        assert_eq!(fuelc_last_trap_code(), 0);

        let (status, _) = call(store, instance, c"boom", &[], 0);
        assert_eq!(status, FUELC_TRAP);
        assert_eq!(fuelc_last_trap_code(), TrapCode::Unreachable as u32);
        assert_eq!(CStr::from_ptr(fuelc_last_trap_function()), c"boom");
        assert_eq!(
            CStr::from_ptr(fuelc_last_error()),
            c"unreachable in function boom"
        );

        fuelc_module_free(module);
        fuelc_store_free(store);
    }
}

/// The C out-of-fuel handler of [`c_api_meters_fuel`]: adds the fuel that
/// `data` (a `u64`) holds, or stops if it holds 0, and records its call.
unsafe extern "C" fn refuel(
    data: *mut std::ffi::c_void,
    required: u64,
    remaining: u64,
    add: *mut u64,
) -> i32 {
    // SAFETY: `data` is the test's `[u64; 3]`, and `add` is valid for a
    // write.
    unsafe {
        let state = &mut *data.cast::<[u64; 3]>();
        state[1] = required;
        state[2] = remaining;
        *add = state[0];
        i32::from(state[0] != 0)
    }
}

#[test]
fn c_api_meters_fuel() {
    let mut meta = metadata("capi_fuel");
    meta.fuel = Some(fuel_costs(1, 1, 1));
    meta.functions = vec![plain(T_I32_I32)];
    meta.exports = vec![Export {
        name: "spend".into(),
        kind: ExportKind::Func,
        index: 0,
    }];
    let metered = descriptor(&meta, vec![spend as *const u8]);
    meta.fuel = None;
    let unmetered = descriptor(&meta, vec![spend as *const u8]);
    let spend_10 = [val(FUELC_I32, 10)];
    // The handler's fuel to add, then the arguments of its last call.
    let mut handler_state = [0_u64; 3];
    // SAFETY: the descriptors are leaked, so they stay loaded; every object
    // passed back comes from this API and is freed once, at the end, and
    // `handler_state` outlives the store.
    unsafe {
        let module = fuelc_module_new(ptr::from_ref(metered).cast());
        let other = fuelc_module_new(ptr::from_ref(unmetered).cast());
        let store = fuelc_store_new();
        assert_eq!(fuelc_store_fuel_remaining(store), 0);
        fuelc_store_set_fuel(store, 25);
        let mut instance = ptr::null();
        assert_eq!(fuelc_instantiate(store, module, &mut instance), FUELC_OK);
        let mut refused = ptr::null();
        assert_eq!(fuelc_instantiate(store, other, &mut refused), FUELC_ERROR);

        assert_eq!(call(store, instance, c"spend", &spend_10, 1).0, FUELC_OK);
        assert_eq!(fuelc_store_fuel_remaining(store), 15);
        fuelc_store_add_fuel(store, 5);
        assert_eq!(call(store, instance, c"spend", &spend_10, 1).0, FUELC_OK);
        assert_eq!(call(store, instance, c"spend", &spend_10, 1).0, FUELC_OK);
        assert_eq!(
            (
                fuelc_store_fuel_remaining(store),
                fuelc_store_fuel_consumed(store)
            ),
            (0, 30)
        );

        assert_eq!(call(store, instance, c"spend", &spend_10, 1).0, FUELC_TRAP);
        assert_eq!(fuelc_last_trap_code(), TrapCode::OutOfFuel as u32);
        assert_eq!(
            CStr::from_ptr(fuelc_last_error()),
            c"out of fuel in function spend"
        );

        let data = handler_state.as_mut_ptr().cast();
        fuelc_store_set_out_of_fuel_handler(store, Some(refuel), data);
        fuelc_store_set_fuel(store, 4);
        assert_eq!(call(store, instance, c"spend", &spend_10, 1).0, FUELC_TRAP);
        assert_eq!(handler_state, [0, 10, 4], "the handler stopped");
        handler_state[0] = 6;
        assert_eq!(call(store, instance, c"spend", &spend_10, 1).0, FUELC_OK);
        assert_eq!(
            (
                fuelc_store_fuel_remaining(store),
                fuelc_store_fuel_consumed(store)
            ),
            (0, 40)
        );
        fuelc_store_set_out_of_fuel_handler(store, None, ptr::null_mut());
        assert_eq!(call(store, instance, c"spend", &spend_10, 1).0, FUELC_TRAP);
        assert_eq!(handler_state[2], 4, "the handler is gone");

        fuelc_module_free(module);
        fuelc_module_free(other);
        fuelc_store_free(store);
    }
}
