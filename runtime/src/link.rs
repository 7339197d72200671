//! Import type matching (WebAssembly 2.0 external subtyping): whether an
//! extern of a given current type may satisfy an import. Function types
//! match by canonical signature id, which the store compares itself.
//!
//! This file only compares types; it must not look up or create objects.

use crate::abi::{BoundsChecks, GlobalType, Import, Limits, MemoryType, TableType};

/// Whether `actual` limits satisfy `expected`: at least the expected
/// minimum, and a maximum no larger than the expected one if it has one.
pub(crate) fn limits_match(actual: Limits, expected: Limits) -> bool {
    actual.min >= expected.min
        && match expected.max {
            None => true,
            Some(expected_max) => actual.max.is_some_and(|max| max <= expected_max),
        }
}

/// Whether a table of type `actual` satisfies an import of `expected`.
pub(crate) fn table_matches(actual: TableType, expected: TableType) -> bool {
    actual.element == expected.element && limits_match(actual.limits, expected.limits)
}

/// Whether a memory of type `actual`, allocated for code using `allocated`
/// bounds checks, satisfies an import of `expected` by code using
/// `importer` bounds checks. Code relying on guard pages needs a memory
/// that has them.
pub(crate) fn memory_matches(
    actual: MemoryType,
    allocated: BoundsChecks,
    expected: MemoryType,
    importer: BoundsChecks,
) -> bool {
    limits_match(actual.limits, expected.limits)
        && (allocated == BoundsChecks::Guard || importer == BoundsChecks::Explicit)
}

/// Whether a global of type `actual` satisfies an import of `expected`.
pub(crate) fn global_matches(actual: GlobalType, expected: GlobalType) -> bool {
    actual == expected
}

/// The link error for an import whose extern does not match.
pub(crate) fn incompatible(import: &Import, detail: &str) -> String {
    format!(
        "incompatible import type for {}.{}: {detail}",
        import.module, import.field
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{RefType, ValType};

    fn l(min: u64, max: Option<u64>) -> Limits {
        Limits { min, max }
    }

    #[test]
    fn limits_follow_subtyping() {
        assert!(limits_match(l(1, None), l(1, None)));
        assert!(limits_match(l(2, None), l(1, None)));
        assert!(!limits_match(l(0, None), l(1, None)));
        assert!(limits_match(l(1, Some(2)), l(1, Some(3))));
        assert!(limits_match(l(1, Some(3)), l(1, Some(3))));
        assert!(!limits_match(l(1, Some(4)), l(1, Some(3))));
        assert!(!limits_match(l(1, None), l(1, Some(3))));
        assert!(limits_match(l(1, Some(3)), l(0, None)));
    }

    #[test]
    fn tables_need_the_same_element_type() {
        let t = |element| TableType {
            element,
            limits: l(1, None),
        };
        assert!(table_matches(t(RefType::FuncRef), t(RefType::FuncRef)));
        assert!(!table_matches(t(RefType::ExternRef), t(RefType::FuncRef)));
    }

    #[test]
    fn guard_code_needs_a_guarded_memory() {
        let m = MemoryType { limits: l(1, None) };
        use BoundsChecks::{Explicit, Guard};
        assert!(memory_matches(m, Guard, m, Guard));
        assert!(memory_matches(m, Guard, m, Explicit));
        assert!(memory_matches(m, Explicit, m, Explicit));
        assert!(!memory_matches(m, Explicit, m, Guard));
        let bigger = MemoryType { limits: l(2, None) };
        assert!(!memory_matches(m, Guard, bigger, Guard));
    }

    #[test]
    fn globals_match_exactly() {
        let g = |content, mutable| GlobalType { content, mutable };
        assert!(global_matches(g(ValType::I32, true), g(ValType::I32, true)));
        assert!(!global_matches(
            g(ValType::I32, true),
            g(ValType::I32, false)
        ));
        assert!(!global_matches(
            g(ValType::I32, false),
            g(ValType::I64, false)
        ));
    }
}
