//! Hand-made "compiled modules" for the runtime's integration tests: Rust
//! and assembly functions standing in for generated code, with the same
//! calling conventions (`(vmctx, params...) -> result`, entry and host-call
//! trampolines), so instantiation, calls, builtins, traps, unwinding and
//! fuel can be tested without the compiler. Metered "generated code" here
//! keeps its fuel in `StoreContext::fuel` rather than in the fuel register,
//! which is where real code puts it around every builtin call. Every test
//! binary shares this file; it must not contain tests itself.

#![allow(dead_code)]

use fuelc_runtime::abi::{
    BoundsChecks, Builtins, FuelMetadata, FuelMode, FuncRef, FunctionInfo, HostCallContext,
    StoreContext, TrapSite, ValRaw, VmctxLayout, ABI_VERSION, DESCRIPTOR_MAGIC,
};
use fuelc_runtime::{
    CallError, Extern, FuncType, Instance, Module, ModuleDescriptor, ModuleMetadata, Store, Trap,
    TrapCode, Val, ValType,
};
use std::mem::transmute;

/// The type section every fake module uses.
pub const T_V_V: u32 = 0;
/// `[] -> [i32]`.
pub const T_V_I32: u32 = 1;
/// `[i32] -> [i32]`.
pub const T_I32_I32: u32 = 2;
/// `[i32, i64] -> [i64]`.
pub const T_I32I64_I64: u32 = 3;

pub fn types() -> Vec<FuncType> {
    use ValType::*;
    let t = |p: &[ValType], r: &[ValType]| FuncType {
        params: p.to_vec(),
        results: r.to_vec(),
    };
    vec![
        t(&[], &[]),
        t(&[], &[I32]),
        t(&[I32], &[I32]),
        t(&[I32, I64], &[I64]),
    ]
}

pub fn layout(tables: u32, globals: u32, funcs: u32) -> VmctxLayout {
    VmctxLayout::new(4, tables, globals, funcs)
}

/// Metadata of a module named `name` with the [`types`] and nothing else.
pub fn metadata(name: &str) -> ModuleMetadata {
    ModuleMetadata {
        types: types(),
        ..ModuleMetadata::empty(name, BoundsChecks::Guard)
    }
}

/// A function without trap sites.
pub fn plain(type_index: u32) -> FunctionInfo {
    FunctionInfo {
        type_index,
        code_size: 1,
        traps: vec![],
    }
}

/// A function trapping with `code` at `offset`.
pub fn trapping(type_index: u32, offset: u32, code: TrapCode) -> FunctionInfo {
    FunctionInfo {
        type_index,
        code_size: offset + 4,
        traps: vec![TrapSite { offset, code }],
    }
}

/// Loads `meta` with code `functions`; the descriptor is leaked.
pub fn load(meta: &ModuleMetadata, functions: Vec<*const u8>) -> Module {
    // SAFETY: everything the descriptor points to is leaked.
    unsafe { Module::from_descriptor(descriptor(meta, functions), None) }
        .expect("fake module loads")
}

/// A leaked descriptor of `meta` with code `functions`.
pub fn descriptor(meta: &ModuleMetadata, functions: Vec<*const u8>) -> &'static ModuleDescriptor {
    let entries = vec![
        entry_v_v as *const u8,
        entry_v_i32 as *const u8,
        entry_i32_i32 as *const u8,
        entry_i32i64_i64 as *const u8,
    ];
    let hosts = vec![
        no_host as *const u8,
        no_host as *const u8,
        host_i32_i32 as *const u8,
        no_host as *const u8,
    ];
    descriptor_with_trampolines(meta, functions, entries, hosts)
}

/// A leaked descriptor of `meta` with code `functions` and, per type, the
/// entry trampolines `entries` and host-call trampolines `hosts`.
pub fn descriptor_with_trampolines(
    meta: &ModuleMetadata,
    functions: Vec<*const u8>,
    entries: Vec<*const u8>,
    hosts: Vec<*const u8>,
) -> &'static ModuleDescriptor {
    let bytes = meta.encode().leak();
    let functions = functions.leak();
    let (entries, hosts) = (entries.leak(), hosts.leak());
    Box::leak(Box::new(ModuleDescriptor {
        magic: DESCRIPTOR_MAGIC,
        abi_version: ABI_VERSION,
        reserved: 0,
        metadata: bytes.as_ptr(),
        metadata_len: bytes.len() as u64,
        functions: if functions.is_empty() {
            std::ptr::null()
        } else {
            functions.as_ptr()
        },
        entry_trampolines: entries.as_ptr(),
        host_trampolines: hosts.as_ptr(),
    }))
}

fn read_i32(v: *mut ValRaw, i: usize) -> i32 {
    // SAFETY: trampolines get arrays sized for their type.
    let raw = unsafe { *v.add(i) };
    i32::from_le_bytes(raw.0[..4].try_into().unwrap())
}

