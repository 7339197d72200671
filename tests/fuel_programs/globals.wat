;; Globals: mutable i32/i64/f64 globals updated in loops (a linear
;; congruential generator and running statistics), an immutable global,
;; and a global-based call counter across recursive calls.
;; invoke: lcg_stats 1
;; invoke: lcg_stats 500
;; invoke: counted_depth 30
(module
  (global $seed (mut i64) (i64.const 88172645463325252))
  (global $calls (mut i32) (i32.const 0))
  (global $sum (mut i64) (i64.const 0))
  (global $mean (mut f64) (f64.const 0))
  (global $scale i32 (i32.const 1000))

  (func $next_random (result i32)
    (global.set $seed
      (i64.add (i64.mul (global.get $seed) (i64.const 6364136223846793005))
               (i64.const 1442695040888963407)))
    (i32.wrap_i64 (i64.shr_u (global.get $seed) (i64.const 33))))

  ;; n random numbers below 1000: their sum, plus the truncated mean.
  (func (export "lcg_stats") (param $n i32) (result i64)
    (local $i i32)
    (loop $next
      (global.set $sum
        (i64.add (global.get $sum)
          (i64.extend_i32_u (i32.rem_u (call $next_random) (global.get $scale)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (global.set $mean
      (f64.div (f64.convert_i64_u (global.get $sum)) (f64.convert_i32_u (local.get $n))))
    (i64.add (global.get $sum) (i64.trunc_f64_u (global.get $mean))))

  (func $descend (param $d i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (local.get $d)
      (then
        (call $descend (i32.sub (local.get $d) (i32.const 1)))
        (call $descend (i32.shr_u (local.get $d) (i32.const 2))))))

  (func (export "counted_depth") (param $d i32) (result i32)
    (call $descend (local.get $d))
    (global.get $calls)))
