//! End-to-end tests of the `fuelc` command line: bad input gets one error
//! line and exit status 1, good input compiles and runs.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

/// Runs the `fuelc` binary with `args`.
fn fuelc(args: &[&str]) -> Output {
    support::fuelc_command()
        .args(args)
        .output()
        .expect("fuelc runs")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Asserts a failed run: exit status 1 and exactly one `error:` line that
/// contains every one of `needles`.
fn assert_one_line_error(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for needle in needles {
        assert!(lines[0].contains(needle), "{needle:?} not in {stderr}");
    }
}

/// Asserts a successful run that printed exactly `expected` on stdout.
fn assert_stdout(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{stderr}");
}

fn compile_to(dir: &Path, input: &Path) -> Output {
    let out = dir.join("out.o");
    fuelc(&[
        "compile",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ])
}

const FAC: &str = r#"(module
  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1))))"#;

#[test]
fn random_bytes_are_rejected_with_offset() {
    let dir = tempfile::tempdir().unwrap();
    // Deterministic "random" bytes that are neither wasm nor text.
    let mut x: u32 = 0x1234_5678;
    let bytes: Vec<u8> = (0..256)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x & 0xff) as u8 | 0x80
        })
        .collect();
    let input = write(dir.path(), "random.wasm", &bytes);
    assert_one_line_error(&compile_to(dir.path(), &input), &[]);
}

#[test]
fn truncated_module_is_rejected_with_offset() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = wat::parse_str(FAC).unwrap();
    let input = write(dir.path(), "truncated.wasm", &wasm[..wasm.len() - 5]);
    assert_one_line_error(&compile_to(dir.path(), &input), &["offset 0x"]);
}

#[test]
fn module_of_a_later_proposal_is_rejected_as_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = wat::parse_str(r#"(module (func $f (export "f") (return_call $f)))"#).unwrap();
    let input = write(dir.path(), "tail_call.wasm", &wasm);
    assert_one_line_error(
        &compile_to(dir.path(), &input),
        &["unsupported feature", "tail calls", "offset 0x"],
    );
}

#[test]
fn invalid_module_is_rejected_with_reason() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = wat::parse_str(r#"(module (func (result i32) (i64.const 1)))"#).unwrap();
    let input = write(dir.path(), "invalid.wasm", &wasm);
    assert_one_line_error(
        &compile_to(dir.path(), &input),
        &["type mismatch", "offset 0x"],
    );
}

#[test]
fn unsupported_target_lists_supported_ones() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "fac.wat", FAC.as_bytes());
    let out = dir.path().join("out.o");
    let result = fuelc(&[
        "compile",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--target",
        "riscv64gc-unknown-linux-gnu",
    ]);
    assert_one_line_error(&result, &["riscv64", "x86_64-unknown-linux-gnu"]);
}

#[test]
fn compiles_text_to_an_elf_object_reproducibly() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "fac.wat", FAC.as_bytes());
    let a = dir.path().join("a.o");
    let b = dir.path().join("b.o");
    for out in [&a, &b] {
        let r = fuelc(&[
            "compile",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let a = std::fs::read(a).unwrap();
    assert_eq!(&a[..4], b"\x7fELF");
    assert_eq!(a, std::fs::read(b).unwrap());
}

#[test]
fn run_invokes_an_export_and_prints_results() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "fac.wat", FAC.as_bytes());
    let out = fuelc(&["run", input.to_str().unwrap(), "--invoke", "fac", "20"]);
    assert_stdout(&out, "2432902008176640000\n");
}

#[test]
fn run_computes_with_simd() {
    let dir = tempfile::tempdir().unwrap();
    // The sum of the lanes of (1, 2, 3, 4) * (10, 20, 30, 40), by hand: 300.
    let input = write(
        dir.path(),
        "dot.wat",
        br#"(module (func (export "dot") (result i32)
              (local $v v128)
              (local.set $v (i32x4.mul (v128.const i32x4 1 2 3 4)
                                       (v128.const i32x4 10 20 30 40)))
              (i32.add (i32.add (i32x4.extract_lane 0 (local.get $v))
                                (i32x4.extract_lane 1 (local.get $v)))
                       (i32.add (i32x4.extract_lane 2 (local.get $v))
                                (i32x4.extract_lane 3 (local.get $v))))))"#,
    );
    let out = fuelc(&["run", input.to_str().unwrap(), "--invoke", "dot"]);
    assert_stdout(&out, "300\n");
}