fn read_i64(v: *mut ValRaw, i: usize) -> i64 {
    // SAFETY: trampolines get arrays sized for their type.
    let raw = unsafe { *v.add(i) };
    i64::from_le_bytes(raw.0[..8].try_into().unwrap())
}

fn write_i64(v: *mut ValRaw, i: usize, x: i64) {
    let mut raw = ValRaw::default();
    raw.0[..8].copy_from_slice(&x.to_le_bytes());
    // SAFETY: trampolines get arrays sized for their type.
    unsafe { *v.add(i) = raw };
}

fn write_i32(v: *mut ValRaw, i: usize, x: i32) {
    write_i64(v, i, i64::from(x as u32));
}

unsafe extern "C" fn entry_v_v(vmctx: *mut u8, code: *const u8, _: *mut ValRaw) {
    // SAFETY: the entry trampoline of this type is only given code of this type.
    let f = unsafe { transmute::<*const u8, extern "C" fn(*mut u8)>(code) };
    f(vmctx);
}

unsafe extern "C" fn entry_v_i32(vmctx: *mut u8, code: *const u8, v: *mut ValRaw) {
    // SAFETY: the entry trampoline of this type is only given code of this type.
    let f = unsafe { transmute::<*const u8, extern "C" fn(*mut u8) -> i32>(code) };
    write_i32(v, 0, f(vmctx));
}

unsafe extern "C" fn entry_i32_i32(vmctx: *mut u8, code: *const u8, v: *mut ValRaw) {
    // SAFETY: the entry trampoline of this type is only given code of this type.
    let f = unsafe { transmute::<*const u8, extern "C" fn(*mut u8, i32) -> i32>(code) };
    write_i32(v, 0, f(vmctx, read_i32(v, 0)));
}

unsafe extern "C" fn entry_i32i64_i64(vmctx: *mut u8, code: *const u8, v: *mut ValRaw) {
    // SAFETY: the entry trampoline of this type is only given code of this type.
    let f = unsafe { transmute::<*const u8, extern "C" fn(*mut u8, i32, i64) -> i64>(code) };
    write_i64(v, 0, f(vmctx, read_i32(v, 0), read_i64(v, 1)));
}

extern "C" fn no_host() {
    std::process::abort();
}

/// The host-call trampoline of `[i32] -> [i32]`.
unsafe extern "C" fn host_i32_i32(ctx: *mut u8, a: i32) -> i32 {
    let mut values = [ValRaw::default(); 1];
    write_i32(values.as_mut_ptr(), 0, a);
    let host = ctx.cast::<HostCallContext>();
    // SAFETY: `ctx` is the host-call context of the function reference
    // this trampoline was called through, and `values` has one slot.
    unsafe { ((*(*host).builtins).host_call)(ctx, values.as_mut_ptr().cast()) };
    read_i32(values.as_mut_ptr(), 0)
}

/// Calls the function `instance` exports as `name`.
pub fn call(
    store: &mut Store,
    instance: Instance,
    name: &str,
    args: &[Val],
) -> Result<Vec<Val>, CallError> {
    let Some(Extern::Func(f)) = store.export(instance, name) else {
        panic!("no function {name}");
    };
    store.call(f, args)
}

/// The error of a call that trapped with `code` in `function`.
pub fn trap(code: TrapCode, function: &str) -> CallError {
    CallError::Trap(Trap {
        code,
        function: function.into(),
    })
}

/// The builtins table of an instance.
pub fn builtins(vmctx: *mut u8) -> &'static Builtins {
    // SAFETY: every context holds the builtins pointer at this offset.
    unsafe {
        &**vmctx
            .add(VmctxLayout::BUILTINS as usize)
            .cast::<*const Builtins>()
    }
}

/// The context of the instance's store.
fn store_context(vmctx: *mut u8) -> *mut StoreContext {
    // SAFETY: every context holds the store pointer at offset 0.
    unsafe { *vmctx.cast::<*mut StoreContext>() }
}

/// The stack limit of the instance's store.
pub fn stack_limit(vmctx: *mut u8) -> usize {
    // SAFETY: the store context outlives its instances' calls.
    unsafe { (*store_context(vmctx)).stack_limit }
}

/// Fuel metadata of an `exact` module with these unit costs.
pub fn fuel_costs(memory_byte: u64, table_element: u64, memory_page: u64) -> FuelMetadata {
    FuelMetadata {
        mode: FuelMode::Exact,
        memory_byte,
        table_element,
        memory_page,
    }
}

