//! The `wasi_snapshot_preview1` ABI as its witx defines it: error numbers,
//! file types, flag bits, rights, the byte layout of every struct the calls
//! exchange with the guest (little-endian, at the witx offsets), and the
//! translation of flags and error numbers to and from the host's.
//!
//! This file only describes the ABI: it must not read or write guest memory
//! (`memory.rs`) or call the host (`sys.rs`).

use std::io;

macro_rules! errnos {
    ($($(#[$doc:meta])* $name:ident = $code:literal $(, $host:ident)*;)*) => {
        /// A preview1 error number (`errno`). Success (0) is not an error,
        /// so it has no variant.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Errno {
            $($(#[$doc])* $name = $code,)*
        }

        impl Errno {
            /// The preview1 error for host `errno` value `raw`; host errors
            /// without a preview1 counterpart become [`Errno::Io`].
            fn from_host(raw: i32) -> Errno {
                $($(if raw == libc::$host {
                    return Errno::$name;
                })*)*
                Errno::Io
            }
        }
    };
}

errnos! {
    /// Argument list too long.
    TooBig = 1, E2BIG;
    /// Permission denied.
    Acces = 2, EACCES;
    /// Address in use.
    Addrinuse = 3, EADDRINUSE;
    /// Address not available.
    Addrnotavail = 4, EADDRNOTAVAIL;
    /// Address family not supported.
    Afnosupport = 5, EAFNOSUPPORT;
    /// Resource unavailable, or operation would block.
    Again = 6, EAGAIN, EWOULDBLOCK;
    /// Connection already in progress.
    Already = 7, EALREADY;
    /// Bad file descriptor.
    Badf = 8, EBADF;
    /// Bad message.
    Badmsg = 9, EBADMSG;
    /// Device or resource busy.
    Busy = 10, EBUSY;
    /// Operation canceled.
    Canceled = 11, ECANCELED;
    /// No child processes.
    Child = 12, ECHILD;
    /// Connection aborted.
    Connaborted = 13, ECONNABORTED;
    /// Connection refused.
    Connrefused = 14, ECONNREFUSED;
    /// Connection reset.
    Connreset = 15, ECONNRESET;
    /// Resource deadlock would occur.
    Deadlk = 16, EDEADLK;
    /// Destination address required.
    Destaddrreq = 17, EDESTADDRREQ;
    /// Mathematics argument out of domain of function.
    Dom = 18, EDOM;
    /// Disk quota exceeded.
    Dquot = 19, EDQUOT;
    /// File exists.
    Exist = 20, EEXIST;
    /// Bad address: a guest pointer or length leaves linear memory.
    Fault = 21, EFAULT;
    /// File too large.
    Fbig = 22, EFBIG;
    /// Host is unreachable.
    Hostunreach = 23, EHOSTUNREACH;
    /// Identifier removed.
    Idrm = 24, EIDRM;
    /// Illegal byte sequence.
    Ilseq = 25, EILSEQ;
    /// Operation in progress.
    Inprogress = 26, EINPROGRESS;
    /// Interrupted function.
    Intr = 27, EINTR;
    /// Invalid argument.
    Inval = 28, EINVAL;
    /// I/O error.
    Io = 29, EIO;
    /// Socket is connected.
    Isconn = 30, EISCONN;
    /// Is a directory.
    Isdir = 31, EISDIR;
    /// Too many levels of symbolic links.
    Loop = 32, ELOOP;
    /// File descriptor value too large.
    Mfile = 33, EMFILE;
    /// Too many links.
    Mlink = 34, EMLINK;
    /// Message too large.
    Msgsize = 35, EMSGSIZE;
    /// Reserved.
    Multihop = 36, EMULTIHOP;
    /// Filename too long.
    Nametoolong = 37, ENAMETOOLONG;
    /// Network is down.
    Netdown = 38, ENETDOWN;
    /// Connection aborted by network.
    Netreset = 39, ENETRESET;
    /// Network unreachable.
    Netunreach = 40, ENETUNREACH;
    /// Too many files open in system.
    Nfile = 41, ENFILE;
    /// No buffer space available.
    Nobufs = 42, ENOBUFS;
    /// No such device.
    Nodev = 43, ENODEV;
    /// No such file or directory.
    Noent = 44, ENOENT;
    /// Executable file format error.
    Noexec = 45, ENOEXEC;
    /// No locks available.
    Nolck = 46, ENOLCK;
    /// Reserved.
    Nolink = 47, ENOLINK;
    /// Not enough space.
    Nomem = 48, ENOMEM;
    /// No message of the desired type.
    Nomsg = 49, ENOMSG;
    /// Protocol not available.
    Noprotoopt = 50, ENOPROTOOPT;
    /// No space left on device.
    Nospc = 51, ENOSPC;
    /// Function not supported.
    Nosys = 52, ENOSYS;
    /// The socket is not connected.
    Notconn = 53, ENOTCONN;
    /// Not a directory or a symbolic link to a directory.
    Notdir = 54, ENOTDIR;
    /// Directory not empty.
    Notempty = 55, ENOTEMPTY;
    /// State not recoverable.
    Notrecoverable = 56, ENOTRECOVERABLE;
    /// Not a socket.
    Notsock = 57, ENOTSOCK;
    /// Not supported, or operation not supported on socket.
    Notsup = 58, ENOTSUP, EOPNOTSUPP;
    /// Inappropriate I/O control operation.
    Notty = 59, ENOTTY;
    /// No such device or address.
    Nxio = 60, ENXIO;
    /// Value too large to be stored in data type.
    Overflow = 61, EOVERFLOW;
    /// Previous owner died.
    Ownerdead = 62, EOWNERDEAD;
    /// Operation not permitted.
    Perm = 63, EPERM;
    /// Broken pipe.
    Pipe = 64, EPIPE;
    /// Protocol error.
    Proto = 65, EPROTO;
    /// Protocol not supported.
    Protonosupport = 66, EPROTONOSUPPORT;
    /// Protocol wrong type for socket.
    Prototype = 67, EPROTOTYPE;
    /// Result too large.
    Range = 68, ERANGE;
    /// Read-only file system.
    Rofs = 69, EROFS;
    /// Invalid seek.
    Spipe = 70, ESPIPE;
    /// No such process.
    Srch = 71, ESRCH;
    /// Reserved.
    Stale = 72, ESTALE;
    /// Connection timed out.
    Timedout = 73, ETIMEDOUT;
    /// Text file busy.
    Txtbsy = 74, ETXTBSY;
    /// Cross-device link.
    Xdev = 75, EXDEV;
    /// Capabilities insufficient: the path leaves the directory it is
    /// relative to, or is absolute.
    Notcapable = 76;
}

impl Errno {
    /// The number the guest sees.
    pub fn code(self) -> u16 {
        self as u16
    }
}

impl From<io::Error> for Errno {
    fn from(error: io::Error) -> Errno {
        match (error.raw_os_error(), error.kind()) {
            (Some(raw), _) => Errno::from_host(raw),
            (None, io::ErrorKind::InvalidInput) => Errno::Inval,
            (None, _) => Errno::Io,
        }
    }
}

/// `filetype` values. `socket_dgram` (5) is never reported: sockets are
/// reported as streams.
pub(crate) mod filetype {
    /// Unknown, or a pipe.
    pub(crate) const UNKNOWN: u8 = 0;
    /// A block device.
    pub(crate) const BLOCK_DEVICE: u8 = 1;
    /// A character device.
    pub(crate) const CHARACTER_DEVICE: u8 = 2;
    /// A directory.
    pub(crate) const DIRECTORY: u8 = 3;
    /// A regular file.
    pub(crate) const REGULAR_FILE: u8 = 4;
    /// A stream socket.
    pub(crate) const SOCKET_STREAM: u8 = 6;
    /// A symbolic link.
    pub(crate) const SYMBOLIC_LINK: u8 = 7;
}

/// The preview1 file type of a host `st_mode`.
pub(crate) fn filetype_of_mode(mode: libc::mode_t) -> u8 {
    match mode & libc::S_IFMT {
        libc::S_IFBLK => filetype::BLOCK_DEVICE,
        libc::S_IFCHR => filetype::CHARACTER_DEVICE,
        libc::S_IFDIR => filetype::DIRECTORY,
        libc::S_IFREG => filetype::REGULAR_FILE,
        libc::S_IFSOCK => filetype::SOCKET_STREAM,
        libc::S_IFLNK => filetype::SYMBOLIC_LINK,
        _ => filetype::UNKNOWN,
    }
}

/// `fdflags` bits.
pub(crate) mod fdflags {
    /// Append mode.
    pub(crate) const APPEND: u16 = 1 << 0;
    /// Synchronized data writes.
    pub(crate) const DSYNC: u16 = 1 << 1;
    /// Non-blocking mode.
    pub(crate) const NONBLOCK: u16 = 1 << 2;
    /// Synchronized reads.
    pub(crate) const RSYNC: u16 = 1 << 3;
    /// Synchronized writes.
    pub(crate) const SYNC: u16 = 1 << 4;
    /// Every defined bit.
    pub(crate) const ALL: u16 = APPEND | DSYNC | NONBLOCK | RSYNC | SYNC;
}

/// Each `fdflags` bit and the host `O_*` flag it stands for. `rsync`
/// becomes `O_SYNC`, as Linux defines `O_RSYNC`.
const FDFLAGS_HOST: [(u16, libc::c_int); 5] = [
    (fdflags::APPEND, libc::O_APPEND),
    (fdflags::DSYNC, libc::O_DSYNC),
    (fdflags::NONBLOCK, libc::O_NONBLOCK),
    (fdflags::RSYNC, libc::O_SYNC),
    (fdflags::SYNC, libc::O_SYNC),
];

/// The host open flags for `fdflags` `flags` (unknown bits: `INVAL`).
pub(crate) fn fdflags_to_host(flags: u32) -> Result<libc::c_int, Errno> {
    let flags = defined_bits(flags, fdflags::ALL.into())?;
    Ok(FDFLAGS_HOST
        .iter()
        .filter(|(bit, _)| flags & u32::from(*bit) != 0)
        .fold(0, |host, (_, o)| host | o))
}

/// The `fdflags` of host status flags `host`.
pub(crate) fn fdflags_from_host(host: libc::c_int) -> u16 {
    FDFLAGS_HOST
        .iter()
        .filter(|(_, o)| host & o == *o)
        .fold(0, |flags, (bit, _)| flags | bit)
}

/// `flags` if it only has bits of `all`, else `INVAL`.
fn defined_bits(flags: u32, all: u32) -> Result<u32, Errno> {
    if flags & !all == 0 {
        Ok(flags)
    } else {
        Err(Errno::Inval)
    }
}

/// `oflags` bits.
pub(crate) mod oflags {
    /// Create the file if it does not exist.
    pub(crate) const CREAT: u32 = 1 << 0;
    /// Fail if it is not a directory.
    pub(crate) const DIRECTORY: u32 = 1 << 1;
    /// Fail if it already exists.
    pub(crate) const EXCL: u32 = 1 << 2;
    /// Truncate it to size 0.
    pub(crate) const TRUNC: u32 = 1 << 3;
}

/// `lookupflags::symlink_follow`: follow a symbolic link in the last
/// component of the path.
const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

/// Whether `lookupflags` `flags` asks to follow a final symbolic link
/// (unknown bits: `INVAL`).
pub(crate) fn follows_symlinks(flags: u32) -> Result<bool, Errno> {
    Ok(defined_bits(flags, LOOKUP_SYMLINK_FOLLOW)? != 0)
}

/// `rights` bits used here. The guest is granted every right; wasi-libc
/// and Rust's standard library derive the access mode of `path_open` from
/// the rights they request.
pub(crate) mod rights {
    /// `fd_datasync`.
    pub(crate) const FD_DATASYNC: u64 = 1 << 0;
    /// `fd_read`.
    pub(crate) const FD_READ: u64 = 1 << 1;
    /// `fd_seek`.
    pub(crate) const FD_SEEK: u64 = 1 << 2;
    /// `fd_tell`.
    pub(crate) const FD_TELL: u64 = 1 << 5;
    /// `fd_write`.
    pub(crate) const FD_WRITE: u64 = 1 << 6;
    /// `fd_allocate`.
    pub(crate) const FD_ALLOCATE: u64 = 1 << 8;
    /// `fd_readdir`.
    pub(crate) const FD_READDIR: u64 = 1 << 14;
    /// `fd_filestat_set_size`.
    pub(crate) const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    /// All 30 rights preview1 defines.
    pub(crate) const ALL: u64 = (1 << 30) - 1;
}

/// The host flags of `path_open` with `oflags` `oflags`, requested rights
/// `rights` and `fdflags` `fdflags` (unknown bits: `INVAL`). The access
/// mode follows the rights: read for `fd_read`/`fd_readdir`, write for the
/// rights that modify the file. The final component is never followed
/// (the sandbox resolves symbolic links itself).
pub(crate) fn open_flags(oflags: u32, rights: u64, fdflags: u32) -> Result<libc::c_int, Errno> {
    use oflags::*;
    let oflags = defined_bits(oflags, CREAT | DIRECTORY | EXCL | TRUNC)?;
    let read = rights & (rights::FD_READ | rights::FD_READDIR) != 0;
    let write = rights
        & (rights::FD_WRITE
            | rights::FD_DATASYNC
            | rights::FD_ALLOCATE
            | rights::FD_FILESTAT_SET_SIZE)
        != 0;
    let access = match (read, write) {
        _ if oflags & DIRECTORY != 0 => libc::O_RDONLY | libc::O_DIRECTORY,
        (true, true) => libc::O_RDWR,
        (false, true) => libc::O_WRONLY,
        (_, false) => libc::O_RDONLY,
    };
    let creation = [
        (CREAT, libc::O_CREAT),
        (EXCL, libc::O_EXCL),
        (TRUNC, libc::O_TRUNC),
    ]
    .iter()
    .filter(|(bit, _)| oflags & bit != 0)
    .fold(0, |host, (_, o)| host | o);
    Ok(access | creation | fdflags_to_host(fdflags)? | libc::O_NOFOLLOW | libc::O_CLOEXEC)
}

/// `clockid` values.
pub(crate) mod clock {
    /// Wall-clock time.
    pub(crate) const REALTIME: u32 = 0;
    /// Monotonic time.
    pub(crate) const MONOTONIC: u32 = 1;
    /// CPU time of the process.
    pub(crate) const PROCESS_CPUTIME_ID: u32 = 2;
    /// CPU time of the thread.
    pub(crate) const THREAD_CPUTIME_ID: u32 = 3;
}

/// `whence` values of `fd_seek`.
pub(crate) mod whence {
    /// From the start.
    pub(crate) const SET: u32 = 0;
    /// From the current offset.
    pub(crate) const CUR: u32 = 1;
    /// From the end.
    pub(crate) const END: u32 = 2;
}

/// The largest `advice` value (`noreuse`).
pub(crate) const ADVICE_MAX: u32 = 5;

/// `fstflags` bits.
pub(crate) mod fstflags {
    /// Set the access time to the given value.
    pub(crate) const ATIM: u32 = 1 << 0;
    /// Set the access time to now.
    pub(crate) const ATIM_NOW: u32 = 1 << 1;
    /// Set the modification time to the given value.
    pub(crate) const MTIM: u32 = 1 << 2;
    /// Set the modification time to now.
    pub(crate) const MTIM_NOW: u32 = 1 << 3;
}

/// A new time for a file, as `fstflags` select it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SetTime {
    /// Leave it.
    Omit,
    /// The current time.
    Now,
    /// This timestamp (nanoseconds since the epoch).
    At(u64),
}

/// The new access and modification times `fstflags` `flags` select from
/// `atim` and `mtim`; both "given" and "now" for one time is `INVAL`.
pub(crate) fn set_times(atim: u64, mtim: u64, flags: u32) -> Result<[SetTime; 2], Errno> {
    use fstflags::*;
    let flags = defined_bits(flags, ATIM | ATIM_NOW | MTIM | MTIM_NOW)?;
    let one = |value, given, now| match (flags & given != 0, flags & now != 0) {
        (true, true) => Err(Errno::Inval),
        (true, false) => Ok(SetTime::At(value)),
        (false, true) => Ok(SetTime::Now),
        (false, false) => Ok(SetTime::Omit),
    };
    Ok([one(atim, ATIM, ATIM_NOW)?, one(mtim, MTIM, MTIM_NOW)?])
}

/// `eventtype` values, also the tags of `subscription_u`.
pub(crate) mod eventtype {
    /// A clock subscription.
    pub(crate) const CLOCK: u8 = 0;
    /// Readiness to read.
    pub(crate) const FD_READ: u8 = 1;
    /// Readiness to write.
    pub(crate) const FD_WRITE: u8 = 2;
}

/// `eventrwflags::fd_readwrite_hangup`: the peer hung up.
pub(crate) const EVENT_HANGUP: u16 = 1;

/// `subclockflags::subscription_clock_abstime`: the timeout is absolute.
const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1;

/// Size of an `iovec` / `ciovec` (`buf: u32 @0, buf_len: u32 @4`).
pub(crate) const IOVEC_SIZE: u32 = 8;
/// Size of a `subscription`.
pub(crate) const SUBSCRIPTION_SIZE: u32 = 48;
/// Size of an `event`.
pub(crate) const EVENT_SIZE: u32 = 32;

/// Copies `bytes` into `buf` at `offset` (a witx field offset).
fn put<const N: usize>(buf: &mut [u8; N], offset: usize, bytes: &[u8]) {
    if let Some(field) = buf.get_mut(offset..offset + bytes.len()) {
        field.copy_from_slice(bytes);
    }
}

/// The `N` bytes of `bytes` at `offset` (zeros past the end).
fn field<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    bytes
        .get(offset..offset + N)
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0; N])
}

