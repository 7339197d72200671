//! The preview1 functions about the process rather than its files:
//! arguments, environment, clocks, randomness, exit, signals, yielding,
//! and the socket functions, unsupported since a guest never holds a
//! socket (`NOTSUP`).
//!
//! These must not touch the fd table.

use super::{Exit, Status, WasiState};
use crate::wasi::abi::Errno;
use crate::wasi::memory::{element, GuestMemory};
use crate::wasi::sys::{self, Clock};

/// `strings.len()` and the bytes they take NUL-terminated, as `u32`s.
fn sizes(strings: &[Vec<u8>]) -> Result<(u32, u32), Errno> {
    let count = u32::try_from(strings.len()).map_err(|_| Errno::Overflow)?;
    let bytes = strings
        .iter()
        .try_fold(0u32, |total, s| {
            let len = u32::try_from(s.len()).ok()?;
            total.checked_add(len)?.checked_add(1)
        })
        .ok_or(Errno::Overflow)?;
    Ok((count, bytes))
}

/// Writes how many `strings` there are to `count` and the bytes they take
/// to `bytes` (`args_sizes_get`, `environ_sizes_get`).
fn write_sizes(
    memory: &mut GuestMemory<'_>,
    strings: &[Vec<u8>],
    count: u32,
    bytes: u32,
) -> Status {
    let (n, size) = sizes(strings)?;
    memory.write_u32(count, n)?;
    memory.write_u32(bytes, size)
}

/// Writes `strings` NUL-terminated one after the other from `buf`, and a
/// pointer to each in the array at `pointers` (`args_get`, `environ_get`).
fn write_strings(
    memory: &mut GuestMemory<'_>,
    strings: &[Vec<u8>],
    pointers: u32,
    buf: u32,
) -> Status {
    let mut at = buf;
    for (index, string) in (0u32..).zip(strings) {
        memory.write_u32(element(pointers, index, 4)?, at)?;
        memory.write(at, string)?;
        let len = u32::try_from(string.len()).map_err(|_| Errno::Overflow)?;
        let end = at.checked_add(len).ok_or(Errno::Fault)?;
        memory.write(end, &[0])?;
        at = end.checked_add(1).ok_or(Errno::Fault)?;
    }
    Ok(())
}

/// `args_get`.
pub(crate) fn args_get(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    argv: u32,
    argv_buf: u32,
) -> Status {
    write_strings(memory, &state.args, argv, argv_buf)
}

/// `args_sizes_get`.
pub(crate) fn args_sizes_get(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    argc: u32,
    argv_buf_size: u32,
) -> Status {
    write_sizes(memory, &state.args, argc, argv_buf_size)
}

/// `environ_get`.
pub(crate) fn environ_get(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    environ: u32,
    environ_buf: u32,
) -> Status {
    write_strings(memory, &state.env, environ, environ_buf)
}

/// `environ_sizes_get`.
pub(crate) fn environ_sizes_get(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    count: u32,
    buf_size: u32,
) -> Status {
    write_sizes(memory, &state.env, count, buf_size)
}

/// `clock_res_get`.
pub(crate) fn clock_res_get(
    _: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    id: u32,
    resolution: u32,
) -> Status {
    let clock = Clock::from_wasi(id).ok_or(Errno::Inval)?;
    memory.write_u64(resolution, clock.resolution()?)
}

/// `clock_time_get`; the precision is a hint, ignored.
pub(crate) fn clock_time_get(
    _: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    id: u32,
    _precision: u64,
    time: u32,
) -> Status {
    let clock = Clock::from_wasi(id).ok_or(Errno::Inval)?;
    memory.write_u64(time, clock.now()?)
}

/// `random_get`.
pub(crate) fn random_get(
    _: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    buf: u32,
    buf_len: u32,
) -> Status {
    Ok(sys::random(memory.bytes_mut(buf, buf_len)?)?)
}

/// `proc_exit`: the exit code becomes the program's exit status.
pub(crate) fn proc_exit(_: &mut WasiState, _: &mut GuestMemory<'_>, rval: u32) -> Exit {
    Exit(rval as i32)
}

/// `proc_raise`: signals are not supported.
pub(crate) fn proc_raise(_: &mut WasiState, _: &mut GuestMemory<'_>, _sig: u32) -> Status {
    Err(Errno::Nosys)
}

/// `sched_yield`.
pub(crate) fn sched_yield(_: &mut WasiState, _: &mut GuestMemory<'_>) -> Status {
    std::thread::yield_now();
    Ok(())
}

/// `sock_accept`: unsupported.
pub(crate) fn sock_accept(
    _: &mut WasiState,
    _: &mut GuestMemory<'_>,
    _fd: u32,
    _flags: u32,
    _opened: u32,
) -> Status {
    Err(Errno::Notsup)
}

/// `sock_recv`: unsupported.
#[allow(clippy::too_many_arguments)] // the preview1 signature
pub(crate) fn sock_recv(
    _: &mut WasiState,
    _: &mut GuestMemory<'_>,
    _fd: u32,
    _ri_data: u32,
    _ri_data_len: u32,
    _ri_flags: u32,
    _ro_datalen: u32,
    _ro_flags: u32,
) -> Status {
    Err(Errno::Notsup)
}

/// `sock_send`: unsupported.
pub(crate) fn sock_send(
    _: &mut WasiState,
    _: &mut GuestMemory<'_>,
    _fd: u32,
    _si_data: u32,
    _si_data_len: u32,
    _si_flags: u32,
    _so_datalen: u32,
) -> Status {
    Err(Errno::Notsup)
}

/// `sock_shutdown`: unsupported.
pub(crate) fn sock_shutdown(
    _: &mut WasiState,
    _: &mut GuestMemory<'_>,
    _fd: u32,
    _how: u32,
) -> Status {
    Err(Errno::Notsup)
}
