//! WASI commands end to end: C programs (clang with wasi-libc) and a Rust
//! program (`wasm32-wasip1`) from `tests/wasi_programs/` are built both to
//! wasm and natively; `fuelc run` and executables made by `fuelc build`
//! must print exactly what the native build prints and exit with the same
//! status. Path escapes from a granted directory must be refused.
//!
//! Needs clang with the wasm32 target and wasi-libc (`clang lld wasi-libc
//! libclang-rt-14-dev-wasm32` on Debian), rustc with the `wasm32-wasip1`
//! target, and a C compiler for the test target (`CC_<arch>_unknown_linux_gnu`
//! or `cc`); `.ci/run` installs them all.

mod support;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::{fuelc_command, target_command};

/// The directory holding the program sources.
fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wasi_programs")
}

/// The test target's C compiler, as the runtime's loader picks it.
fn native_cc() -> String {
    let variable = format!("CC_{}_unknown_linux_gnu", std::env::consts::ARCH);
    std::env::var(variable).unwrap_or_else(|_| "cc".to_string())
}

/// Runs a build tool and panics with its output if it fails.
fn build(mut command: Command) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A program built twice, to wasm and for the test target, into a
/// directory of its own.
struct Program {
    wasm: PathBuf,
    native: PathBuf,
    dir: tempfile::TempDir,
}

/// A fresh build directory.
fn build_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

/// Builds `tests/wasi_programs/<name>.c` to wasm (clang, wasi-libc) and
/// natively.
fn c_program(name: &str) -> Program {
    let source = sources().join(format!("{name}.c"));
    let dir = build_dir();
    let wasm = dir.path().join(format!("{name}.wasm"));
    let native = dir.path().join(name);
    let mut clang = Command::new("clang");
    clang
        .args(["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-o"])
        .arg(&wasm)
        .arg(&source);
    build(clang);
    let cc = native_cc();
    let mut words = cc.split_whitespace();
    let mut native_build = Command::new(words.next().expect("a C compiler"));
    native_build
        .args(words)
        .args(["-O2", "-o"])
        .arg(&native)
        .arg(&source)
        .arg("-lm");
    build(native_build);
    Program { wasm, native, dir }
}

/// Builds `tests/wasi_programs/rust_prog.rs` for `wasm32-wasip1` and the
/// test target.
fn rust_program() -> Program {
    let source = sources().join("rust_prog.rs");
    let dir = build_dir();
    let wasm = dir.path().join("rust_prog.wasm");
    let native = dir.path().join("rust_prog");
    let rustc = || {
        let mut command = Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()));
        command.args(["--edition", "2021", "-O"]);
        command
    };
    let mut to_wasm = rustc();
    to_wasm
        .args(["--target", "wasm32-wasip1", "-o"])
        .arg(&wasm)
        .arg(&source);
    build(to_wasm);
    let mut to_native = rustc();
    to_native
        .arg("--target")
        .arg(format!("{}-unknown-linux-gnu", std::env::consts::ARCH))
        .arg("-C")
        .arg(format!("linker={}", native_cc()))
        .arg("-o")
        .arg(&native)
        .arg(&source);
    build(to_native);
    Program { wasm, native, dir }
}

/// Runs `command` with `stdin` as standard input.
fn output(mut command: Command, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin)
        .expect("stdin written");
    child.wait_with_output().expect("the program ends")
}

/// `fuelc run WASM OPTIONS -- ARGS` with `stdin`.
fn fuelc_run(wasm: &Path, options: &[&str], args: &[&str], stdin: &[u8]) -> Output {
    let mut command = fuelc_command();
    command
        .arg("run")
        .arg(wasm)
        .args(options)
        .arg("--")
        .args(args);
    output(command, stdin)
}

