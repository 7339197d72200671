;; Loops of the shapes that slices (counted loops charged once at their
;; entry) must get right, sliced or not: up and down, steps of 1, 4 and -3,
;; signed and unsigned bounds, loops that run once or not at all, a bound
;; read from memory, a variable that wraps, `ne` across zero, exits other
;; than the exit test (break, continue, return, br_table), calls and
;; memory.grow inside, nests, a loop with a result, and branches merged
;; into the body (whose refunds a sliced loop collects and pays back when
;; it leaves). Every loop stores to memory, so effects are compared too.
;; Loops that trap are tested in tests/fuel_slices.rs: Wasmtime's
;; differential test runs these programs too and compares calls that
;; complete. `fuelc compile --fuel exact --fuel-report` says which loops
;; are sliced.
;; invoke: up_by_1 0
;; invoke: up_by_1 1
;; invoke: up_by_1 100
;; invoke: up_by_4 0
;; invoke: up_by_4 37
;; invoke: down_by_3 -5
;; invoke: down_by_3 40
;; invoke: unsigned_down 0
;; invoke: unsigned_down 10
;; invoke: for_loop 0
;; invoke: for_loop 25
;; invoke: bound_in_memory 17
;; invoke: wraps 2147483640
;; invoke: wraps 5
;; invoke: ne_across_zero -8
;; invoke: ne_across_zero 8
;; invoke: early_break 50
;; invoke: with_continue 30
;; invoke: early_return 30
;; invoke: early_return 3
;; invoke: br_table_exit 40
;; invoke: trap_in_iteration 4
;; invoke: with_call 20
;; invoke: with_grow 3
;; invoke: rectangular 6 7
;; invoke: triangular 12
;; invoke: with_result 9
;; invoke: running_min 40
;; invoke: parity_for 0
;; invoke: parity_for 31
;; invoke: skip_marked 60
(module
  (memory 1)

  ;; do { mem[i] = i; } while (++i < n), signed.
  (func (export "up_by_1") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (i32.store8 (local.get $i) (local.get $i))
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (local.get $i))

  ;; A byte offset by 4 up to n * 4, unsigned, bound first.
  (func (export "up_by_4") (param $n i32) (result i32)
    (local $i i32) (local $end i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (loop $l
      (i32.store offset=64 (local.get $i) (i32.add (local.get $i) (local.get $n)))
      (br_if $l (i32.gt_u (local.get $end)
                          (local.tee $i (i32.add (local.get $i) (i32.const 4))))))
    (local.get $i))

  ;; From n down by 3 while greater than -20, signed.
  (func (export "down_by_3") (param $n i32) (result i32)
    (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (local.get $n)))
      (i32.store (i32.const 8) (local.get $sum))
      (local.set $n (i32.sub (local.get $n) (i32.const 3)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const -20))))
    (local.get $sum))

  ;; `while (n--)`, the count down to zero clang emits: unsigned, tested
  ;; before the step.
  (func (export "unsigned_down") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.add (local.get $n) (i32.const -1)))
        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 3)) (local.get $n)))
        (i32.store (i32.const 16) (local.get $acc))
        (br $l)))
    (local.get $acc))

  ;; for (i = 0; i < n; i++): runs zero times for n = 0.
  (func (export "for_loop") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 offset=200 (local.get $i) (i32.const 7))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $i))

  ;; The bound comes from memory, read before the loop.
  (func (export "bound_in_memory") (param $n i32) (result i32)
    (local $i i32) (local $bound i32)
    (i32.store (i32.const 300) (local.get $n))
    (local.set $bound (i32.load (i32.const 300)))
    (loop $l
      (i32.store8 offset=304 (local.get $i) (local.get $bound))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $bound))))
    (local.get $i))

  ;; By 4 from `start` while greater than 100, signed: from near the top
  ;; the variable wraps around to the most negative value, which ends the
  ;; loop (its count is not known at its entry: it moves away from its
  ;; bound).
  (func (export "wraps") (param $start i32) (result i32)
    (local $i i32) (local $count i32)
    (local.set $i (local.get $start))
    (loop $l
      (local.set $count (i32.add (local.get $count) (i32.const 1)))
      (i32.store (i32.const 400) (local.get $count))
      (br_if $l (i32.gt_s (local.tee $i (i32.add (local.get $i) (i32.const 4)))
                          (i32.const 100))))
    (local.get $count))

  ;; By 4 from `start` until exactly 16, with `ne`: from -8 as an unsigned
  ;; value, it wraps through zero.
  (func (export "ne_across_zero") (param $start i32) (result i32)
    (local $i i32) (local $count i32)
    (local.set $i (local.get $start))
    (loop $l
      (local.set $count (i32.add (local.get $count) (i32.const 1)))
      (i32.store (i32.const 404) (local.get $i))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4)))
                        (i32.const 16))))
    (local.get $count))

  ;; A `br_if` out of the middle of a counted loop: not sliced.
  (func (export "early_break") (param $n i32) (result i32)
    (local $i i32)
    (block $out
      (loop $l
        (i32.store8 offset=500 (local.get $i) (i32.const 1))
        (br_if $out (i32.eq (local.get $i) (i32.const 23)))
        (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                            (local.get $n)))))
    (local.get $i))

  ;; A `continue` that skips the step's second half: not sliced.
  (func (export "with_continue") (param $n i32) (result i32)
    (local $i i32) (local $odd i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.and (local.get $i) (i32.const 1)))
      (local.set $odd (i32.add (local.get $odd) (local.get $i)))
      (i32.store (i32.const 600) (local.get $odd))
      (br_if $l (i32.lt_s (local.get $i) (local.get $n))))
    (local.get $odd))

  ;; `return` from inside the loop at i = 7.
  (func (export "early_return") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (i32.store8 offset=700 (local.get $i) (i32.const 2))
      (if (i32.eq (local.get $i) (i32.const 7)) (then (return (i32.const -1))))
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (local.get $i))

  ;; A `br_table` that leaves when i % 8 == 5 after i = 20.
  (func (export "br_table_exit") (param $n i32) (result i32)
    (local $i i32)
    (block $out
      (loop $l
        (i32.store8 offset=800 (local.get $i) (i32.const 3))
        (block $stay
          (br_table $stay $out
            (i32.and (i32.gt_u (local.get $i) (i32.const 20))
                     (i32.eq (i32.and (local.get $i) (i32.const 7)) (i32.const 5)))))
        (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                            (local.get $n)))))
    (local.get $i))

  ;; Iteration 5 would store out of bounds and trap; n = 4 completes.
  (func (export "trap_in_iteration") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (i32.store offset=900
        (select (i32.const 0x7fff0000) (i32.shl (local.get $i) (i32.const 2))
                (i32.eq (local.get $i) (i32.const 5)))
        (local.get $i))
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (local.get $i))

  (func $twice (param i32) (result i32) (i32.shl (local.get 0) (i32.const 1)))

  ;; A call in the loop: not sliced.
  (func (export "with_call") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (call $twice (local.get $i))))
      (i32.store (i32.const 1000) (local.get $acc))
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (local.get $acc))

  ;; memory.grow in the loop (a dynamic cost): not sliced.
  (func (export "with_grow") (param $n i32) (result i32)
    (local $i i32) (local $pages i32)
    (loop $l
      (local.set $pages (memory.grow (local.get $i)))
      (i32.store (i32.const 1004) (local.get $pages))
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (memory.size))

  ;; A rectangular nest: rows x cols stores.
  (func (export "rectangular") (param $rows i32) (param $cols i32) (result i32)
    (local $r i32) (local $c i32) (local $sum i32)
    (loop $outer
      (local.set $c (i32.const 0))
      (loop $inner
        (local.set $sum (i32.add (local.get $sum) (i32.mul (local.get $r) (local.get $c))))
        (i32.store8 offset=1100
          (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c))
          (local.get $sum))
        (br_if $inner (i32.lt_s (local.tee $c (i32.add (local.get $c) (i32.const 1)))
                                (local.get $cols))))
      (br_if $outer (i32.lt_s (local.tee $r (i32.add (local.get $r) (i32.const 1)))
                              (local.get $rows))))
    (local.get $sum))

  ;; A triangular nest: the inner loop runs r + 1 times.
  (func (export "triangular") (param $n i32) (result i32)
    (local $r i32) (local $c i32) (local $count i32)
    (loop $outer
      (local.set $c (i32.const 0))
      (loop $inner
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (i32.store16 offset=1300 (i32.shl (local.get $c) (i32.const 1)) (local.get $count))
        (br_if $inner (i32.le_s (local.tee $c (i32.add (local.get $c) (i32.const 1)))
                                (local.get $r))))
      (br_if $outer (i32.lt_s (local.tee $r (i32.add (local.get $r) (i32.const 1)))
                              (local.get $n))))
    (local.get $count))

  ;; A loop with a result: the sum it leaves on the stack.
  (func (export "with_result") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $l (result i32)
      (local.set $acc (i32.add (local.get $acc) (local.get $i)))
      (i32.store (i32.const 1400) (local.get $acc))
      (local.get $acc)
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (drop)
    (local.get $acc))
  ;; A conditional minimum update: the path without the store refunds.
  (func (export "running_min") (param $n i32) (result i32)
    (local $i i32) (local $min i32) (local $x i32)
    (local.set $min (i32.const 1000000))
    (loop $l
      (local.set $x (i32.rem_u (i32.mul (local.get $i) (i32.const 7919)) (i32.const 1009)))
      (if (i32.lt_s (local.get $x) (local.get $min))
        (then
          (local.set $min (local.get $x))
          (i32.store (i32.const 1500) (local.get $x))))
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (local.get $min))

  ;; A for loop with an if/else of different costs: its exit test pays
  ;; back what the cheaper arm refunded.
  (func (export "parity_for") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (if (i32.and (local.get $i) (i32.const 1))
          (then (local.set $acc (i32.add (local.get $acc)
                                         (i32.mul (local.get $i) (i32.const 3)))))
          (else (local.set $acc (i32.sub (local.get $acc) (local.get $i)))))
        (i32.store (i32.const 1504) (local.get $acc))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $acc))

  ;; `for (i = 1; i != n; i++) { if (marked[i]) continue; ... }` as clang
  ;; emits it: the variable is stepped once on each path, in the arm that
  ;; continues and in the rest of the body.
  (func (export "skip_marked") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (local.set $i (i32.const 1))
    (loop $l
      (block $next
        (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 3)))
          (then
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (local.set $sum (i32.add (local.get $sum)
                                 (local.tee $i (i32.add (local.get $i) (i32.const 1)))))
        (i32.store (i32.const 1508) (local.get $sum)))
      (br_if $l (i32.ne (local.get $i) (local.get $n))))
    (local.get $sum))
)
