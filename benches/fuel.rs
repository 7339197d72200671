//! What fuel metering costs in run time: `cargo bench --bench fuel`.
//!
//! The kernels in `benches/kernels/` (C with no libc, so their modules have
//! no imports) are compiled to wasm32 with clang (the command in `CLANG`,
//! or `clang`; lld provides the linker), then each with fuelc three ways:
//! fuel off, `exact` and `per-op`, both with the `wasmtime` cost model. The
//! three must return the same checksum and the two metered ones must
//! consume the same fuel, or the benchmark stops with an error. The three
//! are then timed interleaved (off, exact, per-op, off, ...) after one
//! warm-up call each, and the table gives the median of the runs, the
//! ratios to fuel off and their geometric means. Times are the CPU time of
//! the calling thread, which other processes on a busy machine disturb far
//! less than wall-clock time (and which equals it on an idle one).
//!
//! Side by side, each kernel also runs in Wasmtime 50 (its Python package,
//! driven by `benches/wasmtime_timer.py`), without fuel and with
//! `consume_fuel`, interleaved, after fuelc's runs of the kernel.
//! Wasmtime's checksum must be fuelc's, and its fuel fuelc's (the
//! `wasmtime` cost model is Wasmtime's). The table adds Wasmtime's
//! fuel/off ratio and fuelc exact's time over Wasmtime-with-fuel's. Without
//! `python3` and the package, those columns say `-`.
//!
//! `FUELC_BENCH_RUNS` sets the number of timed runs (default 7); arguments
//! keep only the kernels whose name contains one of them. Without a clang
//! that can build wasm32 the benchmark says so and exits successfully.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, SystemTime};

use fuelc::fuel::{CostModel, Metering};
use fuelc::CompileOptions;
use fuelc_runtime::abi::FuelMode;
use fuelc_runtime::{Extern, Func, Store, Val};

/// A kernel: `benches/kernels/NAME.c`, whose export `run(n)` returns a
/// checksum.
struct Kernel {
    name: &'static str,
    /// The argument of `run`, chosen so that one call with fuel off takes
    /// 50 to 200 ms.
    n: i32,
    /// Whether it is built with `-msimd128` (its name ends in `_simd`).
    simd: bool,
}

impl Kernel {
    const fn new(name: &'static str, n: i32) -> Kernel {
        Kernel {
            name,
            n,
            simd: false,
        }
    }

    const fn simd(name: &'static str, n: i32) -> Kernel {
        Kernel {
            name,
            n,
            simd: true,
        }
    }
}

const KERNELS: &[Kernel] = &[
    Kernel::new("matmul", 40),
    Kernel::new("sieve", 8),
    Kernel::new("sha256", 600),
    Kernel::new("nbody", 1_000_000),
    Kernel::new("sort", 4),
    Kernel::new("interp", 3_000_000),
    Kernel::new("strsearch", 30),
    Kernel::new("fib", 37),
    Kernel::simd("blur_simd", 2000),
    Kernel::new("coremark", 2500),
    Kernel::new("stencil", 700),
    Kernel::new("floyd", 30),
    Kernel::new("lu", 250),
    Kernel::new("queens", 1000),
    Kernel::new("chase", 3000),
];

const DEFAULT_RUNS: usize = 7;

/// Enough fuel that no kernel runs out over all its calls.
const BUDGET: u64 = u64::MAX / 2;

/// How a kernel is metered, in the order of the timing loop.
#[derive(Clone, Copy, Debug)]
enum Variant {
    Off,
    Exact,
    PerOp,
}

const VARIANTS: [Variant; 3] = [Variant::Off, Variant::Exact, Variant::PerOp];

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Off => "off",
            Variant::Exact => "exact",
            Variant::PerOp => "per_op",
        }
    }

    fn metered(self) -> bool {
        !matches!(self, Variant::Off)
    }

    fn metering(self) -> Option<Metering> {
        let mode = match self {
            Variant::Off => return None,
            Variant::Exact => FuelMode::Exact,
            Variant::PerOp => FuelMode::PerOp,
        };
        Some(Metering {
            mode,
            costs: CostModel::wasmtime(),
        })
    }
}

/// The outcome of one call of `run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Outcome {
    checksum: i32,
    /// Fuel the call consumed; 0 with fuel off.
    fuel: u64,
}

/// One variant of a kernel, instantiated in a store of its own.
struct Compiled {
    variant: Variant,
    store: Store,
    run: Func,
}

