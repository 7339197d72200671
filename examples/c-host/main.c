/* A C host for app.wat: includes the header `fuelc compile --emit-header`
 * wrote, defines the module's imports, and calls its exports like C
 * functions. build.sh builds it. */
#include <inttypes.h>
#include <stdio.h>

#include "app.h"

/* env.log(ptr, len): prints a string from the guest's memory. */
int app_import_env__log(void *host_data, fuelc_caller *caller, int32_t ptr,
                        int32_t len) {
    size_t size;
    const uint8_t *memory = fuelc_caller_memory(caller, &size);
    if (!memory || (uint64_t)(uint32_t)ptr + (uint32_t)len > size)
        return 1; /* traps: the guest passed a bad string */
    printf("%s: %.*s\n", (const char *)host_data, (int)len,
           (const char *)memory + (uint32_t)ptr);
    return 0;
}

/* env.scale(x) = 2x */
int app_import_env__scale(void *host_data, fuelc_caller *caller, double x,
                          double *r0) {
    (void)host_data;
    (void)caller;
    *r0 = 2 * x;
    return 0;
}

static int fail(const char *what) {
    fprintf(stderr, "error: %s: %s\n", what, fuelc_last_error());
    return 1;
}

int main(void) {
    fuelc_store *store = fuelc_store_new();
    app_instance *app = app_instance_new(store, "host");
    if (!app)
        return fail("instantiate");
    app_set_fuel(app, 1000000);

    int32_t quotient, remainder;
    if (app_export_divmod(app, 47, 5, &quotient, &remainder) != FUELC_OK)
        return fail("divmod");
    printf("divmod(47, 5) = %d, %d\n", quotient, remainder);
    if (app_export_greet(app) != FUELC_OK)
        return fail("greet");
    double area;
    if (app_export_area(app, 1.5, &area) != FUELC_OK)
        return fail("area");
    printf("area(1.5) = %g\n", area);

    int32_t calls;
    app_global_get_calls(app, &calls);
    printf("calls = %d\n", calls);
    app_global_set_calls(app, 41);
    app_export_divmod(app, 1, 1, &quotient, &remainder);
    app_global_get_calls(app, &calls);
    printf("calls after set and call = %d\n", calls);

    size_t length;
    const uint8_t *memory = app_memory_memory(app, &length);
    printf("memory: %zu bytes, starts with \"%.5s\"\n", length,
           (const char *)memory);
    uint64_t elements;
    app_table_size_table(app, &elements);
    printf("table: %" PRIu64 " elements\n", elements);
    printf("fuel: consumed %" PRIu64 ", remaining %" PRIu64 "\n",
           app_fuel_consumed(app), app_fuel_remaining(app));

    app_set_fuel(app, 1000);
    int status = app_export_spin(app);
    printf("spin: status %d, trap code %u: %s\n", status,
           fuelc_last_trap_code(), fuelc_last_error());

    app_instance_free(app);
    fuelc_store_free(store);
    return 0;
}
