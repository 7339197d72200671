//! What the end-to-end tests share: starting programs built for the test
//! target, which run under the command in `FUELC_TEST_RUNNER` (for example
//! `qemu-aarch64 -L /usr/aarch64-linux-gnu`) when the tests are
//! cross-compiled, as cargo's target runner runs the tests themselves.

// Each test crate includes this module and uses only part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// A command running `program`, a binary for the test target.
pub fn target_command(program: &Path) -> Command {
    let runner = std::env::var("FUELC_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(runner) => {
            let mut command = Command::new(runner);
            command.args(words).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// A command running the `fuelc` binary under test.
pub fn fuelc_command() -> Command {
    target_command(Path::new(env!("CARGO_BIN_EXE_fuelc")))
}

/// How tests that instantiate thousands of memories compile their modules:
/// with guard pages natively, and with explicit bounds checks under a test
/// runner, because qemu-user never frees its bookkeeping for the 8 GiB
/// reservation of each guarded memory and runs out of memory after a few
/// thousand. Charges do not depend on the mode (`docs/fuel.md`, point 6).
pub fn bounds_checks_for_many_instances() -> fuelc_runtime::abi::BoundsChecks {
    if std::env::var_os("FUELC_TEST_RUNNER").is_some() {
        fuelc_runtime::abi::BoundsChecks::Explicit
    } else {
        fuelc_runtime::abi::BoundsChecks::Guard
    }
}
