//! The contract between code compiled by `fuelc` and this runtime.
//!
//! Everything that both sides must agree on is defined here, once: the
//! module descriptor that every object exports, the metadata it carries, the
//! layout of the instance context (`VMContext`) that generated code reads, the
//! table of runtime builtins that generated code calls, the raw value and
//! reference representations, the trap codes and the symbol naming scheme.
//! The compiler (`fuelc`) depends on this crate for these definitions, so a
//! change here changes both sides at once.
//!
//! This module only describes data; it must not contain runtime behaviour
//! (allocation, signal handling, calls). Pointers are 64 bits on every target
//! fuelc supports (x86-64 and aarch64), and the layouts below assume it.

use serde::{Deserialize, Serialize};

/// Version of this ABI. Bumped on any incompatible change to the descriptor,
/// the metadata encoding, the context layout or the builtins.
pub const ABI_VERSION: u32 = 1;

/// The first eight bytes of every [`ModuleDescriptor`].
pub const DESCRIPTOR_MAGIC: [u8; 8] = *b"FUELCMOD";

/// Size of a pointer in generated code and in the runtime, in bytes.
pub const POINTER_SIZE: u32 = 8;

/// Size of one WebAssembly page.
pub const WASM_PAGE_SIZE: u64 = 65536;

/// Maximum number of pages of a 32-bit linear memory.
pub const MAX_WASM_PAGES: u64 = 65536;

/// Bytes of address space the runtime reserves for every linear memory when
/// the module was compiled with [`BoundsChecks::Guard`].
///
/// Generated code computes `base + zext(index) + offset` with a 32-bit index
/// and a 32-bit static offset, then accesses at most 16 bytes. Every such
/// address is below `base + 2^33 + 16`, so reserving 8 GiB plus one page
/// makes every out-of-bounds access fault instead of touching other memory.
pub const GUARD_MEMORY_RESERVATION: u64 = (1 << 33) + WASM_PAGE_SIZE;

/// Maximum number of elements of a table (the runtime refuses to grow past it).
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// Symbol name of the [`ModuleDescriptor`] of a module compiled with `prefix`.
///
/// This is the only global symbol an object defines; everything else is
/// reached through the descriptor.
pub fn descriptor_symbol(prefix: &str) -> String {
    format!("{prefix}_module")
}

/// Local symbol name of defined function `index` (in the function index
/// space, imports included) of a module compiled with `prefix`.
pub fn function_symbol(prefix: &str, index: u32) -> String {
    format!("{prefix}_func{index}")
}

/// Local symbol name of the entry trampoline for type `type_index`.
pub fn entry_trampoline_symbol(prefix: &str, type_index: u32) -> String {
    format!("{prefix}_entry{type_index}")
}

/// Local symbol name of the out-of-fuel stub of a metered module.
pub fn out_of_fuel_stub_symbol(prefix: &str) -> String {
    format!("{prefix}_out_of_fuel")
}

/// Local symbol name of the host-call trampoline for type `type_index`.
pub fn host_trampoline_symbol(prefix: &str, type_index: u32) -> String {
    format!("{prefix}_host{type_index}")
}

/// Why wasm code stopped. Every trap that generated code or the runtime
/// raises has exactly one of these codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum TrapCode {
    /// `unreachable` was executed.
    Unreachable = 1,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero = 2,
    /// Signed integer division overflow, or a float-to-int conversion whose
    /// result does not fit.
    IntegerOverflow = 3,
    /// Float-to-int conversion of NaN.
    BadConversionToInteger = 4,
    /// A load, store or bulk memory operation outside the linear memory.
    MemoryOutOfBounds = 5,
    /// A table access or bulk table operation outside the table.
    TableOutOfBounds = 6,
    /// `call_indirect` with an index outside the table.
    UndefinedElement = 7,
    /// `call_indirect` through a null table entry.
    UninitializedElement = 8,
    /// `call_indirect` to a function whose type differs from the expected one.
    BadSignature = 9,
    /// The call stack limit was reached.
    StackOverflow = 10,
    /// A host function reported an error.
    HostError = 11,
    /// The store ran out of fuel.
    OutOfFuel = 12,
}

