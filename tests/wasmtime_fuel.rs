//! Differential test of fuel metering against Wasmtime itself.
//!
//! For every program in `tests/fuel_programs/*.wat` and every invocation
//! it lists, the call runs three times: in fuelc with the `wasmtime` cost
//! model in `exact` mode, the same in `per-op` mode, and in Wasmtime 50
//! with `consume_fuel` on (`tests/wasmtime_fuel.py`, which uses the
//! `wasmtime` package from PyPI). All three must return the same values and
//! consume the same fuel (`docs/fuel.md`: on a run that completes, fuelc's
//! consumed fuel equals Wasmtime's). The test prints a table and the line
//! `wasmtime differential: P programs, I invocations, E equal, D differ`,
//! and fails if any invocation differs or fewer than [`MIN_PROGRAMS`]
//! programs ran.
//!
//! Programs and invocations are read by `support/programs.rs`. Each
//! invocation is called with no imports, on a fresh instance in a fresh
//! store. Results are
//! compared as `TYPE:VALUE` text, floats by their bits. Both sides set the
//! fuel to [`BUDGET`] before instantiation (Wasmtime spends fuel on some
//! constant expressions there) and again right before the call, and compare
//! the fuel the call alone consumed. The programs have no start function
//! (Wasmtime charges one 2 more; see `docs/fuel.md`).
//!
//! Environment: with `FUELC_SPEC_REQUIRED=1` (set by CI) a missing
//! `python3`, a missing `wasmtime` package or a version other than 50 fails
//! the test; otherwise the test prints why it skipped and passes.

#[path = "support/programs.rs"]
mod programs;

use std::fmt;
use std::io::ErrorKind;
use std::path::Path;

use programs::{load_programs, typed_args, Invocation, Program};
use std::process::{Child, Command, Stdio};

use fuelc::fuel::{CostModel, Metering};
use fuelc::CompileOptions;
use fuelc_runtime::abi::FuelMode;
use fuelc_runtime::{Extern, Module, Store, Val};

/// Fuel given to each store before instantiation and before the call.
const BUDGET: u64 = 1 << 40;

/// Fewest programs the test accepts.
const MIN_PROGRAMS: usize = 20;

/// The script that runs one invocation in Wasmtime.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wasmtime_fuel.py");

/// The script's exit status when the `wasmtime` package cannot be imported.
const EXIT_NO_WASMTIME: i32 = 3;

/// The Wasmtime version the cost model reproduces (a version prefix).
const WASMTIME_VERSION: &str = "50.";

/// How to get that version (what `.ci/run` does).
const INSTALL: &str = "install it with `python3 -m pip install wasmtime==50.0.1`";

/// fuelc's modes, in table order, with the tag used in symbol prefixes.
const MODES: [(FuelMode, &str); 2] = [(FuelMode::Exact, "exact"), (FuelMode::PerOp, "per_op")];

/// How one run of an invocation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    /// The call returned `results` (as `TYPE:VALUE`) having consumed `fuel`.
    Returned { results: Vec<String>, fuel: u64 },
    /// The call trapped having consumed `fuel`.
    Trapped { reason: String, fuel: u64 },
    /// The invocation could not be run (compile, load, link or harness
    /// error).
    Failed(String),
}

impl Outcome {
    /// The table cell: the fuel, or what went wrong.
    fn cell(&self) -> String {
        match self {
            Outcome::Returned { fuel, .. } => fuel.to_string(),
            Outcome::Trapped { .. } => "trap".into(),
            Outcome::Failed(_) => "error".into(),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Returned { results, fuel } => {
                write!(f, "returned [{}], fuel {fuel}", results.join(", "))
            }
            Outcome::Trapped { reason, fuel } => write!(f, "trapped ({reason}), fuel {fuel}"),
            Outcome::Failed(message) => write!(f, "error: {message}"),
        }
    }
}

/// One line of the table.
struct Row {
    program: String,
    invocation: String,
    wasmtime: Outcome,
    /// One outcome per entry of [`MODES`].
    fuelc: [Outcome; 2],
}

impl Row {
    /// Whether Wasmtime completed and every fuelc mode matched it exactly.
    fn equal(&self) -> bool {
        matches!(self.wasmtime, Outcome::Returned { .. })
            && self.fuelc.iter().all(|outcome| *outcome == self.wasmtime)
    }

