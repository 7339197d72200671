//! Runs the directives of one `.wast` script against fuelc and its runtime,
//! with the modules compiled in one [`Compilation`] mode: a bounds-check
//! mode, metered or not.
//!
//! Every module goes the whole way a user's module goes: encoded to binary
//! by `wast`, compiled by [`fuelc::compile`] (twice, to check that the
//! output is reproducible), linked and loaded by [`fuelc::loader`] and
//! instantiated in the script's [`Store`].
//!
//! Every directive counts as one assertion; a `module`, `register` or
//! `invoke` passes when it succeeds. `assert_invalid` and `assert_malformed`
//! pass when the module is rejected (by the text parser or the compiler);
//! their expected messages are not compared, since fuelc's wording differs
//! from the reference interpreter's. A module whose directive fails never
//! becomes the current module, nor gets its name: later directives that use
//! it fail rather than run against an older module.
//!
//! In a metered mode every action (a call, or an instantiation with its
//! start function) starts with [`FUEL_BUDGET`] fuel in the store, and the
//! report keeps what each completed action consumed, for the comparison of
//! metering modes in `fuel.rs`. An action that traps keeps no consumption.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use fuelc::fuel::{CostModel, Metering};
use fuelc::CompileOptions;
use fuelc_runtime::abi::{BoundsChecks, FuelMode};
use fuelc_runtime::{CallError, Extern, Instance, InstantiateError, Module, Store, Trap, Val};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::Id;
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke, Wat};

use crate::{panic_message, spectest, values};

/// Stack that wasm code may use, per call from the harness. Files run on
/// threads with a much larger stack (see `main.rs`), so host frames always
/// have room left when wasm exhausts this.
const MAX_WASM_STACK: usize = 16 << 20;

/// Failures shown per file; the rest are only counted.
pub const SHOWN_FAILURES: usize = 5;

/// Fuel in a metered script's store when each action starts: far more than
/// any action of the suite consumes, and far from overflowing when added to.
const FUEL_BUDGET: u64 = u64::MAX / 2;

/// How the modules of a script are compiled.
#[derive(Clone, Copy, Debug)]
pub struct Compilation {
    /// How memory accesses are kept in bounds.
    pub bounds_checks: BoundsChecks,
    /// The metering mode, with [`CostModel::uniform`] costs; `None` for
    /// unmetered code.
    pub fuel: Option<FuelMode>,
}

/// What happened to one script.
#[derive(Debug, Default)]
pub struct FileReport {
    /// File name, e.g. `i32.wast`.
    pub name: String,
    /// Directives in the script.
    pub assertions: usize,
    /// Directives that passed.
    pub passed: usize,
    /// Directives that failed.
    pub failed: usize,
    /// Directives not run because the file is unsupported.
    pub skipped: usize,
    /// `file:line:col: message` of every failure, in script order.
    pub failures: Vec<String>,
    /// What each action that completed consumed, in script order; empty
    /// when the modules are not metered.
    pub consumed: Vec<Consumption>,
}

/// The fuel one directive's action consumed, when it completed.
#[derive(Debug)]
pub struct Consumption {
    /// Line of the directive, from 1.
    pub line: usize,
    /// Column of the directive, from 1.
    pub col: usize,
    /// Fuel consumed.
    pub fuel: u64,
}

impl FileReport {
    /// What each action that completed consumed, by the (line, column) of
    /// its directive.
    pub fn costs(&self) -> Costs {
        self.consumed
            .iter()
            .map(|c| ((c.line, c.col), c.fuel))
            .collect()
    }

    /// A report with a single failure that is not tied to a directive, such
    /// as a parse error or a panic.
    pub fn broken(name: &str, message: String) -> FileReport {
        FileReport {
            name: name.to_owned(),
            assertions: 1,
            failed: 1,
            failures: vec![format!("{name}: {message}")],
            ..FileReport::default()
        }
    }
}

