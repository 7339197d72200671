//! Tests of `fuelc_runtime::wasi`: the preview1 functions driven through
//! `WasiCtx::call` on a plain byte vector standing for guest memory, the
//! sandbox seen through the path functions, import checking, and
//! `run_command` on hand-made modules whose "generated code" calls WASI
//! through host-call trampolines the way compiled code does.
//!
//! These tests must not depend on the compiler (this crate cannot compile
//! wasm), nor on any host path outside their temporary directories.

#![deny(clippy::undocumented_unsafe_blocks)]

mod support;

use fuelc_runtime::abi::{
    BoundsChecks, ConstExpr, DataSegment, Export, ExportKind, FuncRef, FunctionInfo,
    HostCallContext, Import, ImportKind, ValRaw, VmctxLayout,
};
use fuelc_runtime::wasi::{self, Errno, Input, Output, WasiConfig, WasiCtx, WasiError};
use fuelc_runtime::{
    Extern, FuncType, HostError, Limits, MemoryType, Module, ModuleMetadata, Store, Val, ValType,
};
use std::cell::RefCell;
use std::fs;
use std::mem::transmute;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

const SUCCESS: u16 = 0;
const FILETYPE_DIRECTORY: u8 = 3;
const FILETYPE_REGULAR_FILE: u8 = 4;
const FILETYPE_SYMBOLIC_LINK: u8 = 7;
const LOOKUP_FOLLOW: u32 = 1;
const OFLAGS_CREAT: u32 = 1;
const OFLAGS_DIRECTORY: u32 = 2;
const OFLAGS_TRUNC: u32 = 8;
const RIGHTS_READ: u64 = 1 << 1;
const RIGHTS_WRITE: u64 = 1 << 6;
const ALL_RIGHTS: u64 = (1 << 30) - 1;

/// Where the tests put things in guest memory.
const IOVS: u32 = 0;
const RESULT: u32 = 256;
const PATH: u32 = 1024;
const PATH2: u32 = 2048;
const DATA: u32 = 4096;
const MEMORY_SIZE: usize = 65536;

fn i(x: u32) -> Val {
    Val::I32(x as i32)
}

fn l(x: u64) -> Val {
    Val::I64(x as i64)
}

/// A WASI program and its memory.
struct Guest {
    ctx: WasiCtx,
    memory: Vec<u8>,
}

impl Guest {
    fn new(config: WasiConfig) -> Guest {
        Guest {
            ctx: WasiCtx::new(config),
            memory: vec![0; MEMORY_SIZE],
        }
    }

    /// Calls `name`, which returns an errno.
    fn call(&mut self, name: &str, args: &[Val]) -> u16 {
        match self.ctx.call(&mut self.memory, name, args).as_deref() {
            Ok([Val::I32(errno)]) => *errno as u16,
            other => panic!("{name} returned {other:?}"),
        }
    }

    fn put(&mut self, at: u32, bytes: &[u8]) {
        self.memory[at as usize..][..bytes.len()].copy_from_slice(bytes);
    }

    fn put_u32(&mut self, at: u32, value: u32) {
        self.put(at, &value.to_le_bytes());
    }

    fn bytes(&self, at: u32, len: usize) -> &[u8] {
        &self.memory[at as usize..][..len]
    }

    fn u32(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.bytes(at, 4).try_into().unwrap())
    }

    fn u64(&self, at: u32) -> u64 {
        u64::from_le_bytes(self.bytes(at, 8).try_into().unwrap())
    }

    /// Puts iovecs for `buffers` (address, length) at [`IOVS`].
    fn iovecs(&mut self, buffers: &[(u32, u32)]) {
        for (n, (buf, len)) in (0u32..).zip(buffers) {
            self.put_u32(IOVS + 8 * n, *buf);
            self.put_u32(IOVS + 8 * n + 4, *len);
        }
    }

    /// Writes `data` to `fd`: the errno and the count written.
    fn write(&mut self, fd: u32, data: &[u8]) -> (u16, u32) {
        self.put(DATA, data);
        self.iovecs(&[(DATA, data.len() as u32)]);
        let errno = self.call("fd_write", &[i(fd), i(IOVS), i(1), i(RESULT)]);
        (errno, self.u32(RESULT))
    }

    /// Reads up to `len` bytes from `fd`.
    fn read(&mut self, fd: u32, len: u32) -> Result<Vec<u8>, u16> {
        self.iovecs(&[(DATA, len)]);
        match self.call("fd_read", &[i(fd), i(IOVS), i(1), i(RESULT)]) {
            SUCCESS => Ok(self.bytes(DATA, self.u32(RESULT) as usize).to_vec()),
            errno => Err(errno),
        }
    }

    /// Calls `name` with `path` at [`PATH`] after `before` and its length
    /// then `after` as arguments.
    fn path_call(&mut self, name: &str, before: &[Val], path: &str, after: &[Val]) -> u16 {
        self.put(PATH, path.as_bytes());
        let mut args = before.to_vec();
        args.extend([i(PATH), i(path.len() as u32)]);
        args.extend_from_slice(after);
        self.call(name, &args)
    }

    /// Opens `path` relative to `dir`: the new fd or the errno.
    fn open(
        &mut self,
        dir: u32,
        path: &str,
        lookup: u32,
        oflags: u32,
        rights: u64,
    ) -> Result<u32, u16> {
        let after = [i(oflags), l(rights), l(ALL_RIGHTS), i(0), i(RESULT)];
        match self.path_call("path_open", &[i(dir), i(lookup)], path, &after) {
            SUCCESS => Ok(self.u32(RESULT)),
            errno => Err(errno),
        }
    }

    /// `path_filestat_get`: the file type or the errno.
    fn filetype_at(&mut self, path: &str, lookup: u32) -> Result<u8, u16> {
        match self.path_call("path_filestat_get", &[i(3), i(lookup)], path, &[i(RESULT)]) {
            SUCCESS => Ok(self.memory[RESULT as usize + 16]),
            errno => Err(errno),
        }
    }

    /// The names `fd_readdir` lists with a `buf_len`-byte buffer, from
    /// `cookie`, and whether the buffer filled up.
    fn readdir(&mut self, fd: u32, buf_len: u32, cookie: u64) -> (Vec<(u64, String, u8)>, bool) {
        let errno = self.call(
            "fd_readdir",
            &[i(fd), i(DATA), i(buf_len), l(cookie), i(RESULT)],
        );
        assert_eq!(errno, SUCCESS);
        let used = self.u32(RESULT);
        let mut entries = Vec::new();
        let mut at = DATA;
        while at + 24 <= DATA + used {
            let next = self.u64(at);
            let namlen = self.u32(at + 16);
            let filetype = self.memory[at as usize + 20];
            if at + 24 + namlen > DATA + used {
                break;
            }
            let name = String::from_utf8(self.bytes(at + 24, namlen as usize).to_vec()).unwrap();
            entries.push((next, name, filetype));
            at += 24 + namlen;
        }
        (entries, used == buf_len)
    }
}