    fn cells(&self) -> [String; 6] {
        let status = if self.equal() { "equal" } else { "DIFFER" };
        [
            self.program.clone(),
            self.invocation.clone(),
            self.wasmtime.cell(),
            self.fuelc[0].cell(),
            self.fuelc[1].cell(),
            status.into(),
        ]
    }
}

#[test]
fn fuel_matches_wasmtime() {
    let required = std::env::var_os("FUELC_SPEC_REQUIRED").is_some_and(|v| v == "1");
    if let Some(reason) = wasmtime_unavailable() {
        assert!(
            !required,
            "wasmtime differential: {reason} (required by FUELC_SPEC_REQUIRED=1)"
        );
        println!("wasmtime differential: skipped: {reason}");
        return;
    }
    let programs = load_programs();
    let dir = tempfile::tempdir().expect("temporary directory");
    let rows: Vec<Row> = programs
        .iter()
        .flat_map(|program| run_program(program, dir.path()))
        .collect();

    print_table(&rows);
    let differ: Vec<&Row> = rows.iter().filter(|row| !row.equal()).collect();
    for row in &differ {
        println!("differs: {} {}", row.program, row.invocation);
        println!("  wasmtime:     {}", row.wasmtime);
        println!("  fuelc exact:  {}", row.fuelc[0]);
        println!("  fuelc per-op: {}", row.fuelc[1]);
    }
    let summary = format!(
        "wasmtime differential: {} programs, {} invocations, {} equal, {} differ",
        programs.len(),
        rows.len(),
        rows.len() - differ.len(),
        differ.len()
    );
    println!("{summary}");
    assert!(differ.is_empty(), "{summary}");
    assert!(
        programs.len() >= MIN_PROGRAMS,
        "{summary}: at least {MIN_PROGRAMS} programs must run"
    );
}

/// Why Wasmtime 50 cannot be run here, or `None` if it can.
fn wasmtime_unavailable() -> Option<String> {
    let output = match Command::new("python3")
        .arg(SCRIPT)
        .arg("--version")
        .output()
    {
        Ok(output) => output,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            return Some("python3 is not on PATH".into())
        }
        Err(error) => panic!("cannot run python3: {error}"),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => {}
        Some(EXIT_NO_WASMTIME) => {
            return Some(format!(
                "the Python package wasmtime is missing ({}); {INSTALL}",
                stderr.trim()
            ))
        }
        _ => panic!("{SCRIPT} --version failed ({}): {stderr}", output.status),
    }
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (!version.starts_with(WASMTIME_VERSION))
        .then(|| format!("the Python package wasmtime is version {version}; {INSTALL}"))
}

/// Runs every invocation of `program` in Wasmtime (child processes, which
/// run while fuelc compiles) and in both fuelc modes.
fn run_program(program: &Program, dir: &Path) -> Vec<Row> {
    let wasm_path = dir.join(format!("{}.wasm", program.name));
    std::fs::write(&wasm_path, &program.wasm).expect("write the module");
    let children: Vec<std::io::Result<Child>> = program
        .invocations
        .iter()
        .map(|invocation| spawn_wasmtime(&wasm_path, invocation))
        .collect();
    let modules = MODES.map(|(mode, tag)| compile(program, mode, tag));
    program
        .invocations
        .iter()
        .zip(children)
        .map(|(invocation, child)| Row {
            program: program.name.clone(),
            invocation: invocation.to_string(),
            fuelc: modules
                .each_ref()
                .map(|module| run_fuelc(module, invocation)),
            wasmtime: wasmtime_outcome(child),
        })
        .collect()
}

/// Compiles `program` with the `wasmtime` cost model in `mode` and loads it.
fn compile(program: &Program, mode: FuelMode, tag: &str) -> Result<Module, String> {
    let mut options = CompileOptions::host(&format!("{}_{tag}", program.name));
    options.metering = Some(Metering {
        mode,
        costs: CostModel::wasmtime(),
    });
    let object = fuelc::compile(&program.wasm, &options)
        .map_err(|error| format!("compiling ({tag}): {error}"))?;
    fuelc::loader::load_object(&object, &options.prefix)
        .map_err(|error| format!("loading ({tag}): {error}"))
}

