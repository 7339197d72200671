//! Faults outside wasm reach the handler that was installed before the
//! runtime's: a separate test binary, so that its handler is the one the
//! runtime finds when it installs its own.

#![deny(clippy::undocumented_unsafe_blocks)]

mod support;

use fuelc_runtime::{Store, Val};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::*;

static FAULT_ADDRESS: AtomicUsize = AtomicUsize::new(0);

/// Makes the faulting page accessible, so the access succeeds when retried.
extern "C" fn fix_fault(_: i32, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SIGSEGV.
    let address = unsafe { (*info).si_addr() } as usize;
    FAULT_ADDRESS.store(address, Ordering::SeqCst);
    let page = address & !4095;
    // SAFETY: the page belongs to the test's own mapping.
    unsafe {
        libc::mprotect(
            page as *mut libc::c_void,
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
        )
    };
}

extern "C" fn answer(_: *mut u8) -> i32 {
    7
}

#[test]
fn faults_outside_wasm_are_forwarded() {
    // SAFETY: installs a handler for SIGSEGV; zeroed sigaction is valid.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = fix_fault as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO;
        assert_eq!(libc::sigaction(libc::SIGSEGV, &action, ptr::null_mut()), 0);
    }

    // Entering wasm installs the runtime's handlers.
    let mut meta = metadata("forward");
    meta.functions = vec![plain(T_V_I32)];
    meta.exports = vec![fuelc_runtime::abi::Export {
        name: "answer".into(),
        kind: fuelc_runtime::abi::ExportKind::Func,
        index: 0,
    }];
    let module = load(&meta, vec![answer as *const u8]);
    let mut store = Store::new();
    let instance = store.instantiate(&module, &[]).unwrap();
    let Some(fuelc_runtime::Extern::Func(f)) = store.export(instance, "answer") else {
        panic!()
    };
    assert_eq!(store.call(f, &[]), Ok(vec![Val::I32(7)]));
    // SAFETY: reads the current action.
    let current = unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGSEGV, ptr::null(), &mut current);
        current.sa_sigaction
    };
    assert_ne!(current, fix_fault as *const () as libc::sighandler_t);

    // SAFETY: a private inaccessible page, read once `fix_fault` has made it
    // accessible.
    let value = unsafe {
        let page = libc::mmap(
            ptr::null_mut(),
            4096,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(page, libc::MAP_FAILED);
        let value = ptr::read_volatile(page.cast::<u8>().add(8));
        assert_eq!(FAULT_ADDRESS.load(Ordering::SeqCst), page as usize + 8);
        libc::munmap(page, 4096);
        value
    };
    assert_eq!(value, 0);
}
