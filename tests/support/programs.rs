//! The programs of `tests/fuel_programs/*.wat` and their invocations, for
//! the tests that run them (`wasmtime_fuel.rs`, `fuel_boundary.rs`).
//!
//! Program files start with a `;;` comment saying what the program
//! exercises. Each line `;; invoke: EXPORT ARG...` adds an invocation: the
//! export is called with one ARG per parameter. An ARG is a decimal integer
//! (optionally negative); its type is the export's parameter type at that
//! position, which must be `i32` (the value must fit in `i32`) or `i64`.

// Each test crate includes this module and uses only part of it.
#![allow(dead_code)]

use std::fmt;
use std::path::{Path, PathBuf};

use fuelc_runtime::{Val, ValType};

/// The directory of the programs.
pub const PROGRAMS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuel_programs");

/// What starts an invocation line in a program.
const INVOKE: &str = ";; invoke:";

/// One `.wat` file: its module and what to call.
pub struct Program {
    pub name: String,
    /// The module's text.
    pub text: String,
    pub wasm: Vec<u8>,
    pub invocations: Vec<Invocation>,
}

/// One `;; invoke:` line.
pub struct Invocation {
    pub export: String,
    pub args: Vec<i64>,
}

impl fmt::Display for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.export)?;
        self.args.iter().try_for_each(|arg| write!(f, " {arg}"))
    }
}

/// Every program, sorted by file name.
pub fn load_programs() -> Vec<Program> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(PROGRAMS)
        .unwrap_or_else(|error| panic!("cannot read {PROGRAMS}: {error}"))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wat"))
        .collect();
    paths.sort();
    paths.iter().map(|path| load_program(path)).collect()
}

fn load_program(path: &Path) -> Program {
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    assert!(
        text.starts_with(";;") && !text.starts_with(INVOKE),
        "{name}: the file must start with a comment saying what it exercises"
    );
    let invocations: Vec<Invocation> = text
        .lines()
        .filter_map(|line| line.strip_prefix(INVOKE))
        .map(|rest| parse_invocation(rest).unwrap_or_else(|error| panic!("{name}: {error}")))
        .collect();
    assert!(!invocations.is_empty(), "{name}: no `{INVOKE}` lines");
    let wasm = wat::parse_str(&text).unwrap_or_else(|error| panic!("{name}: {error}"));
    Program {
        name,
        text,
        wasm,
        invocations,
    }
}

/// Parses what follows `;; invoke:`: an export name and decimal arguments.
fn parse_invocation(rest: &str) -> Result<Invocation, String> {
    let mut words = rest.split_whitespace();
    let export = words
        .next()
        .ok_or_else(|| format!("`{INVOKE}` without an export name"))?
        .to_owned();
    let args = words
        .map(|word| {
            word.parse::<i64>()
                .map_err(|_| format!("argument {word:?} of {export} is not a decimal integer"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Invocation { export, args })
}

/// The invocation's arguments as values of the parameter types.
pub fn typed_args(params: &[ValType], args: &[i64]) -> Result<Vec<Val>, String> {
    if params.len() != args.len() {
        return Err(format!(
            "the export takes {} arguments, {} given",
            params.len(),
            args.len()
        ));
    }
    params
        .iter()
        .zip(args)
        .map(|(ty, &arg)| match ty {
            ValType::I32 => i32::try_from(arg)
                .map(Val::I32)
                .map_err(|_| format!("argument {arg} is out of range for i32")),
            ValType::I64 => Ok(Val::I64(arg)),
            other => Err(format!("parameter type {other:?} is not supported")),
        })
        .collect()
}
