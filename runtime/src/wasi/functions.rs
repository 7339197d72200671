//! The table of the 46 `wasi_snapshot_preview1` functions: each name with
//! its core wasm signature and an entry point that decodes the wasm
//! arguments (`i32` as `u32`, `i64` as `u64`/`i64`), calls the function
//! of the same name in `calls/` and encodes what it returns (an `errno`
//! result, or the end of the program for `proc_exit`). The table is
//! written once, below; the signatures and the dispatch both come from it.
//!
//! This file must not implement any function (`calls/` does) and must not
//! touch guest memory.

use super::abi::Errno;
use super::calls::{self, Exit, Status, WasiState};
use super::memory::GuestMemory;
use crate::{FuncType, HostError, Val, ValType};

/// The name of the preview1 import module.
pub(crate) const MODULE: &str = "wasi_snapshot_preview1";

/// A parameter type of a preview1 function.
trait Param: Sized {
    /// Its wasm type.
    const TYPE: ValType;
    /// The parameter passed as `value`, if it has the wasm type.
    fn decode(value: &Val) -> Option<Self>;
}

impl Param for u32 {
    const TYPE: ValType = ValType::I32;
    fn decode(value: &Val) -> Option<u32> {
        match value {
            Val::I32(x) => Some(*x as u32),
            _ => None,
        }
    }
}

impl Param for u64 {
    const TYPE: ValType = ValType::I64;
    fn decode(value: &Val) -> Option<u64> {
        match value {
            Val::I64(x) => Some(*x as u64),
            _ => None,
        }
    }
}

impl Param for i64 {
    const TYPE: ValType = ValType::I64;
    fn decode(value: &Val) -> Option<i64> {
        match value {
            Val::I64(x) => Some(*x),
            _ => None,
        }
    }
}

/// What a preview1 function returns, as wasm sees it.
trait Outcome {
    /// Its wasm result types.
    const RESULTS: &'static [ValType];
    /// The wasm results, or the host error ending the call.
    fn finish(self) -> Result<Vec<Val>, HostError>;
}

impl Outcome for Status {
    const RESULTS: &'static [ValType] = &[ValType::I32];
    fn finish(self) -> Result<Vec<Val>, HostError> {
        let errno = self.err().map_or(0, Errno::code);
        Ok(vec![Val::I32(errno.into())])
    }
}

impl Outcome for Exit {
    const RESULTS: &'static [ValType] = &[];
    fn finish(self) -> Result<Vec<Val>, HostError> {
        Err(HostError::Exit(self.0))
    }
}

/// The arguments do not fit the signature of function `name` (only
/// possible when the host calls it directly).
fn bad_arguments(name: &str) -> HostError {
    HostError::Message(format!("wrong arguments for {MODULE}.{name}"))
}

/// The entry point of a preview1 function: state, guest memory, wasm
/// arguments.
type Call = fn(&mut WasiState, &mut GuestMemory<'_>, &[Val]) -> Result<Vec<Val>, HostError>;

/// One preview1 function.
pub(crate) struct Function {
    /// Its name in [`MODULE`].
    pub(crate) name: &'static str,
    /// Its wasm parameter types.
    params: &'static [ValType],
    /// Its wasm result types.
    results: &'static [ValType],
    /// Runs it on decoded arguments.
    pub(crate) call: Call,
}

impl Function {
    /// The function called `name`, if preview1 has it.
    pub(crate) fn find(name: &str) -> Option<&'static Function> {
        FUNCTIONS.iter().find(|f| f.name == name)
    }

    /// Its wasm type.
    pub(crate) fn ty(&self) -> FuncType {
        FuncType {
            params: self.params.to_vec(),
            results: self.results.to_vec(),
        }
    }
}

macro_rules! functions {
    ($($name:ident($($param:ident: $ty:ty),*) -> $outcome:ty;)*) => {
        /// Every preview1 function, in witx order.
        static FUNCTIONS: &[Function] = &[$(Function {
            name: stringify!($name),
            params: &[$(<$ty as Param>::TYPE),*],
            results: <$outcome as Outcome>::RESULTS,
            call: {
                fn call(
                    state: &mut WasiState,
                    memory: &mut GuestMemory<'_>,
                    args: &[Val],
                ) -> Result<Vec<Val>, HostError> {
                    let bad = || bad_arguments(stringify!($name));
                    let [$($param),*] = args else {
                        return Err(bad());
                    };
                    $(let $param = <$ty as Param>::decode($param).ok_or_else(bad)?;)*
                    let outcome: $outcome = calls::$name(state, memory, $($param),*);
                    outcome.finish()
                }
                call
            },
        }),*];
    };
}

