//! The WebAssembly 2.0 spec test suite, run against fuelc and its runtime.
//!
//! Runs every `.wast` script in `../shared/testsuite` (relative to the
//! repository root) once per mode in [`MODES`]: guard pages, explicit
//! bounds checks, then metered `exact` and `per-op` with the uniform cost
//! model (every operator costs 1), then `exact` again with every action
//! that completed in `per-op` mode given one less fuel than it consumed
//! there and a handler that grants the rest once (the boundary property of
//! `docs/fuel.md`, point 1). Each run has its own thread with a large
//! stack, two at a time; under a test runner, each file runs in all modes
//! in a child process of its own instead, two files at a time (see
//! `isolate.rs`). Prints a table of per-file counts for every mode,
//! the first failures of each failing file and one summary line per mode.
//! Then compares, action by action, the fuel the two metered modes consumed
//! (see `fuel.rs`) and prints what differs and a `fuel` summary line. Exits
//! nonzero if anything failed in any mode, if any consumption differs, or
//! if a run of the whole suite compared fewer than
//! [`fuel::MIN_COMPARED`] actions.
//!
//! Environment:
//! - `FUELC_SPEC_REQUIRED=1`: fail when the suite is missing (otherwise the
//!   test prints that it skipped and passes).
//! - `FUELC_SPEC_FILTER=substr`: run only the files whose name contains
//!   `substr`.
//! - `FUELC_TEST_RUNNER=command`: run each file in a child process started
//!   by `command` (split on whitespace), such as `qemu-aarch64 -L
//!   /usr/aarch64-linux-gnu` when the tests are cross-compiled.
//! - `FUELC_SPEC_CHILD=path` (set by the parent for its children): run only
//!   the file at `path`, in every mode, and write the reports to stdout in
//!   the protocol of `isolate.rs`.
//!
//! Files that fuelc does not support yet are listed in [`UNSUPPORTED`], and
//! only there; their directives count as skipped.

mod fuel;
mod isolate;
mod runner;
mod spectest;
mod values;

use std::any::Any;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use fuelc_runtime::abi::{BoundsChecks, FuelMode};
use runner::{Compilation, FileReport, SHOWN_FAILURES};

/// Files not run yet, as (name or `prefix*`, reason). Empty: every file of
/// the WebAssembly 2.0 suite runs.
const UNSUPPORTED: &[(&str, &str)] = &[];

/// The modes every file runs in, in order.
static MODES: [Mode; 5] = [
    Mode {
        compilation: Compilation {
            bounds_checks: BoundsChecks::Guard,
            fuel: None,
        },
        tag: "guard",
        boundary: false,
        name: "guard pages",
        summary: "",
    },
    Mode {
        compilation: Compilation {
            bounds_checks: BoundsChecks::Explicit,
            fuel: None,
        },
        tag: "explicit",
        boundary: false,
        name: "explicit checks",
        summary: " (explicit bounds checks)",
    },
    Mode {
        compilation: Compilation {
            bounds_checks: BoundsChecks::Guard,
            fuel: Some(FuelMode::Exact),
        },
        tag: "fuel_exact",
        boundary: false,
        name: "fuel exact",
        summary: " (fuel exact)",
    },
    Mode {
        compilation: Compilation {
            bounds_checks: BoundsChecks::Guard,
            fuel: Some(FuelMode::PerOp),
        },
        tag: "fuel_per_op",
        boundary: false,
        name: "fuel per-op",
        summary: " (fuel per-op)",
    },
    Mode {
        compilation: Compilation {
            bounds_checks: BoundsChecks::Guard,
            fuel: Some(FuelMode::Exact),
        },
        tag: "fuel_boundary",
        boundary: true,
        name: "exact at cost",
        summary: " (fuel exact, each action with its per-op cost)",
    },
];

/// One mode of the run.
struct Mode {
    /// What the modules are compiled with.
    compilation: Compilation,
    /// Part of the symbol prefixes and thread names (a C identifier).
    tag: &'static str,
    /// Whether each action that completed in the `per-op` mode runs at the
    /// boundary of its cost there (see `runner::run_file`), so the mode
    /// runs after the `per-op` one.
    boundary: bool,
    /// Column heading in the table and in the failures' heading.
    name: &'static str,
    /// What the summary line adds after the architecture.
    summary: &'static str,
}

