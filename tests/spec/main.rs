//! The WebAssembly 2.0 spec test suite, run against fuelc and its runtime.
//!
//! Runs every `.wast` script in `../shared/testsuite` (relative to the
//! repository root), each in its own thread with a large stack, two at a
//! time. Prints a table of per-file counts, the first failures of each
//! failing file and a summary line, and exits nonzero if anything failed.
//!
//! Environment:
//! - `FUELC_SPEC_REQUIRED=1`: fail when the suite is missing (otherwise the
//!   test prints that it skipped and passes).
//! - `FUELC_SPEC_FILTER=substr`: run only the files whose name contains
//!   `substr`.
//!
//! Files that fuelc does not support yet are listed in [`UNSUPPORTED`], and
//! only there; their directives count as skipped.

mod runner;
mod spectest;
mod values;

use std::any::Any;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use runner::{FileReport, SHOWN_FAILURES};

/// Files not run yet, as (name or `prefix*`, reason).
const UNSUPPORTED: &[(&str, &str)] = &[(
    "simd_*",
    "SIMD is not implemented yet; tracked by the SIMD issue",
)];

/// Stack of each file's thread. Wasm code gets a fixed part of it (see
/// `runner.rs`); the rest is for the harness, the compiler and the runtime.
const FILE_STACK: usize = 64 << 20;

/// Most files run at once (the machines have two cores).
const MAX_PARALLEL_FILES: usize = 2;

fn main() -> ExitCode {
    if let Err(message) = values::self_check() {
        eprintln!("spec: harness self-check failed: {message}");
        return ExitCode::FAILURE;
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
    let mut reports = run_all(&files);
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    print_reports(&reports);
    let failed: usize = reports.iter().map(|r| r.failed).sum();
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
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

/// Runs every file, at most [`MAX_PARALLEL_FILES`] at a time.
fn run_all(files: &[PathBuf]) -> Vec<FileReport> {
    let next = AtomicUsize::new(0);
    let workers = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_PARALLEL_FILES);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut reports = Vec::new();
                    while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        reports.push(run_isolated(path));
                    }
                    reports
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .expect("a scheduler thread only joins file threads")
            })
            .collect()
    })
}

/// Runs one file in a thread of its own with a [`FILE_STACK`] stack; a
/// panic becomes a failure of that file.
fn run_isolated(path: &Path) -> FileReport {
    let name = file_name(path);
    let thread = thread::Builder::new()
        .name(format!("spec {name}"))
        .stack_size(FILE_STACK)
        .spawn({
            let path = path.to_owned();
            move || run_script(&path)
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

fn run_script(path: &Path) -> FileReport {
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
    let stem = fuelc::sanitize_prefix(name.trim_end_matches(".wast"));
    runner::run_file(&name, &stem, &text)
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

fn print_reports(reports: &[FileReport]) {
    let width = reports
        .iter()
        .map(|r| r.name.len())
        .chain(["file".len()])
        .max()
        .unwrap_or(0);
    println!("{:width$}  assertions  passed  failed  skipped", "file");
    for r in reports {
        println!(
            "{:width$}  {:>10}  {:>6}  {:>6}  {:>7}",
            r.name, r.assertions, r.passed, r.failed, r.skipped
        );
    }
    let failing: Vec<_> = reports.iter().filter(|r| r.failed > 0).collect();
    if !failing.is_empty() {
        println!("\nfailures:");
        for r in failing {
            for failure in r.failures.iter().take(SHOWN_FAILURES) {
                println!("  {failure}");
            }
            if r.failures.len() > SHOWN_FAILURES {
                println!(
                    "  {}: ... and {} more",
                    r.name,
                    r.failures.len() - SHOWN_FAILURES
                );
            }
        }
    }
    let skipped_files = reports
        .iter()
        .filter(|r| unsupported_reason(&r.name).is_some())
        .count();
    if skipped_files > 0 {
        println!("\nskipped files: {skipped_files}");
        for (pattern, reason) in UNSUPPORTED {
            println!("  {pattern}: {reason}");
        }
    }
    let sum = |f: fn(&FileReport) -> usize| reports.iter().map(f).sum::<usize>();
    println!(
        "\nspec {}: {} files, {} assertions, {} passed, {} failed, {} skipped",
        std::env::consts::ARCH,
        reports.len(),
        sum(|r| r.assertions),
        sum(|r| r.passed),
        sum(|r| r.failed),
        sum(|r| r.skipped),
    );
}
