//! Runs each `.wast` file in a child process of its own, for runs under an
//! emulator such as qemu-user: every wasm memory reserves 8 GiB of address
//! space, and qemu-user keeps about 20 MB of page bookkeeping for each
//! reservation and never frees it, so one process running the whole suite
//! would run out of memory.
//!
//! When `FUELC_TEST_RUNNER` holds a command (split on whitespace), the
//! parent runs `RUNNER... <this test binary>` once per file, with
//! [`CHILD_VAR`] set to the file's path. The child runs that file in every
//! mode of [`MODES`] and writes to stdout, for each mode in order, lines
//! that start with [`PREFIX`]:
//!
//! - `report <tag> <assertions> <passed> <failed> <skipped>` starts the
//!   report of the mode whose tag is `<tag>`;
//! - `failure <message>` adds a failure to it, with `\`, line feed and
//!   carriage return written as `\\`, `\n` and `\r`;
//! - `fuel <line> <col> <fuel>` adds a consumption to it.
//!
//! The parent passes other lines of the child's stdout on to its own; the
//! child's stderr is the parent's. A child that does not exit successfully
//! or does not report every mode fails its file in every mode, with one
//! failure that gives the exit status or what is wrong with the output.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::{Command, Output};
use std::str::FromStr;

use crate::runner::{Consumption, FileReport};
use crate::{file_name, Mode, MODES};

/// The environment variable that makes the test binary a child, holding
/// the path of the file to run.
pub const CHILD_VAR: &str = "FUELC_SPEC_CHILD";

/// Start of every line of the protocol on a child's stdout.
const PREFIX: &str = "fuelc-spec-child ";

/// The command in `FUELC_TEST_RUNNER`, split on whitespace; `None` when the
/// variable is unset or blank.
pub fn test_runner() -> Option<Vec<String>> {
    let runner = std::env::var("FUELC_TEST_RUNNER").ok()?;
    let words: Vec<String> = runner.split_whitespace().map(str::to_owned).collect();
    (!words.is_empty()).then_some(words)
}

/// Runs the file at `path` in a child process started by `runner` (a
/// nonempty command) and returns its report for each of [`MODES`], in
/// order.
pub fn run_child(runner: &[String], path: &Path) -> Vec<FileReport> {
    let name = file_name(path);
    let output = std::env::current_exe().and_then(|exe| {
        Command::new(&runner[0])
            .args(&runner[1..])
            .arg(exe)
            .env(CHILD_VAR, path)
            .stderr(std::process::Stdio::inherit())
            .output()
    });
    let reports = match output {
        Ok(output) => reports_of(&name, &output),
        Err(e) => Err(format!("cannot start a child process: {e}")),
    };
    reports.unwrap_or_else(|message| {
        MODES
            .iter()
            .map(|_| FileReport::broken(&name, message.clone()))
            .collect()
    })
}

/// The reports of file `name` in a child's `output`, or why there are none.
fn reports_of(name: &str, output: &Output) -> Result<Vec<FileReport>, String> {
    let reports = parse(name, &String::from_utf8_lossy(&output.stdout));
    if !output.status.success() {
        return Err(format!("child process failed ({})", output.status));
    }
    let reports = reports.map_err(|e| format!("bad output from the child process: {e}"))?;
    if reports.len() != MODES.len() {
        return Err(format!(
            "the child process reported {} of {} modes",
            reports.len(),
            MODES.len()
        ));
    }
    Ok(reports)
}

/// Writes `report`, of a run in `mode`, to `out` in the child's protocol.
pub fn write_report(out: impl Write, mode: &Mode, report: &FileReport) -> io::Result<()> {
    // Destructured so that a new field cannot be left out of the protocol.
    let FileReport {
        name: _,
        assertions,
        passed,
        failed,
        skipped,
        failures,
        consumed,
    } = report;
    let mut out = BufWriter::new(out);
    let tag = mode.tag;
    writeln!(
        out,
        "{PREFIX}report {tag} {assertions} {passed} {failed} {skipped}"
    )?;
    for failure in failures {
        writeln!(out, "{PREFIX}failure {}", escape(failure))?;
    }
    for Consumption { line, col, fuel } in consumed {
        writeln!(out, "{PREFIX}fuel {line} {col} {fuel}")?;
    }
    out.flush()
}

