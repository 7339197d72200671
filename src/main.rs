//! The `fuelc` command line: `compile` writes an object file, `run`
//! compiles, links and runs a module in this process (a WASI command, or
//! one export with `--invoke`), `build` links a standalone executable.
//!
//! Every failure is reported as one `error: ...` line on stderr with exit
//! status 1. This file must not contain compiler logic; it parses arguments
//! and calls the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use fuelc::executable::{self, Grants};
use fuelc::fuel::{CostModel, Metering};
use fuelc::runtime_files;
use fuelc::{compile, sanitize_prefix, CompileOptions, OptLevel};
use fuelc_runtime::abi::{BoundsChecks, ExportKind, FuelMode, ValType};
use fuelc_runtime::command::{self, CommandOptions, DirGrant};
use fuelc_runtime::{Extern, Store, Val};
use target_lexicon::Triple;

#[derive(Parser)]
#[command(
    name = "fuelc",
    version,
    about = "Ahead-of-time WebAssembly compiler with fuel metering"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a .wasm or .wat module into a relocatable object.
    Compile {
        /// Input module (.wasm or .wat).
        input: PathBuf,
        /// Output object file.
        #[arg(short, long)]
        output: PathBuf,
        /// Also write a typed C header for the module (see README, "C hosts").
        #[arg(long, value_name = "OUT.h")]
        emit_header: Option<PathBuf>,
        /// Print each function's loops and whether each is counted (its trip
        /// count known when it is entered), or why not; needs `--fuel`.
        #[arg(long)]
        fuel_report: bool,
        #[command(flatten)]
        codegen: CodegenArgs,
    },
    /// Compile a module, load it into this process and run it: as a WASI
    /// command (its `_start`, passing its exit status through), or, with
    /// `--invoke`, one exported function.
    Run {
        /// Input module (.wasm or .wat).
        input: PathBuf,
        /// Call this exported function instead of running a WASI command.
        #[arg(long)]
        invoke: Option<String>,
        #[command(flatten)]
        grants: GrantArgs,
        /// With `--invoke`, the function's arguments, one per parameter
        /// (integers or floats); otherwise the command's arguments (after
        /// `--`).
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        #[command(flatten)]
        codegen: CodegenArgs,
    },
    /// Compile a WASI command into a standalone executable: the object, the
    /// runtime library (carried by fuelc) and a main that runs `_start`.
    /// Run-time override of the fuel budget: the FUELC_FUEL environment
    /// variable.
    Build {
        /// Input module (.wasm or .wat).
        input: PathBuf,
        /// Output executable.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        grants: GrantArgs,
        #[command(flatten)]
        codegen: CodegenArgs,
    },
    /// Write the runtime files C hosts link with: the static library
    /// libfuelc_runtime.a (for the target fuelc runs on) and the header
    /// fuelc_runtime.h.
    Runtime {
        /// The directory to write them into.
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
    },
}

/// What a WASI command may reach; nothing else of the host is.
#[derive(clap::Args)]
struct GrantArgs {
    /// Preopen host directory HOST, seen by the command as GUEST (default:
    /// HOST). May be repeated.
    #[arg(long, value_name = "HOST[::GUEST]")]
    dir: Vec<String>,
    /// Set an environment variable of the command. May be repeated.
    #[arg(long, value_name = "KEY=VALUE")]
    env: Vec<String>,
}

impl GrantArgs {
    /// Whether any capability was granted.
    fn any(&self) -> bool {
        !self.dir.is_empty() || !self.env.is_empty()
    }

    fn dirs(&self) -> Result<Vec<DirGrant>> {
        self.dir
            .iter()
            .map(|d| DirGrant::parse(d).map_err(|e| anyhow!(e)))
            .collect()
    }

    fn env(&self) -> Result<Vec<(String, String)>> {
        self.env
            .iter()
            .map(|e| command::parse_env_var(e).map_err(|e| anyhow!(e)))
            .collect()
    }
}