#[test]
fn run_reports_a_trap_with_its_function() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "fac.wat", FAC.as_bytes());
    let out = fuelc(&["run", input.to_str().unwrap(), "--invoke", "div", "1", "0"]);
    assert_one_line_error(&out, &["integer divide by zero", "div"]);
}

#[test]
fn run_with_fuel_prints_the_fuel_line_last() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "fac.wat", FAC.as_bytes());
    let input = input.to_str().unwrap();
    // fac(n) costs 10n + 5 under the wasmtime preset (see tests/fuel.rs).
    let out = fuelc(&["run", input, "--fuel", "1000", "--invoke", "fac", "5"]);
    assert_stdout(&out, "120\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().last(),
        Some("fuel: consumed 55, remaining 945")
    );

    let out = fuelc(&[
        "run", input, "--fuel", "per-op", "--fuel", "100", "--invoke", "fac", "20",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].starts_with("error: out of fuel"), "{stderr}");
    assert_eq!(lines[1], "fuel: consumed 100, remaining 0");
}

#[test]
fn fuel_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "fac.wat", FAC.as_bytes());
    let out = dir.path().join("out.o");
    let (input, out) = (input.to_str().unwrap(), out.to_str().unwrap());
    assert_one_line_error(
        &fuelc(&["compile", input, "-o", out, "--fuel", "lots"]),
        &["lots"],
    );
    assert_one_line_error(
        &fuelc(&["compile", input, "-o", out, "--fuel", "100"]),
        &["run"],
    );
    let with_model = |model: &str| {
        fuelc(&[
            "compile",
            input,
            "-o",
            out,
            "--fuel",
            "exact",
            "--cost-model",
            model,
        ])
    };
    assert_one_line_error(&with_model("nope.toml"), &["nope.toml"]);
    assert_stdout(&with_model("uniform"), "");
}

#[test]
fn fuel_report_lists_loops_with_their_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let wat = r#"(module
      (func $callee)
      (func (export "sum\nup") (param $n i32) (result i32) (local $i i32) (local $s i32)
        (loop $l
          (local.set $s (i32.add (local.get $s) (local.get $i)))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                              (local.get $n))))
        (loop $m
          (call $callee)
          (br_if $m (local.tee $n (i32.add (local.get $n) (i32.const -1)))))
        (local.get $s)))"#;
    let input = write(dir.path(), "loops.wat", wat.as_bytes());
    let out = dir.path().join("out.o");
    let (input, out) = (input.to_str().unwrap(), out.to_str().unwrap());
    // The loops' byte offsets, found independently of fuelc.
    let wasm = wat::parse_str(wat).unwrap();
    let mut loops = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
            let mut reader = body.get_operators_reader().unwrap();
            while !reader.eof() {
                let offset = reader.original_position();
                if let wasmparser::Operator::Loop { .. } = reader.read().unwrap() {
                    loops.push(offset);
                }
            }
        }
    }
    assert_eq!(loops.len(), 2);
    let report = fuelc(&[
        "compile",
        input,
        "-o",
        out,
        "--fuel",
        "exact",
        "--cost-model",
        "uniform",
        "--fuel-report",
    ]);
    // The function without loops is not listed; the name is escaped. The
    // first loop's body is eleven operators, one fuel each.
    let expected = format!(
        "func 1 \"sum\\nup\":\n\
         \x20 loop at {:#x}: sliced, do-while: i32 local 1 += 1 per iteration, again while \
         local 1 <u local 0; 11 fuel per iteration\n\
         \x20 loop at {:#x}: not sliced: it calls a function (at {:#x})\n\
         2 loops, 1 sliced\n",
        loops[0],
        loops[1],
        loops[1] + 2,
    );
    assert_stdout(&report, &expected);
    assert_one_line_error(
        &fuelc(&["compile", input, "-o", out, "--fuel-report"]),
        &["--fuel-report", "--fuel exact"],
    );
}

#[test]
fn readme_quick_start_example_runs() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fac.wat");
    let out = fuelc(&["run", example, "--invoke", "fac", "20"]);
    assert_stdout(&out, "2432902008176640000\n");
    // Per call: entry, local.get, i64.const, i64.le_s, if (5); the else arm
    // costs 6 and the then arm 1: 20 * 5 + 19 * 6 + 1 = 215.
    let out = fuelc(&["run", example, "--fuel", "1000", "--invoke", "fac", "20"]);
    assert_stdout(&out, "2432902008176640000\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().last(),
        Some("fuel: consumed 215, remaining 785")
    );
    assert_stdout(
        &fuelc(&["run", example, "--invoke", "sum_to", "100"]),
        "5050\n",
    );
}
