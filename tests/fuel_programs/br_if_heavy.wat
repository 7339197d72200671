;; br_if-heavy control flow: Collatz step counting with conditional exits
;; at several depths, br_if carrying a value out of a block, and a digit
;; classifier built from a ladder of br_ifs.
;; invoke: collatz_max 1
;; invoke: collatz_max 300
;; invoke: digit_classes 12345678
;; invoke: first_multiple 7 1000
;; invoke: first_multiple 1001 1000
(module
  (func $collatz (param $n i32) (result i32)
    (local $steps i32)
    (block $done
      (loop $next
        (br_if $done (i32.le_u (local.get $n) (i32.const 1)))
        (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
        (if (i32.and (local.get $n) (i32.const 1))
          (then
            (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 3)) (i32.const 1)))
            (br $next)))
        (local.set $n (i32.shr_u (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $steps))

  ;; The longest Collatz run below n, as start * 1000 + steps.
  (func (export "collatz_max") (param $n i32) (result i32)
    (local $i i32) (local $best i32) (local $best_i i32) (local $s i32)
    (local.set $i (i32.const 1))
    (loop $next
      (local.set $s (call $collatz (local.get $i)))
      (if (i32.gt_u (local.get $s) (local.get $best))
        (then
          (local.set $best (local.get $s))
          (local.set $best_i (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (i32.add (i32.mul (local.get $best_i) (i32.const 1000)) (local.get $best)))

  ;; Per decimal digit: 1 for 0, 10 for 1-3, 100 for 4-6, 1000 for 7-9.
  (func (export "digit_classes") (param $x i32) (result i32)
    (local $d i32) (local $acc i32)
    (loop $next
      (local.set $d (i32.rem_u (local.get $x) (i32.const 10)))
      (local.set $acc
        (i32.add (local.get $acc)
          (block $class (result i32)
            (drop (br_if $class (i32.const 1) (i32.eqz (local.get $d))))
            (drop (br_if $class (i32.const 10) (i32.le_u (local.get $d) (i32.const 3))))
            (drop (br_if $class (i32.const 100) (i32.le_u (local.get $d) (i32.const 6))))
            (i32.const 1000))))
      (local.set $x (i32.div_u (local.get $x) (i32.const 10)))
      (br_if $next (local.get $x)))
    (local.get $acc))

  ;; The first multiple of k in [1, limit], or 0.
  (func (export "first_multiple") (param $k i32) (param $limit i32) (result i32)
    (local $i i32)
    (block $found (result i32)
      (loop $next
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (drop (br_if $found (local.get $i) (i32.eqz (i32.rem_u (local.get $i) (local.get $k)))))
        (br_if $next (i32.lt_u (local.get $i) (local.get $limit))))
      (i32.const 0))))
