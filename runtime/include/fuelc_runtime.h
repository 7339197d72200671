/*
 * fuelc_runtime.h - C API of the fuelc runtime (crate fuelc-runtime).
 *
 * Link the crate's static library (libfuelc_runtime.a) together with the
 * objects compiled by fuelc. Each object exports one module descriptor,
 * named "<prefix>_module"; pass its address to fuelc_module_new.
 *
 * Errors: functions that can fail return FUELC_OK, FUELC_ERROR or FUELC_TRAP
 * (or NULL for constructors) and record the failure in thread-local state,
 * read with fuelc_last_error, fuelc_last_trap_code and
 * fuelc_last_trap_function. Strings returned by those stay valid until the
 * calling thread's next failure.
 *
 * Objects are not thread-safe: use a store (and its instances) from one
 * thread at a time. Modules may be shared between threads.
 *
 * Fuel: modules compiled with metering (fuelc --fuel exact|per-op) spend
 * their store's fuel as they run; a new store has none. A store runs
 * metered or unmetered modules, never both (fuelc_instantiate fails with
 * FUELC_ERROR for a module of the other kind). When a metered module needs
 * more fuel than remains, the store's out-of-fuel handler runs; if it does
 * not provide enough, the call fails with FUELC_TRAP and trap code
 * FUELC_TRAP_OUT_OF_FUEL ("out of fuel in function <name>"), charging
 * nothing, and the store stays usable: add fuel and call again.
 */
#ifndef FUELC_RUNTIME_H
#define FUELC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
#define FUELC_OK 0    /* success */
#define FUELC_ERROR 1 /* failure; see fuelc_last_error */
#define FUELC_TRAP 2  /* wasm trapped; see fuelc_last_trap_code/_function */

/* Value kinds (fuelc_val.kind). */
#define FUELC_I32 0
#define FUELC_I64 1
#define FUELC_F32 2       /* bits of the float */
#define FUELC_F64 3       /* bits of the double */
#define FUELC_FUNCREF 4   /* address of a function reference, 0 = null */
#define FUELC_EXTERNREF 5 /* host handle + 1, 0 = null */

/* Trap codes (fuelc_last_trap_code); 0 means the failure was no trap. */
#define FUELC_TRAP_UNREACHABLE 1
#define FUELC_TRAP_INTEGER_DIVISION_BY_ZERO 2
#define FUELC_TRAP_INTEGER_OVERFLOW 3
#define FUELC_TRAP_BAD_CONVERSION_TO_INTEGER 4
#define FUELC_TRAP_MEMORY_OUT_OF_BOUNDS 5
#define FUELC_TRAP_TABLE_OUT_OF_BOUNDS 6
#define FUELC_TRAP_UNDEFINED_ELEMENT 7
#define FUELC_TRAP_UNINITIALIZED_ELEMENT 8
#define FUELC_TRAP_BAD_SIGNATURE 9
#define FUELC_TRAP_STACK_OVERFLOW 10
#define FUELC_TRAP_HOST_ERROR 11
#define FUELC_TRAP_OUT_OF_FUEL 12

/* A store: owns instances and everything they use. */
typedef struct fuelc_store fuelc_store;
/* A loaded module. */
typedef struct fuelc_module fuelc_module;
/* An instance; owned by its store, valid until the store is freed. */
typedef struct fuelc_instance fuelc_instance;

/* A tagged value. Set the field of `of` that `kind` selects. */
typedef struct fuelc_val {
    uint32_t kind;     /* one of FUELC_I32 ... FUELC_EXTERNREF */
    uint32_t reserved; /* zero */
    union {
        int32_t i32;
        int64_t i64;
        uint32_t f32;
        uint64_t f64;
        uint64_t reference; /* FUELC_FUNCREF and FUELC_EXTERNREF */
    } of;
} fuelc_val;

