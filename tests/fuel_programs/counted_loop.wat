;; Counted loops: a sum 1..n with the test at the bottom (br_if back to the
;; loop) and a countdown with the test at the top (br_if out of a block).
;; invoke: sum_to 0
;; invoke: sum_to 1
;; invoke: sum_to 1000
;; invoke: countdown 0
;; invoke: countdown 257
(module
  (func (export "sum_to") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (local.set $i (i32.const 1))
    (loop $next
      (local.set $acc (i32.add (local.get $acc) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.le_s (local.get $i) (local.get $n))))
    (local.get $acc))

  (func (export "countdown") (param $n i32) (result i32)
    (local $steps i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (local.set $steps (i32.add (local.get $steps) (i32.const 3)))
        (br $next)))
    (local.get $steps)))
