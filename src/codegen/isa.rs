//! Target selection: turns a target triple and the compile options into a
//! Cranelift [`TargetIsa`] with fuelc's fixed code generation settings.
//!
//! The settings are chosen for reproducible, position-independent objects
//! that never call helper symbols: no stack probes (the stack limit check
//! guards the stack), frame pointers kept (so debuggers and profilers can
//! walk wasm frames), and multi-value returns through a return area.
//! On x86-64 the baseline is x86-64-v2 (SSE4.2 and POPCNT), so float
//! rounding needs no libcalls. This module must not depend on the host CPU:
//! the same options give the same code on every machine.

use std::sync::Arc;

use cranelift_codegen::isa::{self, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use target_lexicon::{Architecture, Triple};

use crate::error::CompileError;
use crate::OptLevel;

/// The targets fuelc generates code for, as triples: Linux (ELF) objects
/// that the runtime runs, and Mach-O and COFF objects that are emitted
/// only (the runtime does not support those systems yet).
pub const SUPPORTED_TARGETS: &[&str] = &[
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

/// Builds the Cranelift ISA for `triple`.
///
/// `metered` reserves the pinned register for the fuel counter.
pub fn build_isa(
    triple: &Triple,
    opt_level: OptLevel,
    metered: bool,
) -> Result<Arc<dyn TargetIsa>, CompileError> {
    let supported = SUPPORTED_TARGETS
        .iter()
        .any(|t| t.parse::<Triple>().is_ok_and(|t| t == *triple));
    if !supported {
        return Err(CompileError::Target(format!(
            "{triple} (supported: {})",
            SUPPORTED_TARGETS.join(", ")
        )));
    }
    let mut flags = settings::builder();
    let opt = match opt_level {
        OptLevel::None => "none",
        OptLevel::Speed => "speed",
        OptLevel::SpeedAndSize => "speed_and_size",
    };
    let settings = [
        ("opt_level", opt),
        ("is_pic", "true"),
        ("enable_probestack", "false"),
        ("preserve_frame_pointers", "true"),
        ("enable_multi_ret_implicit_sret", "true"),
        ("unwind_info", "false"),
        ("enable_pinned_reg", if metered { "true" } else { "false" }),
        (
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        ),
    ];
    for (name, value) in settings {
        flags
            .set(name, value)
            .map_err(|e| CompileError::Target(format!("setting {name}={value}: {e}")))?;
    }
    let mut builder =
        isa::lookup(triple.clone()).map_err(|e| CompileError::Target(format!("{triple}: {e}")))?;
    if triple.architecture == Architecture::X86_64 {
        for feature in [
            "has_sse3",
            "has_ssse3",
            "has_sse41",
            "has_sse42",
            "has_popcnt",
        ] {
            builder
                .enable(feature)
                .map_err(|e| CompileError::Target(format!("{feature}: {e}")))?;
        }
    }
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| CompileError::Target(format!("{triple}: {e}")))
}
