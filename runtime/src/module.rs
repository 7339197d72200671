//! Loading a compiled module from its [`ModuleDescriptor`]: checking the
//! magic and ABI version, decoding and validating the metadata, interning
//! its function types, and indexing its code so a faulting program counter
//! can be mapped back to a trap site.
//!
//! A [`Module`] is immutable and shared (`Arc`) by every store and instance
//! using it. This file also gives [`ModuleMetadata`] its empty starting
//! point for building metadata field by field. It must not instantiate
//! anything or run code.

use crate::abi::{
    EntryTrampoline, ImportKind, ModuleDescriptor, ModuleMetadata, TrapCode, VmctxLayout,
    ABI_VERSION, DESCRIPTOR_MAGIC,
};
use crate::sigs;
use crate::validate::{validate, Invalid};
use std::any::Any;
use std::sync::Arc;

/// Why a descriptor could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// The descriptor pointer was null.
    #[error("null module descriptor")]
    Null,
    /// The descriptor does not start with [`DESCRIPTOR_MAGIC`].
    #[error("not a fuelc module descriptor (bad magic)")]
    BadMagic,
    /// The object was compiled for another ABI version.
    #[error("module uses ABI version {found}, this runtime supports version {expected}")]
    AbiVersion {
        /// The object's version.
        found: u32,
        /// [`ABI_VERSION`].
        expected: u32,
    },
    /// The metadata could not be decoded.
    #[error("cannot decode module metadata: {0}")]
    Metadata(String),
    /// The descriptor or metadata is inconsistent.
    #[error("invalid module: {0}")]
    Invalid(String),
    /// The module uses something this runtime does not support.
    #[error("unsupported module: {0}")]
    Unsupported(String),
}

/// A loaded compiled module, cheap to clone.
#[derive(Clone)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

/// The shared state of a [`Module`].
pub(crate) struct ModuleInner {
    /// The decoded, validated metadata.
    pub(crate) metadata: ModuleMetadata,
    /// The layout of this module's instance contexts.
    pub(crate) layout: VmctxLayout,
    /// Canonical signature id of each type.
    pub(crate) sig_ids: Vec<u32>,
    /// Type index of each function, imports first.
    func_types: Vec<u32>,
    /// Code address of each defined function.
    pub(crate) functions: Vec<*const u8>,
    /// Entry trampoline of each type.
    pub(crate) entry_trampolines: Vec<EntryTrampoline>,
    /// Host-call trampoline of each type.
    pub(crate) host_trampolines: Vec<*const u8>,
    /// `(code address, defined function index)`, sorted by address.
    code_index: Vec<(usize, u32)>,
    /// Keeps the loaded code alive.
    _keepalive: Option<Arc<dyn Any + Send + Sync>>,
}

// SAFETY: the raw pointers refer to code and trampolines in loaded objects,
// which are immutable and stay loaded as long as the module (through
// `_keepalive` or the `from_descriptor` contract); everything else is owned,
// immutable data.
unsafe impl Send for ModuleInner {}
// SAFETY: as for `Send`: nothing in a module is ever mutated.
unsafe impl Sync for ModuleInner {}

/// Loads the module that fuelc compiled with symbol prefix `$prefix` (a
/// string literal) and that is linked into this program, for example by
/// `fuelc::cargo_build::WasmBuild` in a build script: declares its
/// descriptor symbol `<prefix>_module` (see [`abi::descriptor_symbol`](crate::abi::descriptor_symbol))
/// and calls [`Module::from_descriptor`]. Evaluates to
/// `Result<Module, ModuleError>`.
///
/// ```text
/// let module = fuelc_runtime::linked_module!("guest")?;
/// ```
#[macro_export]
macro_rules! linked_module {
    ($prefix:literal) => {{
        unsafe extern "C" {
            #[link_name = concat!($prefix, "_module")]
            static DESCRIPTOR: $crate::ModuleDescriptor;
        }
        // SAFETY: the symbol is the descriptor fuelc emitted into an object
        // linked into this program, so it and the code it points to stay
        // loaded for the program's lifetime.
        unsafe { $crate::Module::from_descriptor(&raw const DESCRIPTOR, None) }
    }};
}