/// Parses `text` as a `.wast` script and calls `f` with its directives.
///
/// The lexer allows confusing Unicode (bidirectional overrides and the like)
/// in strings and comments, which `names.wast` has on purpose.
pub fn with_script<R>(
    text: &str,
    f: impl FnOnce(Vec<WastDirective<'_>>) -> R,
) -> Result<R, String> {
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let located = |e: wast::Error| {
        let (line, col) = e.span().linecol_in(text);
        format!("{}:{}: {}", line + 1, col + 1, e.message())
    };
    let buffer = ParseBuffer::new_with_lexer(lexer).map_err(located)?;
    let script = parser::parse::<Wast<'_>>(&buffer).map_err(located)?;
    Ok(f(script.directives))
}

/// The fuel that each action which completed in `per-op` mode consumed
/// there, by the (line, column) of its directive: the budgets of a run at
/// the boundary (see [`run_file`]).
pub type Costs = HashMap<(usize, usize), u64>;

/// Runs the script `text` of file `name` with its modules compiled as
/// `compilation` says; `stem` (a C identifier) makes the symbol prefixes of
/// its modules unique.
///
/// With `boundary`, each action listed there runs at the boundary of its
/// cost C instead of with [`FUEL_BUDGET`]: with C − 1 fuel and an
/// out-of-fuel handler that grants what is missing once. Metered as
/// `per-op` would, it runs out exactly once, at its last charge, with
/// `remaining = required - 1`; then it completes with 0 left. Any other
/// handler call or total fails the directive (`docs/fuel.md`, point 1).
pub fn run_file(
    name: &str,
    stem: &str,
    text: &str,
    compilation: Compilation,
    boundary: Option<&Costs>,
) -> FileReport {
    let mut report = FileReport {
        name: name.to_owned(),
        ..FileReport::default()
    };
    let outcome = with_script(text, |directives| {
        let mut runner = Runner::new(stem, compilation)?;
        for directive in directives {
            let (line, col) = directive.span().linecol_in(text);
            let (line, col) = (line + 1, col + 1);
            report.assertions += 1;
            runner.boundary_cost = boundary.and_then(|costs| costs.get(&(line, col)).copied());
            let result = runner.run(directive);
            if let Some(fuel) = runner.consumed.take() {
                report.consumed.push(Consumption { line, col, fuel });
            }
            match result {
                Ok(()) => report.passed += 1,
                Err(message) => {
                    report.failed += 1;
                    report
                        .failures
                        .push(format!("{name}:{line}:{col}: {message}"));
                }
            }
        }
        Ok::<(), String>(())
    });
    match outcome.and_then(|result| result) {
        Ok(()) => report,
        Err(message) => FileReport::broken(name, message),
    }
}

/// Why an action or a module failed.
enum Failure {
    /// Encoding, compiling or loading the module failed (a module that
    /// compiles to different objects twice fails here too).
    Build(String),
    /// The compiler panicked, which it must not do on any input.
    CompilerPanic(String),
    /// Instantiation failed to link, including imports no one provides.
    Link(String),
    /// Wasm code, or instantiation, trapped.
    Trap(Trap),
    /// The runtime ran out of a resource or rejected the call's arguments.
    Runtime(String),
    /// The script names something that does not exist.
    Script(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Build(m) => write!(f, "{m}"),
            Failure::CompilerPanic(m) => write!(f, "compiler panicked: {m}"),
            Failure::Link(m) => write!(f, "link error: {m}"),
            Failure::Trap(t) => write!(f, "trap in {}: {}", t.function, t.code.message()),
            Failure::Runtime(m) => write!(f, "runtime error: {m}"),
            Failure::Script(m) => write!(f, "{m}"),
        }
    }
}

impl From<InstantiateError> for Failure {
    fn from(e: InstantiateError) -> Failure {
        match e {
            InstantiateError::Link(m) => Failure::Link(m),
            InstantiateError::Trap(t) => Failure::Trap(t),
            InstantiateError::Resource(m) => Failure::Runtime(m),
            InstantiateError::Exit(status) => Failure::Runtime(format!("exit {status}")),
        }
    }
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Failure {
        match e {
            CallError::Trap(t) => Failure::Trap(t),
            CallError::Arguments(m) => Failure::Runtime(format!("bad arguments: {m}")),
            CallError::Exit(status) => Failure::Runtime(format!("exit {status}")),
        }
    }
}

