;; `br_table` as a switch: dense cases, shared targets, an out-of-range
;; index falling to the default, a `br_table` that carries a value to its
;; targets, and one with only a default.
;; invoke: classify_all 40
;; invoke: with_value 0
;; invoke: with_value 1
;; invoke: with_value 3
;; invoke: with_value -7
;; invoke: only_default 5
(module
  ;; 0 -> 10, 1 and 2 -> 20, 3 -> 30, anything else -> 99.
  (func $classify (param $x i32) (result i32)
    (block $c3
      (block $c12
        (block $c0
          (block $default
            (br_table $c0 $c12 $c12 $c3 $default (local.get $x)))
          (return (i32.const 99)))
        (return (i32.const 10)))
      (return (i32.const 20)))
    (i32.const 30))

  ;; Sums classify(i mod 6) for i in [-3, n).
  (func (export "classify_all") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (local.set $i (i32.const -3))
    (loop $next
      (local.set $acc
        (i32.add (local.get $acc) (call $classify (i32.rem_s (local.get $i) (i32.const 6)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_s (local.get $i) (local.get $n))))
    (local.get $acc))

  ;; The value 100 + x travels through the br_table to the chosen block.
  (func (export "with_value") (param $x i32) (result i32)
    (block $b (result i32)
      (block $a (result i32)
        (br_table $a $b $a (i32.add (local.get $x) (i32.const 100)) (local.get $x)))
      (i32.const 1000)
      (i32.add))
    (i32.const 7)
    (i32.mul))

  (func (export "only_default") (param $x i32) (result i32)
    (block $d (result i32)
      (br_table $d (local.get $x) (local.get $x))
      (drop)
      (i32.const 0))))