impl TrapCode {
    /// Every trap code, in numeric order.
    pub const ALL: [TrapCode; 12] = [
        TrapCode::Unreachable,
        TrapCode::IntegerDivisionByZero,
        TrapCode::IntegerOverflow,
        TrapCode::BadConversionToInteger,
        TrapCode::MemoryOutOfBounds,
        TrapCode::TableOutOfBounds,
        TrapCode::UndefinedElement,
        TrapCode::UninitializedElement,
        TrapCode::BadSignature,
        TrapCode::StackOverflow,
        TrapCode::HostError,
        TrapCode::OutOfFuel,
    ];

    /// The code with number `n`, if there is one.
    pub fn from_u8(n: u8) -> Option<TrapCode> {
        TrapCode::ALL.iter().copied().find(|c| *c as u8 == n)
    }

    /// The message the WebAssembly specification's test suite uses for it.
    pub fn message(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::IntegerDivisionByZero => "integer divide by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::UndefinedElement => "undefined element",
            TrapCode::UninitializedElement => "uninitialized element",
            TrapCode::BadSignature => "indirect call type mismatch",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::HostError => "host function error",
            TrapCode::OutOfFuel => "out of fuel",
        }
    }
}

impl std::fmt::Display for TrapCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// The symbol every compiled object exports (see [`descriptor_symbol`]).
///
/// Its layout is fixed: the compiler writes it field by field at the offsets
/// in [`descriptor_offsets`], with relocations for the pointers.
#[repr(C)]
#[derive(Debug)]
pub struct ModuleDescriptor {
    /// Always [`DESCRIPTOR_MAGIC`].
    pub magic: [u8; 8],
    /// Always [`ABI_VERSION`] for objects this runtime can run.
    pub abi_version: u32,
    /// Reserved, zero.
    pub reserved: u32,
    /// [`ModuleMetadata`] encoded with `postcard`.
    pub metadata: *const u8,
    /// Length of `metadata` in bytes.
    pub metadata_len: u64,
    /// Code address of each defined function, in index order (imports are
    /// not included). Null when the module defines no function.
    pub functions: *const *const u8,
    /// Entry trampoline of each type in the type section, in index order.
    /// Null when there are no types. See [`EntryTrampoline`].
    pub entry_trampolines: *const *const u8,
    /// Host-call trampoline of each type, in index order. Null when there are
    /// no types. See [`HostCallContext`].
    pub host_trampolines: *const *const u8,
}

/// Byte offsets of the fields of [`ModuleDescriptor`].
pub mod descriptor_offsets {
    /// `magic`.
    pub const MAGIC: u32 = 0;
    /// `abi_version`.
    pub const ABI_VERSION: u32 = 8;
    /// `metadata`.
    pub const METADATA: u32 = 16;
    /// `metadata_len`.
    pub const METADATA_LEN: u32 = 24;
    /// `functions`.
    pub const FUNCTIONS: u32 = 32;
    /// `entry_trampolines`.
    pub const ENTRY_TRAMPOLINES: u32 = 40;
    /// `host_trampolines`.
    pub const HOST_TRAMPOLINES: u32 = 48;
    /// Size of the whole descriptor.
    pub const SIZE: u32 = 56;
}

/// Signature of an entry trampoline (one per function type).
///
/// It loads the parameters from `values`, calls `code(vmctx, params...)` and
/// stores the results back into `values`, which must have room for
/// `max(params, results)` slots.
pub type EntryTrampoline =
    unsafe extern "C" fn(vmctx: *mut u8, code: *const u8, values: *mut ValRaw);

/// One value in the array calling convention used by trampolines: 16 bytes,
/// little-endian, the value in the low bytes.
///
/// `i32` and `f32` (as bits) occupy bytes 0..4, `i64`, `f64` (as bits) and
/// references bytes 0..8; the remaining bytes are unspecified.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValRaw(pub [u8; 16]);

