//! The comparison of the two metering modes: every action of the suite that
//! completes must consume exactly as much fuel with its modules compiled in
//! `exact` mode as in `per-op` mode, the reference (`docs/fuel.md`, point
//! 4). An action that traps in either mode is not compared: after a trap
//! the modes may differ by design (point 7).

use crate::runner::FileReport;

/// Fewest actions a run of the whole suite must compare, so that a bug that
/// records no consumption cannot pass as "no difference". The suite has
/// about 22,700 actions that complete (calls and instantiations).
pub const MIN_COMPARED: usize = 20_000;

/// What the comparison found.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Actions that completed in both modes.
    pub compared: usize,
    /// `file:line:col: ...` of each action whose consumption differs, per
    /// file name; files without differences are left out.
    pub differences: Vec<(String, Vec<String>)>,
}

impl Comparison {
    /// Actions whose consumption differs.
    pub fn differing(&self) -> usize {
        self.differences.iter().map(|(_, d)| d.len()).sum()
    }
}

/// Compares what each action consumed in `exact` with what it consumed in
/// `per_op`; both hold one report per file, in the same order.
pub fn compare(exact: &[FileReport], per_op: &[FileReport]) -> Comparison {
    let mut comparison = Comparison::default();
    for (exact, per_op) in exact.iter().zip(per_op) {
        assert_eq!(
            exact.name, per_op.name,
            "the reports of both modes list the same files in the same order"
        );
        let reference = per_op.costs();
        let mut differences = Vec::new();
        for c in &exact.consumed {
            let Some(&expected) = reference.get(&(c.line, c.col)) else {
                continue;
            };
            comparison.compared += 1;
            if c.fuel != expected {
                differences.push(format!(
                    "{}:{}:{}: exact mode consumed {}, per-op mode {expected}",
                    exact.name, c.line, c.col, c.fuel
                ));
            }
        }
        if !differences.is_empty() {
            comparison
                .differences
                .push((exact.name.clone(), differences));
        }
    }
    comparison
}
