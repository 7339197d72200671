//! [`WasiConfig`]: what a WASI program sees of its host: arguments,
//! environment, standard streams and preopened directories. There is no
//! ambient filesystem access: only the preopened directories, and what is
//! below them, are reachable.
//!
//! This file only collects settings. It must not run guest code or
//! resolve guest paths; it opens each preopened directory once, so a bad
//! host path fails here.

use std::cell::RefCell;
use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::rc::Rc;

/// Where the guest's standard input comes from.
#[derive(Clone, Debug, Default)]
pub enum Input {
    /// The host process's standard input (fd 0).
    #[default]
    Inherit,
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
}

/// Where the guest's standard output or standard error goes.
#[derive(Clone, Debug, Default)]
pub enum Output {
    /// The host process's own stream (fd 1 or 2).
    #[default]
    Inherit,
    /// Appended to this buffer, which the host reads afterwards.
    Buffer(Rc<RefCell<Vec<u8>>>),
}

/// A host directory the guest can reach, and the path it knows it by.
#[derive(Debug)]
pub(crate) struct Preopen {
    /// The open directory.
    pub(crate) dir: File,
    /// The guest path (`fd_prestat_dir_name`).
    pub(crate) guest_path: String,
}

/// How to run a WASI program: built with the methods below, then given to
/// [`imports`](super::imports), [`run_command`](super::run_command) or
/// [`WasiCtx::new`](super::WasiCtx::new).
///
/// By default the program gets no arguments, no environment, no
/// directories, and the host's standard streams.
#[derive(Debug, Default)]
pub struct WasiConfig {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) preopens: Vec<Preopen>,
    pub(crate) stdin: Input,
    pub(crate) stdout: Output,
    pub(crate) stderr: Output,
}

impl WasiConfig {
    /// The default configuration.
    pub fn new() -> WasiConfig {
        WasiConfig::default()
    }

    /// Appends a program argument. The first is the program's name by
    /// convention.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> WasiConfig {
        self.args.push(arg.as_ref().as_bytes().to_vec());
        self
    }

    /// Appends program arguments.
    pub fn args<I>(self, args: I) -> WasiConfig
    where
        I: IntoIterator,
        I::Item: AsRef<OsStr>,
    {
        args.into_iter().fold(self, WasiConfig::arg)
    }

    /// Adds environment variable `key` (which should not contain `=`) with
    /// `value`.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> WasiConfig {
        let mut var = key.as_ref().as_bytes().to_vec();
        var.push(b'=');
        var.extend_from_slice(value.as_ref().as_bytes());
        self.env.push(var);
        self
    }

    /// Lets the guest reach host directory `host_path`, and what is below
    /// it, as `guest_path`. Preopened directories get fds 3, 4, ... in the
    /// order they are added. Fails if `host_path` cannot be opened as a
    /// directory.
    pub fn preopen_dir(
        mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl Into<String>,
    ) -> io::Result<WasiConfig> {
        let dir = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(host_path)?;
        self.preopens.push(Preopen {
            dir,
            guest_path: guest_path.into(),
        });
        Ok(self)
    }

    /// Sets where standard input comes from.
    pub fn stdin(mut self, input: Input) -> WasiConfig {
        self.stdin = input;
        self
    }

    /// Sets where standard output goes.
    pub fn stdout(mut self, output: Output) -> WasiConfig {
        self.stdout = output;
        self
    }

    /// Sets where standard error goes.
    pub fn stderr(mut self, output: Output) -> WasiConfig {
        self.stderr = output;
        self
    }
}
