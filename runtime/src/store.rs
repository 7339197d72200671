//! The [`Store`]: owner of every instance, memory, table, global and host
//! function, the handles that name them, instantiation (import checking,
//! object creation, segment initialization, start function), calls from
//! the host, and the fuel API over the store's one fuel budget.
//!
//! Objects live in stable heap allocations because generated code and the
//! builtins reach them through raw pointers; the store never holds a
//! reference into one across a call into wasm. This file must not build
//! instance contexts (`instance.rs`) or enter wasm by itself (`call.rs`).

use crate::abi::{
    BoundsChecks, ExportKind, FuncRef, FuncType, GlobalCell, GlobalType, ImportKind,
    MemoryDefinition, MemoryType, StoreContext, TableDefinition, TableType, TrapCode, ValRaw,
    ValType,
};
use crate::call::{self, CallError, HostFunc, HostImport, WasmEntry};
use crate::fuel::StoreState;
use crate::global::GlobalObj;
use crate::host::{Caller, HostError};
use crate::instance::{InstanceData, InstantiateError};
use crate::link;
use crate::memory::LinearMemory;
use crate::module::Module;
use crate::table::TableObj;
use crate::trap::Trap;
use crate::val::{check_vals, raw_to_u64, FuncRefSet, Val};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// Default stack budget for wasm entered from the host.
const DEFAULT_MAX_STACK: usize = 1 << 20;

/// The function name reported for traps of element and data segments.
const INSTANTIATION: &str = "<instantiation>";

/// The function name reported for errors of host functions called directly.
const HOST: &str = "<host>";

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(0);

/// A store and an index in one of its object lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Handle {
    store: u64,
    index: u32,
}

/// An instance in a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instance(Handle);

/// A function in a [`Store`]: defined by an instance, or by the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Func {
    store: u64,
    kind: FuncKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum FuncKind {
    /// Defined function `index` (index space) of an instance.
    Wasm { instance: u32, index: u32 },
    /// A host function.
    Host(u32),
}

/// A linear memory in a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Memory(Handle);

/// A table in a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Table(Handle);

/// A global in a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Global(Handle);

/// Something an instance exports or a module imports.
#[derive(Clone, Copy, Debug)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A table.
    Table(Table),
    /// A memory.
    Memory(Memory),
    /// A global.
    Global(Global),
}

/// A heap object at a fixed address, owned here and reached by generated
/// code through raw pointers.
struct Pinned<T>(NonNull<T>);

impl<T> Pinned<T> {
    fn new(value: T) -> Pinned<T> {
        Pinned(NonNull::from(Box::leak(Box::new(value))))
    }

    fn ptr(&self) -> *mut T {
        self.0.as_ptr()
    }

    fn get(&self) -> &T {
        // SAFETY: the object lives until `self` drops. Generated code and
        // builtins only use it while a call borrows the store mutably, and
        // the store holds no reference from here across such a call.
        unsafe { self.0.as_ref() }
    }

    fn get_mut(&mut self) -> &mut T {
        // SAFETY: as in `get`, and `&mut self` makes the access exclusive.
        unsafe { self.0.as_mut() }
    }
}

