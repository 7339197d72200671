//! Instances: the instance context (vmctx) generated code reads, constant
//! expression evaluation, element and data segment initialization, and the
//! per-instance operations behind the builtins (bulk memory and table
//! operations, segment drops, growth), including their dynamic fuel costs,
//! priced by the instance's module.
//!
//! An instance only holds pointers to the memories, tables and globals it
//! uses; the store owns them and keeps them alive as long as any instance.
//! This file must not create store objects, check imports or call wasm.

use crate::abi::{
    Builtins, ConstExpr, ElementMode, FuelMetadata, FuncRef, GlobalCell, MemoryDefinition,
    StoreContext, TableDefinition, TrapCode, ValRaw, VmctxLayout,
};
use crate::bounds::{free, range};
use crate::builtins::BUILTINS;
use crate::fuel::StoreState;
use crate::memory::LinearMemory;
use crate::module::Module;
use crate::store::{Func, Global, Memory, Table};
use crate::table::TableObj;
use crate::trap::Trap;
use crate::val::{raw_from_u64, raw_to_u64};
use std::alloc::{self, Layout};
use std::any::Any;
use std::ptr::NonNull;

/// Why instantiation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InstantiateError {
    /// The imports do not fit the module ("unknown import", "incompatible
    /// import type for module.field", ...).
    #[error("link error: {0}")]
    Link(String),
    /// An element or data segment, or the start function, trapped.
    #[error("{0}")]
    Trap(Trap),
    /// Memory for the instance or its objects could not be allocated.
    #[error("out of resources: {0}")]
    Resource(String),
    /// The start function ended the program with this exit status (see
    /// [`HostError::Exit`](crate::HostError::Exit)).
    #[error("exit with status {0}")]
    Exit(i32),
}

