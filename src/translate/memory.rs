//! Linear memory, globals and tables, as generated code reaches them
//! through the instance context.
//!
//! Memory accesses compute `base + zext(index) + offset`. Under
//! [`BoundsChecks::Guard`] nothing is compared: the runtime's reservation
//! ([`abi::GUARD_MEMORY_RESERVATION`]) makes every out-of-bounds address
//! fault, and the access carries a trap code so the fault is reported as
//! `MemoryOutOfBounds`. Under [`BoundsChecks::Explicit`] the end of the
//! access is compared with the current length first, and the base is
//! reloaded because the memory may move.
//!
//! This module must not call the runtime; operations that need it
//! (`memory.grow`, bulk operations) live in `calls`.

use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, MemFlagsData, Type, Value};
use fuelc_runtime::abi::{self, BoundsChecks, TrapCode, VmctxLayout};
use wasmparser::MemArg;

use super::{clif_trap, trusted, trusted_readonly, FuncTranslator};

/// How a load extends its value.
#[derive(Clone, Copy)]
pub(super) enum Extend {
    /// A full-width load.
    None,
    /// A narrow load, sign-extended.
    Signed,
    /// A narrow load, zero-extended.
    Unsigned,
}

impl FuncTranslator<'_, '_> {
    /// Loads a pointer-sized field at `offset` from `base`.
    pub(super) fn load_ptr(&mut self, base: Value, offset: u32, readonly: bool) -> Value {
        let flags = if readonly {
            trusted_readonly()
        } else {
            trusted()
        };
        self.builder
            .ins()
            .load(types::I64, flags, base, offset as i32)
    }

    /// A load of an instance-lifetime constant: readonly, and free to be
    /// hoisted or shared across calls, since nothing ever changes it.
    fn load_invariant(&mut self, base: Value, offset: u32) -> Value {
        let flags = trusted_readonly().with_can_move();
        self.builder
            .ins()
            .load(types::I64, flags, base, offset as i32)
    }

    /// The instance's `MemoryDefinition`; the pointer never changes.
    fn memory_definition(&mut self) -> Value {
        self.load_invariant(self.vmctx, VmctxLayout::MEMORY)
    }

    fn bounds_checks(&self) -> BoundsChecks {
        self.env.module.metadata.bounds_checks
    }

