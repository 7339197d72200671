//! Objects for every supported target, read back with the `object` crate:
//! format, architecture, symbols, sections and relocations. The Mach-O and
//! COFF targets cannot run here, so this is how they are tested; the Linux
//! targets are also run by the spec suite.

use fuelc::fuel::{CostModel, Metering};
use fuelc::CompileOptions;
use fuelc_runtime::abi::FuelMode;
use object::{
    Architecture, BinaryFormat, Object, ObjectSection, ObjectSymbol, RelocationTarget, SectionKind,
};

const MODULE: &str = r#"(module
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $fac)
  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "fill") (param i32 i32)
    (memory.fill (local.get 0) (i32.const 0) (local.get 1))))"#;

fn compile_for(target: &str, metered: bool) -> Vec<u8> {
    let wasm = wat::parse_str(MODULE).unwrap();
    let mut options = CompileOptions::host("fac");
    options.target = target.parse().unwrap();
    if metered {
        options.metering = Some(Metering {
            mode: FuelMode::Exact,
            costs: CostModel::wasmtime(),
        });
    }
    fuelc::compile(&wasm, &options).unwrap_or_else(|e| panic!("{target}: {e}"))
}

/// Checks one object: its format and architecture, one global symbol (the
/// descriptor, with the platform's mangling), no undefined symbols, code in
/// a text section, and relocations from the descriptor's data to the code.
fn check(target: &str, format: BinaryFormat, arch: Architecture) {
    for metered in [false, true] {
        let bytes = compile_for(target, metered);
        assert_eq!(
            bytes,
            compile_for(target, metered),
            "{target}: reproducible"
        );
        let file = object::File::parse(&*bytes).unwrap();
        assert_eq!(file.format(), format, "{target}");
        assert_eq!(file.architecture(), arch, "{target}");

        let descriptor = if format == BinaryFormat::MachO {
            "_fac_module"
        } else {
            "fac_module"
        };
        let globals: Vec<String> = file
            .symbols()
            .filter(|s| s.is_global() && s.is_definition())
            .map(|s| s.name().unwrap().to_string())
            .collect();
        assert_eq!(globals, vec![descriptor.to_string()], "{target}");
        let undefined: Vec<String> = file
            .symbols()
            .filter(|s| s.is_undefined() && !s.name().unwrap_or("").is_empty())
            .map(|s| s.name().unwrap().to_string())
            .collect();
        assert!(undefined.is_empty(), "{target}: undefined {undefined:?}");
        assert!(
            file.symbols()
                .any(|s| s.name().is_ok_and(|n| n.ends_with("fac_func0"))),
            "{target}: function symbol"
        );

        let text = file
            .sections()
            .find(|s| s.kind() == SectionKind::Text)
            .unwrap_or_else(|| panic!("{target}: no text section"));
        assert!(text.size() > 0, "{target}");
        let data_relocations: usize = file
            .sections()
            .filter(|s| s.kind() != SectionKind::Text)
            .map(|s| {
                s.relocations()
                    .filter(|(_, r)| matches!(r.target(), RelocationTarget::Symbol(_)))
                    .count()
            })
            .sum();
        // The descriptor points at the metadata and three code tables; the
        // tables point at 2 functions and 2 + 2 trampolines per type (2
        // types here, counted per kind: entry and host).
        assert!(
            data_relocations >= 4 + 2 + 4,
            "{target}: {data_relocations} relocations"
        );
    }
}

#[test]
fn linux_x86_64_elf() {
    check(
        "x86_64-unknown-linux-gnu",
        BinaryFormat::Elf,
        Architecture::X86_64,
    );
}

#[test]
fn linux_aarch64_elf() {
    check(
        "aarch64-unknown-linux-gnu",
        BinaryFormat::Elf,
        Architecture::Aarch64,
    );
}

#[test]
fn macos_x86_64_macho() {
    check(
        "x86_64-apple-darwin",
        BinaryFormat::MachO,
        Architecture::X86_64,
    );
}

#[test]
fn macos_aarch64_macho() {
    check(
        "aarch64-apple-darwin",
        BinaryFormat::MachO,
        Architecture::Aarch64,
    );
}

#[test]
fn windows_x86_64_coff() {
    check(
        "x86_64-pc-windows-msvc",
        BinaryFormat::Coff,
        Architecture::X86_64,
    );
}
