//! The runtime files fuelc carries: the C header (`fuelc_runtime.h`) and
//! the runtime's static library (`libfuelc_runtime.a`), built by `build.rs`
//! for the target fuelc itself is built for. `fuelc build` links them into
//! executables; `fuelc runtime` hands them to C hosts.
//!
//! This module must not link anything; it only writes the files out.

use std::path::{Path, PathBuf};

use target_lexicon::Triple;

/// The file name of the runtime's C header.
pub const HEADER_NAME: &str = "fuelc_runtime.h";

/// The file name of the runtime's static library.
pub const LIBRARY_NAME: &str = "libfuelc_runtime.a";

/// The environment variable naming the runtime library to use instead of
/// the embedded one (required for targets other than fuelc's own).
pub const LIBRARY_ENV_VAR: &str = "FUELC_RUNTIME_LIB";

const HEADER: &str = include_str!("../runtime/include/fuelc_runtime.h");

const LIBRARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libfuelc_runtime.a"));

/// Why the runtime files could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeFilesError {
    /// No runtime library is known for the target.
    #[error("fuelc carries the runtime library for {host} only; set {LIBRARY_ENV_VAR} to the {LIBRARY_NAME} built for {target}")]
    NoLibraryForTarget {
        /// The target asked for.
        target: String,
        /// The target fuelc carries the library for.
        host: String,
    },
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, RuntimeFilesError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes)
        .map(|()| path.clone())
        .map_err(|source| RuntimeFilesError::Write { path, source })
}

/// Writes the C header into `dir` and returns its path.
pub fn write_header(dir: &Path) -> Result<PathBuf, RuntimeFilesError> {
    write(dir, HEADER_NAME, HEADER.as_bytes())
}

/// The runtime library for `target`: the file `FUELC_RUNTIME_LIB` names,
/// else, for fuelc's own target, the embedded one written into `dir`.
pub fn library_for(target: &Triple, dir: &Path) -> Result<PathBuf, RuntimeFilesError> {
    if let Some(path) = std::env::var_os(LIBRARY_ENV_VAR) {
        return Ok(PathBuf::from(path));
    }
    if *target != Triple::host() {
        return Err(RuntimeFilesError::NoLibraryForTarget {
            target: target.to_string(),
            host: Triple::host().to_string(),
        });
    }
    write(dir, LIBRARY_NAME, LIBRARY)
}