    /// The native address of a `size`-byte access at `index + memarg.offset`,
    /// with the static offset folded in when it fits the instruction.
    pub(super) fn heap_address(
        &mut self,
        index: Value,
        memarg: &MemArg,
        size: u32,
    ) -> (Value, i32) {
        let memory = self.memory_definition();
        let index = self.builder.ins().uextend(types::I64, index);
        let guard = self.bounds_checks() == BoundsChecks::Guard;
        if !guard {
            let length = self.load_ptr(memory, abi::memory_offsets::LENGTH, false);
            let end = self
                .builder
                .ins()
                .iadd_imm_u(index, (memarg.offset + u64::from(size)) as i64);
            let out = self
                .builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThan, end, length);
            self.trap_if(out, TrapCode::MemoryOutOfBounds);
        }
        // Under guard pages the memory never moves, so its base is an
        // instance-lifetime constant; explicit checks reload it, since the
        // memory may move whenever it grows.
        let base = if guard {
            self.load_invariant(memory, abi::memory_offsets::BASE)
        } else {
            self.load_ptr(memory, abi::memory_offsets::BASE, false)
        };
        let address = self.builder.ins().iadd(base, index);
        match i32::try_from(memarg.offset) {
            Ok(offset) => (address, offset),
            Err(_) => {
                let address = self.builder.ins().iadd_imm_u(address, memarg.offset as i64);
                (address, 0)
            }
        }
    }

    pub(super) fn heap_flags() -> MemFlagsData {
        MemFlagsData::new()
            .with_endianness(cranelift_codegen::ir::Endianness::Little)
            .with_trap_code(Some(clif_trap(TrapCode::MemoryOutOfBounds)))
    }

    /// `*.load*`: loads `size` bytes and extends them to `ty`.
    pub(super) fn translate_load(&mut self, ty: Type, size: u32, extend: Extend, memarg: MemArg) {
        let index = self.pop();
        let (address, offset) = self.heap_address(index, &memarg, size);
        let flags = Self::heap_flags();
        let ins = self.builder.ins();
        let value = match (extend, size) {
            (Extend::None, _) => ins.load(ty, flags, address, offset),
            (Extend::Signed, 1) => ins.sload8(ty, flags, address, offset),
            (Extend::Unsigned, 1) => ins.uload8(ty, flags, address, offset),
            (Extend::Signed, 2) => ins.sload16(ty, flags, address, offset),
            (Extend::Unsigned, 2) => ins.uload16(ty, flags, address, offset),
            (Extend::Signed, 4) => ins.sload32(flags, address, offset),
            (Extend::Unsigned, 4) => ins.uload32(flags, address, offset),
            _ => unreachable!("no {size}-byte extending load"),
        };
        self.push(value);
    }

    /// `*.store*`: stores the low `size` bytes of the value.
    pub(super) fn translate_store(&mut self, size: u32, memarg: MemArg) {
        let (index, value) = self.pop2();
        let (address, offset) = self.heap_address(index, &memarg, size);
        let flags = Self::heap_flags();
        let value_size = self.builder.func.dfg.value_type(value).bytes();
        let ins = self.builder.ins();
        match size {
            _ if size == value_size => ins.store(flags, value, address, offset),
            1 => ins.istore8(flags, value, address, offset),
            2 => ins.istore16(flags, value, address, offset),
            4 => ins.istore32(flags, value, address, offset),
            _ => unreachable!("no {size}-byte truncating store"),
        };
    }

    pub(super) fn translate_memory_size(&mut self) {
        let memory = self.memory_definition();
        let length = self.load_ptr(memory, abi::memory_offsets::LENGTH, false);
        let pages = self
            .builder
            .ins()
            .ushr_imm_u(length, abi::WASM_PAGE_SIZE.trailing_zeros() as i64);
        let pages = self.builder.ins().ireduce(types::I32, pages);
        self.push(pages);
    }

    /// Address of the storage cell of global `index`.
    fn global_cell(&mut self, index: u32) -> Value {
        let offset = self.env.layout.global(index);
        self.load_ptr(self.vmctx, offset, true)
    }

    pub(super) fn translate_global_get(&mut self, index: u32) {
        let ty = super::clif_type(self.env.module.global_types[index as usize].content);
        let cell = self.global_cell(index);
        let value = self.builder.ins().load(ty, trusted(), cell, 0);
        self.push(value);
    }

    pub(super) fn translate_global_set(&mut self, index: u32) {
        let value = self.pop();
        let cell = self.global_cell(index);
        self.builder.ins().store(trusted(), value, cell, 0);
    }

    /// The `TableDefinition` of table `index`.
    fn table_definition(&mut self, index: u32) -> Value {
        let offset = self.env.layout.table(index);
        self.load_ptr(self.vmctx, offset, true)
    }

    /// Address of element `index` of `table`, trapping with `code` when
    /// `index` is out of bounds.
    pub(super) fn table_element_address(
        &mut self,
        table: u32,
        index: Value,
        code: TrapCode,
    ) -> Value {
        let definition = self.table_definition(table);
        let length = self.load_ptr(definition, abi::table_offsets::LENGTH, false);
        let index = self.builder.ins().uextend(types::I64, index);
        let out = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, length);
        self.trap_if(out, code);
        let base = self.load_ptr(definition, abi::table_offsets::BASE, false);
        let byte_offset = self.builder.ins().ishl_imm_u(index, 3);
        self.builder.ins().iadd(base, byte_offset)
    }

    pub(super) fn translate_table_get(&mut self, table: u32) {
        let index = self.pop();
        let address = self.table_element_address(table, index, TrapCode::TableOutOfBounds);
        let value = self.builder.ins().load(types::I64, trusted(), address, 0);
        self.push(value);
    }

    pub(super) fn translate_table_set(&mut self, table: u32) {
        let (index, value) = self.pop2();
        let address = self.table_element_address(table, index, TrapCode::TableOutOfBounds);
        self.builder.ins().store(trusted(), value, address, 0);
    }

    pub(super) fn translate_table_size(&mut self, table: u32) {
        let definition = self.table_definition(table);
        let length = self.load_ptr(definition, abi::table_offsets::LENGTH, false);
        let length = self.builder.ins().ireduce(types::I32, length);
        self.push(length);
    }
}