/// Stack of the thread of each run of a file. Wasm code gets a fixed part
/// of it (see `runner.rs`); the rest is for the harness, the compiler and
/// the runtime.
const FILE_STACK: usize = 64 << 20;

/// Most runs of files, or child processes, at once (the machines have two
/// cores).
const MAX_PARALLEL_FILES: usize = 2;

fn main() -> ExitCode {
    if let Err(message) = values::self_check().and_then(|()| isolate::self_check()) {
        eprintln!("spec: harness self-check failed: {message}");
        return ExitCode::FAILURE;
    }
    if let Some(path) = std::env::var_os(isolate::CHILD_VAR) {
        return run_child(Path::new(&path));
    }
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testsuite");
    let required = std::env::var_os("FUELC_SPEC_REQUIRED").is_some_and(|v| v == "1");
    if !suite.is_dir() {
        if required {
            eprintln!(
                "spec: the suite is missing at {} and FUELC_SPEC_REQUIRED=1",
                suite.display()
            );
            return ExitCode::FAILURE;
        }
        println!("spec: skipped: no suite at {}", suite.display());
        return ExitCode::SUCCESS;
    }
    let filter = std::env::var("FUELC_SPEC_FILTER").unwrap_or_default();
    let files = match list_scripts(&suite, &filter) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("spec: cannot list {}: {e}", suite.display());
            return ExitCode::FAILURE;
        }
    };
    if files.is_empty() {
        eprintln!(
            "spec: no .wast file in {} matches {filter:?}",
            suite.display()
        );
        return ExitCode::FAILURE;
    }
    let reports = match isolate::test_runner() {
        Some(runner) => {
            let per_file = run_parallel(&files, |path| isolate::run_child(&runner, path));
            by_mode(per_file.into_iter().flat_map(|r| r.into_iter().enumerate()))
        }
        None => {
            let jobs: Vec<(&Path, usize)> = (0..MODES.len())
                .filter(|&mode| !MODES[mode].boundary)
                .flat_map(|mode| files.iter().map(move |f| (f.as_path(), mode)))
                .collect();
            let reports = run_parallel(&jobs, |&(path, mode)| {
                run_in_thread(path, &MODES[mode], None)
            });
            let mut reports = by_mode(jobs.iter().map(|&(_, mode)| mode).zip(reports));
            let costs: HashMap<String, runner::Costs> = reports[metered_mode(FuelMode::PerOp)]
                .iter()
                .map(|report| (report.name.clone(), report.costs()))
                .collect();
            for (mode, spec) in MODES.iter().enumerate().filter(|(_, m)| m.boundary) {
                let jobs: Vec<(&Path, Option<&runner::Costs>)> = files
                    .iter()
                    .map(|f| (f.as_path(), costs.get(&file_name(f))))
                    .collect();
                reports[mode] =
                    run_parallel(&jobs, |&(path, costs)| run_in_thread(path, spec, costs));
                reports[mode].sort_by(|a, b| a.name.cmp(&b.name));
            }
            reports
        }
    };
    print_reports(&reports);
    let fuel = fuel::compare(
        &reports[metered_mode(FuelMode::Exact)],
        &reports[metered_mode(FuelMode::PerOp)],
    );
    let enough_compared = !filter.is_empty() || fuel.compared >= fuel::MIN_COMPARED;
    let at_cost: usize = MODES
        .iter()
        .zip(&reports)
        .filter(|(mode, _)| mode.boundary)
        .flat_map(|(_, reports)| reports)
        .map(|report| report.consumed.len())
        .sum();
    print_fuel(&fuel, at_cost, enough_compared);
    let failed: usize = reports.iter().flatten().map(|r| r.failed).sum();
    if failed == 0 && fuel.differing() == 0 && enough_compared {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The child mode of `isolate.rs`: runs the file at `path` in every mode and
/// writes the reports to stdout.
fn run_child(path: &Path) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let mut costs = None;
    for mode in &MODES {
        let report = run_in_thread(path, mode, costs.as_ref().filter(|_| mode.boundary));
        if mode.compilation.fuel == Some(FuelMode::PerOp) && !mode.boundary {
            costs = Some(report.costs());
        }
        if let Err(e) = isolate::write_report(&mut stdout, mode, &report) {
            eprintln!("spec: cannot write the report to stdout: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Groups reports by the index in [`MODES`] of their mode, each group
/// sorted by file name.
fn by_mode(reports: impl IntoIterator<Item = (usize, FileReport)>) -> Vec<Vec<FileReport>> {
    let mut by_mode: Vec<Vec<FileReport>> = MODES.iter().map(|_| Vec::new()).collect();
    for (mode, report) in reports {
        by_mode[mode].push(report);
    }
    for reports in &mut by_mode {
        reports.sort_by(|a, b| a.name.cmp(&b.name));
    }
    by_mode
}

/// The index in [`MODES`] of the mode metered with `fuel` (with every
/// action given the same large budget).
fn metered_mode(fuel: FuelMode) -> usize {
    MODES
        .iter()
        .position(|mode| mode.compilation.fuel == Some(fuel) && !mode.boundary)
        .expect("MODES has both metering modes")
}

/// The `.wast` files directly in `dir` whose name contains `filter`.
fn list_scripts(dir: &Path, filter: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = file_name(&path);
        if name.ends_with(".wast") && name.contains(filter) {
            files.push(path);
        }
    }
    Ok(files)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Why `name` is not run, if it is listed in [`UNSUPPORTED`].
fn unsupported_reason(name: &str) -> Option<&'static str> {
    UNSUPPORTED.iter().find_map(|(pattern, reason)| {
        let listed = match pattern.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == *pattern,
        };
        listed.then_some(*reason)
    })
}

/// Runs `run` on every job, at most [`MAX_PARALLEL_FILES`] jobs at a time
/// and starting them in order; the results come in job order.
fn run_parallel<J: Sync, R: Send>(jobs: &[J], run: impl Fn(&J) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let workers = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_PARALLEL_FILES);
    let mut results: Vec<(usize, R)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut results = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else {
                            return results;
                        };
                        results.push((i, run(job)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .expect("runs do not panic: a file's thread catches its panics")
            })
            .collect()
    });
    results.sort_by_key(|&(i, _)| i);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Runs one file in `mode` in a thread of its own with a [`FILE_STACK`]