fn errno(e: Errno) -> u16 {
    e.code()
}

fn buffer() -> Rc<RefCell<Vec<u8>>> {
    Rc::new(RefCell::new(Vec::new()))
}

/// A temporary directory holding `root/` (preopened as fd 3, guest path
/// `/sandbox`) with `f.txt` ("0123456789"), and `outside.txt` next to it.
fn sandbox() -> (TempDir, Guest) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    fs::create_dir(&root).unwrap();
    fs::write(root.join("f.txt"), "0123456789").unwrap();
    fs::write(tmp.path().join("outside.txt"), "outside").unwrap();
    let config = WasiConfig::new().preopen_dir(&root, "/sandbox").unwrap();
    (tmp, Guest::new(config))
}

fn root(tmp: &TempDir) -> std::path::PathBuf {
    tmp.path().join("root")
}

#[test]
fn standard_output_and_error_are_captured() {
    let (out, err) = (buffer(), buffer());
    let config = WasiConfig::new()
        .stdout(Output::Buffer(out.clone()))
        .stderr(Output::Buffer(err.clone()));
    let mut guest = Guest::new(config);
    guest.put(DATA, b"hello, world\n");
    guest.iovecs(&[(DATA, 7), (DATA + 7, 0), (DATA + 7, 6)]);
    assert_eq!(
        guest.call("fd_write", &[i(1), i(IOVS), i(3), i(RESULT)]),
        SUCCESS
    );
    assert_eq!(guest.u32(RESULT), 13);
    assert_eq!(guest.write(2, b"oops"), (SUCCESS, 4));
    assert_eq!(out.borrow().as_slice(), b"hello, world\n");
    assert_eq!(err.borrow().as_slice(), b"oops");
    assert_eq!(guest.read(1, 4), Err(errno(Errno::Badf)));
}

#[test]
fn standard_input_bytes_are_read_then_end() {
    let config = WasiConfig::new().stdin(Input::Bytes(b"abcdef".to_vec()));
    let mut guest = Guest::new(config);
    guest.iovecs(&[(DATA, 4), (DATA + 100, 4)]);
    assert_eq!(
        guest.call("fd_read", &[i(0), i(IOVS), i(2), i(RESULT)]),
        SUCCESS
    );
    assert_eq!(guest.u32(RESULT), 6);
    assert_eq!(guest.bytes(DATA, 4), b"abcd");
    assert_eq!(guest.bytes(DATA + 100, 2), b"ef");
    assert_eq!(guest.read(0, 4), Ok(vec![]));
    assert_eq!(guest.write(0, b"x").0, errno(Errno::Badf));
    assert_eq!(
        guest.call("fd_seek", &[i(0), l(0), i(0), i(RESULT)]),
        errno(Errno::Spipe)
    );
}

#[test]
fn arguments_and_environment_are_passed() {
    let config = WasiConfig::new()
        .args(["prog", "x y"])
        .env("A", "1")
        .env("PATH", "/bin");
    let mut guest = Guest::new(config);
    assert_eq!(
        guest.call("args_sizes_get", &[i(RESULT), i(RESULT + 4)]),
        SUCCESS
    );
    assert_eq!((guest.u32(RESULT), guest.u32(RESULT + 4)), (2, 9));
    assert_eq!(guest.call("args_get", &[i(RESULT), i(DATA)]), SUCCESS);
    assert_eq!((guest.u32(RESULT), guest.u32(RESULT + 4)), (DATA, DATA + 5));
    assert_eq!(guest.bytes(DATA, 9), b"prog\0x y\0");
    assert_eq!(
        guest.call("environ_sizes_get", &[i(RESULT), i(RESULT + 4)]),
        SUCCESS
    );
    assert_eq!((guest.u32(RESULT), guest.u32(RESULT + 4)), (2, 14));
    assert_eq!(guest.call("environ_get", &[i(RESULT), i(DATA)]), SUCCESS);
    assert_eq!(guest.u32(RESULT + 4), DATA + 4);
    assert_eq!(guest.bytes(DATA, 14), b"A=1\0PATH=/bin\0");
}