/// The zeroed, 16-byte aligned allocation of one instance context.
struct Vmctx {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl Vmctx {
    fn new(size: u32) -> Result<Vmctx, String> {
        let layout = Layout::from_size_align(size as usize, 16).map_err(|e| e.to_string())?;
        // SAFETY: `layout` is never zero-sized: the header alone is 32 bytes.
        let ptr = unsafe { alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(ptr)
            .ok_or_else(|| format!("cannot allocate an instance context of {size} bytes"))?;
        Ok(Vmctx { ptr, layout })
    }

    /// The address of the `T` slot at `offset`.
    ///
    /// # Safety
    /// `offset` must come from the module's [`VmctxLayout`] for a slot of
    /// type `T` that exists.
    unsafe fn slot<T>(&self, offset: u32) -> *mut T {
        debug_assert!(offset as usize + size_of::<T>() <= self.layout.size());
        // SAFETY: the slot lies inside the allocation (caller's contract).
        unsafe { self.ptr.as_ptr().add(offset as usize).cast() }
    }

    /// Writes `value` at `offset`.
    ///
    /// # Safety
    /// As for [`Vmctx::slot`].
    unsafe fn write<T: Copy>(&mut self, offset: u32, value: T) {
        // SAFETY: a slot inside the allocation (caller's contract), which
        // `&mut self` lets us write.
        unsafe { self.slot::<T>(offset).write_unaligned(value) }
    }

    /// Reads the `T` at `offset`.
    ///
    /// # Safety
    /// As for [`Vmctx::slot`], and the slot must have been written.
    unsafe fn read<T: Copy>(&self, offset: u32) -> T {
        // SAFETY: a written slot inside the allocation (caller's contract).
        unsafe { self.slot::<T>(offset).read_unaligned() }
    }
}

impl Drop for Vmctx {
    fn drop(&mut self) {
        // SAFETY: allocated in `Vmctx::new` with this layout.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// One instance: its module, context, the handles of the objects it uses
/// (for exports) and its segments' state.
pub(crate) struct InstanceData {
    module: Module,
    vmctx: Vmctx,
    /// The supplied imported functions, in import order.
    imported_funcs: Vec<Func>,
    tables: Vec<Table>,
    memory: Option<Memory>,
    globals: Vec<Global>,
    /// Raw references of each element segment; empty once dropped.
    elements: Vec<Vec<u64>>,
    /// Whether each data segment was dropped.
    dropped_data: Vec<bool>,
}

impl InstanceData {
    /// An instance of `module` in the store whose context is `store` (the
    /// context of a [`StoreState`]), with its header, signature ids and
    /// defined functions' references filled in. Imports and objects are
    /// added next, in index order.
    pub(crate) fn new(module: &Module, store: *mut StoreContext) -> Result<InstanceData, String> {
        let inner = module.inner();
        let layout = inner.layout;
        let mut vmctx = Vmctx::new(layout.size())?;
        let base = vmctx.ptr.as_ptr();
        let imported = inner.num_imported_funcs();
        // SAFETY: all offsets come from the module's layout, for indices
        // below the counts it was built from.
        unsafe {
            vmctx.write(VmctxLayout::STORE, store);
            vmctx.write(VmctxLayout::BUILTINS, &BUILTINS as *const Builtins);
            for (i, sig) in inner.sig_ids.iter().enumerate() {
                vmctx.write(layout.sig_id(i as u32), *sig);
            }
            for (i, (code, info)) in inner
                .functions
                .iter()
                .zip(&inner.metadata.functions)
                .enumerate()
            {
                let funcref = FuncRef {
                    code: *code,
                    vmctx: base,
                    sig_id: inner.sig_ids[info.type_index as usize],
                    reserved: 0,
                };
                vmctx.write(layout.funcref(imported + i as u32), funcref);
            }
        }
        Ok(InstanceData {
            module: module.clone(),
            vmctx,
            imported_funcs: Vec::new(),
            tables: Vec::new(),
            memory: None,
            globals: Vec::new(),
            elements: Vec::new(),
            dropped_data: vec![false; inner.metadata.data.len()],
        })
    }

    fn layout(&self) -> VmctxLayout {
        self.module.inner().layout
    }

    /// The number of imported functions added so far.
    pub(crate) fn imported_funcs(&self) -> u32 {
        self.imported_funcs.len() as u32
    }

    /// Adds the next imported function: `func`, called through `funcref`.
    pub(crate) fn push_func(&mut self, func: Func, funcref: FuncRef) {
        let index = self.imported_funcs.len() as u32;
        let offset = self.layout().funcref(index);
        // SAFETY: imports are pushed in order, one per imported function.
        unsafe { self.vmctx.write(offset, funcref) };
        self.imported_funcs.push(func);
    }

    /// Adds the next table.
    pub(crate) fn push_table(&mut self, table: Table, def: *mut TableDefinition) {
        let offset = self.layout().table(self.tables.len() as u32);
        // SAFETY: tables are pushed in order, one per table.
        unsafe { self.vmctx.write(offset, def) };
        self.tables.push(table);
    }

    /// Sets the memory.
    pub(crate) fn set_memory(&mut self, memory: Memory, def: *mut MemoryDefinition) {
        // SAFETY: the header always has the memory slot.
        unsafe { self.vmctx.write(VmctxLayout::MEMORY, def) };
        self.memory = Some(memory);
    }

    /// Adds the next global.
    pub(crate) fn push_global(&mut self, global: Global, cell: *mut GlobalCell) {
        let offset = self.layout().global(self.globals.len() as u32);
        // SAFETY: globals are pushed in order, one per global.
        unsafe { self.vmctx.write(offset, cell) };
        self.globals.push(global);
    }

    /// Stores the instance's own (final) address in its context, for the
    /// builtins.
    pub(crate) fn attach(&mut self, this: *mut InstanceData) {
        // SAFETY: the header always has the instance slot.
        unsafe { self.vmctx.write(VmctxLayout::INSTANCE, this) };
    }

    /// The module.
    pub(crate) fn module(&self) -> &Module {
        &self.module
    }

    /// The instance context.
    pub(crate) fn vmctx(&self) -> *mut u8 {
        self.vmctx.ptr.as_ptr()
    }

    /// The first of the instance's function references and their number.
    pub(crate) fn funcrefs(&self) -> (*const FuncRef, usize) {
        let layout = self.layout();
        let count = self.module.inner().num_funcs() as usize;
        if count == 0 {
            return (self.vmctx().cast_const().cast(), 0);
        }
        // SAFETY: the offset of function 0 lies inside the context.
        let first = unsafe { self.vmctx().add(layout.funcref(0) as usize) };
        (first.cast_const().cast(), count)
    }

    /// The function reference record of function `index`, if it exists.
    pub(crate) fn funcref(&self, index: u32) -> Option<*mut FuncRef> {
        let (first, count) = self.funcrefs();
        // SAFETY: `index < count` keeps the record inside the array.
        ((index as usize) < count).then(|| unsafe { first.add(index as usize).cast_mut() })
    }

    /// A copy of the function reference record of function `index`.
    pub(crate) fn funcref_value(&self, index: u32) -> Option<FuncRef> {
        // SAFETY: `funcref` only returns records inside the context, all of
        // which are filled in by `new` (defined) or `push_func` (imported).
        self.funcref(index).map(|record| unsafe { *record })
    }

    /// The function supplied for imported function `index`.
    pub(crate) fn imported_func(&self, index: u32) -> Option<Func> {
        self.imported_funcs.get(index as usize).copied()
    }

    /// Table `index`.
    pub(crate) fn table(&self, index: u32) -> Option<Table> {
        self.tables.get(index as usize).copied()
    }

    /// The memory.
    pub(crate) fn memory(&self) -> Option<Memory> {
        self.memory
    }

    /// Global `index`.
    pub(crate) fn global(&self, index: u32) -> Option<Global> {
        self.globals.get(index as usize).copied()
    }

    /// The value of a constant expression. Globals it reads must already be
    /// pushed (validation orders them).
    pub(crate) fn eval(&self, expr: &ConstExpr) -> ValRaw {
        match *expr {
            ConstExpr::I32(v) => raw_from_u64(u64::from(v as u32)),
            ConstExpr::I64(v) => raw_from_u64(v as u64),
            ConstExpr::F32(v) => raw_from_u64(u64::from(v)),
            ConstExpr::F64(v) => raw_from_u64(v),
            ConstExpr::V128(v) => ValRaw(v.to_le_bytes()),
            ConstExpr::RefNull(_) => ValRaw::default(),
            ConstExpr::RefFunc(f) => raw_from_u64(self.funcref(f).map_or(0, |p| p as usize as u64)),
            ConstExpr::GlobalGet(g) => match self.globals.get(g as usize) {
                Some(_) => {
                    // SAFETY: global `g` was pushed, so its slot holds a
                    // pointer to a live cell owned by the store.
                    unsafe { *self.vmctx.read::<*mut GlobalCell>(self.layout().global(g)) }
                }
                None => ValRaw::default(),
            },
        }
    }

    /// A constant offset expression as an unsigned 32-bit value.
    fn eval_offset(&self, expr: &ConstExpr) -> u64 {
        u64::from(raw_to_u64(self.eval(expr)) as u32)
    }

    /// Runs instantiation's segment steps: evaluates every element segment,
    /// copies the active ones into their tables and drops them (and the
    /// declared ones), then copies active data segments into memory and
    /// drops them. Stops at the first trap, keeping earlier writes. These
    /// copies cost no fuel.
    pub(crate) fn initialize(&mut self) -> Result<(), TrapCode> {
        let module = self.module.clone();
        let meta = &module.inner().metadata;
        self.elements = meta
            .elements
            .iter()
            .map(|seg| seg.items.iter().map(|e| raw_to_u64(self.eval(e))).collect())
            .collect();
        for (i, seg) in meta.elements.iter().enumerate() {
            let i = i as u32;
            match &seg.mode {
                ElementMode::Active { table, offset } => {
                    let dst = self.eval_offset(offset);
                    let items = &self.elements[i as usize];
                    self.with_table(*table, |t| t.write(dst, items, free))??;
                    self.elem_drop(i);
                }
                ElementMode::Declared => self.elem_drop(i),
                ElementMode::Passive => {}
            }
        }
        for (i, seg) in meta.data.iter().enumerate() {
            if let Some((_, offset)) = &seg.active {
                let dst = self.eval_offset(offset);
                self.with_memory(|m| m.write(dst, &seg.bytes, free))??;
                self.data_drop(i as u32);
            }
        }
        Ok(())
    }

    /// The memory as the object the store owns, if the instance has one.
    pub(crate) fn memory_object(&self) -> Option<*mut LinearMemory> {
        // SAFETY: the header always has the memory slot.
        let def = unsafe {
            self.vmctx
                .read::<*mut MemoryDefinition>(VmctxLayout::MEMORY)
        };
        // A non-null memory slot points to the definition at the start of a
        // `LinearMemory` the store owns and keeps alive.
        (!def.is_null()).then_some(def.cast())
    }

    /// Runs `f` on the memory, or traps if there is none.
    fn with_memory<R>(&self, f: impl FnOnce(&mut LinearMemory) -> R) -> Result<R, TrapCode> {
        let memory = self.memory_object().ok_or(TrapCode::MemoryOutOfBounds)?;
        // SAFETY: a live memory of the store. While a builtin runs nothing
        // else refers to it: the store is borrowed by the call that entered
        // wasm and holds no reference into it.
        Ok(f(unsafe { &mut *memory }))
    }

    /// Table `index` as the object the store owns.
    fn table_ptr(&self, index: u32) -> Result<*mut TableObj, TrapCode> {
        if index as usize >= self.tables.len() {
            return Err(TrapCode::TableOutOfBounds);
        }
        // SAFETY: table `index` was pushed, so its slot holds a pointer to
        // the definition at the start of a `TableObj` the store owns.
        Ok(unsafe {
            self.vmctx
                .read::<*mut TableDefinition>(self.layout().table(index))
        }
        .cast())
    }

    /// Runs `f` on table `index`, or traps if there is none.
    fn with_table<R>(&self, index: u32, f: impl FnOnce(&mut TableObj) -> R) -> Result<R, TrapCode> {
        let table = self.table_ptr(index)?;
        // SAFETY: as in `with_memory`: a live table nothing else refers to
        // while a builtin or instantiation runs.
        Ok(f(unsafe { &mut *table }))
    }

    /// The state of the store that owns this instance and outlives it.
    pub(crate) fn store_state(&self) -> *mut StoreState {
        // SAFETY: the header always has the store slot.
        let context = unsafe { self.vmctx.read::<*mut StoreContext>(VmctxLayout::STORE) };
        StoreState::from_context(context)
    }

    /// Runs `f` on the store's state.
    fn with_store<R>(&self, f: impl FnOnce(&mut StoreState) -> R) -> R {
        // SAFETY: a live state (see `store_state`). As in `with_memory`,
        // nothing else refers to it while a builtin runs.
        f(unsafe { &mut *self.store_state() })
    }

    /// The dynamic cost of `units` priced per unit by `price` in the
    /// module's fuel metadata: `units * price` (saturating), or 0 if the
    /// module is not metered.
    fn cost(&self, price: fn(&FuelMetadata) -> u64, units: u64) -> u64 {
        self.module
            .inner()
            .metadata
            .fuel
            .as_ref()
            .map_or(0, |fuel| units.saturating_mul(price(fuel)))
    }

    /// The payment for `units` of a dynamic cost priced by `price` (see
    /// [`InstanceData::cost`]): charges the store their cost.
    fn fee(
        &self,
        price: fn(&FuelMetadata) -> u64,
        units: u64,
    ) -> impl FnOnce() -> Result<(), TrapCode> + '_ {
        move || self.with_store(|s| s.charge(self.cost(price, units)))
    }

    /// A growth paying for `units` units priced by `price`, given whether it `fits`
    /// the object's limits. One that does not returns `None` and costs
    /// nothing. Otherwise the growth is charged (running the out-of-fuel
    /// handler if the store is short, and trapping with nothing grown if it
    /// stays short), then `grow` runs, and the charge is refunded if it
    /// fails anyway (the system refused memory).
    fn paid_growth(
        &self,
        price: fn(&FuelMetadata) -> u64,
        units: u64,
        fits: bool,
        grow: impl FnOnce() -> Option<u64>,
    ) -> Result<Option<u64>, TrapCode> {
        if !fits {
            return Ok(None);
        }
        let cost = self.cost(price, units);
        self.with_store(|s| s.charge_for(cost, grow))
    }

    /// The `out_of_fuel` builtin: makes sure the store has `required` fuel,
    /// running its out-of-fuel handler if it has less (see
    /// [`StoreState::ensure`]).
    pub(crate) fn ensure_fuel(&self, required: u64) -> Result<(), TrapCode> {
        self.with_store(|s| s.ensure(required))
    }

    /// The payload of a panic of the store's out-of-fuel handler during the
    /// last failed charge, if any.
    pub(crate) fn take_fuel_panic(&self) -> Option<Box<dyn Any + Send>> {
        self.with_store(StoreState::take_panic)
    }

    /// `memory.grow`: returns the old size in pages, or `None` if the
    /// memory cannot grow; only a growth that happens pays for its `units`
    /// pages (see [`InstanceData::paid_growth`] and
    /// [`crate::abi::Builtin::has_units`]).
    pub(crate) fn memory_grow(&self, delta: u64, units: u64) -> Result<Option<u64>, TrapCode> {
        self.with_memory(|m| {
            self.paid_growth(
                |f| f.memory_page,
                units,
                m.can_grow(delta),
                || m.grow(delta),
            )
        })
        .unwrap_or(Ok(None))
    }

    /// `memory.fill`.
    pub(crate) fn memory_fill(
        &self,
        dst: u64,
        value: u8,
        len: u64,
        units: u64,
    ) -> Result<(), TrapCode> {
        let fee = self.fee(|f| f.memory_byte, units);
        self.with_memory(|m| m.fill(dst, value, len, fee))?
    }

    /// `memory.copy`.
    pub(crate) fn memory_copy(
        &self,
        dst: u64,
        src: u64,
        len: u64,
        units: u64,
    ) -> Result<(), TrapCode> {
        let fee = self.fee(|f| f.memory_byte, units);
        self.with_memory(|m| m.copy(dst, src, len, fee))?
    }

    /// `memory.init`: a dropped segment has length 0.
    pub(crate) fn memory_init(
        &self,
        segment: u32,
        dst: u64,
        src: u64,
        len: u64,
        units: u64,
    ) -> Result<(), TrapCode> {
        let fee = self.fee(|f| f.memory_byte, units);
        let i = segment as usize;
        let bytes = match self.module.inner().metadata.data.get(i) {
            Some(seg) if !self.dropped_data[i] => &seg.bytes[..],
            _ => &[],
        };
        let src = range(src, len, bytes.len(), TrapCode::MemoryOutOfBounds)?;
        self.with_memory(|m| m.write(dst, &bytes[src], fee))?
    }

    /// `data.drop`.
    pub(crate) fn data_drop(&mut self, segment: u32) {
        if let Some(dropped) = self.dropped_data.get_mut(segment as usize) {
            *dropped = true;
        }
    }

    /// `table.grow`: returns the old size, or `None` if the table cannot
    /// grow; only a growth that happens pays for its `units` elements (see
    /// [`InstanceData::paid_growth`]).
    pub(crate) fn table_grow(
        &self,
        table: u32,
        init: u64,
        delta: u64,
        units: u64,
    ) -> Result<Option<u64>, TrapCode> {
        self.with_table(table, |t| {
            self.paid_growth(
                |f| f.table_element,
                units,
                t.can_grow(delta),
                || t.grow(delta, init),
            )
        })
        .unwrap_or(Ok(None))
    }

    /// `table.fill`.
    pub(crate) fn table_fill(
        &self,
        table: u32,
        dst: u64,
        value: u64,
        len: u64,
        units: u64,
    ) -> Result<(), TrapCode> {
        let fee = self.fee(|f| f.table_element, units);
        self.with_table(table, |t| t.fill(dst, value, len, fee))?
    }

    /// `table.copy`, within one table or between two.
    pub(crate) fn table_copy(
        &self,
        dst_table: u32,
        src_table: u32,
        dst: u64,
        src: u64,
        len: u64,
        units: u64,
    ) -> Result<(), TrapCode> {
        let fee = self.fee(|f| f.table_element, units);
        let dst_ptr = self.table_ptr(dst_table)?;
        let src_ptr = self.table_ptr(src_table)?;
        if dst_ptr == src_ptr {
            return self.with_table(dst_table, |t| t.copy_within(dst, src, len, fee))?;
        }
        // SAFETY: two distinct live tables nothing else refers to (see
        // `with_table`).
        let (dst_obj, src_obj) = unsafe { (&mut *dst_ptr, &*src_ptr) };
        dst_obj.write(dst, src_obj.slice(src, len)?, fee)
    }

    /// `table.init`: a dropped segment has length 0.
    pub(crate) fn table_init(
        &self,
        table: u32,
        segment: u32,
        dst: u64,
        src: u64,
        len: u64,
        units: u64,
    ) -> Result<(), TrapCode> {
        let fee = self.fee(|f| f.table_element, units);
        let items = self
            .elements
            .get(segment as usize)
            .map_or(&[][..], |e| &e[..]);
        let src = range(src, len, items.len(), TrapCode::TableOutOfBounds)?;
        self.with_table(table, |t| t.write(dst, &items[src], fee))?
    }

    /// `elem.drop`.
    pub(crate) fn elem_drop(&mut self, segment: u32) {
        if let Some(items) = self.elements.get_mut(segment as usize) {
            *items = Vec::new();
        }
    }
}