/// stack, with the boundary budgets `costs` in a boundary mode; a panic
/// becomes a failure of that file.
fn run_in_thread(path: &Path, mode: &'static Mode, costs: Option<&runner::Costs>) -> FileReport {
    let name = file_name(path);
    let thread = thread::Builder::new()
        .name(format!("spec {name} {}", mode.tag))
        .stack_size(FILE_STACK)
        .spawn({
            let path = path.to_owned();
            let costs = costs.cloned();
            move || run_script(&path, mode, costs.as_ref())
        });
    match thread {
        Ok(handle) => handle.join().unwrap_or_else(|payload| {
            FileReport::broken(
                &name,
                format!("panicked: {}", panic_message(payload.as_ref())),
            )
        }),
        Err(e) => FileReport::broken(&name, format!("cannot start a thread: {e}")),
    }
}

fn run_script(path: &Path, mode: &Mode, costs: Option<&runner::Costs>) -> FileReport {
    let name = file_name(path);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return FileReport::broken(&name, format!("cannot read: {e}")),
    };
    if unsupported_reason(&name).is_some() {
        return match runner::with_script(&text, |directives| directives.len()) {
            Ok(count) => FileReport {
                name,
                assertions: count,
                skipped: count,
                ..FileReport::default()
            },
            Err(e) => FileReport::broken(&name, e),
        };
    }
    let stem = fuelc::sanitize_prefix(&format!("{}_{}", name.trim_end_matches(".wast"), mode.tag));
    runner::run_file(&name, &stem, &text, mode.compilation, costs)
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// Prints the per-file table (one pair of columns per mode), the failures
/// of each mode, the skipped files and one summary line per mode.
/// `reports` holds one list per entry of [`MODES`], each sorted by name.
fn print_reports(reports: &[Vec<FileReport>]) {
    let files = &reports[0];
    let width = files
        .iter()
        .map(|r| r.name.len())
        .chain(["file".len()])
        .max()
        .unwrap_or(0);
    let mut modes_header = format!("{:width$}  {:>10}  {:>7}", "", "", "");
    let mut header = format!("{:width$}  assertions  skipped", "file");
    for mode in &MODES {
        modes_header.push_str(&format!("  {:>15}", mode.name));
        header.push_str("   passed  failed");
    }
    println!("{}", modes_header.trim_end());
    println!("{header}");
    for (i, file) in files.iter().enumerate() {
        let in_modes: Vec<&FileReport> = reports.iter().map(|mode| &mode[i]).collect();
        let mut row = format!(
            "{:width$}  {:>10}  {:>7}",
            file.name,
            per_mode(&in_modes, |r| r.assertions),
            per_mode(&in_modes, |r| r.skipped),
        );
        for r in &in_modes {
            row.push_str(&format!("  {:>7}  {:>6}", r.passed, r.failed));
        }
        println!("{row}");
    }
    for (mode, mode_reports) in MODES.iter().zip(reports) {
        let failing: Vec<_> = mode_reports.iter().filter(|r| r.failed > 0).collect();
        if failing.is_empty() {
            continue;
        }
        println!("\nfailures with {}:", mode.name);
        for r in failing {
            print_first(&r.name, &r.failures);
        }
    }
    let skipped_files = files
        .iter()
        .filter(|r| unsupported_reason(&r.name).is_some())
        .count();
    if skipped_files > 0 {
        println!("\nskipped files: {skipped_files}");
        for (pattern, reason) in UNSUPPORTED {
            println!("  {pattern}: {reason}");
        }
    }
    println!();
    for (mode, mode_reports) in MODES.iter().zip(reports) {
        let sum = |f: fn(&FileReport) -> usize| mode_reports.iter().map(f).sum::<usize>();
        println!(
            "spec {}{}: {} files, {} assertions, {} passed, {} failed, {} skipped",
            std::env::consts::ARCH,
            mode.summary,
            mode_reports.len(),
            sum(|r| r.assertions),
            sum(|r| r.passed),
            sum(|r| r.failed),
            sum(|r| r.skipped),
        );
    }
}

