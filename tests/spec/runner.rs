//! Runs the directives of one `.wast` script against fuelc and its runtime.
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

use std::collections::HashMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use fuelc::CompileOptions;
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
}

impl FileReport {
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

/// Runs the script `text` of file `name`; `stem` (a C identifier) makes the
/// symbol prefixes of its modules unique.
pub fn run_file(name: &str, stem: &str, text: &str) -> FileReport {
    let mut report = FileReport {
        name: name.to_owned(),
        ..FileReport::default()
    };
    let outcome = with_script(text, |directives| {
        let mut runner = Runner::new(stem)?;
        for directive in directives {
            let span = directive.span();
            report.assertions += 1;
            match runner.run(directive) {
                Ok(()) => report.passed += 1,
                Err(message) => {
                    let (line, col) = span.linecol_in(text);
                    report.failed += 1;
                    report
                        .failures
                        .push(format!("{name}:{}:{}: {message}", line + 1, col + 1));
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
        }
    }
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Failure {
        match e {
            CallError::Trap(t) => Failure::Trap(t),
            CallError::Arguments(m) => Failure::Runtime(format!("bad arguments: {m}")),
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
}

impl Runner {
    fn new(stem: &str) -> Result<Runner, String> {
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
        match compile(&wasm, &prefix) {
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
        Ok(self.store.call(func, &args)?)
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
        let object = compile(wasm, &prefix)?;
        let again = compile(wasm, &prefix)?;
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
        let result = imports.and_then(|imports| Ok(self.store.instantiate(&module, &imports)?));
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
}

/// Compiles `wasm` for the host; a compiler panic is caught, so that it
/// fails this module only.
fn compile(wasm: &[u8], prefix: &str) -> Result<Vec<u8>, Failure> {
    let options = CompileOptions::host(prefix);
    match catch_unwind(AssertUnwindSafe(|| fuelc::compile(wasm, &options))) {
        Ok(Ok(object)) => Ok(object),
        Ok(Err(e)) => Err(Failure::Build(format!("compile error: {e}"))),
        Err(payload) => Err(Failure::CompilerPanic(panic_message(payload.as_ref()))),
    }
}