#[test]
fn pointers_out_of_memory_fault() {
    let out = buffer();
    let config = WasiConfig::new()
        .args(["prog"])
        .stdout(Output::Buffer(out.clone()));
    let mut guest = Guest::new(config);
    let end = MEMORY_SIZE as u32;
    let fault = errno(Errno::Fault);
    guest.put(DATA, b"data");
    guest.iovecs(&[(DATA, 4)]);
    assert_eq!(
        guest.call("fd_write", &[i(1), i(end - 4), i(1), i(RESULT)]),
        fault
    );
    assert_eq!(
        guest.call("fd_write", &[i(1), i(IOVS), i(1), i(u32::MAX)]),
        fault
    );
    guest.put(end - 8, &[0; 8]);
    assert_eq!(
        guest.call("fd_write", &[i(1), i(end - 8), i(2), i(RESULT)]),
        fault
    );
    guest.iovecs(&[(end - 2, 4)]);
    assert_eq!(
        guest.call("fd_write", &[i(1), i(IOVS), i(1), i(RESULT)]),
        fault
    );
    assert!(out.borrow().is_empty());
    assert_eq!(
        guest.call("args_sizes_get", &[i(end - 2), i(RESULT)]),
        fault
    );
    assert_eq!(guest.call("args_get", &[i(RESULT), i(end - 3)]), fault);
    assert_eq!(
        guest.call("clock_time_get", &[i(1), l(0), i(end - 7)]),
        fault
    );
    assert_eq!(guest.call("random_get", &[i(end - 8), i(9)]), fault);
    assert_eq!(
        guest.call("poll_oneoff", &[i(0), i(DATA), i(u32::MAX), i(RESULT)]),
        fault
    );
}

#[test]
fn preopened_directories_are_listed_from_fd_3() {
    let tmp = tempfile::tempdir().unwrap();
    let config = WasiConfig::new()
        .preopen_dir(tmp.path(), "/sandbox")
        .unwrap()
        .preopen_dir(tmp.path(), ".")
        .unwrap();
    let mut guest = Guest::new(config);
    assert_eq!(guest.call("fd_prestat_get", &[i(3), i(RESULT)]), SUCCESS);
    assert_eq!(
        (guest.memory[RESULT as usize], guest.u32(RESULT + 4)),
        (0, 8)
    );
    assert_eq!(
        guest.call("fd_prestat_dir_name", &[i(3), i(DATA), i(8)]),
        SUCCESS
    );
    assert_eq!(guest.bytes(DATA, 8), b"/sandbox");
    assert_eq!(
        guest.call("fd_prestat_dir_name", &[i(3), i(DATA), i(7)]),
        errno(Errno::Nametoolong)
    );
    assert_eq!(guest.call("fd_prestat_get", &[i(4), i(RESULT)]), SUCCESS);
    assert_eq!(guest.u32(RESULT + 4), 1);
    assert_eq!(
        guest.call("fd_prestat_get", &[i(5), i(RESULT)]),
        errno(Errno::Badf)
    );
    assert_eq!(
        guest.call("fd_prestat_get", &[i(1), i(RESULT)]),
        errno(Errno::Badf)
    );
    assert_eq!(guest.call("fd_fdstat_get", &[i(3), i(RESULT)]), SUCCESS);
    assert_eq!(guest.memory[RESULT as usize], FILETYPE_DIRECTORY);
    assert_eq!(
        (guest.u64(RESULT + 8), guest.u64(RESULT + 16)),
        (ALL_RIGHTS, ALL_RIGHTS)
    );
}

#[test]
fn preopening_a_missing_directory_or_a_file_fails() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("file"), "").unwrap();
    assert!(WasiConfig::new()
        .preopen_dir(tmp.path().join("missing"), "/m")
        .is_err());
    assert!(WasiConfig::new()
        .preopen_dir(tmp.path().join("file"), "/f")
        .is_err());
}

#[test]
fn files_are_opened_read_seeked_and_inspected() {
    let (_tmp, mut guest) = sandbox();
    let fd = guest
        .open(3, "f.txt", LOOKUP_FOLLOW, 0, RIGHTS_READ)
        .unwrap();
    assert_eq!(fd, 4);
    assert_eq!(guest.read(fd, 4), Ok(b"0123".to_vec()));
    assert_eq!(guest.call("fd_tell", &[i(fd), i(RESULT)]), SUCCESS);
    assert_eq!(guest.u64(RESULT), 4);
    assert_eq!(
        guest.call("fd_seek", &[i(fd), l(-2i64 as u64), i(2), i(RESULT)]),
        SUCCESS
    );
    assert_eq!(guest.u64(RESULT), 8);
    assert_eq!(guest.read(fd, 100), Ok(b"89".to_vec()));
    assert_eq!(
        guest.call("fd_seek", &[i(fd), l(0), i(3), i(RESULT)]),
        errno(Errno::Inval)
    );
    guest.iovecs(&[(DATA, 3)]);
    assert_eq!(
        guest.call("fd_pread", &[i(fd), i(IOVS), i(1), l(1), i(RESULT)]),
        SUCCESS
    );
    assert_eq!((guest.u32(RESULT), guest.bytes(DATA, 3)), (3, &b"123"[..]));
    assert_eq!(guest.call("fd_filestat_get", &[i(fd), i(RESULT)]), SUCCESS);
    assert_eq!(guest.memory[RESULT as usize + 16], FILETYPE_REGULAR_FILE);
    assert_eq!(guest.u64(RESULT + 32), 10);
    assert_eq!(guest.call("fd_fdstat_get", &[i(fd), i(RESULT)]), SUCCESS);
    assert_eq!(guest.memory[RESULT as usize], FILETYPE_REGULAR_FILE);
    assert_eq!(
        (guest.u64(RESULT + 8), guest.u64(RESULT + 16)),
        (ALL_RIGHTS, ALL_RIGHTS)
    );
    assert_eq!(guest.write(fd, b"x").0, errno(Errno::Badf));
    assert_eq!(guest.call("fd_close", &[i(fd)]), SUCCESS);
    assert_eq!(guest.call("fd_close", &[i(fd)]), errno(Errno::Badf));
    assert_eq!(
        guest.open(3, "missing", 0, 0, RIGHTS_READ),
        Err(errno(Errno::Noent))
    );
    assert_eq!(
        guest.open(1, "f.txt", 0, 0, RIGHTS_READ),
        Err(errno(Errno::Notdir))
    );
    assert_eq!(
        guest.open(9, "f.txt", 0, 0, RIGHTS_READ),
        Err(errno(Errno::Badf))
    );
    let end = MEMORY_SIZE as u32;
    let open = [i(3), i(0), i(end), i(1), i(0), l(0), l(0), i(0), i(RESULT)];
    assert_eq!(guest.call("path_open", &open), errno(Errno::Fault));
    let open = [i(3), i(0), i(PATH), i(5), i(0), l(0), l(0), i(0), i(end)];
    assert_eq!(guest.call("path_open", &open), errno(Errno::Fault));
}