/// Size of a [`ValRaw`] slot.
pub const VAL_RAW_SIZE: u32 = 16;

/// A function reference as generated code sees it. A `funcref` value is a
/// pointer to one of these (null for `ref.null func`); an `externref` value
/// is an opaque non-zero 64-bit word chosen by the host (zero for null).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FuncRef {
    /// Native code address, called as `code(vmctx, params...)`.
    pub code: *const u8,
    /// First argument of every call to `code`: the callee's [`VMContext`
    /// layout](VmctxLayout), or a [`HostCallContext`] for host functions.
    pub vmctx: *mut u8,
    /// Canonical signature id (see [`VmctxLayout::sig_id`]).
    pub sig_id: u32,
    /// Reserved, zero.
    pub reserved: u32,
}

/// Byte offsets of the fields of [`FuncRef`].
pub mod funcref_offsets {
    /// `code`.
    pub const CODE: u32 = 0;
    /// `vmctx`.
    pub const VMCTX: u32 = 8;
    /// `sig_id`.
    pub const SIG_ID: u32 = 16;
    /// Size of a `FuncRef`.
    pub const SIZE: u32 = 24;
}

/// State shared by every instance of one store: the whole store spends one
/// stack budget and one fuel budget.
#[repr(C)]
#[derive(Debug, Default)]
pub struct StoreContext {
    /// Lowest stack address wasm code may use. Generated function prologues
    /// trap with [`TrapCode::StackOverflow`] below it.
    pub stack_limit: usize,
    /// Remaining fuel. While metered code runs, the live value is in the
    /// fuel register ([`FUEL_REGISTER_X86_64`], [`FUEL_REGISTER_AARCH64`]);
    /// this field is current whenever control is outside wasm code: the
    /// entry trampoline loads the register from it and stores it back,
    /// generated code stores it before every builtin or host call and
    /// reloads it after, and the trap handler stores the register here.
    pub fuel: u64,
}

/// Byte offsets of the fields of [`StoreContext`].
pub mod store_offsets {
    /// `stack_limit`.
    pub const STACK_LIMIT: u32 = 0;
    /// `fuel`.
    pub const FUEL: u32 = 8;
}

/// Hardware register (x86-64 encoding) that holds the remaining fuel while
/// metered code runs: `r15`, Cranelift's pinned register. Metered code
/// never allocates it; builtins and host functions, which follow the C ABI,
/// preserve it because it is callee-saved there.
pub const FUEL_REGISTER_X86_64: u8 = 15;

/// Hardware register (aarch64 encoding) that holds the remaining fuel while
/// metered code runs: `x21`, Cranelift's pinned register.
pub const FUEL_REGISTER_AARCH64: u8 = 21;

/// A linear memory as generated code sees it. Owned by the runtime's memory
/// object and shared by every instance that imports it.
#[repr(C)]
#[derive(Debug)]
pub struct MemoryDefinition {
    /// Address of byte 0. Never moves under [`BoundsChecks::Guard`]; may move
    /// on `memory.grow` (and so across any call) under
    /// [`BoundsChecks::Explicit`].
    pub base: *mut u8,
    /// Current size in bytes.
    pub length: u64,
}

/// Byte offsets of the fields of [`MemoryDefinition`].
pub mod memory_offsets {
    /// `base`.
    pub const BASE: u32 = 0;
    /// `length`.
    pub const LENGTH: u32 = 8;
}

/// A table as generated code sees it: `length` raw references (see
/// [`FuncRef`]) of 8 bytes each. Owned by the runtime's table object.
#[repr(C)]
#[derive(Debug)]
pub struct TableDefinition {
    /// Address of element 0. May move on `table.grow`.
    pub base: *mut u64,
    /// Current number of elements.
    pub length: u64,
}