/// Checks that an action trapped with the `expected` message.
fn expect_trap(result: Result<Vec<Val>, Failure>, expected: &str) -> Result<(), String> {
    match result {
        Err(Failure::Trap(trap)) if trap_matches(trap.code.message(), expected) => Ok(()),
        Err(e) => Err(format!("expected trap {expected:?}, got {e}")),
        Ok(vals) => Err(format!(
            "expected trap {expected:?}, got [{}]",
            values::describe_vals(&vals)
        )),
    }
}

/// Whether a trap with message `actual` is the trap a script expects.
///
/// The reference interpreter sometimes appends details to its messages
/// (`bulk.wast` expects "uninitialized element 2"), so an expected message
/// that starts with the actual one matches too.
fn trap_matches(actual: &str, expected: &str) -> bool {
    actual.contains(expected) || expected.starts_with(actual)
}

/// The state of one script: its store, the modules it loaded and the names
/// its instances are known by.
struct Runner {
    /// Dropped first, before the modules whose code its instances use.
    store: Store,
    modules: Vec<Module>,
    spectest: HashMap<String, Extern>,
    registered: HashMap<String, Instance>,
    named: HashMap<String, Instance>,
    current: Option<Instance>,
    stem: String,
    compiled: usize,
    bounds_checks: BoundsChecks,
    metering: Option<Metering>,
    /// What the current directive's action consumed, once it completed
    /// (metered scripts only).
    consumed: Option<u64>,
    /// The cost in `per-op` mode of the current directive's action, when it
    /// runs at the boundary of that cost (see [`run_file`]).
    boundary_cost: Option<u64>,
}

impl Runner {
    fn new(stem: &str, compilation: Compilation) -> Result<Runner, String> {
        let mut store = Store::new();
        store.set_max_stack(MAX_WASM_STACK);
        let spectest = spectest::create(&mut store)
            .map_err(|e| format!("cannot create the spectest module: {e}"))?;
        Ok(Runner {
            store,
            modules: Vec::new(),
            spectest,
            registered: HashMap::new(),
            named: HashMap::new(),
            current: None,
            stem: stem.to_owned(),
            compiled: 0,
            bounds_checks: compilation.bounds_checks,
            metering: compilation.fuel.map(|mode| Metering {
                mode,
                costs: CostModel::uniform(),
            }),
            consumed: None,
            boundary_cost: None,
        })
    }

