//! Running a WASI command as a program: the one driver behind `fuelc run`
//! (without `--invoke`) and behind the `main` of executables made by
//! `fuelc build` ([`fuelc_command_main`]). It grants the capabilities it is
//! given (arguments, environment variables, preopened directories, a fuel
//! budget), runs `_start`, reports failures on standard error and turns
//! the outcome into the process's exit status.
//!
//! This file must not implement WASI itself (`wasi/`) nor decide what a
//! command may reach: every capability comes from its caller.

use crate::abi::ModuleDescriptor;
use crate::store::Store;
use crate::wasi::{self, WasiConfig};
use crate::Module;
use std::ffi::{c_char, c_int, CStr};
use std::path::PathBuf;

/// The exit status of a command that trapped (including running out of
/// fuel) or could not start: 128 + SIGABRT, as if it had aborted.
pub const TRAP_EXIT_STATUS: i32 = 134;

/// The environment variable that overrides, at run time, the fuel budget
/// an executable was built with.
pub const FUEL_ENV_VAR: &str = "FUELC_FUEL";

/// A host directory the command may reach, and the path it sees it at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirGrant {
    /// The directory on the host.
    pub host: PathBuf,
    /// Where the command sees it (its preopen name).
    pub guest: String,
}

impl DirGrant {
    /// Parses `HOST[::GUEST]`; without `::GUEST` the command sees the
    /// directory under its host path.
    pub fn parse(spec: &str) -> Result<DirGrant, String> {
        let (host, guest) = spec.split_once("::").unwrap_or((spec, spec));
        if host.is_empty() || guest.is_empty() {
            return Err(format!("directory grant {spec:?} is not HOST[::GUEST]"));
        }
        Ok(DirGrant {
            host: PathBuf::from(host),
            guest: guest.to_string(),
        })
    }
}

/// Parses an environment variable given as `KEY=VALUE`.
pub fn parse_env_var(spec: &str) -> Result<(String, String), String> {
    match spec.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("environment variable {spec:?} is not KEY=VALUE")),
    }
}

/// Everything a command is granted.
#[derive(Clone, Debug, Default)]
pub struct CommandOptions {
    /// Its arguments, starting with the program name.
    pub args: Vec<String>,
    /// Its environment variables.
    pub env: Vec<(String, String)>,
    /// Its preopened directories, in order (the first is fd 3).
    pub dirs: Vec<DirGrant>,
    /// The fuel budget of a metered module; `None` is unlimited.
    pub fuel: Option<u64>,
    /// Whether to print `fuel: consumed C, remaining R` as the last line on
    /// standard error (metered modules only).
    pub report_fuel: bool,
}

/// Runs `module` as a WASI command with `options` and returns the exit
/// status for the process: the command's own (`proc_exit`, or 0 when
/// `_start` returns), or [`TRAP_EXIT_STATUS`] after printing an
/// `error: ...` line if it traps or cannot start.
pub fn run(module: &Module, options: &CommandOptions) -> i32 {
    let mut store = Store::new();
    let metered = module.metadata().fuel.is_some();
    if metered {
        store.set_fuel(options.fuel.unwrap_or(u64::MAX));
    }
    let outcome = configure(options).and_then(|config| {
        wasi::run_command(&mut store, module, config).map_err(|e| e.to_string())
    });
    let status = match outcome {
        Ok(status) => status,
        Err(message) => {
            eprintln!("error: {message}");
            TRAP_EXIT_STATUS
        }
    };
    if metered && options.report_fuel {
        eprintln!(
            "fuel: consumed {}, remaining {}",
            store.fuel_consumed(),
            store.fuel_remaining()
        );
    }
    status
}

/// The WASI configuration granting `options`.
fn configure(options: &CommandOptions) -> Result<WasiConfig, String> {
    let mut config = WasiConfig::new().args(&options.args);
    for (key, value) in &options.env {
        config = config.env(key, value);
    }
    for dir in &options.dirs {
        config = config
            .preopen_dir(&dir.host, dir.guest.as_str())
            .map_err(|e| format!("cannot open directory {}: {e}", dir.host.display()))?;
    }
    Ok(config)
}

/// What an executable built by `fuelc build` grants its command
/// (`struct fuelc_command_config` in `fuelc_runtime.h`).
#[repr(C)]
pub struct FuelcCommandConfig {
    /// Null-terminated array of `HOST[::GUEST]` directory grants.
    pub dirs: *const *const c_char,
    /// Null-terminated array of `KEY=VALUE` environment variables.
    pub env: *const *const c_char,
    /// Nonzero if `fuel` is the budget; zero for an unlimited budget.
    pub has_fuel: c_int,
    /// The fuel budget, if `has_fuel`.
    pub fuel: u64,
}