#[derive(clap::Args)]
struct CodegenArgs {
    /// Target triple (default: the host).
    #[arg(long)]
    target: Option<String>,
    /// Optimization level.
    #[arg(long, value_enum, default_value = "speed")]
    opt_level: OptArg,
    /// How memory accesses are kept in bounds.
    #[arg(long, value_enum, default_value = "guard")]
    bounds_checks: BoundsArg,
    /// Symbol prefix (default: derived from the input file name).
    #[arg(long)]
    prefix: Option<String>,
    /// Fuel metering: `off` (the default), `exact` or `per-op`; with `run`,
    /// a number sets the fuel budget (and implies `exact` unless a mode is
    /// given). May be repeated: `--fuel per-op --fuel 1000`.
    #[arg(long, value_name = "MODE|N")]
    fuel: Vec<String>,
    /// Cost model: `wasmtime` (the default), `uniform`, or a TOML file.
    #[arg(long, value_name = "wasmtime|uniform|FILE")]
    cost_model: Option<String>,
}

/// The fuel settings of one command line.
struct FuelArgs {
    mode: Option<FuelMode>,
    budget: Option<u64>,
}

impl CodegenArgs {
    fn fuel(&self) -> Result<FuelArgs> {
        let mut args = FuelArgs {
            mode: None,
            budget: None,
        };
        let mut off = false;
        for value in &self.fuel {
            match value.as_str() {
                "off" => off = true,
                "exact" => args.mode = Some(FuelMode::Exact),
                "per-op" => args.mode = Some(FuelMode::PerOp),
                n => {
                    let budget = n.parse::<u64>().map_err(|_| {
                        anyhow!("--fuel {n:?} is neither off, exact, per-op nor a fuel budget")
                    })?;
                    args.budget = Some(budget);
                }
            }
        }
        if off {
            if args.mode.is_some() || args.budget.is_some() {
                bail!("--fuel off cannot be combined with another --fuel value");
            }
            return Ok(args);
        }
        if args.budget.is_some() && args.mode.is_none() {
            args.mode = Some(FuelMode::Exact);
        }
        if args.mode.is_none() && self.cost_model.is_some() {
            bail!("--cost-model needs --fuel exact or --fuel per-op");
        }
        Ok(args)
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum OptArg {
    None,
    Speed,
    #[value(name = "speed_and_size")]
    SpeedAndSize,
}

#[derive(Clone, Copy, ValueEnum)]
enum BoundsArg {
    /// Guard pages around a reserved region; no checks in code.
    Guard,
    /// Compare every access with the memory's length.
    Explicit,
}

impl CodegenArgs {
    fn options(&self, input: &Path, fuel: &FuelArgs) -> Result<CompileOptions> {
        let metering = match fuel.mode {
            None => None,
            Some(mode) => Some(Metering {
                mode,
                costs: CostModel::from_arg(self.cost_model.as_deref().unwrap_or("wasmtime"))?,
            }),
        };
        let target = match &self.target {
            Some(t) => t
                .parse::<Triple>()
                .map_err(|e| anyhow!("unsupported target {t}: {e}"))?,
            None => Triple::host(),
        };
        let stem = input
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("module");
        let prefix = match &self.prefix {
            Some(p) if *p != sanitize_prefix(p) => bail!("--prefix {p:?} is not a C identifier"),
            Some(p) => p.clone(),
            None => sanitize_prefix(stem),
        };
        Ok(CompileOptions {
            target,
            opt_level: match self.opt_level {
                OptArg::None => OptLevel::None,
                OptArg::Speed => OptLevel::Speed,
                OptArg::SpeedAndSize => OptLevel::SpeedAndSize,
            },
            bounds_checks: match self.bounds_checks {
                BoundsArg::Guard => BoundsChecks::Guard,
                BoundsArg::Explicit => BoundsChecks::Explicit,
            },
            prefix,
            metering,
        })
    }
}

/// Reads a module, converting the text format to binary. Input that is
/// not UTF-8 text is taken as binary, so the binary parser reports where it
/// goes wrong.
fn read_module(input: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    if std::str::from_utf8(&bytes).is_err() {
        return Ok(bytes);
    }
    match wat::parse_bytes(&bytes) {
        Ok(wasm) => Ok(wasm.into_owned()),
        Err(mut e) => {
            e.set_path(input);
            Err(anyhow!(one_line_text_error(&e.to_string())))
        }
    }
}

/// Folds a multi-line text-format error (message, then `--> file:line:col`
/// and a source excerpt) into `file:line:col: message`.
fn one_line_text_error(text: &str) -> String {
    let mut lines = text.lines();
    let message = lines.next().unwrap_or("invalid text module").trim();
    match lines.find_map(|l| l.trim_start().strip_prefix("--> ")) {
        Some(location) => format!("{}: {message}", location.trim()),
        None => message.to_string(),
    }
}

/// An error that was already printed, so `main` only sets the exit status.
#[derive(Debug)]
struct ErrorAlreadyReported;

impl std::fmt::Display for ErrorAlreadyReported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("error already reported")
    }
}