/// Runs `invocation` on a fresh instance of `module` in a fresh store.
fn run_fuelc(module: &Result<Module, String>, invocation: &Invocation) -> Outcome {
    let module = match module {
        Ok(module) => module,
        Err(error) => return Outcome::Failed(error.clone()),
    };
    let mut store = Store::new();
    store.set_fuel(BUDGET);
    let instance = match store.instantiate(module, &[]) {
        Ok(instance) => instance,
        Err(error) => return Outcome::Failed(format!("instantiation: {error}")),
    };
    let Some(Extern::Func(func)) = store.export(instance, &invocation.export) else {
        return Outcome::Failed(format!("no exported function {:?}", invocation.export));
    };
    let args = match typed_args(&store.func_type(func).params, &invocation.args) {
        Ok(args) => args,
        Err(error) => return Outcome::Failed(error),
    };
    store.set_fuel(BUDGET);
    let before = store.fuel_consumed();
    let returned = store.call(func, &args);
    let fuel = store.fuel_consumed() - before;
    if store.fuel_remaining() != BUDGET - fuel {
        return Outcome::Failed(format!(
            "fuel_consumed() grew by {fuel} but fuel_remaining() is {} of {BUDGET}",
            store.fuel_remaining()
        ));
    }
    match returned {
        Ok(values) => Outcome::Returned {
            results: values.iter().map(format_val).collect(),
            fuel,
        },
        Err(error) => Outcome::Trapped {
            reason: error.to_string(),
            fuel,
        },
    }
}

/// A result as `TYPE:VALUE`, written as `tests/wasmtime_fuel.py` writes it.
fn format_val(val: &Val) -> String {
    let null = |is_null: bool| if is_null { "null" } else { "non-null" };
    match val {
        Val::I32(v) => format!("i32:{v}"),
        Val::I64(v) => format!("i64:{v}"),
        Val::F32(bits) => format!("f32:{bits:#010x}"),
        Val::F64(bits) => format!("f64:{bits:#018x}"),
        Val::FuncRef(r) => format!("funcref:{}", null(r.is_none())),
        Val::ExternRef(r) => format!("externref:{}", null(r.is_none())),
        Val::V128(bits) => format!("v128:{bits:#034x}"),
    }
}

fn spawn_wasmtime(wasm_path: &Path, invocation: &Invocation) -> std::io::Result<Child> {
    Command::new("python3")
        .arg(SCRIPT)
        .arg(wasm_path)
        .arg(&invocation.export)
        .args(invocation.args.iter().map(i64::to_string))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Waits for the script and reads its line of JSON.
fn wasmtime_outcome(child: std::io::Result<Child>) -> Outcome {
    let output = match child.and_then(Child::wait_with_output) {
        Ok(output) => output,
        Err(error) => return Outcome::Failed(format!("cannot run {SCRIPT}: {error}")),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Outcome::Failed(format!(
            "{SCRIPT} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    json::parse(&stdout)
        .and_then(|value| script_outcome(&value))
        .unwrap_or_else(|error| Outcome::Failed(format!("bad output {stdout:?}: {error}")))
}

/// The outcome in the script's JSON: `{"results": [...], "fuel": N}` or
/// `{"trap": "...", "fuel": N}`.
fn script_outcome(value: &json::Value) -> Result<Outcome, String> {
    let fuel = match value.field("fuel")? {
        json::Value::Number(fuel) => *fuel,
        _ => return Err("`fuel` is not a number".into()),
    };
    if let Ok(json::Value::String(reason)) = value.field("trap") {
        return Ok(Outcome::Trapped {
            reason: reason.clone(),
            fuel,
        });
    }
    let json::Value::Array(items) = value.field("results")? else {
        return Err("`results` is not an array".into());
    };
    let results = items
        .iter()
        .map(|item| match item {
            json::Value::String(text) => Ok(text.clone()),
            _ => Err("a result is not a string".to_owned()),
        })
        .collect::<Result<_, _>>()?;
    Ok(Outcome::Returned { results, fuel })
}

fn print_table(rows: &[Row]) {
    let header = [
        "program",
        "invocation",
        "wasmtime",
        "fuelc exact",
        "fuelc per-op",
        "",
    ]
    .map(String::from);
    let lines: Vec<[String; 6]> = std::iter::once(header)
        .chain(rows.iter().map(Row::cells))
        .collect();
    let mut widths = [0; 6];
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.len());
        }
    }
    for line in &lines {
        let text: Vec<String> = line
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(column, (cell, width))| match column {
                0 | 1 => format!("{cell:<width$}"),
                _ => format!("{cell:>width$}"),
            })
            .collect();
        println!("{}", text.join("  ").trim_end());
    }
}

