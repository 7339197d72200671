#!/bin/sh
# Builds the C host example into OUT_DIR (default: ./build):
#   1. fuelc compiles app.wat to app.o (metered) and writes app.h;
#   2. fuelc writes the runtime files (libfuelc_runtime.a, fuelc_runtime.h);
#   3. the C compiler links main.c, app.o and the runtime library.
# Environment: FUELC (default: fuelc), CC (default: cc).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build}
mkdir -p "$out"
fuelc=${FUELC:-fuelc}
$fuelc compile "$here/app.wat" -o "$out/app.o" --prefix app --fuel exact \
    --emit-header "$out/app.h"
$fuelc runtime --out-dir "$out"
${CC:-cc} -std=c99 -Wall -Wextra -Werror -O2 -I "$out" \
    -o "$out/app" "$here/main.c" "$out/app.o" "$out/libfuelc_runtime.a" \
    -Wl,-z,noexecstack -lpthread -ldl -lm
