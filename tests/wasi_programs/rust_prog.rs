//! A Rust command for wasm32-wasip1 and the host: arguments, environment,
//! files in a granted directory (the first argument), hashing (random
//! seeds), clocks, formatting and an explicit exit status.

use std::collections::HashMap;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("args={args:?}");
    println!("GREETING={:?}", std::env::var("GREETING").ok());
    let dir = Path::new(&args[0]);
    let file = dir.join("rust.txt");
    std::fs::write(&file, "one two\nthree two\n").unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    println!("read {} bytes, {} lines", text.len(), text.lines().count());
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word).or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort();
    println!("{counts:?}");
    let mut entries: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    entries.sort();
    println!("entries={entries:?}");
    std::fs::remove_file(&file).unwrap();
    println!("exists after remove: {}", file.exists());
    let start = std::time::Instant::now();
    let sum: u64 = (1..=100_000u64).map(|i| i * i % 7).sum();
    println!("sum={sum} monotonic={}", start.elapsed() >= std::time::Duration::ZERO);
    println!("{:.10} {:e}", 2f64.sqrt(), 1e300 * 10.0);
    std::process::exit(7);
}