impl Module {
    /// Loads the module described by `desc`: checks the magic and ABI
    /// version, decodes and validates the metadata and reads the code and
    /// trampoline addresses.
    ///
    /// # Safety
    /// `desc` must be null or point to a descriptor in loaded code that stays
    /// loaded while `keepalive` (and every clone of the returned module, and
    /// every instance of it) lives, with every pointer it holds valid for
    /// the lengths its metadata implies.
    pub unsafe fn from_descriptor(
        desc: *const ModuleDescriptor,
        keepalive: Option<Arc<dyn Any + Send + Sync>>,
    ) -> Result<Module, ModuleError> {
        // SAFETY: the caller guarantees `desc` is null or valid.
        let desc = unsafe { desc.as_ref() }.ok_or(ModuleError::Null)?;
        if desc.magic != DESCRIPTOR_MAGIC {
            return Err(ModuleError::BadMagic);
        }
        if desc.abi_version != ABI_VERSION {
            return Err(ModuleError::AbiVersion {
                found: desc.abi_version,
                expected: ABI_VERSION,
            });
        }
        let len = usize::try_from(desc.metadata_len)
            .map_err(|_| ModuleError::Invalid("metadata length overflows".into()))?;
        // SAFETY: the descriptor's metadata pointer covers `metadata_len` bytes.
        let bytes = unsafe { array(desc.metadata, len, "metadata") }?;
        let metadata =
            ModuleMetadata::decode(bytes).map_err(|e| ModuleError::Metadata(e.to_string()))?;
        validate(&metadata).map_err(|e| match e {
            Invalid::Unsupported(m) => ModuleError::Unsupported(m),
            Invalid::Inconsistent(m) => ModuleError::Invalid(m),
        })?;
        let types = metadata.types.len();
        // SAFETY: the descriptor holds one code address per defined function
        // and one trampoline of each kind per type.
        let (functions, entries, hosts) = unsafe {
            (
                code_pointers(desc.functions, metadata.functions.len(), "function")?,
                code_pointers(desc.entry_trampolines, types, "entry trampoline")?,
                code_pointers(desc.host_trampolines, types, "host trampoline")?,
            )
        };
        let entry_trampolines = entries
            .into_iter()
            // SAFETY: each entry is a non-null entry trampoline, whose
            // signature is `EntryTrampoline` by the ABI.
            .map(|p| unsafe { std::mem::transmute::<*const u8, EntryTrampoline>(p) })
            .collect();
        let mut code_index: Vec<(usize, u32)> = functions
            .iter()
            .enumerate()
            .map(|(i, &p)| (p as usize, i as u32))
            .collect();
        code_index.sort_unstable();
        let func_types = metadata
            .imports
            .iter()
            .filter_map(|i| match i.kind {
                ImportKind::Func(t) => Some(t),
                _ => None,
            })
            .chain(metadata.functions.iter().map(|f| f.type_index))
            .collect();
        Ok(Module {
            inner: Arc::new(ModuleInner {
                layout: metadata.vmctx_layout(),
                sig_ids: metadata.types.iter().map(sigs::intern).collect(),
                func_types,
                functions,
                entry_trampolines,
                host_trampolines: hosts,
                code_index,
                metadata,
                _keepalive: keepalive,
            }),
        })
    }

    /// The module's metadata.
    pub fn metadata(&self) -> &ModuleMetadata {
        &self.inner.metadata
    }

    pub(crate) fn inner(&self) -> &ModuleInner {
        &self.inner
    }

    /// Whether both handles refer to the same loaded module.
    pub(crate) fn same(&self, other: &Module) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.inner.metadata.name)
            .finish_non_exhaustive()
    }
}

