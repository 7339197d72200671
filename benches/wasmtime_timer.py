"""Times a kernel in Wasmtime, with fuel off and on, for `benches/fuel.rs`.

Usage:
    python3 wasmtime_timer.py MODULE N

Instantiates MODULE (a kernel with no imports and an export `run(i32) ->
i32`) twice: in a Wasmtime engine without fuel, and in one with
`consume_fuel` and a budget no kernel exhausts. Then, for every line read
from standard input, calls `run(N)` in each and prints one line:

    OFF_MS FUEL_MS CHECKSUM FUEL        for example: 12.3 14.5 42 12345

where the times are the CPU time of the calling thread, `checksum` is what
both calls returned (they must agree) and `fuel` what the metered call
consumed. The benchmark drives it one run at a time, so that Wasmtime's
runs interleave with fuelc's. Exits 3 when the `wasmtime` package cannot
be imported, 1 on any other error.
"""

import sys
import time

BUDGET = 1 << 62
"""Fuel in the metered store; far more than any kernel consumes."""

EXIT_ERROR = 1
EXIT_NO_WASMTIME = 3


def fail(message, code=EXIT_ERROR):
    print(f"wasmtime_timer.py: {message}", file=sys.stderr)
    sys.exit(code)


def instantiate(wasmtime, path, fuel):
    """The store and the export `run` of MODULE in an engine with or
    without fuel."""
    config = wasmtime.Config()
    config.consume_fuel = fuel
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    if fuel:
        store.set_fuel(BUDGET)
    module = wasmtime.Module.from_file(engine, path)
    instance = wasmtime.Instance(store, module, [])
    return store, instance.exports(store)["run"]


def timed_call(store, run, n):
    """Calls run(n); returns its result and the thread CPU time in ms."""
    start = time.thread_time()
    result = run(store, n)
    return result, (time.thread_time() - start) * 1e3


def main():
    if len(sys.argv) != 3:
        fail("usage: wasmtime_timer.py MODULE N")
    try:
        import wasmtime
    except ImportError as e:
        fail(f"cannot import wasmtime: {e}", EXIT_NO_WASMTIME)
    path, n = sys.argv[1], int(sys.argv[2])
    try:
        off_store, off_run = instantiate(wasmtime, path, False)
        fuel_store, fuel_run = instantiate(wasmtime, path, True)
    except Exception as e:
        fail(f"{path}: {e}")
    for _ in sys.stdin:
        off_result, off_ms = timed_call(off_store, off_run, n)
        before = fuel_store.get_fuel()
        fuel_result, fuel_ms = timed_call(fuel_store, fuel_run, n)
        consumed = before - fuel_store.get_fuel()
        if off_result != fuel_result:
            fail(f"{path}: run({n}) returned {off_result} without fuel, {fuel_result} with")
        print(f"{off_ms} {fuel_ms} {off_result} {consumed}", flush=True)


if __name__ == "__main__":
    main()