impl std::error::Error for ErrorAlreadyReported {}

fn parse_arg(text: &str, ty: ValType) -> Result<Val> {
    let bad = || anyhow!("argument {text:?} is not a valid {ty:?}");
    Ok(match ty {
        ValType::I32 => Val::I32(
            text.parse::<i32>()
                .or_else(|_| text.parse::<u32>().map(|u| u as i32))
                .map_err(|_| bad())?,
        ),
        ValType::I64 => Val::I64(
            text.parse::<i64>()
                .or_else(|_| text.parse::<u64>().map(|u| u as i64))
                .map_err(|_| bad())?,
        ),
        ValType::F32 => Val::F32(text.parse::<f32>().map_err(|_| bad())?.to_bits()),
        ValType::F64 => Val::F64(text.parse::<f64>().map_err(|_| bad())?.to_bits()),
        other => bail!("parameters of type {other:?} cannot be given on the command line"),
    })
}

fn format_val(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".to_string(),
        Val::FuncRef(Some(_)) => "funcref".to_string(),
        Val::ExternRef(Some(h)) => format!("externref:{h}"),
        Val::V128(bits) => format!("v128:0x{bits:032x}"),
    }
}

/// Compiles `input` for the host and loads it into this process.
fn load(input: &Path, codegen: &CodegenArgs, fuel: &FuelArgs) -> Result<fuelc_runtime::Module> {
    let wasm = read_module(input)?;
    let options = codegen.options(input, fuel)?;
    if options.target != Triple::host() {
        bail!("run needs the host target, not {}", options.target);
    }
    let object = compile(&wasm, &options)?;
    Ok(fuelc::loader::load_object(&object, &options.prefix)?)
}

/// `fuelc run` without `--invoke`: runs `input` as a WASI command with
/// `args` and `grants`, and returns its exit status.
fn run_command(
    input: &Path,
    args: &[String],
    grants: &GrantArgs,
    codegen: &CodegenArgs,
) -> Result<u8> {
    let fuel = codegen.fuel()?;
    let module = load(input, codegen, &fuel)?;
    let program = input.file_name().unwrap_or(input.as_os_str());
    let options = CommandOptions {
        args: std::iter::once(program.to_string_lossy().into_owned())
            .chain(args.iter().cloned())
            .collect(),
        env: grants.env()?,
        dirs: grants.dirs()?,
        fuel: fuel.budget,
        report_fuel: fuel.mode.is_some(),
    };
    // Process exit statuses keep the low 8 bits, as for a native program.
    Ok(command::run(&module, &options) as u8)
}

/// `fuelc run --invoke`: calls one export of `input` with `args` and prints
/// its results.
fn invoke_export(input: &Path, invoke: &str, args: &[String], codegen: &CodegenArgs) -> Result<()> {
    let fuel = codegen.fuel()?;
    let module = load(input, codegen, &fuel)?;
    if let Some(import) = module.metadata().imports.first() {
        bail!(
            "the module imports {}.{}, and `fuelc run` provides no imports",
            import.module,
            import.field
        );
    }
    let exported = module
        .metadata()
        .exports
        .iter()
        .any(|e| e.name == invoke && e.kind == ExportKind::Func);
    if !exported {
        bail!("the module exports no function named {invoke:?}");
    }
    let mut store = Store::new();
    let instance = store
        .instantiate(&module, &[])
        .map_err(|e| anyhow!("{e}"))?;
    let Some(Extern::Func(func)) = store.export(instance, invoke) else {
        bail!("the module exports no function named {invoke:?}");
    };
    let ty = store.func_type(func);
    if ty.params.len() != args.len() {
        bail!(
            "{invoke} takes {} arguments, {} given",
            ty.params.len(),
            args.len()
        );
    }
    let vals = args
        .iter()
        .zip(&ty.params)
        .map(|(a, t)| parse_arg(a, *t))
        .collect::<Result<Vec<_>>>()?;
    if fuel.mode.is_some() {
        store.set_fuel(fuel.budget.unwrap_or(u64::MAX));
    }
    let outcome = store.call(func, &vals);
    if let Ok(results) = &outcome {
        for r in results {
            println!("{}", format_val(r));
        }
    }
    if fuel.mode.is_some() {
        // The fuel line comes last on stderr, after any error line.
        let remaining = store.fuel_remaining();
        let consumed = store.fuel_consumed();
        if let Err(e) = &outcome {
            eprintln!("error: {e}");
        }
        eprintln!("fuel: consumed {consumed}, remaining {remaining}");
        if outcome.is_err() {
            return Err(anyhow!(ErrorAlreadyReported));
        }
        return Ok(());
    }
    outcome.map(|_| ()).map_err(|e| anyhow!("{e}"))
}

