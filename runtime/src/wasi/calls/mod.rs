//! The `wasi_snapshot_preview1` functions: one Rust function per preview1
//! function, with its name, taking the [`WasiState`] all functions of a
//! program share, the guest's memory and the witx parameters (pointers
//! and sizes as `u32`), and returning [`Status`] ([`Exit`] for
//! `proc_exit`). `functions.rs` decodes wasm arguments and routes here.
//!
//! The functions must not reach guest memory except through
//! `GuestMemory`, must not give a guest path to the host except as
//! `path.rs` resolved it, and make host calls `std` lacks through
//! `sys.rs` only.

mod files;
mod paths;
mod poll;
mod process;

pub(crate) use files::*;
pub(crate) use paths::*;
pub(crate) use poll::*;
pub(crate) use process::*;

use super::abi::Errno;
use super::config::WasiConfig;
use super::fd::FdTable;

/// What a preview1 function returns: success, or the error number the
/// guest gets.
pub(crate) type Status = Result<(), Errno>;

/// What `proc_exit` returns: the program ends with this status.
pub(crate) struct Exit(pub(crate) i32);

/// What the functions of one program share.
pub(crate) struct WasiState {
    /// The arguments.
    pub(crate) args: Vec<Vec<u8>>,
    /// The environment, as `key=value` strings.
    pub(crate) env: Vec<Vec<u8>>,
    /// The fd table.
    pub(crate) fds: FdTable,
}

impl WasiState {
    /// The state a program configured by `config` starts with.
    pub(crate) fn new(config: WasiConfig) -> WasiState {
        WasiState {
            args: config.args,
            env: config.env,
            fds: FdTable::new(config.stdin, config.stdout, config.stderr, config.preopens),
        }
    }
}