/// An `fdstat`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fdstat {
    /// `fs_filetype`.
    pub(crate) filetype: u8,
    /// `fs_flags`.
    pub(crate) flags: u16,
}

impl Fdstat {
    /// The 24 bytes of the struct: `fs_filetype: u8 @0, fs_flags: u16 @2,
    /// fs_rights_base: u64 @8, fs_rights_inheriting: u64 @16`. Every right
    /// is granted, except seeking where the file type cannot seek (which
    /// is how wasi-libc's `isatty` recognizes a terminal).
    pub(crate) fn encode(self) -> [u8; 24] {
        let seekable = matches!(
            self.filetype,
            filetype::REGULAR_FILE | filetype::DIRECTORY | filetype::BLOCK_DEVICE
        );
        let base = if seekable {
            rights::ALL
        } else {
            rights::ALL & !(rights::FD_SEEK | rights::FD_TELL)
        };
        let mut buf = [0; 24];
        put(&mut buf, 0, &[self.filetype]);
        put(&mut buf, 2, &self.flags.to_le_bytes());
        put(&mut buf, 8, &base.to_le_bytes());
        put(&mut buf, 16, &rights::ALL.to_le_bytes());
        buf
    }
}

/// A `filestat`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Filestat {
    /// `dev`.
    pub(crate) dev: u64,
    /// `ino`.
    pub(crate) ino: u64,
    /// `filetype`.
    pub(crate) filetype: u8,
    /// `nlink`.
    pub(crate) nlink: u64,
    /// `size`.
    pub(crate) size: u64,
    /// `atim`, in nanoseconds since the epoch.
    pub(crate) atim: u64,
    /// `mtim`.
    pub(crate) mtim: u64,
    /// `ctim`.
    pub(crate) ctim: u64,
}

