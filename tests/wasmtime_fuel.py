"""Runs one export of a WebAssembly module in Wasmtime with fuel metering.

Usage:
    python3 wasmtime_fuel.py MODULE EXPORT [ARG...]
    python3 wasmtime_fuel.py --version

MODULE is a binary `.wasm` file or a `.wat` text file. Each ARG is a decimal
integer whose type is the export's parameter type at its position (`i32` or
`i64`, range-checked). The module is instantiated with no imports and the
store's fuel is set to a large budget before instantiation and again right
before the call, so the fuel reported is what the call consumed (Wasmtime's
`consume_fuel`).

Prints one line of JSON and exits 0 when the call ran:
    {"results": ["i32:6765"], "fuel": 12345}   the call returned
    {"trap": "reason", "fuel": 12345}          the call trapped
Results are written `TYPE:VALUE`: signed decimal for i32/i64, the bits in
hex for f32/f64 (`f32:0x3f800000`), `null` or `non-null` for references.

`--version` prints the version of the `wasmtime` package. Exits 3 when the
`wasmtime` package cannot be imported, 1 on any other error (unreadable or
invalid module, unknown export, bad arguments).
"""

import json
import struct
import sys

BUDGET = 1 << 40
"""Fuel in the store when the call starts."""

EXIT_ERROR = 1
EXIT_NO_WASMTIME = 3


def fail(message, code=EXIT_ERROR):
    print(f"wasmtime_fuel.py: {message}", file=sys.stderr)
    sys.exit(code)


def parse_arg(ty, text):
    """Converts ARG `text` to a Python int for a parameter of type `ty`."""
    bits = {"i32": 32, "i64": 64}.get(str(ty))
    if bits is None:
        fail(f"parameter type {ty} is not supported (only i32 and i64)")
    try:
        value = int(text, 10)
    except ValueError:
        fail(f"argument {text!r} is not a decimal integer")
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        fail(f"argument {text} is out of range for {ty}")
    return value


def format_result(ty, value):
    """Writes one result as `TYPE:VALUE` (see the module docstring)."""
    name = str(ty)
    if name in ("i32", "i64"):
        return f"{name}:{value}"
    if name == "f32":
        return "f32:0x%08x" % struct.unpack("<I", struct.pack("<f", value))[0]
    if name == "f64":
        return "f64:0x%016x" % struct.unpack("<Q", struct.pack("<d", value))[0]
    kind = "funcref" if name == "funcref" else "externref"
    return f"{kind}:{'null' if value is None else 'non-null'}"


def main(argv):
    try:
        import wasmtime
    except ImportError as error:
        fail(f"cannot import the wasmtime package: {error}", EXIT_NO_WASMTIME)
    if argv == ["--version"]:
        from importlib.metadata import version

        print(version("wasmtime"))
        return
    if len(argv) < 2:
        fail("usage: wasmtime_fuel.py MODULE EXPORT [ARG...] | --version")
    path, export, texts = argv[0], argv[1], argv[2:]

    config = wasmtime.Config()
    config.consume_fuel = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    # Instantiation may consume fuel in Wasmtime (it evaluates some constant
    # expressions as metered code); the budget is reset before the call.
    store.set_fuel(BUDGET)
    try:
        module = wasmtime.Module.from_file(engine, path)
        instance = wasmtime.Instance(store, module, [])
    except (OSError, wasmtime.WasmtimeError, wasmtime.Trap) as error:
        fail(f"cannot instantiate {path}: {error}")
    func = instance.exports(store).get(export)
    if not isinstance(func, wasmtime.Func):
        fail(f"{path} exports no function {export!r}")
    ty = func.type(store)
    if len(texts) != len(ty.params):
        fail(f"{export} takes {len(ty.params)} arguments, {len(texts)} given")
    args = [parse_arg(t, text) for t, text in zip(ty.params, texts)]

    store.set_fuel(BUDGET)
    try:
        returned = func(store, *args)
    except wasmtime.Trap as trap:
        reason = trap.message.strip().splitlines()[-1].strip()
        print(json.dumps({"trap": reason, "fuel": BUDGET - store.get_fuel()}))
        return
    if len(ty.results) == 0:
        values = []
    elif len(ty.results) == 1:
        values = [returned]
    else:
        values = returned
    results = [format_result(t, v) for t, v in zip(ty.results, values)]
    print(json.dumps({"results": results, "fuel": BUDGET - store.get_fuel()}))


if __name__ == "__main__":
    main(sys.argv[1:])