/// Byte offsets of the fields of [`TableDefinition`].
pub mod table_offsets {
    /// `base`.
    pub const BASE: u32 = 0;
    /// `length`.
    pub const LENGTH: u32 = 8;
}

/// Storage of one global: the value's raw bits in the low bytes, as in
/// [`ValRaw`].
pub type GlobalCell = ValRaw;

/// The context a host function's [`FuncRef::vmctx`] points to. Its first two
/// fields sit where a [`VmctxLayout`] has them, so a host-call trampoline
/// finds the builtins the same way wasm code does.
///
/// A host-call trampoline for type `T` has the native signature of `T`. It
/// stores its parameters into an array of `max(params, results)`
/// [`ValRaw`]s, calls `builtins.host_call(ctx, values)` and returns the
/// results read back from the array. `host_call` does not return if the host
/// function traps.
#[repr(C)]
#[derive(Debug)]
pub struct HostCallContext {
    /// The store's context.
    pub store: *mut StoreContext,
    /// The runtime's builtins.
    pub builtins: *const Builtins,
    /// Runtime-private data identifying the host function.
    pub data: *mut u8,
}

/// Layout of an instance's context (`VMContext`), the first argument of every
/// wasm function. Computed the same way by the compiler and the runtime from
/// the module's counts:
///
/// | offset | contents |
/// | --- | --- |
/// | 0 | `*mut StoreContext` |
/// | 8 | `*const Builtins` |
/// | 16 | runtime-private instance pointer |
/// | 24 | `*mut MemoryDefinition` (null without memory) |
/// | `sig_ids` | `u32` canonical signature id per type |
/// | `tables` | `*mut TableDefinition` per table (imports first) |
/// | `globals` | `*mut GlobalCell` per global (imports first) |
/// | `funcrefs` | [`FuncRef`] per function (imports first) |
///
/// Canonical signature ids are assigned by the runtime so that two types are
/// equal exactly when their ids are; `call_indirect` compares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmctxLayout {
    num_types: u32,
    num_tables: u32,
    num_globals: u32,
    num_funcs: u32,
}

impl VmctxLayout {
    /// Offset of the `*mut StoreContext`.
    pub const STORE: u32 = 0;
    /// Offset of the `*const Builtins`.
    pub const BUILTINS: u32 = 8;
    /// Offset of the runtime's private instance pointer.
    pub const INSTANCE: u32 = 16;
    /// Offset of the `*mut MemoryDefinition`.
    pub const MEMORY: u32 = 24;
    const SIG_IDS: u32 = 32;

    /// The layout for a module with these counts (imports included).
    pub fn new(num_types: u32, num_tables: u32, num_globals: u32, num_funcs: u32) -> Self {
        VmctxLayout {
            num_types,
            num_tables,
            num_globals,
            num_funcs,
        }
    }

    /// Offset of the canonical signature id of type `type_index`.
    pub fn sig_id(&self, type_index: u32) -> u32 {
        debug_assert!(type_index < self.num_types);
        Self::SIG_IDS + 4 * type_index
    }

    fn tables_start(&self) -> u32 {
        (Self::SIG_IDS + 4 * self.num_types).next_multiple_of(8)
    }

    /// Offset of the `*mut TableDefinition` of table `index`.
    pub fn table(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_tables);
        self.tables_start() + POINTER_SIZE * index
    }

    fn globals_start(&self) -> u32 {
        self.tables_start() + POINTER_SIZE * self.num_tables
    }

    /// Offset of the `*mut GlobalCell` of global `index`.
    pub fn global(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_globals);
        self.globals_start() + POINTER_SIZE * index
    }

    fn funcrefs_start(&self) -> u32 {
        self.globals_start() + POINTER_SIZE * self.num_globals
    }

    /// Offset of the [`FuncRef`] of function `index`.
    pub fn funcref(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_funcs);
        self.funcrefs_start() + funcref_offsets::SIZE * index
    }

    /// Total size of the context in bytes (a multiple of 8).
    pub fn size(&self) -> u32 {
        self.funcrefs_start() + funcref_offsets::SIZE * self.num_funcs
    }
}