/// A count that is the same in every mode, or the counts of each mode
/// separated by `/` (a file that broke in one mode only).
fn per_mode(in_modes: &[&FileReport], count: fn(&FileReport) -> usize) -> String {
    let counts: Vec<String> = in_modes.iter().map(|r| count(r).to_string()).collect();
    if counts.iter().all(|c| *c == counts[0]) {
        counts[0].clone()
    } else {
        counts.join("/")
    }
}

/// Prints the first [`SHOWN_FAILURES`] of the `problems` of file `name`,
/// and how many more there are.
fn print_first(name: &str, problems: &[String]) {
    for problem in problems.iter().take(SHOWN_FAILURES) {
        println!("  {problem}");
    }
    if problems.len() > SHOWN_FAILURES {
        println!("  {name}: ... and {} more", problems.len() - SHOWN_FAILURES);
    }
}

/// Prints the first differences of each file and the `fuel` summary line;
/// `enough_compared` is false when a run of the whole suite compared fewer
/// than [`fuel::MIN_COMPARED`] actions.
fn print_fuel(fuel: &fuel::Comparison, at_cost: usize, enough_compared: bool) {
    if !fuel.differences.is_empty() {
        println!("\nfuel consumed differs between exact and per-op modes:");
        for (name, differences) in &fuel.differences {
            print_first(name, differences);
        }
        println!();
    }
    println!(
        "fuel {}: {} invocations compared, {} differ; {at_cost} completed in exact mode at their \
         per-op cost",
        std::env::consts::ARCH,
        fuel.compared,
        fuel.differing()
    );
    if !enough_compared {
        println!(
            "fuel {}: expected at least {} invocations compared in the whole suite",
            std::env::consts::ARCH,
            fuel::MIN_COMPARED
        );
    }
}
