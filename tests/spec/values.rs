//! Conversion between the values of `.wast` scripts and the runtime's
//! [`Val`], and matching of results against expected values.
//!
//! Floats are compared bit for bit, as the specification's interpreter does,
//! except for the NaN patterns: `nan:canonical` accepts exactly the canonical
//! NaNs (either sign, payload with only the quiet bit) and `nan:arithmetic`
//! accepts every quiet NaN (either sign). `ref.func` accepts any non-null
//! function reference, with or without an index: the runtime gives no way to
//! compare a reference with a function of the script.

use fuelc_runtime::Val;
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::token::{F32, F64};
use wast::{WastArg, WastRet};

/// Converts an argument of an `invoke` into a runtime value.
pub fn to_val(arg: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(core) = arg else {
        return Err("component-model arguments are not WebAssembly 2.0".into());
    };
    Ok(match core {
        WastArgCore::I32(x) => Val::I32(*x),
        WastArgCore::I64(x) => Val::I64(*x),
        WastArgCore::F32(x) => Val::F32(x.bits),
        WastArgCore::F64(x) => Val::F64(x.bits),
        WastArgCore::RefNull(heap) => match abstract_heap_type(heap) {
            Some(AbstractHeapType::Func) => Val::FuncRef(None),
            Some(AbstractHeapType::Extern) => Val::ExternRef(None),
            _ => return Err(format!("unsupported argument {core:?}")),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(*n)),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefHost(_) => return Err(format!("unsupported argument {core:?}")),
    })
}

/// Checks `actual` against the expected results of an `assert_return`.
pub fn check_results(expected: &[WastRet<'_>], actual: &[Val]) -> Result<(), String> {
    let mismatch = || {
        format!(
            "expected [{}], got [{}]",
            expected
                .iter()
                .map(describe_expected)
                .collect::<Vec<_>>()
                .join(", "),
            describe_vals(actual)
        )
    };
    if expected.len() != actual.len() {
        return Err(mismatch());
    }
    for (expected, actual) in expected.iter().zip(actual) {
        let WastRet::Core(expected) = expected else {
            return Err("component-model results are not WebAssembly 2.0".into());
        };
        if !matches(expected, actual)? {
            return Err(mismatch());
        }
    }
    Ok(())
}

/// Whether `actual` matches the pattern `expected`; an error for patterns
/// outside WebAssembly 2.0.
fn matches(expected: &WastRetCore<'_>, actual: &Val) -> Result<bool, String> {
    Ok(match (expected, actual) {
        (WastRetCore::I32(e), Val::I32(a)) => e == a,
        (WastRetCore::I64(e), Val::I64(a)) => e == a,
        (WastRetCore::F32(e), Val::F32(a)) => f32_matches(e, *a),
        (WastRetCore::F64(e), Val::F64(a)) => f64_matches(e, *a),
        (WastRetCore::V128(e), Val::V128(a)) => v128_matches(e, *a),
        (WastRetCore::RefNull(heap), _) => match heap.as_ref().map(abstract_heap_type) {
            None => matches!(actual, Val::FuncRef(None) | Val::ExternRef(None)),
            Some(Some(AbstractHeapType::Func)) => matches!(actual, Val::FuncRef(None)),
            Some(Some(AbstractHeapType::Extern)) => matches!(actual, Val::ExternRef(None)),
            Some(_) => return Err(format!("unsupported result pattern {expected:?}")),
        },
        (WastRetCore::RefExtern(e), Val::ExternRef(Some(a))) => e.is_none_or(|e| e == *a),
        (WastRetCore::RefFunc(_), Val::FuncRef(a)) => a.is_some(),
        (WastRetCore::Either(cases), _) => {
            for case in cases {
                if matches(case, actual)? {
                    return Ok(true);
                }
            }
            false
        }
        (
            WastRetCore::RefHost(_)
            | WastRetCore::RefAny
            | WastRetCore::RefEq
            | WastRetCore::RefArray
            | WastRetCore::RefStruct
            | WastRetCore::RefI31
            | WastRetCore::RefI31Shared,
            _,
        ) => return Err(format!("unsupported result pattern {expected:?}")),
        _ => false,
    })
}

/// Whether the bits of an `f32` match a pattern.
fn f32_matches(pattern: &NanPattern<F32>, bits: u32) -> bool {
    match pattern {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(e) => e.bits == bits,
    }
}

/// Whether the bits of an `f64` match a pattern.
fn f64_matches(pattern: &NanPattern<F64>, bits: u64) -> bool {
    match pattern {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(e) => e.bits == bits,
    }
}

/// Lane `i` of `v` split into lanes of `bits` bits, zero-extended.
fn lane(v: u128, bits: u32, i: usize) -> u64 {
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    };
    (v >> (bits as usize * i)) as u64 & mask
}

/// Whether a `v128` matches a pattern, lane by lane.
fn v128_matches(pattern: &V128Pattern, v: u128) -> bool {
    match pattern {
        V128Pattern::I8x16(e) => e
            .iter()
            .enumerate()
            .all(|(i, e)| lane(v, 8, i) == u64::from(*e as u8)),
        V128Pattern::I16x8(e) => e
            .iter()
            .enumerate()
            .all(|(i, e)| lane(v, 16, i) == u64::from(*e as u16)),
        V128Pattern::I32x4(e) => e
            .iter()
            .enumerate()
            .all(|(i, e)| lane(v, 32, i) == u64::from(*e as u32)),
        V128Pattern::I64x2(e) => e
            .iter()
            .enumerate()
            .all(|(i, e)| lane(v, 64, i) == *e as u64),
        V128Pattern::F32x4(e) => e
            .iter()
            .enumerate()
            .all(|(i, e)| f32_matches(e, lane(v, 32, i) as u32)),
        V128Pattern::F64x2(e) => e
            .iter()
            .enumerate()
            .all(|(i, e)| f64_matches(e, lane(v, 64, i))),
    }
}