/// Charges `cost` the way metered code charges a block in function
/// `caller`: calls the `out_of_fuel` builtin if the store has less (which
/// traps or returns with enough), then subtracts.
pub fn charge(vmctx: *mut u8, caller: i32, cost: u64) {
    let store = store_context(vmctx);
    // SAFETY: the store context outlives its instances' calls, and nothing
    // else uses it while this "generated code" runs; a builtin called as
    // generated code would, from a frame that holds only integers.
    unsafe {
        if (*store).fuel < cost {
            (builtins(vmctx).out_of_fuel)(vmctx, caller, cost as i64);
        }
        (*store).fuel -= cost;
    }
}

/// Metered `[i32] -> [i32]` code that charges its argument, as function 0,
/// and returns it.
pub extern "C" fn spend(vmctx: *mut u8, cost: i32) -> i32 {
    charge(vmctx, 0, cost as u64);
    cost
}

/// Calls the function reference at `record` as `[i32] -> [i32]`.
pub fn call_funcref_i32(record: *const FuncRef, x: i32) -> i32 {
    // SAFETY: the callers pass records of functions of that type.
    unsafe {
        let f = transmute::<*const u8, extern "C" fn(*mut u8, i32) -> i32>((*record).code);
        f((*record).vmctx, x)
    }
}

// Assembly stubs: instructions that fault, at addresses the tests know.
#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".text",
    ".p2align 4",
    ".globl fuelc_test_ud2",
    "fuelc_test_ud2:",
    "ud2",
    ".p2align 4",
    ".globl fuelc_test_stack_trap",
    "fuelc_test_stack_trap:",
    "ud2",
    ".p2align 4",
    ".globl fuelc_test_load_far",
    "fuelc_test_load_far:",
    "mov rax, [rdi + 24]",
    "mov rax, [rax]",
    "movabs rcx, 0x100000000",
    ".globl fuelc_test_load_far_fault",
    "fuelc_test_load_far_fault:",
    "mov eax, [rax + rcx]",
    "ret",
    ".p2align 4",
    ".globl fuelc_test_fuel_trap",
    "fuelc_test_fuel_trap:",
    "mov r15, 0x1234",
    ".globl fuelc_test_fuel_trap_site",
    "fuelc_test_fuel_trap_site:",
    "ud2",
);

#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    ".text",
    ".p2align 4",
    ".globl fuelc_test_ud2",
    "fuelc_test_ud2:",
    "udf #0",
    ".p2align 4",
    ".globl fuelc_test_stack_trap",
    "fuelc_test_stack_trap:",
    "udf #0",
    ".p2align 4",
    ".globl fuelc_test_load_far",
    "fuelc_test_load_far:",
    "ldr x0, [x0, #24]",
    "ldr x0, [x0]",
    "movz x1, #1, lsl #32",
    ".globl fuelc_test_load_far_fault",
    "fuelc_test_load_far_fault:",
    "ldr w0, [x0, x1]",
    "ret",
    ".p2align 4",
    ".globl fuelc_test_fuel_trap",
    "fuelc_test_fuel_trap:",
    "movz x21, #0x1234",
    ".globl fuelc_test_fuel_trap_site",
    "fuelc_test_fuel_trap_site:",
    "udf #0",
);

unsafe extern "C" {
    /// Traps immediately (offset 0): `[] -> []`.
    pub fn fuelc_test_ud2(vmctx: *mut u8);
    /// Traps immediately (offset 0), standing for a stack-limit check.
    pub fn fuelc_test_stack_trap(vmctx: *mut u8);
    /// Loads 4 GiB past the memory's base: `[] -> [i32]`.
    pub fn fuelc_test_load_far(vmctx: *mut u8) -> i32;
    fn fuelc_test_load_far_fault();
    /// Puts [`TRAP_FUEL`] in the fuel register and traps: `[] -> []`.
    fn fuelc_test_fuel_trap(vmctx: *mut u8);
    fn fuelc_test_fuel_trap_site();
}

/// The fuel register's value when the fuel-trap stub traps.
pub const TRAP_FUEL: u64 = 0x1234;

/// The ud2 stub as code.
pub fn ud2_code() -> *const u8 {
    fuelc_test_ud2 as *const u8
}

/// The stack-trap stub as code.
pub fn stack_trap_code() -> *const u8 {
    fuelc_test_stack_trap as *const u8
}

/// A stub starting at `start` as code and the offset of `site` in it.
fn code_and_offset(start: *const u8, site: *const u8) -> (*const u8, u32) {
    (start, (site as usize - start as usize) as u32)
}

/// The far-load stub as code and the offset of its faulting load.
pub fn load_far_code() -> (*const u8, u32) {
    code_and_offset(
        fuelc_test_load_far as *const u8,
        fuelc_test_load_far_fault as *const u8,
    )
}

/// The fuel-trap stub as code and the offset of its trapping instruction.
pub fn fuel_trap_code() -> (*const u8, u32) {
    code_and_offset(
        fuelc_test_fuel_trap as *const u8,
        fuelc_test_fuel_trap_site as *const u8,
    )
}