/// The native program with `args`, environment `env` only, and `stdin`.
fn native_run(native: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut command = target_command(native);
    command.args(args).env_clear().envs(env.iter().copied());
    output(command, stdin)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts that two runs printed the same and exited the same way.
fn assert_same(wasi: &Output, native: &Output) {
    assert_eq!(text(&wasi.stdout), text(&native.stdout), "stdout differs");
    assert_eq!(text(&wasi.stderr), text(&native.stderr), "stderr differs");
    assert_eq!(
        wasi.status.code(),
        native.status.code(),
        "exit status differs"
    );
}

#[test]
fn c_arguments_environment_and_exit_status_match_native() {
    let hello = c_program("hello");
    let args = ["3", "two words", "ünïcödé"];
    let wasi = fuelc_run(&hello.wasm, &["--env", "GREETING=hi there"], &args, b"");
    let native = native_run(&hello.native, &args, &[("GREETING", "hi there")], b"");
    assert_same(&wasi, &native);
    assert_eq!(wasi.status.code(), Some(3));
    assert!(text(&wasi.stdout).contains("argv[3]=ünïcödé"));

    // Without --env the command sees no environment at all.
    let bare = fuelc_run(&hello.wasm, &[], &[], b"");
    assert!(text(&bare.stdout).contains("GREETING=(unset)"), "{bare:?}");
}

/// The numbers of a `fuel: consumed C, remaining R` line.
fn fuel_line_numbers(line: &str) -> (u64, u64) {
    let numbers = line
        .strip_prefix("fuel: consumed ")
        .and_then(|rest| rest.split_once(", remaining "))
        .and_then(|(c, r)| Some((c.parse().ok()?, r.parse().ok()?)));
    numbers.unwrap_or_else(|| panic!("not a fuel line: {line:?}"))
}

#[test]
fn c_computation_matches_native_with_and_without_fuel() {
    let compute = c_program("compute");
    let native = native_run(&compute.native, &[], &[], b"");
    assert!(native.status.success());
    let wasi = fuelc_run(&compute.wasm, &[], &[], b"");
    assert_same(&wasi, &native);

    let metered = fuelc_run(&compute.wasm, &["--fuel", "100000000000"], &[], b"");
    assert_eq!(text(&metered.stdout), text(&native.stdout));
    assert_eq!(metered.status.code(), Some(0));
    let stderr = text(&metered.stderr);
    let (consumed, remaining) = fuel_line_numbers(stderr.lines().last().unwrap_or_default());
    assert!(consumed > 100_000, "{stderr}");
    assert_eq!(consumed + remaining, 100_000_000_000, "{stderr}");

    // Half that budget runs out: a trap, exit status 134, the fuel line
    // last. The charge that did not fit was not taken, so what remains is
    // less than one metered block's cost but need not be 0.
    let budget = consumed / 2;
    let starved = fuelc_run(&compute.wasm, &["--fuel", &budget.to_string()], &[], b"");
    assert_eq!(starved.status.code(), Some(134));
    let stderr = text(&starved.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.len() >= 2 && lines[lines.len() - 2].starts_with("error: out of fuel"),
        "{stderr}"
    );
    let (spent, left) = fuel_line_numbers(lines.last().unwrap());
    assert_eq!(spent + left, budget, "{stderr}");
    assert!(left < 1000, "{stderr}");
}

#[test]
fn c_standard_input_matches_native() {
    let program = c_program("stdin");
    let input = b"first line\nsecond, with UTF-8: \xc3\xa9\nno newline at the end";
    let wasi = fuelc_run(&program.wasm, &[], &[], input);
    let native = native_run(&program.native, &[], &[], input);
    assert_same(&wasi, &native);
    assert!(text(&wasi.stdout).contains("FIRST LINE"));
}

/// A fresh directory with the input `files.c` reads.
fn files_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("input.txt"), "granted input\n").unwrap();
    dir
}

#[test]
fn c_files_in_a_granted_directory_match_native() {
    let files = c_program("files");
    let (for_wasi, for_native) = (files_dir(), files_dir());
    let wasi_dir = for_wasi.path().to_str().unwrap();
    let native_dir = for_native.path().to_str().unwrap();
    let wasi = fuelc_run(&files.wasm, &["--dir", wasi_dir], &[wasi_dir], b"");
    let native = native_run(&files.native, &[native_dir], &[], b"");
    assert_same(&wasi, &native);
    let stdout = text(&wasi.stdout);
    assert!(stdout.contains("first: line 0\n"), "{stdout}");
    assert!(stdout.contains("entries: input.txt sub\n"), "{stdout}");
    assert!(stdout.contains("read input: granted input\n"), "{stdout}");

    // Under another name inside the command, the same directory works too.
    let renamed = fuelc_run(
        &files.wasm,
        &["--dir", &format!("{wasi_dir}::/data")],
        &["/data"],
        b"",
    );
    assert_eq!(text(&renamed.stdout), text(&native.stdout));
}

#[test]
fn path_escapes_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let top = root.path();
    std::fs::write(top.join("secret.txt"), "secret").unwrap();
    let granted = top.join("box");
    std::fs::create_dir_all(granted.join("inside")).unwrap();
    std::fs::write(granted.join("inside/ok.txt"), "ok").unwrap();
    symlink("inside/ok.txt", granted.join("link_inside")).unwrap();
    symlink("../secret.txt", granted.join("link_up")).unwrap();
    symlink(top.join("secret.txt"), granted.join("link_absolute")).unwrap();
    symlink("..", granted.join("link_parent_dir")).unwrap();
    symlink("loop_b", granted.join("loop_a")).unwrap();
    symlink("loop_a", granted.join("loop_b")).unwrap();

    let escape = c_program("escape");
    let granted_str = granted.to_str().unwrap();
    // Natively every escape works: the attempts are real.
    let native = native_run(&escape.native, &[granted_str], &[], b"");
    let native_out = text(&native.stdout);
    for label in ["dotdot", "symlink to dotdot", "symlink dir escape"] {
        assert!(
            native_out.contains(&format!("\n{label}: opened\n")),
            "{native_out}"
        );
    }

    let expected = "inside: opened\n\
                    inside via dotdot: opened\n\
                    inside via symlink: opened\n\
                    dotdot: refused\n\
                    nested dotdot: refused\n\
                    absolute: refused\n\
                    symlink to dotdot: refused\n\
                    symlink to absolute: refused\n\
                    symlink dir escape: refused\n\
                    symlink loop: refused\n";
    for (grant, guest) in [
        (format!("{granted_str}::/box"), "/box"),
        (granted_str.to_string(), granted_str),
    ] {
        let wasi = fuelc_run(&escape.wasm, &["--dir", &grant], &[guest], b"");
        assert_eq!(text(&wasi.stdout), expected, "{}", text(&wasi.stderr));
        assert_eq!(wasi.status.code(), Some(0));
    }

    // Without a grant nothing is reachable, not even the inside.
    let denied = fuelc_run(&escape.wasm, &[], &[granted_str], b"");
    let refused = expected.replace(": opened", ": refused");
    assert_eq!(text(&denied.stdout), refused, "{}", text(&denied.stderr));
}