#[test]
fn files_are_created_written_resized_and_flagged() {
    let (tmp, mut guest) = sandbox();
    let flags = OFLAGS_CREAT | OFLAGS_TRUNC;
    let fd = guest
        .open(3, "new.txt", 0, flags, RIGHTS_READ | RIGHTS_WRITE)
        .unwrap();
    assert_eq!(guest.write(fd, b"data"), (SUCCESS, 4));
    guest.put(DATA, b"XY");
    guest.iovecs(&[(DATA, 2)]);
    assert_eq!(
        guest.call("fd_pwrite", &[i(fd), i(IOVS), i(1), l(1), i(RESULT)]),
        SUCCESS
    );
    let path = root(&tmp).join("new.txt");
    assert_eq!(fs::read(&path).unwrap(), b"dXYa");
    assert_eq!(guest.call("fd_filestat_set_size", &[i(fd), l(2)]), SUCCESS);
    assert_eq!(fs::read(&path).unwrap(), b"dX");
    assert_eq!(guest.call("fd_allocate", &[i(fd), l(4), l(6)]), SUCCESS);
    assert_eq!(fs::metadata(&path).unwrap().len(), 10);
    assert_eq!(guest.call("fd_sync", &[i(fd)]), SUCCESS);
    assert_eq!(guest.call("fd_datasync", &[i(fd)]), SUCCESS);
    assert_eq!(guest.call("fd_fdstat_set_flags", &[i(fd), i(1)]), SUCCESS);
    assert_eq!(guest.call("fd_fdstat_get", &[i(fd), i(RESULT)]), SUCCESS);
    assert_eq!(guest.memory[RESULT as usize + 2] & 1, 1);
    assert_eq!(guest.write(fd, b"!"), (SUCCESS, 1));
    assert_eq!(fs::read(&path).unwrap().last(), Some(&b'!'));
    assert_eq!(
        guest.call("fd_fdstat_set_flags", &[i(fd), i(16)]),
        errno(Errno::Notsup)
    );
    assert_eq!(
        guest.call("fd_fdstat_set_flags", &[i(fd), i(64)]),
        errno(Errno::Inval)
    );
    let times = [i(fd), l(1_000_000_000), l(2_000_000_000), i(1 | 4)];
    assert_eq!(guest.call("fd_filestat_set_times", &times), SUCCESS);
    assert_eq!(guest.call("fd_filestat_get", &[i(fd), i(RESULT)]), SUCCESS);
    assert_eq!(
        (guest.u64(RESULT + 40), guest.u64(RESULT + 48)),
        (1_000_000_000, 2_000_000_000)
    );
    let both = [i(fd), l(0), l(0), i(1 | 2)];
    assert_eq!(
        guest.call("fd_filestat_set_times", &both),
        errno(Errno::Inval)
    );
}

#[test]
fn directories_are_created_listed_renamed_and_removed() {
    let (tmp, mut guest) = sandbox();
    assert_eq!(
        guest.path_call("path_create_directory", &[i(3)], "d", &[]),
        SUCCESS
    );
    assert_eq!(
        guest.path_call("path_create_directory", &[i(3)], "d", &[]),
        errno(Errno::Exist)
    );
    let dir = guest
        .open(3, "d", 0, OFLAGS_DIRECTORY, RIGHTS_READ)
        .unwrap();
    let file = guest.open(dir, "x", 0, OFLAGS_CREAT, RIGHTS_WRITE).unwrap();
    assert_eq!(guest.call("fd_close", &[i(file)]), SUCCESS);
    let (entries, full) = guest.readdir(dir, 1024, 0);
    assert!(!full);
    let mut names: Vec<(&str, u8)> = entries.iter().map(|(_, n, t)| (n.as_str(), *t)).collect();
    names.sort();
    assert_eq!(names, [(".", 3), ("..", 3), ("x", FILETYPE_REGULAR_FILE)]);
    assert_eq!(
        guest.path_call("path_remove_directory", &[i(3)], "d", &[]),
        errno(Errno::Notempty)
    );
    assert_eq!(
        guest.path_call("path_unlink_file", &[i(3)], "d", &[]),
        errno(Errno::Isdir)
    );
    assert_eq!(
        guest.path_call("path_remove_directory", &[i(3)], "f.txt", &[]),
        errno(Errno::Notdir)
    );
    guest.put(PATH2, b"y");
    let rename = [i(3), i(PATH), i(3), i(3), i(PATH2), i(1)];
    guest.put(PATH, b"d/x");
    assert_eq!(guest.call("path_rename", &rename), SUCCESS);
    assert!(root(&tmp).join("y").is_file());
    let link = [i(3), i(0), i(PATH), i(1), i(3), i(PATH2), i(3)];
    guest.put(PATH, b"y");
    guest.put(PATH2, b"d/z");
    assert_eq!(guest.call("path_link", &link), SUCCESS);
    assert!(root(&tmp).join("d/z").is_file());
    assert_eq!(
        guest.path_call("path_unlink_file", &[i(dir)], "z", &[]),
        SUCCESS
    );
    assert_eq!(
        guest.path_call("path_unlink_file", &[i(3)], "y", &[]),
        SUCCESS
    );
    assert_eq!(
        guest.path_call("path_remove_directory", &[i(3)], "d/", &[]),
        SUCCESS
    );
    assert!(!root(&tmp).join("d").exists());
}

