//! Standalone executables (`fuelc build`): links a compiled WASI command,
//! the runtime's static library and a generated C `main` into one program
//! that needs neither fuelc nor anything else of this repository to run.
//!
//! The generated `main` hands the module descriptor, the program's
//! arguments and the capabilities chosen at build time to the runtime's
//! `fuelc_command_main`, which does the rest. This module must not compile
//! wasm (the caller passes the object) nor know how commands run.

use std::path::{Path, PathBuf};

use crate::c_syntax::string_literal;
use crate::toolchain::{self, LinkError};
use fuelc_runtime::abi::descriptor_symbol;
use target_lexicon::{OperatingSystem, Triple};

/// The runtime's C header, written next to the generated `main` so both
/// agree on `fuelc_command_config`.
const RUNTIME_HEADER: &str = include_str!("../runtime/include/fuelc_runtime.h");

/// The environment variable naming the runtime library to link.
pub const RUNTIME_LIB_ENV_VAR: &str = "FUELC_RUNTIME_LIB";

/// The file name of the runtime's static library.
const RUNTIME_LIB_NAME: &str = "libfuelc_runtime.a";

/// Why an executable could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ExecutableError {
    /// Executables are linked for Linux targets only.
    #[error("fuelc build links executables for Linux targets, not {0}")]
    UnsupportedTarget(String),
    /// The runtime library was not found.
    #[error("cannot find the runtime library {RUNTIME_LIB_NAME} next to fuelc ({0}); set {RUNTIME_LIB_ENV_VAR} to its path")]
    RuntimeNotFound(String),
    /// Writing the intermediate files failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The C compiler could not link the executable.
    #[error(transparent)]
    Link(#[from] LinkError),
}

/// What the executable grants its command, fixed at build time.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    /// `HOST[::GUEST]` directory grants, already checked.
    pub dirs: Vec<String>,
    /// `KEY=VALUE` environment variables, already checked.
    pub env: Vec<String>,
    /// The fuel budget; `None` is unlimited (the `FUELC_FUEL` environment
    /// variable overrides it at run time).
    pub fuel: Option<u64>,
}

/// The runtime library to link: the file named by `FUELC_RUNTIME_LIB`,
/// else `libfuelc_runtime.a` in the directory of the running `fuelc`
/// (where `cargo build` puts both).
pub fn runtime_library() -> Result<PathBuf, ExecutableError> {
    if let Some(path) = std::env::var_os(RUNTIME_LIB_ENV_VAR) {
        return Ok(PathBuf::from(path));
    }
    let exe =
        std::env::current_exe().map_err(|e| ExecutableError::RuntimeNotFound(e.to_string()))?;
    let candidate = exe.with_file_name(RUNTIME_LIB_NAME);
    if candidate.is_file() {
        Ok(candidate)
    } else {
        Err(ExecutableError::RuntimeNotFound(
            candidate.display().to_string(),
        ))
    }
}

/// Links `object` (compiled for `target` with symbol prefix `prefix`), the
/// runtime library `runtime` and a `main` granting `grants` into the
/// executable `output`. Unused sections and the debug information of the
/// runtime's Rust standard library are left out; symbols stay.
pub fn link_executable(
    object: &[u8],
    prefix: &str,
    target: &Triple,
    grants: &Grants,
    runtime: &Path,
    output: &Path,
) -> Result<(), ExecutableError> {
    if target.operating_system != OperatingSystem::Linux {
        return Err(ExecutableError::UnsupportedTarget(target.to_string()));
    }
    let dir = tempfile::Builder::new()
        .prefix("fuelc-build-")
        .tempdir()
        .map_err(|source| ExecutableError::Write {
            path: std::env::temp_dir(),
            source,
        })?;
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes)
            .map(|()| path.clone())
            .map_err(|source| ExecutableError::Write { path, source })
    };
    write("fuelc_runtime.h", RUNTIME_HEADER.as_bytes())?;
    let main = write("main.c", main_source(prefix, grants).as_bytes())?;
    let object = write("module.o", object)?;
    let mut command = toolchain::c_compiler(target)?;
    command
        .arg("-O2")
        .arg("-o")
        .arg(output)
        .arg(main)
        .arg(object)
        .arg(runtime)
        .args(["-Wl,-z,noexecstack", "-Wl,--gc-sections", "-Wl,--strip-debug"])
        .args(["-lpthread", "-ldl", "-lm"]);
    Ok(toolchain::run(command)?)
}

/// The C source of the executable's `main`.
fn main_source(prefix: &str, grants: &Grants) -> String {
    let array = |items: &[String]| {
        let mut text = String::new();
        for item in items {
            text.push_str(&string_literal(item));
            text.push_str(", ");
        }
        text + "NULL"
    };
    format!(
        "/* Generated by fuelc build: runs the WASI command {prefix}. */\n\
         #include \"fuelc_runtime.h\"\n\
         \n\
         extern const char {symbol}[];\n\
         \n\
         static const char *const dirs[] = {{{dirs}}};\n\
         static const char *const env[] = {{{env}}};\n\
         static const fuelc_command_config config = {{dirs, env, {has_fuel}, {fuel}u}};\n\
         \n\
         int main(int argc, char **argv) {{\n\
         \x20   return fuelc_command_main({symbol}, argc, argv, &config);\n\
         }}\n",
        symbol = descriptor_symbol(prefix),
        dirs = array(&grants.dirs),
        env = array(&grants.env),
        has_fuel = i32::from(grants.fuel.is_some()),
        fuel = grants.fuel.unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_passes_the_grants() {
        let grants = Grants {
            dirs: vec!["/d::/g".into()],
            env: vec!["K=V".into()],
            fuel: Some(7),
        };
        let source = main_source("app", &grants);
        assert!(
            source.contains("dirs[] = {\"\\057d::\\057g\", NULL}"),
            "{source}"
        );
        assert!(source.contains("env[] = {\"K=V\", NULL}"), "{source}");
        assert!(source.contains("{dirs, env, 1, 7u}"), "{source}");
        assert!(source.contains(&descriptor_symbol("app")), "{source}");
    }
}