impl ModuleInner {
    /// Number of imported functions.
    pub(crate) fn num_imported_funcs(&self) -> u32 {
        self.func_types.len() as u32 - self.metadata.functions.len() as u32
    }

    /// Number of functions, imports included.
    pub(crate) fn num_funcs(&self) -> u32 {
        self.func_types.len() as u32
    }

    /// Type index of function `index` (imports included).
    pub(crate) fn func_type_index(&self, index: u32) -> Option<u32> {
        self.func_types.get(index as usize).copied()
    }

    /// If `pc` is a trap site in this module's code, the function (index
    /// space, imports included) and the trap code.
    ///
    /// Called from the signal handler: it must not allocate, lock or panic.
    pub(crate) fn trap_at(&self, pc: usize) -> Option<(u32, TrapCode)> {
        let i = self
            .code_index
            .partition_point(|&(start, _)| start <= pc)
            .checked_sub(1)?;
        let &(start, defined) = self.code_index.get(i)?;
        let info = self.metadata.functions.get(defined as usize)?;
        let offset = u32::try_from(pc - start).ok()?;
        if offset >= info.code_size {
            return None;
        }
        let site = info
            .traps
            .binary_search_by_key(&offset, |t| t.offset)
            .ok()?;
        let code = info.traps.get(site)?.code;
        Some((self.num_imported_funcs() + defined, code))
    }
}

/// `len` elements at `ptr` (which may be null when `len` is 0).
///
/// # Safety
/// If `len > 0` and `ptr` is not null, it must point to `len` initialized
/// elements that outlive `'a`.
unsafe fn array<'a, T>(ptr: *const T, len: usize, what: &str) -> Result<&'a [T], ModuleError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(ModuleError::Invalid(format!("{what} pointer is null")));
    }
    // SAFETY: the caller guarantees `len` elements at the non-null `ptr`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// `len` non-null code addresses at `ptr`.
