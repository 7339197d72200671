//! The C API driven from Rust with a hand-made module (see `support`).

#![deny(clippy::undocumented_unsafe_blocks)]

mod support;

use fuelc_runtime::abi::{Export, ExportKind};
use fuelc_runtime::capi::*;
use fuelc_runtime::TrapCode;
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
        let mut results = [val(FUELC_I32, 0)];
        let mut n = 0;
        let status = fuelc_call(
            store,
            instance,
            c"add".as_ptr(),
            args.as_ptr(),
            2,
            results.as_mut_ptr(),
            1,
            &mut n,
        );
        assert_eq!(status, FUELC_OK);
        assert_eq!((n, results[0].kind, results[0].of.i64), (1, FUELC_I64, 42));

        let status = fuelc_call(
            store,
            instance,
            c"add".as_ptr(),
            args.as_ptr(),
            2,
            results.as_mut_ptr(),
            0,
            &mut n,
        );
        assert_eq!(status, FUELC_ERROR, "no room for the result");
        let status = fuelc_call(
            store,
            instance,
            c"nope".as_ptr(),
            ptr::null(),
            0,
            ptr::null_mut(),
            0,
            ptr::null_mut(),
        );
        assert_eq!(status, FUELC_ERROR);
        assert_eq!(fuelc_last_trap_code(), 0);

        let status = fuelc_call(
            store,
            instance,
            c"boom".as_ptr(),
            ptr::null(),
            0,
            ptr::null_mut(),
            0,
            ptr::null_mut(),
        );
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
