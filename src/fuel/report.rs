//! The fuel report (`fuelc compile --fuel exact --fuel-report`): for each
//! function with loops, every loop and whether it is sliced (charged once
//! at its entry), or why not (see [`super::loops`]).
//!
//! Users read it to see how their loops are metered; we read it to find
//! the next loop shape to support. This module plans the module's
//! functions and formats what the plans say; it must not decide anything
//! itself.

use std::fmt::{self, Write};

use super::{plan_function, Metering};
use crate::error::CompileError;
use crate::parse::ParsedModule;

/// What [`loop_report`] found; its `Display` is the report's text.
#[derive(Clone, Debug)]
pub struct LoopReport {
    /// The reachable loops of the module's functions.
    pub loops: usize,
    /// How many of them are sliced.
    pub sliced: usize,
    text: String,
}

impl fmt::Display for LoopReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The report for `module` metered by `metering`: one line per function
/// with loops (its index and escaped name), one per loop under it (its byte
/// offset and verdict: sliced, counted but not sliced, or neither, and
/// why), and a closing count of the loops and of the sliced ones. In per-op
/// mode no loop is sliced: it charges every operator.
pub fn loop_report(
    module: &ParsedModule<'_>,
    metering: &Metering,
) -> Result<LoopReport, CompileError> {
    let mut out = String::new();
    let (mut loops, mut sliced) = (0, 0);
    let imported = module.num_imported_funcs();
    for (defined, body) in module.bodies.iter().enumerate() {
        let mut declared_locals = 0u64;
        for local in body.get_locals_reader()? {
            declared_locals += u64::from(local?.0);
        }
        let plan = plan_function(body, declared_locals, metering)?;
        if plan.loops.is_empty() {
            continue;
        }
        let index = imported + defined as u32;
        let name = module.metadata.function_name(index);
        // Writing to a String cannot fail.
        let _ = writeln!(out, "func {index} \"{}\":", name.escape_debug());
        for info in &plan.loops {
            loops += 1;
            let at = info.offset;
            let _ = match &info.verdict {
                Ok(how) => match how.sliceable() {
                    Ok(_) => {
                        sliced += 1;
                        writeln!(out, "  loop at {at:#x}: sliced, {how}")
                    }
                    Err(why) => {
                        writeln!(out, "  loop at {at:#x}: counted, not sliced ({why}), {how}")
                    }
                },
                Err(why) => writeln!(out, "  loop at {at:#x}: not sliced: {why}"),
            };
        }
    }
    let _ = writeln!(out, "{loops} loops, {sliced} sliced");
    Ok(LoopReport {
        loops,
        sliced,
        text: out,
    })
}
