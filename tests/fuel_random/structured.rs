//! Generated programs made of the control shapes that exact mode plans
//! specially, for the exact-at-every-budget test: `if`s merged into their
//! metered block (arms that fall through, arms that leave by `br`,
//! `return`, `unreachable` or `br_if`, arms that branch back to a loop),
//! forward `br_if`s, `br_table`s, calls and dynamic costs inside loops,
//! loops closed by a `br_if` or by a `br` (latches, which pay ahead for
//! the loop's first metered block), and blocks whose fallback holds all of
//! these. `wasm-smith`'s modules hold few of them.
//!
//! Every program terminates: each loop has a counter local set when the
//! loop is entered, and every branch back to the loop decrements it and is
//! taken only while it is positive (a closing `br` follows a `br_if` that
//! leaves the loop otherwise). Memory accesses are masked into the
//! first page; a division traps on overflow, and a few arms end in
//! `unreachable`.

/// A xorshift generator: what is generated depends on the seed alone.
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed` (made odd, never zero).
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// The next state.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// An enclosing construct, as a branch sees it.
#[derive(Clone, Copy)]
enum Label {
    /// The function body, which returns a value: left by `return` only.
    Function,
    /// A `block` or `if`: a branch to it goes forward.
    Forward,
    /// A `loop` with counter local `$c{0}`.
    Loop(usize),
}

struct Generator {
    rng: Rng,
    labels: Vec<Label>,
    /// Counter locals used so far.
    counters: usize,
    /// Statements still to generate in this function.
    budget: u32,
    /// Whether expressions may call `$h`.
    calls: bool,
}

impl Generator {
    fn expr(&mut self, depth: u32) -> String {
        let leaf = depth == 0 || self.rng.chance(35);
        if leaf {
            return match self.rng.below(6) {
                0 => format!("(i32.const {})", self.rng.below(24) as i32 - 3),
                1 => "(local.get $x)".into(),
                2 => "(local.get $y)".into(),
                3 => "(local.get $a)".into(),
                4 => "(local.get $b)".into(),
                _ => "(global.get $g)".into(),
            };
        }
        let d = depth - 1;
        match self.rng.below(12) {
            0 => format!("(i32.load (i32.and {} (i32.const 252)))", self.expr(d)),
            1 if self.calls => format!("(call $h {})", self.expr(d)),
            // Traps only on overflow.
            2 => format!(
                "(i32.div_s {} (i32.or {} (i32.const 1)))",
                self.expr(d),
                self.expr(d)
            ),
            3 => format!(
                "(select {} {} {})",
                self.expr(d),
                self.expr(d),
                self.expr(d)
            ),
            4 => format!("(i32.eqz {})", self.expr(d)),
            n => {
                let op = ["add", "sub", "mul", "and", "xor", "lt_s", "gt_u", "shl"][n as usize % 8];
                format!("(i32.{op} {} {})", self.expr(d), self.expr(d))
            }
        }
    }

    /// A condition that holds about as often as not: values are mostly
    /// small.
    fn condition(&mut self) -> String {
        let value = self.expr(2);
        format!("(i32.lt_u {value} (i32.const {}))", self.rng.below(12))
    }

    /// The relative depth of a random enclosing `block` or `if`.
    fn forward_target(&mut self) -> Option<usize> {
        let forward: Vec<usize> = (0..self.labels.len())
            .filter(|&i| matches!(self.labels[i], Label::Forward))
            .collect();
        let i = *forward.get(self.rng.below(forward.len().max(1) as u64) as usize)?;
        Some(self.labels.len() - 1 - i)
    }

    /// A branch back to loop `$c{counter}` at relative `depth`, taken
    /// while `cond` holds and the loop's counter, decremented, is positive.
    fn back_edge(depth: usize, counter: usize, cond: &str) -> String {
        format!(
            "(br_if {depth} (i32.and {cond} (i32.gt_s (local.tee $c{counter} \
             (i32.sub (local.get $c{counter}) (i32.const 1))) (i32.const 0))))"
        )
    }

    /// One statement; only assignments, stores and `br_if`s when
    /// `straight`.
    fn statement(&mut self, out: &mut String, nesting: u32, straight: bool) {
        self.budget = self.budget.saturating_sub(1);
        let e = |g: &mut Self| g.expr(2);
        let choice = if straight {
            [0, 1, 2, 3, 5][self.rng.below(5) as usize]
        } else if nesting >= 4 {
            self.rng.below(7)
        } else {
            self.rng.below(11)
        };
        match choice {
            0 => *out += &format!("(local.set $a {})", e(self)),
            1 => *out += &format!("(local.set $b {})", e(self)),
            2 => {
                *out += &format!(
                    "(i32.store (i32.and {} (i32.const 252)) {})",
                    e(self),
                    e(self)
                )
            }
            3 => *out += &format!("(global.set $g {})", e(self)),
            4 if self.calls && self.rng.chance(40) => {
                *out += &format!("(drop (call $h {}))", e(self))
            }
            4 => {
                // A constant length is folded into the block's charge, any
                // other is charged by the runtime.
                let len = if self.rng.chance(50) {
                    format!("(i32.const {})", self.rng.below(140))
                } else {
                    format!("(i32.and {} (i32.const 127))", e(self))
                };
                *out += &format!("(memory.fill (i32.const 64) {} {len})", e(self));
            }
            5 | 6 => {
                // A conditional branch: forward, or back to a loop.
                // From a straight-line arm, not to the arm's own `if` (which
                // would keep the `if` from merging).
                let nearest = usize::from(straight && self.labels.len() > 1);
                let depth = nearest + self.rng.below((self.labels.len() - nearest) as u64) as usize;
                let cond = self.condition();
                match self.labels[self.labels.len() - 1 - depth] {
                    Label::Forward => *out += &format!("(br_if {depth} {cond})"),
                    Label::Loop(counter) => *out += &Self::back_edge(depth, counter, &cond),
                    Label::Function => *out += &format!("(local.set $b {cond})"),
                }
            }
            7 | 8 => {
                // Often with straight-line arms, which exact mode merges
                // into the enclosing metered block.
                let straight = self.rng.chance(60);
                let calls = self.calls;
                *out += &format!("(if {} (then ", self.condition());
                self.calls &= !straight;
                self.body(out, Label::Forward, nesting + 1, straight);
                *out += ")";
                if self.rng.chance(50) {
                    *out += "(else ";
                    self.body(out, Label::Forward, nesting + 1, straight);
                    *out += ")";
                }
                *out += ")";
                self.calls = calls;
            }
            9 => {
                *out += "(block ";
                self.body(out, Label::Forward, nesting + 1, false);
                *out += ")";
            }
            _ => {
                let counter = self.counters;
                self.counters += 1;
                *out += &format!(
                    "(local.set $c{counter} (i32.const {}))",
                    1 + self.rng.below(5)
                );
                if self.rng.chance(50) {
                    *out += "(loop ";
                    self.body(out, Label::Loop(counter), nesting + 1, false);
                    // Closed by its counter alone: a counted loop.
                    *out += &format!(
                        "(br_if 0 (i32.gt_s (local.tee $c{counter} (i32.sub \
                         (local.get $c{counter}) (i32.const 1))) (i32.const 0)))"
                    );
                    *out += ")";
                } else {
                    // Left by a forward `br_if`, closed by a `br`.
                    *out += "(block (loop ";
                    self.labels.push(Label::Forward);
                    self.body(out, Label::Loop(counter), nesting + 2, false);
                    self.labels.pop();
                    *out += &format!(
                        "(br_if 1 (i32.le_s (local.tee $c{counter} (i32.sub \
                         (local.get $c{counter}) (i32.const 1))) (i32.const 0))) (br 0)))"
                    );
                }
            }
        }
    }

    /// The statements of a construct labelled `label` (see
    /// [`Generator::statement`] for `straight`), and sometimes a branch,
    /// `return` or trap that ends it.
    fn body(&mut self, out: &mut String, label: Label, nesting: u32, straight: bool) {
        self.labels.push(label);
        let count = 1 + self.rng.below(4);
        for _ in 0..count {
            if self.budget == 0 {
                break;
            }
            self.statement(out, nesting, straight);
            *out += " ";
        }
        match self.rng.below(if straight { 6 } else { 10 }) {
            0 | 1 => {
                if let Some(depth) = self.forward_target() {
                    *out += &format!("(br {depth})");
                }
            }
            2 => *out += &format!("(return {})", self.expr(1)),
            3 if self.rng.chance(30) => *out += "unreachable",
            4 => {
                let targets: Vec<String> = (0..3)
                    .filter_map(|_| self.forward_target().map(|d| d.to_string()))
                    .collect();
                if !targets.is_empty() {
                    *out += &format!("(br_table {} {})", targets.join(" "), self.expr(1));
                }
            }
            _ => {}
        }
        self.labels.pop();
    }

    /// A function body returning `$a`, with its counter locals declared.
    fn function(&mut self, statements: u32) -> String {
        self.budget = statements;
        self.counters = 0;
        let mut body = String::new();
        self.labels.push(Label::Function);
        while self.budget > 0 {
            self.statement(&mut body, 0, false);
            body += " ";
        }
        self.labels.pop();
        let counters: String = (0..self.counters)
            .map(|i| format!("(local $c{i} i32) "))
            .collect();
        format!("(local $a i32) (local $b i32) {counters} {body} (local.get $a)")
    }
}

/// The program for `seed`, in the text format: exports `f0`..`f3` call
/// the generated function `$f` with different arguments; `$f` calls the
/// generated `$h`; memory `mem` and global `g` are exported.
pub fn program(seed: u64) -> String {
    let mut g = Generator {
        rng: Rng::new(seed.wrapping_mul(0x2545_f491_4f6c_dd1d)),
        labels: Vec::new(),
        counters: 0,
        budget: 0,
        calls: false,
    };
    let h = g.function(4);
    g.calls = true;
    let f = g.function(32);
    let mut module = format!(
        "(module (memory (export \"mem\") 1) (global $g (export \"g\") (mut i32) (i32.const 0)) \
         (func $h (param $x i32) (result i32) (local $y i32) {h}) \
         (func $f (param $x i32) (param $y i32) (result i32) {f})"
    );
    for (i, (x, y)) in [(0, 0), (1, 7), (5, -1), (19, 3)].iter().enumerate() {
        module += &format!(
            " (func (export \"f{i}\") (result i32) (call $f (i32.const {x}) (i32.const {y})))"
        );
    }
    module + ")"
}