    fn run(&mut self, directive: WastDirective<'_>) -> Result<(), String> {
        match directive {
            WastDirective::Module(mut module) => self.define(&mut module),
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module).map_err(|e| e.to_string())?;
                self.registered.insert(name.to_owned(), instance);
                Ok(())
            }
            WastDirective::Invoke(invoke) => {
                self.invoke(&invoke).map(drop).map_err(|e| e.to_string())
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                let actual = self.execute(exec).map_err(|e| e.to_string())?;
                values::check_results(&results, &actual)
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                expect_trap(self.execute(exec), message)
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                expect_trap(self.invoke(&call), message)
            }
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            } => self.expect_rejected(&mut module, message, false),
            WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => self.expect_rejected(&mut module, message, true),
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => match self.instantiate_wat(&mut module) {
                Err(Failure::Link(_)) => Ok(()),
                Ok(_) => Err(format!("expected link error {message:?}, but it linked")),
                Err(e) => Err(format!("expected link error {message:?}, got {e}")),
            },
            _ => Err("directive outside WebAssembly 2.0 (module definitions and \
                      instances, threads, exceptions, custom-section assertions)"
                .into()),
        }
    }

    /// `(module $id? ...)`: instantiates the module and makes it current.
    fn define(&mut self, module: &mut QuoteWat<'_>) -> Result<(), String> {
        let name = module.name().map(|id| id.name().to_owned());
        self.current = None;
        if let Some(name) = &name {
            self.named.remove(name);
        }
        let wasm = module
            .encode()
            .map_err(|e| format!("text format error: {}", e.message()))?;
        let instance = self.instantiate(&wasm).map_err(|e| e.to_string())?;
        self.current = Some(instance);
        if let Some(name) = name {
            self.named.insert(name, instance);
        }
        Ok(())
    }

    /// `assert_invalid` / `assert_malformed`: the module must be rejected by
    /// the text parser (only for malformed modules) or by the compiler.
    fn expect_rejected(
        &mut self,
        module: &mut QuoteWat<'_>,
        message: &str,
        malformed: bool,
    ) -> Result<(), String> {
        let wasm = match module.encode() {
            Ok(wasm) => wasm,
            Err(_) if malformed => return Ok(()),
            Err(e) => {
                return Err(format!(
                    "invalid module {message:?} does not even encode: {}",
                    e.message()
                ))
            }
        };
        let prefix = self.next_prefix();
        match self.compile(&wasm, &prefix) {
            Err(Failure::CompilerPanic(m)) => Err(format!("compiler panicked: {m}")),
            Err(_) => Ok(()),
            Ok(_) => Err(format!("module compiled, but expected {message:?}")),
        }
    }

    /// Runs an action: a call, a global read, or the instantiation of a
    /// module that is not kept (it yields no values).
    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>, Failure> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?;
                match self.store.export(instance, global) {
                    Some(Extern::Global(g)) => Ok(vec![self.store.global_get(g)]),
                    _ => Err(Failure::Script(format!("no global export {global:?}"))),
                }
            }
            WastExecute::Wat(mut wat) => self.instantiate_wat(&mut wat).map(|_| Vec::new()),
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>, Failure> {
        let instance = self.instance(invoke.module)?;
        let Some(Extern::Func(func)) = self.store.export(instance, invoke.name) else {
            return Err(Failure::Script(format!(
                "no function export {:?}",
                invoke.name
            )));
        };
        let args = invoke
            .args
            .iter()
            .map(values::to_val)
            .collect::<Result<Vec<_>, _>>()
            .map_err(Failure::Script)?;
        self.metered(|store| store.call(func, &args))
    }

    /// Runs `action` on the store. In a metered script the store first gets
    /// [`FUEL_BUDGET`] fuel (or one less than the action's cost, at the
    /// boundary), and what the action consumed, if it completed, becomes the
    /// directive's consumption once the store's two counters agree on it.
    fn metered<T, E>(
        &mut self,
        action: impl FnOnce(&mut Store) -> Result<T, E>,
    ) -> Result<T, Failure>
    where
        Failure: From<E>,
    {
        if self.metering.is_none() {
            return Ok(action(&mut self.store)?);
        }
        let budget = self
            .boundary_cost
            .map_or(FUEL_BUDGET, |cost| cost.saturating_sub(1));
        let handler_calls = Rc::new(RefCell::new(Vec::new()));
        if self.boundary_cost.is_some() {
            let calls = Rc::clone(&handler_calls);
            self.store
                .set_out_of_fuel_handler(move |required: u64, remaining: u64| {
                    let mut calls = calls.borrow_mut();
                    calls.push((required, remaining));
                    (calls.len() == 1).then(|| required.saturating_sub(remaining))
                });
        }
        self.store.set_fuel(budget);
        let before = self.store.fuel_consumed();
        let value = action(&mut self.store);
        if self.boundary_cost.is_some() {
            self.store.set_out_of_fuel_handler(|_, _| None);
        }
        let value = value?;
        let after = self.store.fuel_consumed();
        let remaining = self.store.fuel_remaining();
        let granted: u64 = handler_calls
            .borrow()
            .first()
            .map_or(0, |&(required, remaining)| required - remaining);
        let consumed = match after.checked_sub(before) {
            Some(consumed) if consumed.checked_add(remaining) == Some(budget + granted) => consumed,
            _ => {
                return Err(Failure::Runtime(format!(
                    "fuel accounting: consumed {before} before and {after} after the action, \
                     {remaining} remaining of {budget} + {granted}"
                )))
            }
        };
        if let Some(cost) = self.boundary_cost {
            let calls = handler_calls.borrow();
            let expected_calls = match cost {
                0 => 0,
                _ => 1,
            };
            let at_last_charge = calls
                .iter()
                .all(|&(required, remaining)| remaining.checked_add(1) == Some(required));
            if consumed != cost
                || remaining != 0
                || calls.len() != expected_calls
                || !at_last_charge
            {
                return Err(Failure::Runtime(format!(
                    "fuel boundary: per-op mode consumes {cost}; with {budget} fuel this mode \
                     consumed {consumed} and left {remaining}, and the out-of-fuel handler saw \
                     (required, remaining) {calls:?}"
                )));
            }
        }
        self.consumed = Some(consumed);
        Ok(value)
    }

    /// The instance named `id`, or the current one.
    fn instance(&self, id: Option<Id<'_>>) -> Result<Instance, Failure> {
        match id {
            Some(id) => self
                .named
                .get(id.name())
                .copied()
                .ok_or_else(|| Failure::Script(format!("no module instance ${}", id.name()))),
            None => self
                .current
                .ok_or_else(|| Failure::Script("no current module instance".into())),
        }
    }

    fn instantiate_wat(&mut self, wat: &mut Wat<'_>) -> Result<Instance, Failure> {
        let wasm = wat
            .encode()
            .map_err(|e| Failure::Build(format!("text format error: {}", e.message())))?;
        self.instantiate(&wasm)
    }

    /// Compiles, loads and instantiates `wasm` with imports resolved from
    /// `spectest` and the registered instances.
    fn instantiate(&mut self, wasm: &[u8]) -> Result<Instance, Failure> {
        let prefix = self.next_prefix();
        let object = self.compile(wasm, &prefix)?;
        let again = self.compile(wasm, &prefix)?;
        if again != object {
            let at = object
                .iter()
                .zip(&again)
                .position(|(a, b)| a != b)
                .unwrap_or(object.len().min(again.len()));
            return Err(Failure::Build(format!(
                "not reproducible: compiling the module twice gave different objects \
                 (first difference at byte {at})"
            )));
        }
        let module = fuelc::loader::load_object(&object, &prefix)
            .map_err(|e| Failure::Build(format!("load error: {e}")))?;
        let metadata = module.metadata();
        let recorded = (metadata.bounds_checks, metadata.fuel);
        let expected = (
            self.bounds_checks,
            self.metering.as_ref().map(|m| m.costs.metadata(m.mode)),
        );
        if recorded != expected {
            return Err(Failure::Build(format!(
                "compiled with (bounds checks, fuel) {expected:?}, \
                 but the object records {recorded:?}"
            )));
        }
        let imports = module
            .metadata()
            .imports
            .iter()
            .map(|import| {
                self.resolve(&import.module, &import.field).ok_or_else(|| {
                    Failure::Link(format!(
                        "unknown import {:?}.{:?}",
                        import.module, import.field
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>();
        let result =
            imports.and_then(|imports| self.metered(|store| store.instantiate(&module, &imports)));
        self.modules.push(module);
        result
    }

    fn resolve(&self, module: &str, field: &str) -> Option<Extern> {
        if module == "spectest" {
            return self.spectest.get(field).copied();
        }
        let instance = *self.registered.get(module)?;
        self.store.export(instance, field)
    }

    fn next_prefix(&mut self) -> String {
        self.compiled += 1;
        format!("spec_{}_{}", self.stem, self.compiled)
    }

    /// Compiles `wasm` for the host in the script's compilation mode; a
    /// compiler panic is caught, so that it fails this module only.
    fn compile(&self, wasm: &[u8], prefix: &str) -> Result<Vec<u8>, Failure> {
        let options = CompileOptions {
            bounds_checks: self.bounds_checks,
            metering: self.metering.clone(),
            ..CompileOptions::host(prefix)
        };
        match catch_unwind(AssertUnwindSafe(|| fuelc::compile(wasm, &options))) {
            Ok(Ok(object)) => Ok(object),
            Ok(Err(e)) => Err(Failure::Build(format!("compile error: {e}"))),
            Err(payload) => Err(Failure::CompilerPanic(panic_message(payload.as_ref()))),
        }
    }
}