/// Calls `$m!` with the list of runtime builtins, so the runtime's
/// [`Builtins`] table and the compiler's call signatures come from one list.
///
/// Each entry is `name(param: type, ...) -> result;` where a type is `ptr`,
/// `i32` or `i64`. Builtins with a dynamic fuel cost take a last `units`
/// operand (see [`Builtin::has_units`]). Every builtin but `host_call` takes the caller's
/// [`VmctxLayout`] context and the caller's function index (so that a trap
/// can name it) first. Builtins that trap do not return.
#[macro_export]
macro_rules! for_each_builtin {
    ($m:ident) => {
        $m! {
            /// `memory.grow`: grows the memory by `delta` pages and returns the
            /// old size in pages, or -1. `units`: see [`Builtin::has_units`].
            memory_grow(vmctx: ptr, caller: i32, delta: i32, units: i32) -> i32;
            /// `memory.fill`: traps with `MemoryOutOfBounds`.
            memory_fill(vmctx: ptr, caller: i32, dst: i32, value: i32, len: i32, units: i32) -> ();
            /// `memory.copy`: traps with `MemoryOutOfBounds`.
            memory_copy(vmctx: ptr, caller: i32, dst: i32, src: i32, len: i32, units: i32) -> ();
            /// `memory.init`: traps with `MemoryOutOfBounds`.
            memory_init(vmctx: ptr, caller: i32, segment: i32, dst: i32, src: i32, len: i32, units: i32) -> ();
            /// `data.drop`.
            data_drop(vmctx: ptr, caller: i32, segment: i32) -> ();
            /// `table.grow`: returns the old size, or -1.
            table_grow(vmctx: ptr, caller: i32, table: i32, init: i64, delta: i32, units: i32) -> i32;
            /// `table.fill`: traps with `TableOutOfBounds`.
            table_fill(vmctx: ptr, caller: i32, table: i32, dst: i32, value: i64, len: i32, units: i32) -> ();
            /// `table.copy`: traps with `TableOutOfBounds`.
            table_copy(vmctx: ptr, caller: i32, dst_table: i32, src_table: i32, dst: i32, src: i32, len: i32, units: i32) -> ();
            /// `table.init`: traps with `TableOutOfBounds`.
            table_init(vmctx: ptr, caller: i32, table: i32, segment: i32, dst: i32, src: i32, len: i32, units: i32) -> ();
            /// `elem.drop`.
            elem_drop(vmctx: ptr, caller: i32, segment: i32) -> ();
            /// Calls the host function behind a [`HostCallContext`] with
            /// arguments and results in `values`.
            host_call(ctx: ptr, values: ptr) -> ();
            /// Called by metered code when `StoreContext::fuel` is below
            /// `required`, the cost of the next metered block: runs the
            /// store's out-of-fuel handler and returns once the store has at
            /// least `required` fuel (without charging it), or traps with
            /// `OutOfFuel` leaving the fuel unchanged.
            out_of_fuel(vmctx: ptr, caller: i32, required: i64) -> ();
        }
    };
}

/// The type a builtin signature entry stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltinType {
    /// A pointer.
    Ptr,
    /// A 32-bit integer.
    I32,
    /// A 64-bit integer.
    I64,
}

/// Signature of one builtin as the compiler needs it.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinSignature {
    /// Name of the builtin (its field in [`Builtins`]).
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [BuiltinType],
    /// Result type, if any.
    pub result: Option<BuiltinType>,
}

macro_rules! builtin_type {
    (ptr) => {
        BuiltinType::Ptr
    };
    (i32) => {
        BuiltinType::I32
    };
    (i64) => {
        BuiltinType::I64
    };
}

macro_rules! builtin_result {
    (()) => {
        None
    };
    ($t:ident) => {
        Some(builtin_type!($t))
    };
}