/// A host status field as `u64` (their types differ between hosts); 0 if
/// it does not fit.
fn host_u64<T: TryInto<u64>>(value: T) -> u64 {
    value.try_into().unwrap_or(0)
}

/// A host time as preview1 timestamp: nanoseconds since the epoch, 0 for
/// times before it.
fn timestamp(secs: libc::time_t, nanos: libc::c_long) -> u64 {
    host_u64(secs)
        .saturating_mul(1_000_000_000)
        .saturating_add(host_u64(nanos))
}

impl Filestat {
    /// The status of a file with host status `stat`.
    pub(crate) fn from_host(stat: &libc::stat) -> Filestat {
        Filestat {
            dev: host_u64(stat.st_dev),
            ino: host_u64(stat.st_ino),
            filetype: filetype_of_mode(stat.st_mode),
            nlink: host_u64(stat.st_nlink),
            size: host_u64(stat.st_size),
            atim: timestamp(stat.st_atime, stat.st_atime_nsec),
            mtim: timestamp(stat.st_mtime, stat.st_mtime_nsec),
            ctim: timestamp(stat.st_ctime, stat.st_ctime_nsec),
        }
    }

    /// The 64 bytes of the struct: `dev @0, ino @8, filetype: u8 @16,
    /// nlink @24, size @32, atim @40, mtim @48, ctim @56` (all u64 but
    /// `filetype`).
    pub(crate) fn encode(self) -> [u8; 64] {
        let mut buf = [0; 64];
        put(&mut buf, 0, &self.dev.to_le_bytes());
        put(&mut buf, 8, &self.ino.to_le_bytes());
        put(&mut buf, 16, &[self.filetype]);
        put(&mut buf, 24, &self.nlink.to_le_bytes());
        put(&mut buf, 32, &self.size.to_le_bytes());
        put(&mut buf, 40, &self.atim.to_le_bytes());
        put(&mut buf, 48, &self.mtim.to_le_bytes());
        put(&mut buf, 56, &self.ctim.to_le_bytes());
        buf
    }
}