impl Compiled {
    fn new(kernel: &Kernel, wasm: &[u8], variant: Variant) -> Compiled {
        let mut options =
            CompileOptions::host(&format!("bench_{}_{}", kernel.name, variant.name()));
        options.metering = variant.metering();
        let object = fuelc::compile(wasm, &options)
            .unwrap_or_else(|e| fail(&format!("{} ({variant:?}): {e}", kernel.name)));
        let module = fuelc::loader::load_object(&object, &options.prefix)
            .unwrap_or_else(|e| fail(&format!("{} ({variant:?}): {e}", kernel.name)));
        let mut store = Store::new();
        if variant.metered() {
            store.set_fuel(BUDGET);
        }
        let instance = store
            .instantiate(&module, &[])
            .unwrap_or_else(|e| fail(&format!("{} ({variant:?}): {e}", kernel.name)));
        let Some(Extern::Func(run)) = store.export(instance, "run") else {
            fail(&format!("{} exports no function `run`", kernel.name));
        };
        Compiled {
            variant,
            store,
            run,
        }
    }

    /// Calls `run(n)` and returns what it did and how long the call took.
    fn call(&mut self, kernel: &Kernel) -> (Outcome, Duration) {
        let before = self.consumed();
        let start = thread_cpu_time();
        let result = self.store.call(self.run, &[Val::I32(kernel.n)]);
        let elapsed = thread_cpu_time() - start;
        let checksum = match result.as_deref() {
            Ok([Val::I32(checksum)]) => *checksum,
            other => fail(&format!(
                "{} ({:?}): run({}) returned {other:?}",
                kernel.name, self.variant, kernel.n
            )),
        };
        let fuel = self.consumed() - before;
        (Outcome { checksum, fuel }, elapsed)
    }

    /// Fuel consumed by the store so far; 0 with fuel off.
    fn consumed(&self) -> u64 {
        if self.variant.metered() {
            self.store.fuel_consumed()
        } else {
            0
        }
    }
}

/// The exit status of `benches/wasmtime_timer.py` when the `wasmtime`
/// package cannot be imported.
const EXIT_NO_WASMTIME: i32 = 3;

/// A kernel instantiated in Wasmtime by `benches/wasmtime_timer.py`.
struct Wasmtime {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
}

/// One call of a kernel in Wasmtime without fuel and one with.
struct WasmtimeRun {
    off_ms: f64,
    fuel_ms: f64,
    outcome: Outcome,
}

impl Wasmtime {
    /// Starts the timer on `wasm_path`; the reason when python3 or its
    /// `wasmtime` package is missing. Stops the benchmark on other errors.
    fn start(kernel: &Kernel, wasm_path: &Path) -> Result<Wasmtime, String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/wasmtime_timer.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(wasm_path)
            .arg(kernel.n.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run python3: {e}"))?;
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut wasmtime = Wasmtime { child, stdout };
        // The warm-up call tells whether the timer works.
        wasmtime.run(kernel)?;
        Ok(wasmtime)
    }

    /// Runs one call without fuel and one with; the reason when the
    /// `wasmtime` package is missing. Stops the benchmark on other errors.
    fn run(&mut self, kernel: &Kernel) -> Result<WasmtimeRun, String> {
        let stdin = self.child.stdin.as_mut().expect("piped");
        let mut line = String::new();
        let sent = stdin.write_all(b"run\n").and_then(|()| stdin.flush());
        if sent.is_err() || self.stdout.read_line(&mut line).unwrap_or(0) == 0 {
            let mut why = String::new();
            if let Some(mut stderr) = self.child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut stderr, &mut why);
            }
            let why = format!("wasmtime_timer.py: {}", why.trim());
            match self.child.wait().map(|status| status.code()) {
                Ok(Some(EXIT_NO_WASMTIME)) => return Err(why),
                _ => fail(&format!("{}: {why}", kernel.name)),
            }
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let parsed = match fields[..] {
            [off, fuel_ms, checksum, fuel] => (|| {
                Some(WasmtimeRun {
                    off_ms: off.parse().ok()?,
                    fuel_ms: fuel_ms.parse().ok()?,
                    outcome: Outcome {
                        checksum: checksum.parse().ok()?,
                        fuel: fuel.parse().ok()?,
                    },
                })
            })(),
            _ => None,
        };
        Ok(parsed.unwrap_or_else(|| {
            fail(&format!(
                "{}: unexpected wasmtime_timer.py output {line:?}",
                kernel.name
            ))
        }))
    }
}