macro_rules! builtin_rust_type {
    (ptr) => { *mut u8 };
    (i32) => { i32 };
    (i64) => { i64 };
    (()) => { () };
}

macro_rules! define_builtins {
    ($($(#[$doc:meta])* $name:ident($($p:ident: $pt:tt),*) -> $rt:tt;)*) => {
        /// The table of runtime functions that generated code calls, reached
        /// through [`VmctxLayout::BUILTINS`]. Field order is the index order
        /// of [`Builtin`].
        #[repr(C)]
        #[allow(missing_debug_implementations)]
        pub struct Builtins {
            $($(#[$doc])* pub $name: unsafe extern "C" fn($($p: builtin_rust_type!($pt)),*) -> builtin_rust_type!($rt),)*
        }

        /// Names a builtin; its discriminant is its index in [`Builtins`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(non_camel_case_types)]
        pub enum Builtin {
            $($(#[$doc])* $name,)*
        }

        impl Builtin {
            /// Byte offset of this builtin's pointer in [`Builtins`].
            pub fn offset(self) -> u32 {
                self as u32 * POINTER_SIZE
            }

            /// Whether the builtin's last parameter is `units`: how many units
            /// of its dynamic fuel cost (bytes, elements or pages) the runtime
            /// charges. Generated code passes the operand itself (the length
            /// or the delta), or 0 when it already charged a constant operand
            /// with the metered block; unmetered modules are never charged.
            pub fn has_units(self) -> bool {
                matches!(
                    self,
                    Builtin::memory_grow
                        | Builtin::memory_fill
                        | Builtin::memory_copy
                        | Builtin::memory_init
                        | Builtin::table_grow
                        | Builtin::table_fill
                        | Builtin::table_copy
                        | Builtin::table_init
                )
            }

            /// The builtin's signature.
            pub fn signature(self) -> BuiltinSignature {
                match self {
                    $(Builtin::$name => BuiltinSignature {
                        name: stringify!($name),
                        params: &[$(builtin_type!($pt)),*],
                        result: builtin_result!($rt),
                    },)*
                }
            }
        }
    };
}

for_each_builtin!(define_builtins);

/// A WebAssembly value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `v128`.
    V128,
    /// `funcref`.
    FuncRef,
    /// `externref`.
    ExternRef,
}

/// A reference type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RefType {
    /// `funcref`.
    FuncRef,
    /// `externref`.
    ExternRef,
}

impl From<RefType> for ValType {
    fn from(r: RefType) -> ValType {
        match r {
            RefType::FuncRef => ValType::FuncRef,
            RefType::ExternRef => ValType::ExternRef,
        }
    }
}

/// A function type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

/// Size limits of a memory (in pages) or a table (in elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Initial size.
    pub min: u64,
    /// Maximum size, if any.
    pub max: Option<u64>,
}

/// A table type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableType {
    /// Element type.
    pub element: RefType,
    /// Size limits in elements.
    pub limits: Limits,
}

/// A memory type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryType {
    /// Size limits in pages.
    pub limits: Limits,
}

/// A global type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalType {
    /// Value type.
    pub content: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
}

/// What an import expects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportKind {
    /// A function of the type with this index.
    Func(u32),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
}

/// One import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub field: String,
    /// What is imported.
    pub kind: ImportKind,
}

/// The kind of an exported item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportKind {
    /// A function.
    Func,
    /// A table.
    Table,
    /// A memory.
    Memory,
    /// A global.
    Global,
}

/// One export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// Kind of item.
    pub kind: ExportKind,
    /// Index in the kind's index space (imports included).
    pub index: u32,
}

/// A constant expression (WebAssembly 2.0 allows exactly one instruction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConstExpr {
    /// `i32.const`.
    I32(i32),
    /// `i64.const`.
    I64(i64),
    /// `f32.const`, as bits.
    F32(u32),
    /// `f64.const`, as bits.
    F64(u64),
    /// `v128.const`, as bits.
    V128(u128),
    /// `ref.null`.
    RefNull(RefType),
    /// `ref.func` with a function index.
    RefFunc(u32),
    /// `global.get` of an (imported) global.
    GlobalGet(u32),
}