#[test]
fn directory_listings_resume_from_cookies() {
    let (tmp, mut guest) = sandbox();
    for name in ["a", "bb", "ccc", "dddd", "eeeee"] {
        fs::write(root(&tmp).join(name), name).unwrap();
    }
    let (all, _) = guest.readdir(3, 4096, 0);
    assert_eq!(all.len(), 8);
    let (rest, _) = guest.readdir(3, 4096, all[2].0);
    assert_eq!(rest, all[3..]);
    let (first, full) = guest.readdir(3, 40, 0);
    assert!(full);
    assert_eq!(first, all[..1]);
    assert!(guest.readdir(3, 4096, all[7].0).0.is_empty());
    assert!(guest.readdir(3, 4096, u64::MAX).0.is_empty());
    assert_eq!(
        guest.call("fd_readdir", &[i(0), i(DATA), i(64), l(0), i(RESULT)]),
        errno(Errno::Notdir)
    );
}

#[test]
fn paths_out_of_the_preopen_are_refused() {
    let (tmp, mut guest) = sandbox();
    let notcapable = Err(errno(Errno::Notcapable));
    let outside = tmp.path().join("outside.txt");
    fs::create_dir(root(&tmp).join("a")).unwrap();
    for path in [
        "../outside.txt",
        "/etc/passwd",
        outside.to_str().unwrap(),
        "a/../../x",
        "..",
    ] {
        assert_eq!(
            guest.open(3, path, LOOKUP_FOLLOW, 0, RIGHTS_READ),
            notcapable,
            "{path}"
        );
    }
    symlink(&outside, root(&tmp).join("abs")).unwrap();
    symlink("../outside.txt", root(&tmp).join("up")).unwrap();
    assert_eq!(
        guest.open(3, "abs", LOOKUP_FOLLOW, 0, RIGHTS_READ),
        notcapable
    );
    assert_eq!(
        guest.open(3, "up", LOOKUP_FOLLOW, 0, RIGHTS_READ),
        notcapable
    );
    assert_eq!(guest.filetype_at("up", 0), Ok(FILETYPE_SYMBOLIC_LINK));
    assert_eq!(
        guest.filetype_at("up", LOOKUP_FOLLOW),
        Err(errno(Errno::Notcapable))
    );
    let dir = guest
        .open(3, ".", 0, OFLAGS_DIRECTORY, RIGHTS_READ)
        .unwrap();
    assert_eq!(guest.open(dir, "../f.txt", 0, 0, RIGHTS_READ), notcapable);
}

#[test]
fn symbolic_links_are_made_read_and_followed_only_on_request() {
    let (tmp, mut guest) = sandbox();
    guest.put(PATH2, b"link");
    for (target, expected) in [
        ("/etc/passwd", errno(Errno::Notcapable)),
        ("../outside.txt", errno(Errno::Notcapable)),
        ("f.txt", SUCCESS),
    ] {
        guest.put(PATH, target.as_bytes());
        let args = [i(PATH), i(target.len() as u32), i(3), i(PATH2), i(4)];
        assert_eq!(guest.call("path_symlink", &args), expected, "{target}");
    }
    assert_eq!(
        fs::read_link(root(&tmp).join("link")).unwrap(),
        Path::new("f.txt")
    );
    assert_eq!(
        guest.open(3, "link", 0, 0, RIGHTS_READ),
        Err(errno(Errno::Loop))
    );
    let fd = guest
        .open(3, "link", LOOKUP_FOLLOW, 0, RIGHTS_READ)
        .unwrap();
    assert_eq!(guest.read(fd, 3), Ok(b"012".to_vec()));
    let readlink = [i(DATA), i(64), i(RESULT)];
    assert_eq!(
        guest.path_call("path_readlink", &[i(3)], "link", &readlink),
        SUCCESS
    );
    assert_eq!(guest.bytes(DATA, guest.u32(RESULT) as usize), b"f.txt");
    let short = [i(DATA + 100), i(2), i(RESULT)];
    assert_eq!(
        guest.path_call("path_readlink", &[i(3)], "link", &short),
        SUCCESS
    );
    assert_eq!(guest.bytes(DATA + 100, guest.u32(RESULT) as usize), b"f.");
    assert_eq!(guest.filetype_at("link", 0), Ok(FILETYPE_SYMBOLIC_LINK));
    assert_eq!(
        guest.filetype_at("link", LOOKUP_FOLLOW),
        Ok(FILETYPE_REGULAR_FILE)
    );
    symlink("loop", root(&tmp).join("loop")).unwrap();
    assert_eq!(
        guest.filetype_at("loop", LOOKUP_FOLLOW),
        Err(errno(Errno::Loop))
    );
}

#[test]
fn clocks_and_randomness_work() {
    let mut guest = Guest::new(WasiConfig::new());
    assert_eq!(
        guest.call("clock_time_get", &[i(1), l(0), i(RESULT)]),
        SUCCESS
    );
    let first = guest.u64(RESULT);
    assert_eq!(
        guest.call("clock_time_get", &[i(1), l(0), i(RESULT)]),
        SUCCESS
    );
    assert!(guest.u64(RESULT) >= first);
    assert_eq!(
        guest.call("clock_time_get", &[i(0), l(0), i(RESULT)]),
        SUCCESS
    );
    assert!(guest.u64(RESULT) > 1_600_000_000_000_000_000);
    for clock in 0..4 {
        assert_eq!(guest.call("clock_res_get", &[i(clock), i(RESULT)]), SUCCESS);
        assert!(guest.u64(RESULT) > 0);
    }
    assert_eq!(
        guest.call("clock_time_get", &[i(4), l(0), i(RESULT)]),
        errno(Errno::Inval)
    );
    assert_eq!(guest.call("random_get", &[i(DATA), i(64)]), SUCCESS);
    assert!(guest.bytes(DATA, 64).iter().any(|&b| b != 0));
}