/* Typed constructors and readers of fuelc_val. */
static inline fuelc_val fuelc_val_i32(int32_t x) {
    fuelc_val v = {FUELC_I32, 0, {0}};
    v.of.i32 = x;
    return v;
}
static inline fuelc_val fuelc_val_i64(int64_t x) {
    fuelc_val v = {FUELC_I64, 0, {0}};
    v.of.i64 = x;
    return v;
}
static inline fuelc_val fuelc_val_f32(float x) {
    fuelc_val v = {FUELC_F32, 0, {0}};
    memcpy(&v.of.f32, &x, sizeof x);
    return v;
}
static inline fuelc_val fuelc_val_f64(double x) {
    fuelc_val v = {FUELC_F64, 0, {0}};
    memcpy(&v.of.f64, &x, sizeof x);
    return v;
}
static inline fuelc_val fuelc_val_funcref(uint64_t reference) {
    fuelc_val v = {FUELC_FUNCREF, 0, {0}};
    v.of.reference = reference;
    return v;
}
static inline fuelc_val fuelc_val_externref(uint64_t reference) {
    fuelc_val v = {FUELC_EXTERNREF, 0, {0}};
    v.of.reference = reference;
    return v;
}
static inline int32_t fuelc_val_as_i32(fuelc_val v) { return v.of.i32; }
static inline int64_t fuelc_val_as_i64(fuelc_val v) { return v.of.i64; }
static inline float fuelc_val_as_f32(fuelc_val v) {
    float x;
    memcpy(&x, &v.of.f32, sizeof x);
    return x;
}
static inline double fuelc_val_as_f64(fuelc_val v) {
    double x;
    memcpy(&x, &v.of.f64, sizeof x);
    return x;
}
static inline uint64_t fuelc_val_as_reference(fuelc_val v) {
    return v.of.reference;
}

/* Creates an empty store. Free it with fuelc_store_free. */
fuelc_store *fuelc_store_new(void);

/* Frees a store, its instances and their objects. NULL is ignored. */
void fuelc_store_free(fuelc_store *store);

/* Sets the store's remaining fuel. Fuel consumed so far stays counted by
 * fuelc_store_fuel_consumed. */
void fuelc_store_set_fuel(fuelc_store *store, uint64_t fuel);

/* Adds to the store's remaining fuel, saturating at UINT64_MAX. */
void fuelc_store_add_fuel(fuelc_store *store, uint64_t fuel);

/* The store's remaining fuel. */
uint64_t fuelc_store_fuel_remaining(const fuelc_store *store);

/* The fuel the store's wasm code has consumed since the store was created.
 * Setting or adding fuel (also by the handler) does not change it. */
uint64_t fuelc_store_fuel_consumed(const fuelc_store *store);

/* An out-of-fuel handler: called with its `data` when metered code needs
 * `required` fuel and the store has only `remaining` (< required). To let
 * execution go on, set *add to the fuel to add (*add starts at 0) and
 * return nonzero; if the store then has at least `required`, execution
 * resumes, otherwise the call traps with FUELC_TRAP_OUT_OF_FUEL. Return 0
 * to stop with that trap. It runs on the thread running the wasm code and
 * must not use the store. */
typedef int (*fuelc_out_of_fuel_handler)(void *data, uint64_t required,
                                         uint64_t remaining, uint64_t *add);

/* Sets the store's out-of-fuel handler and the `data` passed to it. NULL
 * restores the default handler, which always stops. */
void fuelc_store_set_out_of_fuel_handler(fuelc_store *store,
                                         fuelc_out_of_fuel_handler handler,
                                         void *data);

/* Loads the module whose descriptor is at `descriptor`; NULL on failure.
 * The code must stay loaded while the module or any instance of it lives.
 * Free it with fuelc_module_free. */
fuelc_module *fuelc_module_new(const void *descriptor);

/* Frees a module; instances keep what they need. NULL is ignored. */
void fuelc_module_free(fuelc_module *module);

/* Instantiates a module without imports into `store`, running its segments
 * and start function (which spends the store's fuel if the module is
 * metered), and stores the instance in *out. Returns FUELC_OK, FUELC_ERROR
 * (link or resource error, or mixing metered and unmetered modules) or
 * FUELC_TRAP. */
int fuelc_instantiate(fuelc_store *store, const fuelc_module *module,
                      const fuelc_instance **out);

/* Calls the function that `instance` exports as `name` with `nargs`
 * arguments from `args`. On FUELC_OK writes the results to `results`, which
 * has room for `results_len` values (too little room is an error, checked
 * before the call), and their number to *nresults unless it is NULL.
 * Returns FUELC_OK, FUELC_ERROR (no such export, wrong arguments) or
 * FUELC_TRAP. */