impl Drop for Wasmtime {
    fn drop(&mut self) {
        // Closing its input ends the timer.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// One line of the table.
struct Row {
    name: &'static str,
    /// Median time per variant, in the order of [`VARIANTS`].
    ms: [f64; 3],
    fuel: u64,
    /// Median times in Wasmtime without fuel and with, when it ran.
    wasmtime_ms: Option<[f64; 2]>,
}

impl Row {
    fn ratio(&self, variant: Variant) -> f64 {
        self.ms[variant as usize] / self.ms[Variant::Off as usize]
    }

    /// Wasmtime's fuel/off ratio.
    fn wasmtime_ratio(&self) -> Option<f64> {
        self.wasmtime_ms.map(|[off, fuel]| fuel / off)
    }

    /// fuelc exact's time over Wasmtime-with-fuel's.
    fn exact_over_wasmtime(&self) -> Option<f64> {
        self.wasmtime_ms
            .map(|[_, fuel]| self.ms[Variant::Exact as usize] / fuel)
    }
}

/// Compiles, checks and times one kernel; then times it in Wasmtime when
/// `wasmtime` runs (after fuelc's runs, not between them: a round of
/// Wasmtime's disturbs the caches and branch predictors for the fuelc call
/// that follows it).
fn measure(kernel: &Kernel, wasm: &[u8], runs: usize, mut wasmtime: Option<Wasmtime>) -> Row {
    let mut compiled = VARIANTS.map(|v| Compiled::new(kernel, wasm, v));
    // The warm-up call of each variant gives the outcome every timed call
    // must reproduce.
    let expected = compiled.each_mut().map(|c| c.call(kernel).0);
    let [off, exact, per_op] = expected;
    if off.checksum != exact.checksum || off.checksum != per_op.checksum {
        fail(&format!(
            "{}: the checksums differ: off {}, exact {}, per-op {}",
            kernel.name, off.checksum, exact.checksum, per_op.checksum
        ));
    }
    if exact.fuel != per_op.fuel {
        fail(&format!(
            "{}: exact consumed {} fuel, per-op {}",
            kernel.name, exact.fuel, per_op.fuel
        ));
    }
    let mut times = [(); 3].map(|()| Vec::with_capacity(runs));
    for _ in 0..runs {
        for (i, c) in compiled.iter_mut().enumerate() {
            let (outcome, elapsed) = c.call(kernel);
            if outcome != expected[i] {
                fail(&format!(
                    "{} ({:?}): a timed run gave {outcome:?}, the warm-up {:?}",
                    kernel.name, c.variant, expected[i]
                ));
            }
            times[i].push(elapsed.as_secs_f64() * 1e3);
        }
    }
    let mut wasmtime_times = [(); 2].map(|()| Vec::with_capacity(runs));
    if let Some(wasmtime) = &mut wasmtime {
        for _ in 0..runs {
            let run = wasmtime.run(kernel).unwrap_or_else(|e| fail(&e));
            if run.outcome != exact {
                fail(&format!(
                    "{}: Wasmtime gave {:?}, fuelc exact {exact:?}",
                    kernel.name, run.outcome
                ));
            }
            wasmtime_times[0].push(run.off_ms);
            wasmtime_times[1].push(run.fuel_ms);
        }
    }
    Row {
        name: kernel.name,
        ms: times.map(median),
        fuel: exact.fuel,
        wasmtime_ms: wasmtime.map(|_| wasmtime_times.map(median)),
    }
}

/// The CPU time the calling thread has used.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid `timespec` for the call to write.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0 {
        fail(&format!(
            "cannot read the thread's CPU time: {}",
            std::io::Error::last_os_error()
        ));
    }
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn geomean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0), |(s, c), v| (s + v.ln(), c + 1));
    (sum / f64::from(count)).exp()
}