/// Puts a clock subscription (relative `timeout` ns on the monotonic
/// clock) at `at`.
fn clock_subscription(guest: &mut Guest, at: u32, userdata: u64, timeout: u64) {
    guest.put(at, &[0; 48]);
    guest.put(at, &userdata.to_le_bytes());
    guest.put_u32(at + 16, 1);
    guest.put(at + 24, &timeout.to_le_bytes());
}

#[test]
fn poll_oneoff_sleeps_until_the_first_clock() {
    let mut guest = Guest::new(WasiConfig::new());
    clock_subscription(&mut guest, DATA, 11, 30_000_000);
    clock_subscription(&mut guest, DATA + 48, 22, 10_000_000_000);
    let started = Instant::now();
    assert_eq!(
        guest.call("poll_oneoff", &[i(DATA), i(PATH), i(2), i(RESULT)]),
        SUCCESS
    );
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(30) && elapsed < Duration::from_secs(5));
    assert_eq!(guest.u32(RESULT), 1);
    assert_eq!(
        (guest.u64(PATH), guest.bytes(PATH + 8, 3)),
        (11, &[0, 0, 0][..])
    );
    assert_eq!(
        guest.call("poll_oneoff", &[i(DATA), i(PATH), i(0), i(RESULT)]),
        errno(Errno::Inval)
    );
}

