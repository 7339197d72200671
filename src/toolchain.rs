//! The system C compiler, which fuelc drives as a linker: finding it for a
//! target and running it with its output captured for error messages.
//!
//! This module must not decide what is linked or how (`loader.rs` links
//! shared libraries, `executable.rs` executables); it only starts the tool.

use std::ffi::OsString;
use std::process::Command;
use target_lexicon::Triple;

/// Why the C compiler could not link.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The variable naming the C compiler is set but holds no command.
    #[error("the {0} environment variable is empty")]
    EmptyCompilerCommand(String),
    /// No C compiler is known for a cross target.
    #[error("no C compiler for target {target}: set {variable} to one (for example {variable}=aarch64-linux-gnu-gcc)")]
    NoCrossCompiler {
        /// The target.
        target: String,
        /// The variable to set.
        variable: String,
    },
    /// The compiler could not be started.
    #[error("cannot run the linker `{command}`: {source}")]
    Spawn {
        /// The command line that was tried.
        command: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The compiler ran and failed.
    #[error("linking with `{command}` failed ({status}):\n{stderr}")]
    Failed {
        /// The command line that was run.
        command: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed on standard error.
        stderr: String,
    },
}

/// A command running the C compiler for `target`: the command in
/// `CC_<target>` (the target triple with `-` replaced by `_`, as the `cc`
/// crate names it), else, for the host only, in `CC`, else `cc`. The
/// command is split on whitespace, so `CC="ccache gcc"` works.
pub fn c_compiler(target: &Triple) -> Result<Command, LinkError> {
    let variable = format!("CC_{}", target.to_string().replace('-', "_"));
    let host = *target == Triple::host();
    let (name, cc) = match std::env::var_os(&variable) {
        Some(cc) => (variable, cc),
        None if host => match std::env::var_os("CC") {
            Some(cc) => ("CC".to_string(), cc),
            None => ("CC".to_string(), OsString::from("cc")),
        },
        None => {
            return Err(LinkError::NoCrossCompiler {
                target: target.to_string(),
                variable,
            })
        }
    };
    let cc = cc.to_string_lossy();
    let mut words = cc.split_whitespace();
    let program = words.next().ok_or(LinkError::EmptyCompilerCommand(name))?;
    let mut command = Command::new(program);
    command.args(words);
    Ok(command)
}

/// Runs `command`, failing with its standard error if it fails.
pub fn run(mut command: Command) -> Result<(), LinkError> {
    let command_line = format!("{command:?}");
    let output = command.output().map_err(|source| LinkError::Spawn {
        command: command_line.clone(),
        source,
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(LinkError::Failed {
        command: command_line,
        status: output.status,
        stderr: String::from_utf8_lossy(&output.stderr)
            .trim_end()
            .to_owned(),
    })
}
