//! Signal handling for traps in generated code.
//!
//! Handlers for SIGSEGV, SIGBUS, SIGILL and SIGFPE are installed once per
//! process, run on a per-thread alternate stack, and hand the faulting
//! program counter and the fuel register to the trap machinery in `mod.rs`,
//! which unwinds if it is a trap site of wasm running on this thread. Any other signal goes to the
//! handler that was installed before ours. This file must not interpret trap
//! sites or know about stores.

use libc::{c_int, c_void, siginfo_t};
use std::cell::RefCell;
use std::ptr;
use std::sync::{Once, OnceLock};

/// The signals generated code traps with.
const SIGNALS: [c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// Usable size of the alternate signal stack of each thread (a guard page
/// comes on top).
const ALT_STACK_SIZE: usize = 64 * 1024;

static INSTALL: Once = Once::new();

/// The actions that were in place for [`SIGNALS`] before ours, same order.
static PREVIOUS: OnceLock<[libc::sigaction; 4]> = OnceLock::new();

/// Makes this thread ready to run wasm: installs the process's handlers the
/// first time, and gives the thread an alternate signal stack.
pub(crate) fn prepare_thread() {
    INSTALL.call_once(install);
    // Fails only while the thread is being torn down; wasm then runs
    // without an alternate stack of ours, which the limit checks tolerate.
    let _ = ALT_STACK.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            if matches!(*slot, AltStack::Unchecked) {
                *slot = AltStack::install();
            }
        }
    });
}

/// A `sigaction` with nothing set.
fn empty_action() -> libc::sigaction {
    // SAFETY: `sigaction` is a plain C struct; all zeros is a valid value
    // (default handler, no flags, empty mask).
    unsafe { std::mem::zeroed() }
}

fn install() {
    let mut previous = [empty_action(); 4];
    for (signal, old) in SIGNALS.iter().zip(&mut previous) {
        // SAFETY: only reads the current action into `old`.
        unsafe { libc::sigaction(*signal, ptr::null(), old) };
    }
    // `install` runs once, so nothing was set before.
    let _ = PREVIOUS.set(previous);
    let mut action = empty_action();
    action.sa_sigaction = handler as *const () as libc::sighandler_t;
    action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
    // SAFETY: `sa_mask` is a valid sigset to clear.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    for signal in SIGNALS {
        // SAFETY: `handler` has the SA_SIGINFO signature and is async-signal
        // safe up to the point where it jumps or forwards. `sigaction` only
        // fails for invalid signals or handlers, which these are not.
        unsafe { libc::sigaction(signal, &action, ptr::null_mut()) };
    }
}

/// The handler for [`SIGNALS`].
unsafe extern "C" fn handler(signal: c_int, info: *mut siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel passes a valid `ucontext_t` to SA_SIGINFO handlers.
    let (pc, fuel) = unsafe { registers(context) };
    // SAFETY: we are in a signal handler on the signalled thread.
    unsafe { super::unwind_from_fault(pc, fuel) };
    // SAFETY: forwards the arguments the kernel gave us.
    unsafe { forward(signal, info, context) }
}

// On x86-64 the saved registers are not in encoding order: `REG_R15` is
// the slot of the fuel register only while the ABI says r15.
const _: () = assert!(crate::abi::FUEL_REGISTER_X86_64 == 15);

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
/// The program counter and the fuel register at the signal.
///
/// # Safety
/// `context` must be the `ucontext_t` passed to a signal handler.
unsafe fn registers(context: *mut c_void) -> (usize, u64) {
    let context = context.cast::<libc::ucontext_t>();
    // SAFETY: guaranteed by the caller.
    let gregs = unsafe { &(*context).uc_mcontext.gregs };
    (
        gregs[libc::REG_RIP as usize] as usize,
        gregs[libc::REG_R15 as usize] as u64,
    )
}

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
/// The program counter and the fuel register at the signal.
///
/// # Safety
/// `context` must be the `ucontext_t` passed to a signal handler.
unsafe fn registers(context: *mut c_void) -> (usize, u64) {
    let context = context.cast::<libc::ucontext_t>();
    // SAFETY: guaranteed by the caller.
    let mcontext = unsafe { &(*context).uc_mcontext };
    (
        mcontext.pc as usize,
        mcontext.regs[crate::abi::FUEL_REGISTER_AARCH64 as usize],
    )
}

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
compile_error!("fuelc-runtime supports x86-64 and aarch64 Linux only");

/// Passes a signal that is not a wasm trap to the action installed before
/// ours.
///
/// # Safety
/// Must be called from our handler with its arguments.
unsafe fn forward(signal: c_int, info: *mut siginfo_t, context: *mut c_void) {
    let previous = PREVIOUS
        .get()
        .and_then(|p| SIGNALS.iter().position(|&s| s == signal).map(|i| &p[i]));
    match previous {
        // SAFETY: forwarded from the caller.
        Some(previous) => unsafe { call_previous(previous, signal, info, context) },
        None => restore_default(signal),
    }
}

/// Runs `previous` for a signal, the way the kernel would have.
///
/// # Safety
/// `previous` must be an action that was installed for `signal`, and the
/// other arguments those the kernel passed to our handler.
unsafe fn call_previous(
    previous: &libc::sigaction,
    signal: c_int,
    info: *mut siginfo_t,
    context: *mut c_void,
) {
    let address = previous.sa_sigaction;
    if address == libc::SIG_DFL || address == libc::SIG_IGN {
        // Returning re-runs the faulting instruction, which now gets the
        // default action (a fault cannot be ignored).
        restore_default(signal);
    } else if previous.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: an SA_SIGINFO action's address is a three-argument handler.
        let f = unsafe {
            std::mem::transmute::<
                libc::sighandler_t,
                extern "C" fn(c_int, *mut siginfo_t, *mut c_void),
            >(address)
        };
        f(signal, info, context);
    } else {
        // SAFETY: any other action's address is a one-argument handler.
        let f = unsafe { std::mem::transmute::<libc::sighandler_t, extern "C" fn(c_int)>(address) };
        f(signal);
    }
}