/// A global defined by the module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalDefinition {
    /// Its type.
    pub ty: GlobalType,
    /// Its initial value.
    pub init: ConstExpr,
}

/// A data segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSegment {
    /// `Some((memory, offset))` for an active segment, `None` for a passive one.
    pub active: Option<(u32, ConstExpr)>,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// How an element segment is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElementMode {
    /// Used by `table.init`.
    Passive,
    /// Only declares functions for `ref.func`; dropped at instantiation.
    Declared,
    /// Copied into `table` at `offset` during instantiation.
    Active {
        /// Table index.
        table: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
}

/// An element segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementSegment {
    /// How it is used.
    pub mode: ElementMode,
    /// Element type.
    pub element: RefType,
    /// The items, each `RefFunc`, `RefNull` or `GlobalGet`.
    pub items: Vec<ConstExpr>,
}

/// A trap site inside a function's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrapSite {
    /// Byte offset from the function's first instruction of the instruction
    /// that faults or traps.
    pub offset: u32,
    /// What the trap means.
    pub code: TrapCode,
}

/// A function defined by the module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionInfo {
    /// Index of its type.
    pub type_index: u32,
    /// Size of its machine code in bytes.
    pub code_size: u32,
    /// Its trap sites, sorted by offset.
    pub traps: Vec<TrapSite>,
}

/// How generated code keeps memory accesses in bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BoundsChecks {
    /// No checks in code: the runtime reserves [`GUARD_MEMORY_RESERVATION`]
    /// bytes per memory and out-of-bounds accesses fault on guard pages.
    Guard,
    /// Every access is compared against the current length; the memory may
    /// be allocated without any reservation and may move when it grows.
    Explicit,
}

/// Everything the runtime needs to instantiate a compiled module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleMetadata {
    /// Module name (the symbol prefix).
    pub name: String,
    /// How memory accesses are checked.
    pub bounds_checks: BoundsChecks,
    /// The type section.
    pub types: Vec<FuncType>,
    /// Imports in order.
    pub imports: Vec<Import>,
    /// Defined functions, in index order after the imported ones.
    pub functions: Vec<FunctionInfo>,
    /// Defined tables.
    pub tables: Vec<TableType>,
    /// Defined memories (at most one).
    pub memories: Vec<MemoryType>,
    /// Defined globals.
    pub globals: Vec<GlobalDefinition>,
    /// Exports in order.
    pub exports: Vec<Export>,
    /// The start function, if any.
    pub start: Option<u32>,
    /// Element segments.
    pub elements: Vec<ElementSegment>,
    /// Data segments.
    pub data: Vec<DataSegment>,
    /// Function names from the name section (index, name), sorted by index.
    pub function_names: Vec<(u32, String)>,
    /// How the module's code is metered, or `None` when it carries no
    /// metering at all.
    pub fuel: Option<FuelMetadata>,
}

/// How metered code charges fuel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FuelMode {
    /// Static costs summed per metered block and charged at its entry.
    Exact,
    /// Every operator charged and checked on its own (the reference mode).
    PerOp,
}

/// What the runtime must know to meter a module: the mode and the unit
/// costs of the dynamic operations that the runtime's builtins charge.
///
/// Builtins charge dynamic costs after their bounds checks and before they
/// act, with 64-bit saturating arithmetic; `memory.grow` and `table.grow`
/// charge for the delta only when the growth succeeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuelMetadata {
    /// Metering mode.
    pub mode: FuelMode,
    /// Cost per byte of `memory.copy`, `memory.fill` and `memory.init`.
    pub memory_byte: u64,
    /// Cost per element of `table.copy`, `table.fill`, `table.init`, and per
    /// element added by a successful `table.grow`.
    pub table_element: u64,
    /// Cost per page added by a successful `memory.grow`.
    pub memory_page: u64,
}

