/*
 * Non-local exits out of wasm code for fuelc-runtime.
 *
 * fuelc_rt_enter sets a jump point (without saving the signal mask) and calls
 * an entry trampoline; fuelc_rt_longjmp returns to the innermost such point.
 * The signal handler and the runtime's builtins use it to abandon wasm
 * frames when a trap happens. This file only jumps; it must not inspect
 * traps, signals or any runtime state.
 */
#include <setjmp.h>

typedef void (*fuelc_rt_trampoline)(void *vmctx, const void *code, void *values);

/*
 * Stores the address of a fresh jump buffer in *slot, then calls
 * trampoline(vmctx, code, values). Returns normally both when the call
 * returns and when fuelc_rt_longjmp jumps to the buffer; the caller tells
 * the two apart by the trap it recorded before jumping. *slot is only valid
 * until this function returns.
 */
void fuelc_rt_enter(void **slot, fuelc_rt_trampoline trampoline, void *vmctx,
                    const void *code, void *values) {
    sigjmp_buf buf;
    /* 0: the signal mask is neither saved nor restored. Handlers run with
     * SA_NODEFER, so jumping out of one leaves no signal blocked. */
    if (sigsetjmp(buf, 0) == 0) {
        *slot = &buf;
        trampoline(vmctx, code, values);
    }
}

/* Jumps to a buffer published by fuelc_rt_enter whose call is still active. */
__attribute__((noreturn)) void fuelc_rt_longjmp(void *buf) {
    siglongjmp(*(sigjmp_buf *)buf, 1);
}