impl<T> Drop for Pinned<T> {
    fn drop(&mut self) {
        // SAFETY: made by `Box::leak` in `Pinned::new`, freed only here.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// Owns instances and everything they use, and runs their code.
///
/// Objects are never freed before the store. Handles of one store are
/// refused (or read as empty) by every other store.
pub struct Store {
    id: u64,
    state: Pinned<StoreState>,
    refs: Pinned<FuncRefSet>,
    max_stack: usize,
    modules: Vec<Module>,
    instances: Vec<Pinned<InstanceData>>,
    memories: Vec<Pinned<LinearMemory>>,
    tables: Vec<Pinned<TableObj>>,
    globals: Vec<Pinned<GlobalObj>>,
    host_funcs: Vec<Pinned<HostFunc>>,
    host_imports: Vec<Pinned<HostImport>>,
}

impl Default for Store {
    fn default() -> Store {
        Store::new()
    }
}

/// Pushes `value` and returns its index.
fn push<T>(list: &mut Vec<Pinned<T>>, value: T) -> u32 {
    list.push(Pinned::new(value));
    (list.len() - 1) as u32
}

impl Store {
    /// An empty store with a 1 MiB stack budget and no fuel.
    pub fn new() -> Store {
        Store {
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            state: Pinned::new(StoreState::default()),
            refs: Pinned::new(FuncRefSet::default()),
            max_stack: DEFAULT_MAX_STACK,
            modules: Vec::new(),
            instances: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            host_funcs: Vec::new(),
            host_imports: Vec::new(),
        }
    }

    /// Sets how many bytes of stack wasm entered from the host may use;
    /// beyond that it traps with [`TrapCode::StackOverflow`].
    pub fn set_max_stack(&mut self, bytes: usize) {
        self.max_stack = bytes;
    }

    /// The context generated code of this store's instances reads.
    fn context(&self) -> *mut StoreContext {
        StoreState::context(self.state.ptr())
    }

    /// Sets the remaining fuel to `fuel`. Fuel consumed so far stays
    /// counted by [`Store::fuel_consumed`].
    pub fn set_fuel(&mut self, fuel: u64) {
        self.state.get_mut().set(fuel);
    }

    /// Adds `fuel` to the remaining fuel, saturating at `u64::MAX`.
    pub fn add_fuel(&mut self, fuel: u64) {
        self.state.get_mut().add(fuel);
    }

    /// The remaining fuel. A new store has none.
    pub fn fuel_remaining(&self) -> u64 {
        self.state.get().remaining()
    }

    /// The fuel charged since the store was created, by every instance and
    /// call. Setting or adding fuel (here or in the out-of-fuel handler)
    /// does not change it.
    pub fn fuel_consumed(&self) -> u64 {
        self.state.get().consumed()
    }

    /// Sets the handler metered code runs when the store has less fuel
    /// than the next charge: called with `(required, remaining)`, it returns
    /// the fuel to add, or `None` to stop. If the store then has at least
    /// `required`, execution resumes; otherwise the call traps with
    /// [`TrapCode::OutOfFuel`] and nothing is charged. The default handler
    /// always stops. A panic of the handler propagates out of the call that
    /// ran it.
    pub fn set_out_of_fuel_handler(
        &mut self,
        handler: impl FnMut(u64, u64) -> Option<u64> + 'static,
    ) {
        self.state.get_mut().set_handler(Box::new(handler));
    }

    fn handle(&self, index: u32) -> Handle {
        Handle {
            store: self.id,
            index,
        }
    }

    /// The object `h` names in `list`, if `h` belongs to this store.
    fn lookup<'a, T>(&self, list: &'a [Pinned<T>], h: Handle) -> Option<&'a Pinned<T>> {
        if h.store != self.id {
            return None;
        }
        list.get(h.index as usize)
    }