///
/// # Safety
/// As for [`array()`].
unsafe fn code_pointers(
    ptr: *const *const u8,
    len: usize,
    what: &str,
) -> Result<Vec<*const u8>, ModuleError> {
    // SAFETY: forwarded from the caller.
    let pointers = unsafe { array(ptr, len, what) }?;
    if let Some(i) = pointers.iter().position(|p| p.is_null()) {
        return Err(ModuleError::Invalid(format!("{what} {i} has no code")));
    }
    Ok(pointers.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{BoundsChecks, FuncType, FunctionInfo, TrapSite, ValRaw};

    unsafe extern "C" fn trampoline(_: *mut u8, _: *const u8, _: *mut ValRaw) {}

    fn metadata() -> ModuleMetadata {
        ModuleMetadata {
            types: vec![FuncType {
                params: vec![],
                results: vec![],
            }],
            functions: vec![
                FunctionInfo {
                    type_index: 0,
                    code_size: 16,
                    traps: vec![
                        TrapSite {
                            offset: 3,
                            code: TrapCode::Unreachable,
                        },
                        TrapSite {
                            offset: 9,
                            code: TrapCode::IntegerDivisionByZero,
                        },
                    ],
                },
                FunctionInfo {
                    type_index: 0,
                    code_size: 16,
                    traps: vec![TrapSite {
                        offset: 0,
                        code: TrapCode::StackOverflow,
                    }],
                },
            ],
            ..ModuleMetadata::empty("m", BoundsChecks::Explicit)
        }
    }

    /// Fake code: two 16-byte "functions" in one array, second one first.
    static CODE: [u8; 64] = [0; 64];

    struct Parts {
        bytes: Vec<u8>,
        functions: Vec<*const u8>,
        trampolines: Vec<*const u8>,
    }

    impl Parts {
        fn new(meta: &ModuleMetadata) -> Parts {
            Parts {
                bytes: meta.encode(),
                functions: vec![CODE[32..].as_ptr(), CODE.as_ptr()],
                trampolines: vec![trampoline as *const u8],
            }
        }

        fn descriptor(&self) -> ModuleDescriptor {
            ModuleDescriptor {
                magic: DESCRIPTOR_MAGIC,
                abi_version: ABI_VERSION,
                reserved: 0,
                metadata: self.bytes.as_ptr(),
                metadata_len: self.bytes.len() as u64,
                functions: self.functions.as_ptr(),
                entry_trampolines: self.trampolines.as_ptr(),
                host_trampolines: self.trampolines.as_ptr(),
            }
        }
    }

    fn load(desc: &ModuleDescriptor) -> Result<Module, ModuleError> {
        // SAFETY: `desc` and everything it points to outlive the module in
        // every test.
        unsafe { Module::from_descriptor(desc, None) }
    }

    #[test]
    fn loads_and_maps_trap_sites() {
        let parts = Parts::new(&metadata());
        let module = load(&parts.descriptor()).unwrap();
        assert_eq!(module.metadata(), &metadata());
        let inner = module.inner();
        let base = CODE.as_ptr() as usize;
        assert_eq!(
            inner.trap_at(base + 32 + 3),
            Some((0, TrapCode::Unreachable))
        );
        assert_eq!(
            inner.trap_at(base + 32 + 9),
            Some((0, TrapCode::IntegerDivisionByZero))
        );
        assert_eq!(inner.trap_at(base), Some((1, TrapCode::StackOverflow)));
        assert_eq!(inner.trap_at(base + 32 + 4), None);
        assert_eq!(inner.trap_at(base + 16), None, "past the end of function 1");
        assert_eq!(inner.trap_at(base - 1), None);
        assert_eq!(inner.trap_at(0), None);
        assert_eq!(inner.func_type_index(1), Some(0));
        assert_eq!(inner.func_type_index(2), None);
        assert_eq!(inner.sig_ids.len(), 1);
    }

    #[test]
    fn rejects_bad_descriptors() {
        // SAFETY: a null descriptor is allowed.
        let null = unsafe { Module::from_descriptor(std::ptr::null(), None) };
        assert_eq!(null.err(), Some(ModuleError::Null));

        let parts = Parts::new(&metadata());
        let mut desc = parts.descriptor();
        desc.magic[0] = b'X';
        assert_eq!(load(&desc).err(), Some(ModuleError::BadMagic));

        let mut desc = parts.descriptor();
        desc.abi_version = ABI_VERSION + 1;
        assert!(matches!(load(&desc), Err(ModuleError::AbiVersion { .. })));

        let mut desc = parts.descriptor();
        desc.functions = std::ptr::null();
        assert!(matches!(load(&desc), Err(ModuleError::Invalid(_))));

        let mut desc = parts.descriptor();
        desc.metadata = std::ptr::null();
        assert!(matches!(load(&desc), Err(ModuleError::Invalid(_))));
    }

    #[test]
    fn rejects_undecodable_or_inconsistent_metadata() {
        let mut parts = Parts::new(&metadata());
        parts.bytes = vec![0xff; 5];
        assert!(matches!(
            load(&parts.descriptor()),
            Err(ModuleError::Metadata(_))
        ));

        let mut parts = Parts::new(&metadata());
        parts.bytes.truncate(parts.bytes.len() / 2);
        assert!(matches!(
            load(&parts.descriptor()),
            Err(ModuleError::Metadata(_))
        ));

        let mut meta = metadata();
        meta.functions[1].type_index = 7;
        let parts = Parts::new(&meta);
        assert!(matches!(
            load(&parts.descriptor()),
            Err(ModuleError::Invalid(_))
        ));
    }

    #[test]
    fn rejects_null_code_pointers() {
        let mut parts = Parts::new(&metadata());
        parts.functions[1] = std::ptr::null();
        assert!(matches!(
            load(&parts.descriptor()),
            Err(ModuleError::Invalid(_))
        ));
    }
}