/// The 8 bytes of a `prestat` of a preopened directory whose guest path
/// has `name_len` bytes: `tag: u8 @0` (`preopentype::dir` = 0),
/// `pr_name_len: u32 @4`.
pub(crate) fn prestat_dir(name_len: u32) -> [u8; 8] {
    let mut buf = [0; 8];
    put(&mut buf, 4, &name_len.to_le_bytes());
    buf
}

/// A `dirent` header (the name follows it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dirent {
    /// `d_next`: the cookie of the next entry.
    pub(crate) next: u64,
    /// `d_ino`.
    pub(crate) ino: u64,
    /// `d_namlen`.
    pub(crate) namlen: u32,
    /// `d_type`.
    pub(crate) filetype: u8,
}

impl Dirent {
    /// The 24 bytes of the header: `d_next: u64 @0, d_ino: u64 @8,
    /// d_namlen: u32 @16, d_type: u8 @20`.
    pub(crate) fn encode(self) -> [u8; 24] {
        let mut buf = [0; 24];
        put(&mut buf, 0, &self.next.to_le_bytes());
        put(&mut buf, 8, &self.ino.to_le_bytes());
        put(&mut buf, 16, &self.namlen.to_le_bytes());
        put(&mut buf, 20, &[self.filetype]);
        buf
    }
}