    /// Instantiates `module` with `imports`, given in the module's import
    /// order, following WebAssembly 2.0: imports are checked, then globals,
    /// memories and tables are created, element and data segments run in
    /// order and the start function is called. Writes made by segments
    /// before a trap stay visible through imported objects.
    ///
    /// A store runs metered modules or unmetered ones, never both: the
    /// first instance decides, and a module of the other kind is refused
    /// with a link error. A metered start function spends the store's fuel.
    pub fn instantiate(
        &mut self,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance, InstantiateError> {
        let meta = &module.inner().metadata;
        self.check_metering(module)?;
        if imports.len() != meta.imports.len() {
            return Err(InstantiateError::Link(format!(
                "unknown import: the module has {} imports, {} given",
                meta.imports.len(),
                imports.len()
            )));
        }
        let resolved = meta
            .imports
            .iter()
            .zip(imports)
            .map(|(import, ext)| {
                self.resolve_import(module, &import.kind, ext)
                    .map_err(|detail| InstantiateError::Link(link::incompatible(import, &detail)))
            })
            .collect::<Result<Vec<Resolved>, InstantiateError>>()?;
        let mut data =
            InstanceData::new(module, self.context()).map_err(InstantiateError::Resource)?;
        let first_host_import = self.host_imports.len();
        for resolved in resolved {
            match resolved {
                Resolved::Func(f, funcref) => data.push_func(f, funcref),
                Resolved::HostFunc(f, h) => {
                    let funcref = self.import_host_func(module, data.imported_funcs(), h);
                    data.push_func(f, funcref);
                }
                Resolved::Table(t, def) => data.push_table(t, def),
                Resolved::Memory(m, def) => data.set_memory(m, def),
                Resolved::Global(g, cell) => data.push_global(g, cell),
            }
        }
        for def in &meta.globals {
            let global = GlobalObj::new(def.ty, data.eval(&def.init));
            let index = push(&mut self.globals, global);
            let cell = GlobalObj::cell(self.globals[index as usize].ptr());
            data.push_global(Global(self.handle(index)), cell);
        }
        for ty in &meta.memories {
            let memory =
                LinearMemory::new(*ty, meta.bounds_checks).map_err(InstantiateError::Resource)?;
            let index = push(&mut self.memories, memory);
            let def = LinearMemory::definition(self.memories[index as usize].ptr());
            data.set_memory(Memory(self.handle(index)), def);
        }
        for ty in &meta.tables {
            let table = TableObj::new(*ty, 0).map_err(InstantiateError::Resource)?;
            let index = push(&mut self.tables, table);
            let def = TableObj::definition(self.tables[index as usize].ptr());
            data.push_table(Table(self.handle(index)), def);
        }
        if !self.modules.iter().any(|m| m.same(module)) {
            self.modules.push(module.clone());
        }
        let (first, count) = data.funcrefs();
        self.refs.get_mut().add(first, count);
        let index = push(&mut self.instances, data);
        let pinned = &mut self.instances[index as usize];
        let this = pinned.ptr();
        let data = pinned.get_mut();
        data.attach(this);
        for import in &mut self.host_imports[first_host_import..] {
            import.get_mut().set_instance(this);
        }
        data.initialize().map_err(|code| {
            InstantiateError::Trap(Trap {
                code,
                function: INSTANTIATION.into(),
            })
        })?;
        if let Some(start) = meta.start {
            let start = self.instance_func(index, start);
            self.call(start, &[]).map_err(|e| match e {
                CallError::Trap(trap) => InstantiateError::Trap(trap),
                CallError::Arguments(msg) => InstantiateError::Link(msg),
                CallError::Exit(status) => InstantiateError::Exit(status),
            })?;
        }
        Ok(Instance(self.handle(index)))
    }

    /// Refuses `module` if the store already has an instance whose module
    /// is metered when `module` is not, or the other way round.
    fn check_metering(&self, module: &Module) -> Result<(), InstantiateError> {
        let metered = module.metadata().fuel.is_some();
        let Some(first) = self.instances.first() else {
            return Ok(());
        };
        if first.get().module().metadata().fuel.is_some() == metered {
            return Ok(());
        }
        let kind = |metered: bool| if metered { "metered" } else { "unmetered" };
        Err(InstantiateError::Link(format!(
            "cannot instantiate {} module {:?} in a store that runs {} modules: \
             metered and unmetered modules cannot share a store",
            kind(metered),
            module.metadata().name,
            kind(!metered)
        )))
    }

    /// Checks that `ext` may satisfy an import of `kind` by `module`, and
    /// says how to wire it in; the error says why not.
    fn resolve_import(
        &self,
        module: &Module,
        kind: &ImportKind,
        ext: &Extern,
    ) -> Result<Resolved, String> {
        let foreign = || "the extern belongs to another store".to_string();
        let mismatch = || format!("the {} has a different type", extern_kind(ext));
        let inner = module.inner();
        match (kind, ext) {
            (ImportKind::Func(t), Extern::Func(f)) => {
                if self.func_type_and_sig(*f).ok_or_else(foreign)?.1 != inner.sig_ids[*t as usize] {
                    return Err(mismatch());
                }
                match f.kind {
                    FuncKind::Host(h) => Ok(Resolved::HostFunc(*f, h)),
                    FuncKind::Wasm { instance, index } => {
                        let source = self.instances[instance as usize].get();
                        source
                            .funcref_value(index)
                            .map(|funcref| Resolved::Func(*f, funcref))
                            .ok_or_else(mismatch)
                    }
                }
            }
            (ImportKind::Table(expected), Extern::Table(t)) => {
                let table = self.lookup(&self.tables, t.0).ok_or_else(foreign)?;
                if !link::table_matches(table.get().ty(), *expected) {
                    return Err(mismatch());
                }
                Ok(Resolved::Table(*t, TableObj::definition(table.ptr())))
            }
            (ImportKind::Memory(expected), Extern::Memory(m)) => {
                let memory = self.lookup(&self.memories, m.0).ok_or_else(foreign)?;
                let (ty, mode) = (memory.get().ty(), memory.get().mode());
                if !link::memory_matches(ty, mode, *expected, inner.metadata.bounds_checks) {
                    return Err(mismatch());
                }
                Ok(Resolved::Memory(*m, LinearMemory::definition(memory.ptr())))
            }
            (ImportKind::Global(expected), Extern::Global(g)) => {
                let global = self.lookup(&self.globals, g.0).ok_or_else(foreign)?;
                if !link::global_matches(global.get().ty(), *expected) {
                    return Err(mismatch());
                }
                Ok(Resolved::Global(*g, GlobalObj::cell(global.ptr())))
            }
            _ => Err(format!(
                "expected a {}, found a {}",
                import_kind(kind),
                extern_kind(ext)
            )),
        }
    }

    /// The function reference through which `module` calls host function
    /// `h` as its function `func_index`: a new host-call record.
    fn import_host_func(&mut self, module: &Module, func_index: u32, h: u32) -> FuncRef {
        let inner = module.inner();
        let host = &self.host_funcs[h as usize];
        let sig_id = host.get().sig_id();
        let import = HostImport::new(
            self.context(),
            host.ptr(),
            self.refs.ptr(),
            module.clone(),
            func_index,
        );
        let index = push(&mut self.host_imports, import);
        // Validation guarantees the import's type index.
        let type_index = inner.func_type_index(func_index).unwrap_or_default();
        FuncRef {
            code: inner.host_trampolines[type_index as usize],
            vmctx: self.host_imports[index as usize].ptr().cast(),
            sig_id,
            reserved: 0,
        }
    }

    /// Function `index` (index space) of instance `instance`.
    fn instance_func(&self, instance: u32, index: u32) -> Func {
        match self.instances[instance as usize].get().imported_func(index) {
            Some(f) => f,
            None => Func {
                store: self.id,
                kind: FuncKind::Wasm { instance, index },
            },
        }
    }

    /// The instance `instance` names, if it is this store's.
    fn instance_data(&self, instance: Instance) -> Option<&InstanceData> {
        self.lookup(&self.instances, instance.0).map(Pinned::get)
    }

    /// The export `name` of `instance`, if there is one.
    pub fn export(&self, instance: Instance, name: &str) -> Option<Extern> {
        let data = self.instance_data(instance)?;
        let meta = &data.module().inner().metadata;
        let export = meta.exports.iter().find(|e| e.name == name)?;
        Some(match export.kind {
            ExportKind::Func => Extern::Func(self.instance_func(instance.0.index, export.index)),
            ExportKind::Table => Extern::Table(data.table(export.index)?),
            ExportKind::Memory => Extern::Memory(data.memory()?),
            ExportKind::Global => Extern::Global(data.global(export.index)?),
        })
    }

    /// The type of `func` and its canonical signature id, if `func` is
    /// this store's.
    fn func_type_and_sig(&self, func: Func) -> Option<(&FuncType, u32)> {
        if func.store != self.id {
            return None;
        }
        match func.kind {
            FuncKind::Host(h) => {
                let host = self.host_funcs.get(h as usize)?.get();
                Some((host.ty(), host.sig_id()))
            }
            FuncKind::Wasm { instance, index } => {
                let data = self.instances.get(instance as usize)?.get();
                let inner = data.module().inner();
                let t = inner.func_type_index(index)? as usize;
                Some((inner.metadata.types.get(t)?, *inner.sig_ids.get(t)?))
            }
        }
    }

    /// The type of `func`; a function of another store has the empty type.
    pub fn func_type(&self, func: Func) -> FuncType {
        self.func_type_and_sig(func).map_or_else(
            || FuncType {
                params: Vec::new(),
                results: Vec::new(),
            },
            |(ty, _)| ty.clone(),
        )
    }

    /// Calls `func` with `args` and returns its results. Arguments are
    /// checked against the function's type first.
    pub fn call(&mut self, func: Func, args: &[Val]) -> Result<Vec<Val>, CallError> {
        let ty = self
            .func_type_and_sig(func)
            .ok_or_else(|| CallError::Arguments("the function belongs to another store".into()))?
            .0
            .clone();
        check_vals(&ty.params, args, self.refs.get(), "arguments").map_err(CallError::Arguments)?;
        match func.kind {
            FuncKind::Host(h) => {
                let mut caller = Caller::new(None, self.state.ptr());
                self.host_funcs[h as usize]
                    .get()
                    .call(&mut caller, args, self.refs.get())
                    .map_err(|e| match e {
                        HostError::Exit(status) => CallError::Exit(status),
                        HostError::Message(_) => CallError::Trap(Trap {
                            code: TrapCode::HostError,
                            function: HOST.into(),
                        }),
                    })
            }
            FuncKind::Wasm { instance, index } => {
                let len = ty.params.len().max(ty.results.len()).max(1);
                let mut values = vec![ValRaw::default(); len];
                for (slot, arg) in values.iter_mut().zip(args) {
                    *slot = arg.to_raw();
                }
                self.call_wasm(instance, index, &mut values)?;
                Ok(ty
                    .results
                    .iter()
                    .zip(values)
                    .map(|(t, raw)| Val::from_raw(raw, *t))
                    .collect())
            }
        }
    }

    /// Calls function `index` of instance `instance` through its module's
    /// entry trampoline, with `values` sized and filled for its type.
    fn call_wasm(
        &mut self,
        instance: u32,
        index: u32,
        values: &mut [ValRaw],
    ) -> Result<(), CallError> {
        let data = self.instances[instance as usize].get();
        let inner = data.module().inner();
        let defined = index - inner.num_imported_funcs();
        let type_index = inner.metadata.functions[defined as usize].type_index;
        let entry = WasmEntry {
            trampoline: inner.entry_trampolines[type_index as usize],
            vmctx: data.vmctx(),
            code: inner.functions[defined as usize],
        };
        // SAFETY: `entry` is defined function `index` of a live instance of
        // a module in `self.modules`, whose context is `self.context()`; `values`
        // is sized and filled for its type by the callers.
        unsafe {
            call::invoke(
                self.context(),
                &self.modules,
                self.max_stack,
                &entry,
                values,
            )
        }
    }

    /// A host function of type `ty` running `f`, which gets the [`Caller`]
    /// and the arguments. [`HostError::Message`] from `f` traps with
    /// [`TrapCode::HostError`], and so do results that do not match `ty`;
    /// [`HostError::Exit`] unwinds every wasm frame and fails the call from
    /// the host with [`CallError::Exit`].
    pub fn new_host_func(
        &mut self,
        ty: FuncType,
        f: impl FnMut(&mut Caller<'_>, &[Val]) -> Result<Vec<Val>, HostError> + 'static,
    ) -> Func {
        let index = push(&mut self.host_funcs, HostFunc::new(ty, Box::new(f)));
        Func {
            store: self.id,
            kind: FuncKind::Host(index),
        }
    }

    /// A new memory of type `ty`. It has guard pages, so modules compiled
    /// with either kind of bounds checks can import it.
    pub fn new_memory(&mut self, ty: MemoryType) -> Result<Memory, String> {
        let memory = LinearMemory::new(ty, BoundsChecks::Guard)?;
        let index = push(&mut self.memories, memory);
        Ok(Memory(self.handle(index)))
    }

    /// Checks that `value` has type `ty` and that a function reference in
    /// it belongs to this store.
    fn check_val(&self, ty: ValType, value: Val) -> Result<(), String> {
        check_vals(&[ty], &[value], self.refs.get(), "value")
    }

    /// A new table of type `ty` with every element set to `init`.
    pub fn new_table(&mut self, ty: TableType, init: Val) -> Result<Table, String> {
        self.check_val(ty.element.into(), init)?;
        let table = TableObj::new(ty, raw_to_u64(init.to_raw()))?;
        let index = push(&mut self.tables, table);
        Ok(Table(self.handle(index)))
    }

    /// A new global of type `ty` holding `value`.
    pub fn new_global(&mut self, ty: GlobalType, value: Val) -> Result<Global, String> {
        self.check_val(ty.content, value)?;
        let global = GlobalObj::new(ty, value.to_raw());
        let index = push(&mut self.globals, global);
        Ok(Global(self.handle(index)))
    }

    /// The value of `g`; a global of another store reads as `I32(0)`.
    pub fn global_get(&self, g: Global) -> Val {
        self.lookup(&self.globals, g.0)
            .map(|g| g.get().get())
            .unwrap_or(Val::I32(0))
    }

    /// Sets mutable global `g` to `v`, which must have its type.
    pub fn global_set(&mut self, g: Global, v: Val) -> Result<(), String> {
        let ty = self
            .lookup(&self.globals, g.0)
            .ok_or("the global belongs to another store")?
            .get()
            .ty();
        if !ty.mutable {
            return Err("the global is immutable".into());
        }
        self.check_val(ty.content, v)?;
        self.globals[g.0.index as usize].get_mut().set(v);
        Ok(())
    }

    /// The bytes of `m`; a memory of another store reads as empty.
    pub fn memory_data(&self, m: Memory) -> &[u8] {
        self.lookup(&self.memories, m.0)
            .map_or(&[], |m| m.get().data())
    }

    /// The bytes of `m`, writable; a memory of another store reads as empty.
    pub fn memory_data_mut(&mut self, m: Memory) -> &mut [u8] {
        if m.0.store != self.id {
            return &mut [];
        }
        match self.memories.get_mut(m.0.index as usize) {
            Some(memory) => memory.get_mut().data_mut(),
            None => &mut [],
        }
    }

    /// The current number of elements of `t`; 0 for a table of another store.
    pub fn table_size(&self, t: Table) -> u64 {
        self.lookup(&self.tables, t.0).map_or(0, |t| t.get().size())
    }
}

/// A checked import and how it is wired into an instance.
enum Resolved {
    /// A wasm function, called through a copy of its reference.
    Func(Func, FuncRef),
    /// A host function (number `.1`), called through a new host-call record.
    HostFunc(Func, u32),
    /// A table and its definition.
    Table(Table, *mut TableDefinition),
    /// A memory and its definition.
    Memory(Memory, *mut MemoryDefinition),
    /// A global and its cell.
    Global(Global, *mut GlobalCell),
}

fn import_kind(kind: &ImportKind) -> &'static str {
    match kind {
        ImportKind::Func(_) => "function",
        ImportKind::Table(_) => "table",
        ImportKind::Memory(_) => "memory",
        ImportKind::Global(_) => "global",
    }
}

fn extern_kind(ext: &Extern) -> &'static str {
    match ext {
        Extern::Func(_) => "function",
        Extern::Table(_) => "table",
        Extern::Memory(_) => "memory",
        Extern::Global(_) => "global",
    }
}