/// Just enough JSON for the script's output: objects, arrays, strings and
/// non-negative integers.
mod json {
    /// A parsed value.
    #[derive(Debug)]
    pub enum Value {
        Number(u64),
        String(String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
    }

    impl Value {
        /// The value of field `name` of an object.
        pub fn field(&self, name: &str) -> Result<&Value, String> {
            let Value::Object(fields) = self else {
                return Err("not an object".into());
            };
            fields
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value)
                .ok_or_else(|| format!("no field `{name}`"))
        }
    }

    /// Parses `text`, which must hold exactly one value.
    pub fn parse(text: &str) -> Result<Value, String> {
        let mut parser = Parser { rest: text };
        let value = parser.value()?;
        if !parser.rest.trim().is_empty() {
            return Err(format!("unexpected {:?} after the value", parser.rest));
        }
        Ok(value)
    }

    struct Parser<'a> {
        rest: &'a str,
    }

    impl Parser<'_> {
        fn value(&mut self) -> Result<Value, String> {
            self.rest = self.rest.trim_start();
            match self.rest.chars().next() {
                Some('"') => self.string().map(Value::String),
                Some('[') => {
                    let mut items = Vec::new();
                    self.sequence('[', ']', |p| {
                        items.push(p.value()?);
                        Ok(())
                    })?;
                    Ok(Value::Array(items))
                }
                Some('{') => {
                    let mut fields = Vec::new();
                    self.sequence('{', '}', |p| {
                        let key = p.string()?;
                        p.expect(':')?;
                        fields.push((key, p.value()?));
                        Ok(())
                    })?;
                    Ok(Value::Object(fields))
                }
                Some(c) if c.is_ascii_digit() => {
                    let end = self
                        .rest
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(self.rest.len());
                    let (digits, rest) = self.rest.split_at(end);
                    self.rest = rest;
                    digits.parse().map(Value::Number).map_err(|e| e.to_string())
                }
                _ => Err(format!("unexpected {:?}", self.rest)),
            }
        }

        /// `open item (, item)* close`, or `open close`.
        fn sequence(
            &mut self,
            open: char,
            close: char,
            mut item: impl FnMut(&mut Self) -> Result<(), String>,
        ) -> Result<(), String> {
            self.expect(open)?;
            if self.eat(close) {
                return Ok(());
            }
            loop {
                item(self)?;
                if self.eat(close) {
                    return Ok(());
                }
                self.expect(',')?;
            }
        }

        fn string(&mut self) -> Result<String, String> {
            self.expect('"')?;
            let mut out = String::new();
            let mut chars = self.rest.char_indices();
            while let Some((at, c)) = chars.next() {
                match c {
                    '"' => {
                        self.rest = &self.rest[at + 1..];
                        return Ok(out);
                    }
                    '\\' => out.push(match chars.next().map(|(_, e)| e) {
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some('u') => {
                            let hex: String = chars.by_ref().take(4).map(|(_, h)| h).collect();
                            u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .unwrap_or(char::REPLACEMENT_CHARACTER)
                        }
                        Some(other) => other,
                        None => break,
                    }),
                    c => out.push(c),
                }
            }
            Err("unterminated string".into())
        }

        fn eat(&mut self, c: char) -> bool {
            self.rest = self.rest.trim_start();
            match self.rest.strip_prefix(c) {
                Some(rest) => {
                    self.rest = rest;
                    true
                }
                None => false,
            }
        }

        fn expect(&mut self, c: char) -> Result<(), String> {
            if self.eat(c) {
                Ok(())
            } else {
                Err(format!("expected {c:?} at {:?}", self.rest))
            }
        }
    }
}