int fuelc_call(fuelc_store *store, const fuelc_instance *instance,
               const char *name, const fuelc_val *args, size_t nargs,
               fuelc_val *results, size_t results_len, size_t *nresults);

/* What a host callback sees of its caller; valid during the callback. */
typedef struct fuelc_caller fuelc_caller;

/* A host function: called with its `data`, the caller, the arguments (as
 * many as the import's type has parameters) and room for the results (as
 * many as it has results, kinds already set; write their `of`). Return 0 to
 * go on, anything else to trap with FUELC_TRAP_HOST_ERROR. */
typedef int (*fuelc_host_callback)(void *data, fuelc_caller *caller,
                                   const fuelc_val *args, fuelc_val *results);

/* One import: a host function and the data passed to it. */
typedef struct fuelc_import {
    fuelc_host_callback callback;
    void *data;
} fuelc_import;

/* Like fuelc_instantiate, with `nimports` imports from `imports` in the
 * module's import order. Only function imports can be given. */
int fuelc_instantiate_with_imports(fuelc_store *store,
                                   const fuelc_module *module,
                                   const fuelc_import *imports,
                                   size_t nimports,
                                   const fuelc_instance **out);

/* The caller's linear memory and its length in *len (unless NULL); NULL
 * with length 0 if it has none. Valid until the callback returns. */
uint8_t *fuelc_caller_memory(fuelc_caller *caller, size_t *len);

/* The fuel remaining in the caller's store. */
uint64_t fuelc_caller_fuel_remaining(const fuelc_caller *caller);

/* The memory `instance` exports as `name` and its length in *len (unless
 * NULL); NULL if there is none or it is empty. Valid until wasm code next
 * runs in the store (it may grow the memory) or the store is freed. */
uint8_t *fuelc_memory(fuelc_store *store, const fuelc_instance *instance,
                      const char *name, size_t *len);

/* Reads the global `instance` exports as `name` into *out. Returns FUELC_OK
 * or FUELC_ERROR. */
int fuelc_global_get(fuelc_store *store, const fuelc_instance *instance,
                     const char *name, fuelc_val *out);

/* Sets the mutable global `instance` exports as `name` to *value, which must
 * have its type. Returns FUELC_OK or FUELC_ERROR. */
int fuelc_global_set(fuelc_store *store, const fuelc_instance *instance,
                     const char *name, const fuelc_val *value);

/* Stores the number of elements of the table `instance` exports as `name`
 * in *size. Returns FUELC_OK or FUELC_ERROR. */
int fuelc_table_size(fuelc_store *store, const fuelc_instance *instance,
                     const char *name, uint64_t *size);

/* The message of the calling thread's last failure, or NULL. For a trap:
 * "<trap message> in function <name>". */
const char *fuelc_last_error(void);

/* The trap code of the calling thread's last failure, or 0 if it was not a
 * trap. */
uint32_t fuelc_last_trap_code(void);

/* The function that trapped in the calling thread's last failure, or NULL
 * if it was not a trap. */
const char *fuelc_last_trap_function(void);

/* What an executable built by `fuelc build` grants its WASI command. */
typedef struct fuelc_command_config {
    const char *const *dirs; /* NULL-terminated "HOST[::GUEST]" grants */
    const char *const *env;  /* NULL-terminated "KEY=VALUE" variables */
    int has_fuel;            /* nonzero if `fuel` is the budget */
    uint64_t fuel;           /* the fuel budget (metered modules) */
} fuelc_command_config;

/* The main of an executable built by `fuelc build`: loads the module whose
 * descriptor is at `descriptor` and runs its `_start` as a WASI command
 * with the program's arguments and `config`'s grants; nothing else of the
 * host is reachable. The FUELC_FUEL environment variable, if set, replaces
 * the fuel budget. Returns the command's exit status, or 134 after printing
 * "error: ..." on stderr if it traps (also when out of fuel) or cannot
 * start. */
int fuelc_command_main(const void *descriptor, int argc, char **argv,
                       const fuelc_command_config *config);

#ifdef __cplusplus
}
#endif

#endif /* FUELC_RUNTIME_H */
