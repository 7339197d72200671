#!/bin/sh
# Builds the C host example into OUT_DIR (default: ./build):
#   1. fuelc compiles app.wat to app.o (metered) and writes app.h;
#   2. the C compiler links main.c, app.o and the runtime library.
# Environment: FUELC (default: fuelc), CC (default: cc), FUELC_RUNTIME_LIB
# (default: libfuelc_runtime.a next to fuelc, as cargo builds it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build}
mkdir -p "$out"
fuelc=${FUELC:-fuelc}
runtime=${FUELC_RUNTIME_LIB:-$(dirname "$(command -v "${fuelc##* }")")/libfuelc_runtime.a}
$fuelc compile "$here/app.wat" -o "$out/app.o" --prefix app --fuel exact \
    --emit-header "$out/app.h"
${CC:-cc} -std=c99 -Wall -Wextra -Werror -O2 -I "$here/../../runtime/include" -I "$out" \
    -o "$out/app" "$here/main.c" "$out/app.o" "$runtime" \
    -Wl,-z,noexecstack -lpthread -ldl -lm
