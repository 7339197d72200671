//! Loads an object file produced by [`crate::compile`] into the running
//! process, for the spec test harness and `fuelc run`.
//!
//! The object is written to a fresh temporary directory, linked into a shared
//! library by the system C compiler (see [`crate::toolchain::c_compiler`]),
//! opened with `dlopen` and its module descriptor is
//! handed to [`fuelc_runtime::Module::from_descriptor`]. The returned module
//! keeps the library and the temporary directory alive for as long as it
//! exists.
//!
//! This module must not interpret the object itself (no relocation, no
//! parsing of the descriptor: that is the runtime's job), must not load
//! anything but the library it just linked, and must not leave files behind
//! once the module is dropped.

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::toolchain::{self, LinkError};

use fuelc_runtime::abi::{descriptor_symbol, ModuleDescriptor};
use fuelc_runtime::{Module, ModuleError};
use libloading::Library;
use target_lexicon::Triple;
use tempfile::TempDir;

/// Why an object could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The prefix is not a C identifier, so it cannot name the descriptor
    /// symbol (or the files the loader writes).
    #[error("invalid module prefix {0:?}: expected a C identifier")]
    InvalidPrefix(String),
    /// Creating the temporary directory or writing the object failed.
    #[error("cannot write the object to {path}: {source}")]
    Write {
        /// The file or directory that could not be written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The C compiler could not link the library.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The dynamic loader refused the linked library.
    #[error("cannot load {path}: {source}")]
    Open {
        /// The shared library.
        path: PathBuf,
        /// The dynamic loader's error.
        source: libloading::Error,
    },
    /// The library does not define the descriptor symbol for this prefix.
    #[error("the object defines no module descriptor `{symbol}`: {source}")]
    MissingDescriptor {
        /// The symbol that was looked up.
        symbol: String,
        /// The dynamic loader's error.
        source: libloading::Error,
    },
    /// The descriptor symbol resolves to a null address.
    #[error("the module descriptor `{0}` is at address 0")]
    NullDescriptor(String),
    /// The runtime rejected the descriptor.
    #[error("the runtime rejected the module: {0}")]
    Module(#[from] ModuleError),
}

/// What a loaded [`Module`] keeps alive: the library its code lives in and
/// the directory holding the library's file. Fields drop in order, so the
/// library is closed before its directory is removed.
struct LoadedLibrary {
    _library: Library,
    _dir: TempDir,
}

/// Links `object` (an object file compiled with symbol prefix `prefix`) into
/// a shared library, loads it into this process and returns the module it
/// defines.
///
/// The linker is the host's C compiler ([`toolchain::c_compiler`]);
/// cross-compiled test runs under qemu set `CC_<host triple>` to the cross
/// compiler.
///
/// # Errors
///
/// Fails if `prefix` is not a C identifier, if the linker fails (the error
/// holds its standard error), if the library cannot be opened, if it lacks the
/// descriptor symbol, or if the runtime rejects the descriptor.
///
/// # Safety of the loaded code
///
/// The object's code runs in this process. It must come from
/// [`crate::compile`]: the runtime trusts the descriptor and the code behind
/// it. Compiled WebAssembly is sandboxed; an arbitrary object is not.
pub fn load_object(object: &[u8], prefix: &str) -> Result<Module, LoadError> {
    if !is_c_identifier(prefix) {
        return Err(LoadError::InvalidPrefix(prefix.to_owned()));
    }
    let dir = tempfile::Builder::new()
        .prefix("fuelc-load-")
        .tempdir()
        .map_err(|source| LoadError::Write {
            path: std::env::temp_dir(),
            source,
        })?;
    let object_path = dir.path().join(format!("{prefix}.o"));
    std::fs::write(&object_path, object).map_err(|source| LoadError::Write {
        path: object_path.clone(),
        source,
    })?;
    let library_path = dir.path().join(format!("lib{prefix}.so"));
    link_shared(&object_path, &library_path)?;

    // SAFETY: the library was just linked from the object alone (plus the C
    // compiler's default startup files and libc); opening it runs no
    // initializers other than those, which are sound to run.
    let library = unsafe { Library::new(&library_path) }.map_err(|source| LoadError::Open {
        path: library_path.clone(),
        source,
    })?;
    let symbol = descriptor_symbol(prefix);
    // SAFETY: the descriptor symbol is a data symbol whose address is that of
    // a `ModuleDescriptor`; the pointer is read and not dereferenced here.
    let descriptor = unsafe { library.get::<*const ModuleDescriptor>(symbol.as_bytes()) }
        .map(|address| *address)
        .map_err(|source| LoadError::MissingDescriptor {
            symbol: symbol.clone(),
            source,
        })?;
    if descriptor.is_null() {
        return Err(LoadError::NullDescriptor(symbol));
    }
    let keepalive: Arc<dyn Any + Send + Sync> = Arc::new(LoadedLibrary {
        _library: library,
        _dir: dir,
    });
    // SAFETY: `descriptor` points to the descriptor the compiler emitted into
    // the library, and the library stays loaded as long as the module holds
    // `keepalive`.
    let module = unsafe { Module::from_descriptor(descriptor, Some(keepalive)) }?;
    Ok(module)
}

/// Whether `s` is a C identifier: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_c_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Runs `$CC -shared -o library object`.
///
/// `-z noexecstack` is passed because the object carries no
/// `.note.GNU-stack` section; without it the linker would mark the library as
/// needing an executable stack and `dlopen` would make this process's stacks
/// executable (or, on newer C libraries, refuse to load it).
fn link_shared(object: &Path, library: &Path) -> Result<(), LoadError> {
    let mut command = toolchain::c_compiler(&Triple::host())?;
    command
        .arg("-shared")
        .arg("-Wl,-z,noexecstack")
        .arg("-o")
        .arg(library)
        .arg(object);
    Ok(toolchain::run(command)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_must_be_c_identifiers() {
        assert!(is_c_identifier("spec_i32_0"));
        assert!(is_c_identifier("_x9"));
        assert!(!is_c_identifier(""));
        assert!(!is_c_identifier("9x"));
        assert!(!is_c_identifier("a-b"));
        assert!(!is_c_identifier("a b"));
        assert!(matches!(
            load_object(b"", "../evil"),
            Err(LoadError::InvalidPrefix(_))
        ));
    }

    #[test]
    fn linker_errors_carry_stderr() {
        match load_object(b"not an object file", "garbage") {
            Err(LoadError::Link(LinkError::Failed { stderr, .. })) => assert!(!stderr.is_empty()),
            Err(other) => panic!("expected a linker failure, got {other}"),
            Ok(_) => panic!("garbage loaded as a module"),
        }
    }

    fn answer_object(prefix: &str) -> Vec<u8> {
        let wasm = wat::parse_str(r#"(module (func (export "answer") (result i32) i32.const 42))"#)
            .unwrap();
        crate::compile(&wasm, &crate::CompileOptions::host(prefix)).unwrap()
    }

    #[test]
    fn loads_and_runs_a_compiled_module() {
        let module = load_object(&answer_object("loader_answer"), "loader_answer")
            .unwrap_or_else(|e| panic!("{e}"));
        let mut store = fuelc_runtime::Store::new();
        let instance = store.instantiate(&module, &[]).unwrap();
        let Some(fuelc_runtime::Extern::Func(answer)) = store.export(instance, "answer") else {
            panic!("no export `answer`");
        };
        match store.call(answer, &[]).unwrap().as_slice() {
            [fuelc_runtime::Val::I32(42)] => {}
            other => panic!("answer returned {other:?}"),
        }
    }

    #[test]
    fn wrong_prefix_has_no_descriptor() {
        match load_object(&answer_object("loader_right"), "loader_wrong") {
            Err(LoadError::MissingDescriptor { symbol, .. }) => {
                assert_eq!(symbol, descriptor_symbol("loader_wrong"))
            }
            Err(other) => panic!("expected a missing descriptor, got {other}"),
            Ok(_) => panic!("loaded a module under the wrong prefix"),
        }
    }
}