/// Parses what a child running file `name` wrote to stdout into its
/// reports, in order; prints the lines that are not part of the protocol.
fn parse(name: &str, output: &str) -> Result<Vec<FileReport>, String> {
    let mut reports = Vec::new();
    for (i, line) in output.lines().enumerate() {
        match line.strip_prefix(PREFIX) {
            Some(item) => parse_item(name, item, &mut reports)
                .map_err(|e| format!("line {}: {e}: {line:?}", i + 1))?,
            None => println!("{line}"),
        }
    }
    Ok(reports)
}

/// Adds one line of the protocol, without its prefix, to `reports`.
fn parse_item(name: &str, item: &str, reports: &mut Vec<FileReport>) -> Result<(), String> {
    let (keyword, rest) = item.split_once(' ').unwrap_or((item, ""));
    if keyword == "report" {
        let [tag, assertions, passed, failed, skipped] = words(rest)?;
        let mode = MODES.get(reports.len()).ok_or("more reports than modes")?;
        if tag != mode.tag {
            return Err(format!("expected the report of mode {}", mode.tag));
        }
        reports.push(FileReport {
            name: name.to_owned(),
            assertions: number(assertions)?,
            passed: number(passed)?,
            failed: number(failed)?,
            skipped: number(skipped)?,
            ..FileReport::default()
        });
        return Ok(());
    }
    let report = reports.last_mut().ok_or("before the first report")?;
    match keyword {
        "failure" => report.failures.push(unescape(rest)?),
        "fuel" => {
            let [line, col, fuel] = words(rest)?;
            report.consumed.push(Consumption {
                line: number(line)?,
                col: number(col)?,
                fuel: number(fuel)?,
            });
        }
        _ => return Err("unknown item".to_owned()),
    }
    Ok(())
}

/// The `N` words of `text`, separated by single spaces.
fn words<const N: usize>(text: &str) -> Result<[&str; N], String> {
    let words: Vec<&str> = text.split(' ').collect();
    let count = words.len();
    words
        .try_into()
        .map_err(|_| format!("{count} words instead of {N}"))
}

fn number<T: FromStr>(word: &str) -> Result<T, String> {
    word.parse().map_err(|_| format!("bad number {word:?}"))
}

/// `text` on one line: `\`, line feed and carriage return escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The text that [`escape`] turned into `escaped`.
fn unescape(escaped: &str) -> Result<String, String> {
    let mut text = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        text.push(match c {
            '\\' => match chars.next() {
                Some('\\') => '\\',
                Some('n') => '\n',
                Some('r') => '\r',
                other => return Err(format!("bad escape {other:?}")),
            },
            c => c,
        });
    }
    Ok(text)
}

/// Checks that reports in every mode, with failures that need escaping,
/// come back from the protocol as they went in.
pub fn self_check() -> Result<(), String> {
    let sent: Vec<FileReport> = (0..MODES.len())
        .map(|i| FileReport {
            name: "a.wast".to_owned(),
            assertions: 4 + i,
            passed: 1,
            failed: 2,
            skipped: 1,
            failures: vec![
                "a.wast:1:2: \\n is not\na line feed\r".to_owned(),
                format!("a.wast: mode {i}"),
            ],
            consumed: vec![Consumption {
                line: 3,
                col: i,
                fuel: u64::MAX,
            }],
        })
        .collect();
    let mut written = Vec::new();
    for (mode, report) in MODES.iter().zip(&sent) {
        write_report(&mut written, mode, report).map_err(|e| e.to_string())?;
    }
    let received = parse("a.wast", &String::from_utf8_lossy(&written))?;
    if format!("{received:?}") != format!("{sent:?}") {
        return Err(format!(
            "child protocol self-check: sent {sent:?}, received {received:?}"
        ));
    }
    Ok(())
}