#[test]
fn poll_oneoff_reports_ready_fds_at_once() {
    let out = buffer();
    let mut guest = Guest::new(WasiConfig::new().stdout(Output::Buffer(out)));
    clock_subscription(&mut guest, DATA, 1, 10_000_000_000);
    guest.put(DATA + 48, &[0; 48]);
    guest.put(DATA + 48, &2u64.to_le_bytes());
    guest.put(DATA + 56, &[2]);
    guest.put_u32(DATA + 64, 1);
    guest.put(DATA + 96, &[0; 48]);
    guest.put(DATA + 96, &3u64.to_le_bytes());
    guest.put(DATA + 104, &[1]);
    guest.put_u32(DATA + 112, 99);
    let started = Instant::now();
    assert_eq!(
        guest.call("poll_oneoff", &[i(DATA), i(PATH), i(3), i(RESULT)]),
        SUCCESS
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(guest.u32(RESULT), 2);
    assert_eq!(
        (guest.u64(PATH), guest.bytes(PATH + 8, 3)),
        (2, &[0, 0, 2][..])
    );
    let badf = errno(Errno::Badf).to_le_bytes();
    assert_eq!(
        (guest.u64(PATH + 32), guest.bytes(PATH + 40, 3)),
        (3, &[badf[0], badf[1], 1][..])
    );
}

#[test]
fn fds_are_renumbered_and_reused_lowest_first() {
    let (_tmp, mut guest) = sandbox();
    let a = guest.open(3, "f.txt", 0, 0, RIGHTS_READ).unwrap();
    let b = guest.open(3, "f.txt", 0, 0, RIGHTS_READ).unwrap();
    assert_eq!((a, b), (4, 5));
    assert_eq!(
        guest.call("fd_seek", &[i(b), l(5), i(0), i(RESULT)]),
        SUCCESS
    );
    assert_eq!(guest.call("fd_renumber", &[i(b), i(a)]), SUCCESS);
    assert_eq!(guest.read(a, 1), Ok(b"5".to_vec()));
    assert_eq!(guest.read(b, 1), Err(errno(Errno::Badf)));
    assert_eq!(guest.call("fd_renumber", &[i(a), i(9)]), errno(Errno::Badf));
    assert_eq!(guest.open(3, "f.txt", 0, 0, RIGHTS_READ), Ok(5));
}

#[test]
fn exit_unsupported_functions_and_bad_calls() {
    let mut guest = Guest::new(WasiConfig::new());
    assert_eq!(
        guest.ctx.call(&mut guest.memory, "proc_exit", &[i(3)]),
        Err(HostError::Exit(3))
    );
    assert_eq!(guest.call("proc_raise", &[i(9)]), errno(Errno::Nosys));
    assert_eq!(guest.call("sched_yield", &[]), SUCCESS);
    assert_eq!(
        guest.call("sock_shutdown", &[i(0), i(0)]),
        errno(Errno::Notsup)
    );
    assert!(matches!(
        guest.ctx.call(&mut guest.memory, "nope", &[]),
        Err(HostError::Message(_))
    ));
    assert!(matches!(
        guest.ctx.call(&mut guest.memory, "fd_close", &[l(1)]),
        Err(HostError::Message(_))
    ));
    assert!(matches!(
        guest.ctx.call(&mut guest.memory, "fd_close", &[]),
        Err(HostError::Message(_))
    ));
}

fn ty(params: &[ValType], results: &[ValType]) -> FuncType {
    FuncType {
        params: params.to_vec(),
        results: results.to_vec(),
    }
}

#[test]
fn signatures_follow_the_witx() {
    use ValType::{I32, I64};
    let cases = [
        ("fd_write", ty(&[I32, I32, I32, I32], &[I32])),
        ("proc_exit", ty(&[I32], &[])),
        ("clock_time_get", ty(&[I32, I64, I32], &[I32])),
        ("fd_seek", ty(&[I32, I64, I32, I32], &[I32])),
        (
            "path_open",
            ty(&[I32, I32, I32, I32, I32, I64, I64, I32, I32], &[I32]),
        ),
        ("sched_yield", ty(&[], &[I32])),
    ];
    for (name, expected) in cases {
        assert_eq!(WasiCtx::func_type(name), Some(expected), "{name}");
    }
    assert_eq!(WasiCtx::func_type("nope"), None);
}

// Hand-made modules. Types: 0 `() -> ()`, 1 `(i32) -> ()`, 2 `(i32, i32,
// i32, i32) -> i32`. Imports `proc_exit` (function 0) and `fd_write`
// (function 1); defines `_start` (function 2) with one page of memory
// holding an iovec at 0 for "hello\n" at 16.

const T_START: u32 = 0;
const T_EXIT: u32 = 1;
const T_FD_WRITE: u32 = 2;

fn types() -> Vec<FuncType> {
    use ValType::I32;
    vec![
        ty(&[], &[]),
        ty(&[I32], &[]),
        ty(&[I32, I32, I32, I32], &[I32]),
    ]
}

fn raw_i32(x: i32) -> ValRaw {
    let mut raw = ValRaw::default();
    raw.0[..8].copy_from_slice(&i64::from(x as u32).to_le_bytes());
    raw
}

/// Calls the host function behind host-call context `ctx` on `values`.
fn host_call(ctx: *mut u8, values: &mut [ValRaw]) {
    let host = ctx.cast::<HostCallContext>();
    // SAFETY: `ctx` is the host-call context of the function reference a
    // trampoline was called through, and `values` is sized for its type.
    unsafe { ((*(*host).builtins).host_call)(ctx, values.as_mut_ptr().cast()) };
}

/// The host-call trampoline of `(i32) -> ()`.
extern "C" fn host_i32(ctx: *mut u8, a: i32) {
    host_call(ctx, &mut [raw_i32(a)]);
}

/// The host-call trampoline of `(i32, i32, i32, i32) -> i32`.
extern "C" fn host_i32x4_i32(ctx: *mut u8, a: i32, b: i32, c: i32, d: i32) -> i32 {
    let mut values = [a, b, c, d].map(raw_i32);
    host_call(ctx, &mut values);
    i32::from_le_bytes(values[0].0[..4].try_into().unwrap())
}

/// The entry trampoline of `() -> ()`.
unsafe extern "C" fn entry_v_v(vmctx: *mut u8, code: *const u8, _: *mut ValRaw) {
    // SAFETY: the entry trampoline of this type is only given code of it.
    let f = unsafe { transmute::<*const u8, extern "C" fn(*mut u8)>(code) };
    f(vmctx);
}

extern "C" fn never() {
    std::process::abort();
}

/// The function reference of function `index` in a context of the
/// hand-made module.
fn funcref(vmctx: *mut u8, index: u32) -> *const FuncRef {
    let offset = VmctxLayout::new(3, 0, 0, 3).funcref(index) as usize;
    // SAFETY: the record is at this offset of the context.
    unsafe { vmctx.add(offset) }.cast()
}

/// Calls `fd_write(1, 0, 1, 8)` through import 1.
fn write_hello(vmctx: *mut u8) -> i32 {
    let record = funcref(vmctx, 1);
    // SAFETY: import 1 has type 2, whose host trampoline this is.
    unsafe {
        let f = transmute::<*const u8, extern "C" fn(*mut u8, i32, i32, i32, i32) -> i32>(
            (*record).code,
        );
        f((*record).vmctx, 1, 0, 1, 8)
    }
}

/// `_start`: writes, then exits with 7 if the write succeeded.
extern "C" fn start_exit(vmctx: *mut u8) {
    let status = if write_hello(vmctx) == 0 { 7 } else { 1 };
    let record = funcref(vmctx, 0);
    // SAFETY: import 0 has type 1, whose host trampoline this is.
    unsafe {
        let f = transmute::<*const u8, extern "C" fn(*mut u8, i32)>((*record).code);
        f((*record).vmctx, status);
    }
}

/// `_start`: writes, then returns.
extern "C" fn start_return(vmctx: *mut u8) {
    write_hello(vmctx);
}

fn import(field: &str, type_index: u32) -> Import {
    Import {
        module: "wasi_snapshot_preview1".into(),
        field: field.into(),
        kind: ImportKind::Func(type_index),
    }
}

/// Loads `meta` with code `functions`; everything is leaked.
fn load(meta: &ModuleMetadata, functions: Vec<*const u8>) -> Module {
    let entries = vec![entry_v_v as *const u8; meta.types.len()];
    let mut hosts = vec![never as *const u8; meta.types.len()];
    if meta.types.len() == 3 {
        hosts[T_EXIT as usize] = host_i32 as *const u8;
        hosts[T_FD_WRITE as usize] = host_i32x4_i32 as *const u8;
    }
    let descriptor = support::descriptor_with_trampolines(meta, functions, entries, hosts);
    // SAFETY: everything the descriptor points to is leaked, and the code
    // and trampolines have the types the metadata gives them.
    unsafe { Module::from_descriptor(descriptor, None) }.unwrap()
}

/// The hand-made command module whose `_start` (of type `start_type`,
/// exported as `export`) is `start`.
fn command(start: extern "C" fn(*mut u8), start_type: u32, export: &str) -> Module {
    let mut data = vec![0u8; 16];
    data[..4].copy_from_slice(&16u32.to_le_bytes());
    data[4..8].copy_from_slice(&6u32.to_le_bytes());
    data.extend_from_slice(b"hello\n");
    let meta = ModuleMetadata {
        types: types(),
        imports: vec![import("proc_exit", T_EXIT), import("fd_write", T_FD_WRITE)],
        functions: vec![FunctionInfo {
            type_index: start_type,
            code_size: 1,
            traps: vec![],
        }],
        memories: vec![MemoryType {
            limits: Limits { min: 1, max: None },
        }],
        exports: vec![Export {
            name: export.into(),
            kind: ExportKind::Func,
            index: 2,
        }],
        data: vec![DataSegment {
            active: Some((0, ConstExpr::I32(0))),
            bytes: data,
        }],
        ..ModuleMetadata::empty("command", BoundsChecks::Guard)
    };
    load(&meta, vec![start as *const u8])
}

/// A module with no code importing `imports`, with types `types`.
fn importer(types: Vec<FuncType>, imports: Vec<Import>) -> Module {
    let meta = ModuleMetadata {
        types,
        imports,
        ..ModuleMetadata::empty("importer", BoundsChecks::Guard)
    };
    load(&meta, vec![])
}

fn captured_stdout() -> (WasiConfig, Rc<RefCell<Vec<u8>>>) {
    let out = buffer();
    (WasiConfig::new().stdout(Output::Buffer(out.clone())), out)
}

#[test]
fn commands_exit_with_the_proc_exit_status() {
    let (config, out) = captured_stdout();
    let module = command(start_exit, T_START, "_start");
    assert_eq!(wasi::run_command(&mut Store::new(), &module, config), Ok(7));
    assert_eq!(out.borrow().as_slice(), b"hello\n");
}

#[test]
fn commands_returning_from_start_exit_with_0() {
    let (config, out) = captured_stdout();
    let module = command(start_return, T_START, "_start");
    assert_eq!(wasi::run_command(&mut Store::new(), &module, config), Ok(0));
    assert_eq!(out.borrow().as_slice(), b"hello\n");
}

#[test]
fn commands_need_a_start_function_of_type_unit() {
    let module = command(start_return, T_START, "main");
    let result = wasi::run_command(&mut Store::new(), &module, WasiConfig::new());
    assert!(matches!(result, Err(WasiError::Start(_))), "{result:?}");
    let module = command(start_return, T_EXIT, "_start");
    let result = wasi::run_command(&mut Store::new(), &module, WasiConfig::new());
    assert!(
        matches!(&result, Err(WasiError::Start(m)) if m.contains("(i32)")),
        "{result:?}"
    );
}

#[test]
fn imports_follow_the_module_import_order() {
    let module = importer(
        types(),
        vec![import("fd_write", T_FD_WRITE), import("proc_exit", T_EXIT)],
    );
    let mut store = Store::new();
    let externs = wasi::imports(&mut store, &module, WasiConfig::new()).unwrap();
    let types: Vec<FuncType> = externs
        .iter()
        .map(|e| match e {
            Extern::Func(f) => store.func_type(*f),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(types, [self::types()[2].clone(), self::types()[1].clone()]);
}

#[test]
fn imports_other_than_preview1_functions_are_refused() {
    let mut store = Store::new();
    let cases = [
        ("env", "f"),
        ("wasi_snapshot_preview1", "nope"),
        ("wasi_unstable", "fd_write"),
    ];
    for (name, field) in cases {
        let mut wrong = import(field, T_FD_WRITE);
        wrong.module = name.into();
        let module = importer(types(), vec![wrong]);
        let error = wasi::imports(&mut store, &module, WasiConfig::new()).unwrap_err();
        let expected = format!(
            "unknown import {name}.{field}: WASI provides only wasi_snapshot_preview1 functions"
        );
        assert_eq!(error, expected);
    }
}

#[test]
fn imports_of_the_wrong_type_are_refused() {
    let module = importer(types(), vec![import("fd_write", T_EXIT)]);
    let error = wasi::imports(&mut Store::new(), &module, WasiConfig::new()).unwrap_err();
    assert!(error.contains("wasi_snapshot_preview1.fd_write"), "{error}");
    assert!(error.contains("(i32, i32, i32, i32) -> (i32)"), "{error}");
    assert!(error.contains("(i32) -> ()"), "{error}");
    let linked = wasi::run_command(&mut Store::new(), &module, WasiConfig::new());
    assert!(matches!(linked, Err(WasiError::Link(_))), "{linked:?}");
}

#[test]
fn every_preview1_function_can_be_imported() {
    let names = [
        "args_get",
        "args_sizes_get",
        "environ_get",
        "environ_sizes_get",
        "clock_res_get",
        "clock_time_get",
        "fd_advise",
        "fd_allocate",
        "fd_close",
        "fd_datasync",
        "fd_fdstat_get",
        "fd_fdstat_set_flags",
        "fd_fdstat_set_rights",
        "fd_filestat_get",
        "fd_filestat_set_size",
        "fd_filestat_set_times",
        "fd_pread",
        "fd_prestat_get",
        "fd_prestat_dir_name",
        "fd_pwrite",
        "fd_read",
        "fd_readdir",
        "fd_renumber",
        "fd_seek",
        "fd_sync",
        "fd_tell",
        "fd_write",
        "path_create_directory",
        "path_filestat_get",
        "path_filestat_set_times",
        "path_link",
        "path_open",
        "path_readlink",
        "path_remove_directory",
        "path_rename",
        "path_symlink",
        "path_unlink_file",
        "poll_oneoff",
        "proc_exit",
        "proc_raise",
        "sched_yield",
        "random_get",
        "sock_accept",
        "sock_recv",
        "sock_send",
        "sock_shutdown",
    ];
    let types: Vec<FuncType> = names
        .iter()
        .map(|n| WasiCtx::func_type(n).unwrap())
        .collect();
    let imports = (0u32..).zip(names).map(|(t, n)| import(n, t)).collect();
    let module = importer(types, imports);
    let externs = wasi::imports(&mut Store::new(), &module, WasiConfig::new()).unwrap();
    assert_eq!(externs.len(), 46);
}