#[test]
fn rust_program_matches_native() {
    let program = rust_program();
    let (for_wasi, for_native) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let wasi_dir = for_wasi.path().to_str().unwrap();
    let native_dir = for_native.path().to_str().unwrap();
    let wasi = fuelc_run(
        &program.wasm,
        &["--dir", wasi_dir, "--env", "GREETING=hello"],
        &[wasi_dir],
        b"",
    );
    let native = native_run(
        &program.native,
        &[native_dir],
        &[("GREETING", "hello")],
        b"",
    );
    // The directory is the one thing that differs: it is printed in args.
    let wasi_stdout = text(&wasi.stdout).replace(wasi_dir, "DIR");
    let native_stdout = text(&native.stdout).replace(native_dir, "DIR");
    assert_eq!(wasi_stdout, native_stdout, "{}", text(&wasi.stderr));
    assert_eq!(text(&wasi.stderr), text(&native.stderr));
    assert_eq!(wasi.status.code(), Some(7));
    assert_eq!(native.status.code(), Some(7));
    assert!(wasi_stdout.contains("[(\"one\", 1), (\"three\", 1), (\"two\", 2)]"));
}

/// The dynamic libraries an executable needs.
fn needed_libraries(executable: &Path) -> Vec<String> {
    use object::read::elf::{Dyn, ElfFile64, FileHeader};
    use object::Endianness;
    let bytes = std::fs::read(executable).unwrap();
    let elf = ElfFile64::<Endianness>::parse(&*bytes).expect("an ELF executable");
    let endian = elf.endian();
    let header = elf.elf_header();
    let sections = header.sections(endian, &*bytes).unwrap();
    let (dynamic, link) = sections
        .dynamic(endian, &*bytes)
        .unwrap()
        .expect("a dynamic section");
    let strings = sections.strings(endian, &*bytes, link).unwrap();
    dynamic
        .iter()
        .filter(|d| d.d_tag(endian) == object::elf::DT_NEEDED)
        .map(|d| {
            let name = d.string(endian, strings).unwrap();
            String::from_utf8_lossy(name).into_owned()
        })
        .collect()
}

#[test]
fn built_executables_run_alone() {
    let hello = c_program("hello");
    let exe = hello.dir.path().join("hello_exe");
    let build = fuelc_command()
        .arg("build")
        .arg(&hello.wasm)
        .arg("-o")
        .arg(&exe)
        .args(["--env", "GREETING=built in", "--fuel", "1000000000"])
        .output()
        .unwrap();
    assert!(build.status.success(), "{}", text(&build.stderr));

    // Copied elsewhere and run with an empty environment, it still needs
    // nothing of fuelc: only the C library's own shared libraries.
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("hello");
    std::fs::copy(&exe, &copy).unwrap();
    for library in needed_libraries(&copy) {
        assert!(
            [
                "libc.so",
                "libm.so",
                "libpthread.so",
                "libdl.so",
                "libgcc_s.so",
                "ld-linux"
            ]
            .iter()
            .any(|system| library.starts_with(system)),
            "{library}"
        );
    }
    let args = ["5", "x"];
    let mut command = target_command(&copy);
    command.args(args).env_clear().current_dir(elsewhere.path());
    let built = output(command, b"");
    let native = native_run(&hello.native, &args, &[("GREETING", "built in")], b"");
    assert_same(&built, &native);

    // The budget chosen at build time is overridden by FUELC_FUEL.
    let mut command = target_command(&copy);
    command.env_clear().env("FUELC_FUEL", "10");
    let starved = output(command, b"");
    assert_eq!(starved.status.code(), Some(134));
    assert!(
        text(&starved.stderr).starts_with("error: out of fuel"),
        "{}",
        text(&starved.stderr)
    );
    assert!(starved.stdout.is_empty());
}