/// The `main` of an executable built by `fuelc build`: loads the module at
/// `descriptor` and runs it as a WASI command with the program's arguments
/// and `config`'s grants. The fuel budget in [`FUEL_ENV_VAR`], if set,
/// replaces the built-in one. Returns the exit status (see [`run`]).
///
/// # Safety
/// `descriptor` must be the descriptor of an object compiled by fuelc and
/// linked into this program, `argv` must hold `argc` valid C strings, and
/// `config` must point to a valid configuration whose arrays are
/// null-terminated arrays of valid C strings.
#[no_mangle]
pub unsafe extern "C" fn fuelc_command_main(
    descriptor: *const ModuleDescriptor,
    argc: c_int,
    argv: *const *const c_char,
    config: *const FuelcCommandConfig,
) -> c_int {
    // SAFETY: forwarded from the caller; the program's code stays loaded.
    let module = match unsafe { Module::from_descriptor(descriptor, None) } {
        Ok(module) => module,
        Err(e) => {
            eprintln!("error: {e}");
            return TRAP_EXIT_STATUS;
        }
    };
    // SAFETY: `config` is valid by the caller's contract.
    let config = unsafe { &*config };
    // SAFETY: as promised by the caller, `argv` has `argc` C strings and the
    // config's arrays are null-terminated arrays of C strings.
    let (args, dirs, env) = unsafe {
        (
            c_strings(argv, Some(argc.max(0) as usize)),
            c_strings(config.dirs, None),
            c_strings(config.env, None),
        )
    };
    match command_options(args, &dirs, &env, config) {
        Ok(options) => run(&module, &options),
        Err(message) => {
            eprintln!("error: {message}");
            TRAP_EXIT_STATUS
        }
    }
}

/// The options of an executable's command: its grants, and its fuel budget
/// unless [`FUEL_ENV_VAR`] overrides it.
fn command_options(
    args: Vec<String>,
    dirs: &[String],
    env: &[String],
    config: &FuelcCommandConfig,
) -> Result<CommandOptions, String> {
    let fuel = match std::env::var(FUEL_ENV_VAR) {
        Ok(text) => Some(
            text.parse::<u64>()
                .map_err(|_| format!("{FUEL_ENV_VAR}={text:?} is not a fuel budget"))?,
        ),
        Err(_) => (config.has_fuel != 0).then_some(config.fuel),
    };
    Ok(CommandOptions {
        args,
        env: env
            .iter()
            .map(|e| parse_env_var(e))
            .collect::<Result<_, _>>()?,
        dirs: dirs
            .iter()
            .map(|d| DirGrant::parse(d))
            .collect::<Result<_, _>>()?,
        fuel,
        report_fuel: false,
    })
}

/// The strings of a C string array: `len` of them, or up to the first null
/// pointer when `len` is `None`. A null array is empty; bytes that are not
/// UTF-8 are replaced.
///
/// # Safety
/// `array` must be null or hold `len` valid C strings (or be
/// null-terminated when `len` is `None`).
unsafe fn c_strings(array: *const *const c_char, len: Option<usize>) -> Vec<String> {
    let mut strings = Vec::new();
    if array.is_null() {
        return strings;
    }
    for i in 0.. {
        if len.is_some_and(|n| i >= n) {
            break;
        }
        // SAFETY: `i` is below `len`, or before the terminating null.
        let p = unsafe { *array.add(i) };
        if p.is_null() {
            break;
        }
        // SAFETY: a non-null entry is a valid C string.
        strings.push(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned());
    }
    strings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_grants_parse() {
        let both = DirGrant::parse("/tmp/data::/data").unwrap();
        assert_eq!(both.host, PathBuf::from("/tmp/data"));
        assert_eq!(both.guest, "/data");
        let same = DirGrant::parse("out").unwrap();
        assert_eq!(
            (same.host, same.guest),
            (PathBuf::from("out"), "out".into())
        );
        assert!(DirGrant::parse("::/data").is_err());
        assert!(DirGrant::parse("/tmp::").is_err());
    }

    #[test]
    fn environment_variables_parse() {
        assert_eq!(parse_env_var("A=b=c").unwrap(), ("A".into(), "b=c".into()));
        assert_eq!(parse_env_var("A=").unwrap(), ("A".into(), String::new()));
        assert!(parse_env_var("=x").is_err());
        assert!(parse_env_var("novalue").is_err());
    }
}