/// What a `subscription` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// A clock reaching a time.
    Clock {
        /// The `clockid`.
        id: u32,
        /// The timeout in nanoseconds.
        timeout: u64,
        /// Whether `timeout` is a time of the clock rather than a delay.
        absolute: bool,
    },
    /// A file descriptor ready to read.
    Read(u32),
    /// A file descriptor ready to write.
    Write(u32),
}

/// A `subscription`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Subscription {
    /// `userdata`, copied into the event.
    pub(crate) userdata: u64,
    /// What it waits for.
    pub(crate) wait: Wait,
}

impl Subscription {
    /// Decodes the 48 bytes of a `subscription`: `userdata: u64 @0`, the
    /// tag (`eventtype`) `@8`, then for a clock `id: u32 @16, timeout: u64
    /// @24, precision: u64 @32, flags: u16 @40`, for a file descriptor
    /// `fd: u32 @16`. An unknown tag is `INVAL`.
    pub(crate) fn decode(bytes: &[u8; 48]) -> Result<Subscription, Errno> {
        let u32_at = |offset| u32::from_le_bytes(field(bytes, offset));
        let wait = match bytes[8] {
            eventtype::CLOCK => Wait::Clock {
                id: u32_at(16),
                timeout: u64::from_le_bytes(field(bytes, 24)),
                absolute: u16::from_le_bytes(field(bytes, 40)) & SUBSCRIPTION_CLOCK_ABSTIME != 0,
            },
            eventtype::FD_READ => Wait::Read(u32_at(16)),
            eventtype::FD_WRITE => Wait::Write(u32_at(16)),
            _ => return Err(Errno::Inval),
        };
        Ok(Subscription {
            userdata: u64::from_le_bytes(field(bytes, 0)),
            wait,
        })
    }