/// Puts back the default action for `signal`.
fn restore_default(signal: c_int) {
    let mut action = empty_action();
    action.sa_sigaction = libc::SIG_DFL;
    // SAFETY: installs the default action for a valid signal.
    unsafe { libc::sigaction(signal, &action, ptr::null_mut()) };
}

/// This thread's alternate signal stack.
enum AltStack {
    /// Not looked at yet.
    Unchecked,
    /// The thread already had a large enough one, or none could be made.
    NotOurs,
    /// One we mapped: `mapping` (with a guard page at the bottom) of `len`
    /// bytes, the stack starting at `stack`.
    Ours {
        mapping: *mut c_void,
        len: usize,
        stack: *mut c_void,
    },
}

thread_local! {
    static ALT_STACK: RefCell<AltStack> = const { RefCell::new(AltStack::Unchecked) };
}

/// The thread's current alternate stack.
fn current_alt_stack() -> libc::stack_t {
    // SAFETY: `stack_t` is a plain C struct; zeros are valid.
    let mut current: libc::stack_t = unsafe { std::mem::zeroed() };
    // SAFETY: only reads the current setting.
    unsafe { libc::sigaltstack(ptr::null(), &mut current) };
    current
}

impl AltStack {
    /// Keeps the thread's alternate stack if it is large enough, else maps
    /// and installs one.
    fn install() -> AltStack {
        let current = current_alt_stack();
        if current.ss_flags & libc::SS_DISABLE == 0 && current.ss_size >= ALT_STACK_SIZE {
            return AltStack::NotOurs;
        }
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        let len = ALT_STACK_SIZE + page;
        // SAFETY: a fresh private anonymous mapping aliases nothing.
        let mapping = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if mapping == libc::MAP_FAILED {
            return AltStack::NotOurs;
        }
        // SAFETY: the first page of the mapping just made becomes the guard
        // page, and the rest stays inside the mapping.
        let (guarded, stack) = unsafe {
            (
                libc::mprotect(mapping, page, libc::PROT_NONE) == 0,
                mapping.cast::<u8>().add(page).cast(),
            )
        };
        let new = libc::stack_t {
            ss_sp: stack,
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        // SAFETY: `new` describes memory that stays mapped until this
        // `AltStack` drops, which disables it first.
        if !guarded || unsafe { libc::sigaltstack(&new, ptr::null_mut()) } != 0 {
            // SAFETY: unmaps the mapping just made, used by no one.
            unsafe { libc::munmap(mapping, len) };
            return AltStack::NotOurs;
        }
        AltStack::Ours {
            mapping,
            len,
            stack,
        }
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        if let AltStack::Ours {
            mapping,
            len,
            stack,
        } = *self
        {
            let current = current_alt_stack();
            if current.ss_flags & libc::SS_DISABLE == 0 && current.ss_sp == stack {
                let disable = libc::stack_t {
                    ss_sp: ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: 0,
                };
                // SAFETY: the thread is exiting and not on its alternate stack.
                unsafe { libc::sigaltstack(&disable, ptr::null_mut()) };
            }
            // SAFETY: the mapping is ours and no longer the alternate stack.
            unsafe { libc::munmap(mapping, len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI32, Ordering};

    static SEEN: AtomicI32 = AtomicI32::new(0);

    extern "C" fn with_info(signal: c_int, _: *mut siginfo_t, context: *mut c_void) {
        assert!(context.is_null());
        SEEN.store(signal * 10, Ordering::SeqCst);
    }

    extern "C" fn plain(signal: c_int) {
        SEEN.store(signal, Ordering::SeqCst);
    }

    #[test]
    fn forwards_to_both_kinds_of_previous_handler() {
        let mut previous = empty_action();
        previous.sa_sigaction = with_info as *const () as libc::sighandler_t;
        previous.sa_flags = libc::SA_SIGINFO;
        // SAFETY: the action's handler has the SA_SIGINFO signature.
        unsafe { call_previous(&previous, libc::SIGBUS, ptr::null_mut(), ptr::null_mut()) };
        assert_eq!(SEEN.load(Ordering::SeqCst), libc::SIGBUS * 10);

        previous.sa_sigaction = plain as *const () as libc::sighandler_t;
        previous.sa_flags = 0;
        // SAFETY: the action's handler has the plain signature.
        unsafe { call_previous(&previous, libc::SIGBUS, ptr::null_mut(), ptr::null_mut()) };
        assert_eq!(SEEN.load(Ordering::SeqCst), libc::SIGBUS);
    }

    #[test]
    fn threads_get_an_alternate_stack_that_is_freed() {
        std::thread::spawn(|| {
            prepare_thread();
            let current = current_alt_stack();
            assert_eq!(current.ss_flags & libc::SS_DISABLE, 0);
            assert!(current.ss_size >= ALT_STACK_SIZE);
            prepare_thread();
            assert_eq!(current_alt_stack().ss_sp, current.ss_sp);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn handlers_are_installed_once() {
        prepare_thread();
        let mut action = empty_action();
        // SAFETY: only reads the current action.
        unsafe { libc::sigaction(libc::SIGILL, ptr::null(), &mut action) };
        assert_eq!(
            action.sa_sigaction,
            handler as *const () as libc::sighandler_t
        );
        assert_ne!(action.sa_flags & libc::SA_ONSTACK, 0);
    }
}