/// `fuelc compile`: writes the object of `input` to `output`, and its C
/// header to `header` if asked.
fn compile_command(
    input: &Path,
    output: &Path,
    header: Option<&Path>,
    fuel_report: bool,
    codegen: &CodegenArgs,
) -> Result<()> {
    let wasm = read_module(input)?;
    let fuel = codegen.fuel()?;
    if fuel.budget.is_some() {
        bail!(
            "a fuel budget applies to `run` and `build`; `compile` takes --fuel off|exact|per-op"
        );
    }
    let options = codegen.options(input, &fuel)?;
    if fuel_report && options.metering.is_none() {
        bail!("--fuel-report reports on metered code: add --fuel exact");
    }
    let object = compile(&wasm, &options)?;
    if header.is_some() || fuel_report {
        let module = fuelc::parse::parse(&wasm, &options.prefix, options.bounds_checks)?;
        if let Some(header) = header {
            let text = fuelc::header::c_header(&module.metadata, &options.prefix)?;
            std::fs::write(header, text)
                .with_context(|| format!("writing {}", header.display()))?;
        }
        if let Some(metering) = &options.metering {
            if fuel_report {
                print!("{}", fuelc::fuel::loop_report(&module, metering)?);
            }
        }
    }
    std::fs::write(output, object).with_context(|| format!("writing {}", output.display()))
}

/// `fuelc build`: links `input` into the executable `output`.
fn build(input: &Path, output: &Path, grants: &GrantArgs, codegen: &CodegenArgs) -> Result<()> {
    let wasm = read_module(input)?;
    let fuel = codegen.fuel()?;
    let options = codegen.options(input, &fuel)?;
    // Checked now so a bad grant fails the build, not every run.
    grants.dirs()?;
    grants.env()?;
    let object = compile(&wasm, &options)?;
    let grants = Grants {
        dirs: grants.dir.clone(),
        env: grants.env.clone(),
        fuel: fuel.budget,
    };
    executable::link_executable(&object, &options.prefix, &options.target, &grants, output)?;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Compile {
            input,
            output,
            emit_header,
            fuel_report,
            codegen,
        } => compile_command(input, output, emit_header.as_deref(), *fuel_report, codegen),
        Command::Run {
            input,
            invoke: Some(name),
            grants,
            args,
            codegen,
        } => {
            if grants.any() {
                Err(anyhow!(
                    "--dir and --env apply to WASI commands, not to --invoke"
                ))
            } else {
                invoke_export(input, name, args, codegen)
            }
        }
        Command::Run {
            input,
            invoke: None,
            grants,
            args,
            codegen,
        } => match run_command(input, args, grants, codegen) {
            Ok(status) => return ExitCode::from(status),
            Err(e) => Err(e),
        },
        Command::Build {
            input,
            output,
            grants,
            codegen,
        } => build(input, output, grants, codegen),
        Command::Runtime { out_dir } => (|| {
            std::fs::create_dir_all(out_dir)
                .with_context(|| format!("creating {}", out_dir.display()))?;
            runtime_files::write_header(out_dir)?;
            runtime_files::library_for(&Triple::host(), out_dir)?;
            Ok(())
        })(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<ErrorAlreadyReported>() => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