/// The abstract heap type `ref.null` names, if it names one.
fn abstract_heap_type(heap: &HeapType<'_>) -> Option<AbstractHeapType> {
    match heap {
        HeapType::Abstract { shared: false, ty } => Some(*ty),
        _ => None,
    }
}

/// A readable list of values, for failure messages.
pub fn describe_vals(vals: &[Val]) -> String {
    vals.iter().map(describe).collect::<Vec<_>>().join(", ")
}

/// A readable value; floats also show their bits, which is what is compared.
fn describe(val: &Val) -> String {
    match val {
        Val::I32(x) => format!("i32 {x}"),
        Val::I64(x) => format!("i64 {x}"),
        Val::F32(bits) => format!("f32 {} (0x{bits:08x})", f32::from_bits(*bits)),
        Val::F64(bits) => format!("f64 {} (0x{bits:016x})", f64::from_bits(*bits)),
        Val::FuncRef(None) => "ref.null func".into(),
        Val::FuncRef(Some(_)) => "ref.func".into(),
        Val::ExternRef(None) => "ref.null extern".into(),
        Val::ExternRef(Some(n)) => format!("ref.extern {n}"),
        Val::V128(v) => format!("v128 0x{v:032x}"),
    }
}

/// A readable expected result, in the notation of `describe`.
fn describe_expected(ret: &WastRet<'_>) -> String {
    let WastRet::Core(ret) = ret else {
        return format!("{ret:?}");
    };
    match ret {
        WastRetCore::I32(x) => describe(&Val::I32(*x)),
        WastRetCore::I64(x) => describe(&Val::I64(*x)),
        WastRetCore::F32(NanPattern::Value(x)) => describe(&Val::F32(x.bits)),
        WastRetCore::F64(NanPattern::Value(x)) => describe(&Val::F64(x.bits)),
        WastRetCore::F32(NanPattern::CanonicalNan) => "f32 nan:canonical".into(),
        WastRetCore::F32(NanPattern::ArithmeticNan) => "f32 nan:arithmetic".into(),
        WastRetCore::F64(NanPattern::CanonicalNan) => "f64 nan:canonical".into(),
        WastRetCore::F64(NanPattern::ArithmeticNan) => "f64 nan:arithmetic".into(),
        WastRetCore::RefNull(None) => "ref.null".into(),
        WastRetCore::RefNull(Some(heap)) => match abstract_heap_type(heap) {
            Some(AbstractHeapType::Func) => describe(&Val::FuncRef(None)),
            Some(AbstractHeapType::Extern) => describe(&Val::ExternRef(None)),
            _ => format!("{ret:?}"),
        },
        WastRetCore::RefExtern(Some(n)) => describe(&Val::ExternRef(Some(*n))),
        WastRetCore::RefExtern(None) => "ref.extern".into(),
        WastRetCore::RefFunc(_) => "ref.func".into(),
        other => format!("{other:?}"),
    }
}

/// Checks that the matching above rejects what it must, so that a matcher
/// bug cannot make the suite pass: the suite itself only has values that
/// should match.
pub fn self_check() -> Result<(), String> {
    use wast::token::{F32, F64};
    use NanPattern::{ArithmeticNan, CanonicalNan};
    let f32_nan = |pattern| WastRetCore::F32(pattern);
    let f64_nan = |pattern| WastRetCore::F64(pattern);
    let f32_value = |bits| WastRetCore::F32(NanPattern::Value(F32 { bits }));
    let f64_value = |bits| WastRetCore::F64(NanPattern::Value(F64 { bits }));
    let cases = [
        (f32_nan(CanonicalNan), Val::F32(0x7fc0_0000), true),
        (f32_nan(CanonicalNan), Val::F32(0xffc0_0000), true),
        (f32_nan(CanonicalNan), Val::F32(0x7fc0_0001), false),
        (f32_nan(ArithmeticNan), Val::F32(0x7fc0_0001), true),
        (f32_nan(ArithmeticNan), Val::F32(0x7f80_0001), false),
        (
            f32_nan(ArithmeticNan),
            Val::F64(0x7ff8_0000_0000_0000),
            false,
        ),
        (f64_nan(CanonicalNan), Val::F64(0xfff8_0000_0000_0000), true),
        (
            f64_nan(CanonicalNan),
            Val::F64(0x7ff8_0000_0000_0001),
            false,
        ),
        (
            f64_nan(ArithmeticNan),
            Val::F64(0x7ff0_0000_0000_0001),
            false,
        ),
        (f32_value(0), Val::F32(0x8000_0000), false),
        (
            f64_value(0x7ff0_0000_0000_0001),
            Val::F64(0x7ff0_0000_0000_0001),
            true,
        ),
        (
            f64_value(0x7ff0_0000_0000_0001),
            Val::F64(0x7ff8_0000_0000_0000),
            false,
        ),
        (WastRetCore::I32(1), Val::I64(1), false),
        (WastRetCore::RefNull(None), Val::FuncRef(None), true),
        (WastRetCore::RefNull(None), Val::ExternRef(Some(0)), false),
        (
            WastRetCore::RefExtern(Some(1)),
            Val::ExternRef(Some(2)),
            false,
        ),
        (WastRetCore::RefExtern(None), Val::ExternRef(None), false),
        (WastRetCore::RefFunc(None), Val::FuncRef(None), false),
    ];
    for (pattern, val, expected) in &cases {
        if matches(pattern, val)? != *expected {
            return Err(format!(
                "value matcher self-check: {pattern:?} against {} should give {expected}",
                describe(val)
            ));
        }
    }
    Ok(())
}