functions! {
    args_get(argv: u32, argv_buf: u32) -> Status;
    args_sizes_get(argc: u32, argv_buf_size: u32) -> Status;
    environ_get(environ: u32, environ_buf: u32) -> Status;
    environ_sizes_get(count: u32, buf_size: u32) -> Status;
    clock_res_get(id: u32, resolution: u32) -> Status;
    clock_time_get(id: u32, precision: u64, time: u32) -> Status;
    fd_advise(fd: u32, offset: u64, len: u64, advice: u32) -> Status;
    fd_allocate(fd: u32, offset: u64, len: u64) -> Status;
    fd_close(fd: u32) -> Status;
    fd_datasync(fd: u32) -> Status;
    fd_fdstat_get(fd: u32, stat: u32) -> Status;
    fd_fdstat_set_flags(fd: u32, flags: u32) -> Status;
    fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> Status;
    fd_filestat_get(fd: u32, stat: u32) -> Status;
    fd_filestat_set_size(fd: u32, size: u64) -> Status;
    fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, fst_flags: u32) -> Status;
    fd_pread(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nread: u32) -> Status;
    fd_prestat_get(fd: u32, prestat: u32) -> Status;
    fd_prestat_dir_name(fd: u32, path: u32, path_len: u32) -> Status;
    fd_pwrite(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nwritten: u32) -> Status;
    fd_read(fd: u32, iovs: u32, iovs_len: u32, nread: u32) -> Status;
    fd_readdir(fd: u32, buf: u32, buf_len: u32, cookie: u64, bufused: u32) -> Status;
    fd_renumber(fd: u32, to: u32) -> Status;
    fd_seek(fd: u32, offset: i64, whence: u32, newoffset: u32) -> Status;
    fd_sync(fd: u32) -> Status;
    fd_tell(fd: u32, offset: u32) -> Status;
    fd_write(fd: u32, iovs: u32, iovs_len: u32, nwritten: u32) -> Status;
    path_create_directory(fd: u32, path: u32, path_len: u32) -> Status;
    path_filestat_get(fd: u32, flags: u32, path: u32, path_len: u32, stat: u32) -> Status;
    path_filestat_set_times(
        fd: u32, flags: u32, path: u32, path_len: u32, atim: u64, mtim: u64, fst_flags: u32
    ) -> Status;
    path_link(
        old_fd: u32, old_flags: u32, old_path: u32, old_path_len: u32,
        new_fd: u32, new_path: u32, new_path_len: u32
    ) -> Status;
    path_open(
        fd: u32, dirflags: u32, path: u32, path_len: u32, oflags: u32,
        fs_rights_base: u64, fs_rights_inheriting: u64, fdflags: u32, opened: u32
    ) -> Status;
    path_readlink(
        fd: u32, path: u32, path_len: u32, buf: u32, buf_len: u32, bufused: u32
    ) -> Status;
    path_remove_directory(fd: u32, path: u32, path_len: u32) -> Status;
    path_rename(
        fd: u32, old_path: u32, old_path_len: u32, new_fd: u32, new_path: u32, new_path_len: u32
    ) -> Status;
    path_symlink(
        old_path: u32, old_path_len: u32, fd: u32, new_path: u32, new_path_len: u32
    ) -> Status;
    path_unlink_file(fd: u32, path: u32, path_len: u32) -> Status;
    poll_oneoff(subscriptions: u32, events: u32, nsubscriptions: u32, nevents: u32) -> Status;
    proc_exit(rval: u32) -> Exit;
    proc_raise(sig: u32) -> Status;
    sched_yield() -> Status;
    random_get(buf: u32, buf_len: u32) -> Status;
    sock_accept(fd: u32, flags: u32, opened: u32) -> Status;
    sock_recv(
        fd: u32, ri_data: u32, ri_data_len: u32, ri_flags: u32, ro_datalen: u32, ro_flags: u32
    ) -> Status;
    sock_send(fd: u32, si_data: u32, si_data_len: u32, si_flags: u32, so_datalen: u32) -> Status;
    sock_shutdown(fd: u32, how: u32) -> Status;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preview1_function_is_in_the_table_once() {
        assert_eq!(FUNCTIONS.len(), 46);
        for f in FUNCTIONS {
            assert!(
                std::ptr::eq(Function::find(f.name).unwrap(), f),
                "{}",
                f.name
            );
        }
    }
}