/// Compiles `source` to a wasm32 module at `output` with no libc, no entry
/// point and the export `run`; with SIMD instructions if `simd`.
fn clang(clang: &str, source: &Path, output: &Path, simd: bool) -> Result<(), String> {
    let result = Command::new(clang)
        .args([
            "--target=wasm32",
            "-O2",
            "-nostdlib",
            "-Wl,--no-entry",
            "-Wl,--export=run",
        ])
        .args(simd.then_some("-msimd128"))
        .arg("-o")
        .arg(output)
        .arg(source)
        .output()
        .map_err(|e| format!("cannot run `{clang}`: {e}"))?;
    if result.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{clang}` failed on {} ({}):\n{}",
            source.display(),
            result.status,
            String::from_utf8_lossy(&result.stderr)
        ))
    }
}

/// Prints `message` as the reason the benchmark failed and exits with
/// status 1.
fn fail(message: &str) -> ! {
    eprintln!("fuel benchmark failed: {message}");
    std::process::exit(1);
}

/// The current date and time in UTC, as `YYYY-MM-DD HH:MM UTC`.
fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let days = secs / 86_400;
    let era_days = days + 719_468;
    let era = era_days / 146_097;
    let doe = era_days % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let minutes = secs % 86_400 / 60;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

fn print_table(rows: &[Row], runs: usize) {
    println!();
    let cell = |value: Option<f64>| value.map_or("-".to_string(), |v| format!("{v:.3}"));
    println!(
        "| program   |   ms off | ms exact | exact/off | per-op/off | \
         Wasmtime fuel/off | exact/Wasmtime fuel | fuel consumed |"
    );
    println!(
        "|-----------|---------:|---------:|----------:|-----------:|\
         ------------------:|--------------------:|--------------:|"
    );
    for row in rows {
        println!(
            "| {:<9} | {:>8.1} | {:>8.1} | {:>9.3} | {:>10.3} | {:>17} | {:>19} | {:>13} |",
            row.name,
            row.ms[Variant::Off as usize],
            row.ms[Variant::Exact as usize],
            row.ratio(Variant::Exact),
            row.ratio(Variant::PerOp),
            cell(row.wasmtime_ratio()),
            cell(row.exact_over_wasmtime()),
            row.fuel
        );
    }
    let exact = geomean(rows.iter().map(|r| r.ratio(Variant::Exact)));
    let per_op = geomean(rows.iter().map(|r| r.ratio(Variant::PerOp)));
    let worst = rows
        .iter()
        .max_by(|a, b| a.ratio(Variant::Exact).total_cmp(&b.ratio(Variant::Exact)))
        .expect("at least one kernel");
    println!();
    println!("geomean exact/off:  {exact:.3} (target: at most 1.03)");
    println!("geomean per-op/off: {per_op:.3}");
    if rows.iter().all(|r| r.wasmtime_ms.is_some()) {
        let wasmtime = geomean(rows.iter().filter_map(Row::wasmtime_ratio));
        let over = geomean(rows.iter().filter_map(Row::exact_over_wasmtime));
        println!("geomean Wasmtime 50 fuel/off: {wasmtime:.3}");
        println!("geomean fuelc exact time / Wasmtime fuel time: {over:.3}");
    }
    println!(
        "worst exact/off:    {:.3} ({}; target: at most 1.08)",
        worst.ratio(Variant::Exact),
        worst.name
    );
    println!("median of {runs} runs, cost model wasmtime, {}", now_utc());
}

fn main() -> ExitCode {
    let clang_command = std::env::var("CLANG").unwrap_or_else(|_| "clang".into());
    let runs = match std::env::var("FUELC_BENCH_RUNS") {
        Ok(value) => match value.parse::<usize>() {
            Ok(runs) if runs > 0 => runs,
            _ => fail(&format!(
                "FUELC_BENCH_RUNS={value:?} is not a positive integer"
            )),
        },
        Err(_) => DEFAULT_RUNS,
    };
    // `cargo bench` passes `--bench`; other arguments filter the kernels.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/kernels");
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuel-bench");
    std::fs::create_dir_all(&out_dir)
        .unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", out_dir.display())));

    let probe = out_dir.join("probe.c");
    std::fs::write(&probe, "int run(int n) { return n; }\n")
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", probe.display())));
    if let Err(why) = clang(&clang_command, &probe, &out_dir.join("probe.wasm"), false) {
        println!("fuel benchmark skipped: it needs clang with the wasm32 target and lld");
        println!("(apt-get install clang lld; or set CLANG to such a clang).");
        println!("{why}");
        return ExitCode::SUCCESS;
    }

    let mut rows = Vec::new();
    // Why Wasmtime does not run, printed once.
    let mut no_wasmtime: Option<String> = None;
    for kernel in KERNELS {
        if !filters.is_empty() && !filters.iter().any(|f| kernel.name.contains(f.as_str())) {
            continue;
        }
        let wasm_path = out_dir.join(format!("{}.wasm", kernel.name));
        clang(
            &clang_command,
            &sources.join(format!("{}.c", kernel.name)),
            &wasm_path,
            kernel.simd,
        )
        .unwrap_or_else(|e| fail(&e));
        let wasm = std::fs::read(&wasm_path)
            .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", wasm_path.display())));
        let wasmtime = match &no_wasmtime {
            Some(_) => None,
            None => Wasmtime::start(kernel, &wasm_path)
                .map_err(|why| {
                    println!("Wasmtime columns left out: {why}");
                    no_wasmtime = Some(why);
                })
                .ok(),
        };
        let row = measure(kernel, &wasm, runs, wasmtime);
        eprintln!(
            "{}: {:.1} / {:.1} / {:.1} ms (off / exact / per-op)",
            row.name,
            row.ms[Variant::Off as usize],
            row.ms[Variant::Exact as usize],
            row.ms[Variant::PerOp as usize]
        );
        rows.push(row);
    }
    if rows.is_empty() {
        fail(&format!("no kernel matches {filters:?}"));
    }
    println!("kernels compiled to {}", out_dir.display());
    print_table(&rows, runs);
    ExitCode::SUCCESS
}
