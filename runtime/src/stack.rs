//! Where wasm code's stack must end: the limit a host call into wasm stores
//! in the store context, which every generated prologue checks.
//!
//! The limit is `max_stack` below the current stack pointer, but never lower
//! than the bottom of the thread's actual stack plus a reserve for host
//! functions and the runtime, so a small thread stack turns into a
//! `StackOverflow` trap rather than a crash. This file only computes
//! addresses; it must not touch store contexts or activations.

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::ptr;

/// Stack kept free below the limit for host functions, builtins and the
/// signal handler when no alternate stack is available; also covers the
/// thread's guard pages.
const HOST_RESERVE: usize = 128 * 1024;

thread_local! {
    /// The lowest limit this thread's stack allows, once computed.
    static FLOOR: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The stack limit for wasm entered from the host here, allowing it
/// `max_stack` bytes.
pub(crate) fn limit(max_stack: usize) -> usize {
    let floor = FLOOR.with(|floor| match floor.get() {
        Some(f) => f,
        None => {
            let f = thread_floor();
            floor.set(Some(f));
            f
        }
    });
    approximate_sp().saturating_sub(max_stack).max(floor)
}

/// The address of a local of a fresh frame: the stack pointer, give or take
/// that frame.
#[inline(never)]
fn approximate_sp() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// The bottom of this thread's stack plus [`HOST_RESERVE`], or 0 if the
/// system does not say.
fn thread_floor() -> usize {
    let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: fills `attr` for the calling thread.
    if unsafe { libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) } != 0 {
        return 0;
    }
    let mut bottom = ptr::null_mut();
    let mut size = 0;
    // SAFETY: `attr` was initialized above and is destroyed once read.
    let rc = unsafe {
        let rc = libc::pthread_attr_getstack(attr.as_ptr(), &mut bottom, &mut size);
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        rc
    };
    if rc != 0 {
        return 0;
    }
    (bottom as usize).saturating_add(HOST_RESERVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_below_the_stack_pointer() {
        let sp = approximate_sp();
        let l = limit(256 * 1024);
        assert!(l < sp);
        assert!(l + 256 * 1024 + 4096 >= sp);
    }

    #[test]
    fn limit_never_leaves_the_thread_stack() {
        let floor = limit(usize::MAX);
        assert!(floor >= HOST_RESERVE);
        assert!(floor < approximate_sp());
    }
}