    /// The `eventtype` of its events.
    pub(crate) fn eventtype(&self) -> u8 {
        match self.wait {
            Wait::Clock { .. } => eventtype::CLOCK,
            Wait::Read(_) => eventtype::FD_READ,
            Wait::Write(_) => eventtype::FD_WRITE,
        }
    }
}

/// An `event`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    /// `userdata` of the subscription.
    pub(crate) userdata: u64,
    /// `error`: 0 or an [`Errno`] code.
    pub(crate) error: u16,
    /// `type`: the `eventtype`.
    pub(crate) eventtype: u8,
    /// `fd_readwrite.nbytes`: bytes available, where known.
    pub(crate) nbytes: u64,
    /// `fd_readwrite.flags` (`eventrwflags`).
    pub(crate) flags: u16,
}

impl Event {
    /// The 32 bytes of the struct: `userdata: u64 @0, error: u16 @8, type:
    /// u8 @10, fd_readwrite.nbytes: u64 @16, fd_readwrite.flags: u16 @24`.
    pub(crate) fn encode(self) -> [u8; 32] {
        let mut buf = [0; 32];
        put(&mut buf, 0, &self.userdata.to_le_bytes());
        put(&mut buf, 8, &self.error.to_le_bytes());
        put(&mut buf, 10, &[self.eventtype]);
        put(&mut buf, 16, &self.nbytes.to_le_bytes());
        put(&mut buf, 24, &self.flags.to_le_bytes());
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_errors_map_to_their_preview1_numbers() {
        assert_eq!(Errno::from_host(libc::ENOENT).code(), 44);
        assert_eq!(Errno::from_host(libc::EWOULDBLOCK), Errno::Again);
        assert_eq!(Errno::from_host(libc::EOPNOTSUPP), Errno::Notsup);
        assert_eq!(Errno::from_host(libc::ELOOP).code(), 32);
        assert_eq!(Errno::from_host(-1), Errno::Io);
        assert_eq!(Errno::Notcapable.code(), 76);
    }

    #[test]
    fn subscriptions_decode_at_witx_offsets() {
        let mut bytes = [0u8; 48];
        bytes[0..8].copy_from_slice(&7u64.to_le_bytes());
        bytes[8] = eventtype::CLOCK;
        bytes[16..20].copy_from_slice(&clock::MONOTONIC.to_le_bytes());
        bytes[24..32].copy_from_slice(&1000u64.to_le_bytes());
        bytes[40..42].copy_from_slice(&1u16.to_le_bytes());
        let wait = Wait::Clock {
            id: clock::MONOTONIC,
            timeout: 1000,
            absolute: true,
        };
        assert_eq!(
            Subscription::decode(&bytes),
            Ok(Subscription { userdata: 7, wait })
        );
        bytes[8] = 3;
        assert_eq!(Subscription::decode(&bytes), Err(Errno::Inval));
    }

    #[test]
    fn open_flags_follow_the_rights() {
        let read = open_flags(0, rights::FD_READ, 0).unwrap();
        assert_eq!(read & libc::O_ACCMODE, libc::O_RDONLY);
        let write = open_flags(oflags::CREAT, rights::FD_WRITE, 0).unwrap();
        assert_eq!(write & libc::O_ACCMODE, libc::O_WRONLY);
        assert_ne!(write & libc::O_CREAT, 0);
        let both = open_flags(0, rights::ALL, fdflags::APPEND.into()).unwrap();
        assert_eq!(both & libc::O_ACCMODE, libc::O_RDWR);
        assert_ne!(both & libc::O_APPEND, 0);
        assert_ne!(both & libc::O_NOFOLLOW, 0);
        assert_eq!(open_flags(1 << 4, 0, 0), Err(Errno::Inval));
    }
}