impl ModuleMetadata {
    /// The metadata of a module named `name`, compiled with `bounds_checks`,
    /// that has no types, imports, functions, objects, exports, segments,
    /// start function or metering: the starting point for building metadata
    /// field by field (`ModuleMetadata { types, ..ModuleMetadata::empty(..) }`).
    pub fn empty(name: &str, bounds_checks: BoundsChecks) -> ModuleMetadata {
        ModuleMetadata {
            name: name.into(),
            bounds_checks,
            types: vec![],
            imports: vec![],
            functions: vec![],
            tables: vec![],
            memories: vec![],
            globals: vec![],
            exports: vec![],
            start: None,
            elements: vec![],
            data: vec![],
            function_names: vec![],
            fuel: None,
        }
    }

    /// Number of imported functions.
    pub fn num_imported_funcs(&self) -> u32 {
        self.count_imports(|k| matches!(k, ImportKind::Func(_)))
    }

    /// Number of imported tables.
    pub fn num_imported_tables(&self) -> u32 {
        self.count_imports(|k| matches!(k, ImportKind::Table(_)))
    }

    /// Number of imported memories.
    pub fn num_imported_memories(&self) -> u32 {
        self.count_imports(|k| matches!(k, ImportKind::Memory(_)))
    }

    /// Number of imported globals.
    pub fn num_imported_globals(&self) -> u32 {
        self.count_imports(|k| matches!(k, ImportKind::Global(_)))
    }

    /// The type of function `index` (index space, imports first), if
    /// there is one.
    pub fn func_type(&self, index: u32) -> Option<&FuncType> {
        let imported = self.imports.iter().filter_map(|i| match i.kind {
            ImportKind::Func(t) => Some(t),
            _ => None,
        });
        let defined = self.functions.iter().map(|f| f.type_index);
        let type_index = imported.chain(defined).nth(index as usize)?;
        self.types.get(type_index as usize)
    }

    /// The type of global `index` (index space, imports first), if there is
    /// one.
    pub fn global_type(&self, index: u32) -> Option<GlobalType> {
        let imported = self.imports.iter().filter_map(|i| match i.kind {
            ImportKind::Global(t) => Some(t),
            _ => None,
        });
        imported
            .chain(self.globals.iter().map(|g| g.ty))
            .nth(index as usize)
    }

    fn count_imports(&self, pred: impl Fn(&ImportKind) -> bool) -> u32 {
        self.imports.iter().filter(|i| pred(&i.kind)).count() as u32
    }

    /// The instance context layout of this module.
    pub fn vmctx_layout(&self) -> VmctxLayout {
        VmctxLayout::new(
            self.types.len() as u32,
            self.num_imported_tables() + self.tables.len() as u32,
            self.num_imported_globals() + self.globals.len() as u32,
            self.num_imported_funcs() + self.functions.len() as u32,
        )
    }

    /// A readable name for function `index`: its name-section name, else
    /// its first export name, else the import's `module.field`, else
    /// `func[index]`.
    pub fn function_name(&self, index: u32) -> String {
        if let Ok(i) = self
            .function_names
            .binary_search_by_key(&index, |(i, _)| *i)
        {
            return self.function_names[i].1.clone();
        }
        if let Some(e) = self
            .exports
            .iter()
            .find(|e| e.kind == ExportKind::Func && e.index == index)
        {
            return e.name.clone();
        }
        if let Some(imp) = self
            .imports
            .iter()
            .filter(|i| matches!(i.kind, ImportKind::Func(_)))
            .nth(index as usize)
        {
            return format!("{}.{}", imp.module, imp.field);
        }
        format!("func[{index}]")
    }

    /// Encodes the metadata for a [`ModuleDescriptor`].
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("metadata serializes")
    }

    /// Decodes metadata written by [`ModuleMetadata::encode`].
    pub fn decode(bytes: &[u8]) -> Result<ModuleMetadata, postcard::Error> {
        postcard::from_bytes(bytes)
    }
}
