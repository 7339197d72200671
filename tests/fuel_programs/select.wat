;; select and typed select (i32, i64, f64 and funcref operands) in loops:
;; branch-free min/max/abs/clamp.
;; invoke: minmax 100
;; invoke: clamp_sum -50 50
;; invoke: pick_ref 0
;; invoke: pick_ref 1
(module
  (type $v (func (result i32)))
  (table 1 funcref)
  (func $a (type $v) (i32.const 11))
  (func $b (type $v) (i32.const 22))
  (elem declare func $a $b)

  ;; Over x_i = (i * 7919) mod 1000 - 500: max - min of the i32s plus
  ;; the sum of |x| as i64 plus max as f64 (truncated).
  (func (export "minmax") (param $n i32) (result i64)
    (local $i i32) (local $x i32) (local $lo i32) (local $hi i32)
    (local $abs i64) (local $fmax f64)
    (local.set $lo (i32.const 0x7fffffff))
    (local.set $hi (i32.const 0x80000000))
    (local.set $fmax (f64.const -1e300))
    (loop $next
      (local.set $x
        (i32.sub (i32.rem_u (i32.mul (local.get $i) (i32.const 7919)) (i32.const 1000))
                 (i32.const 500)))
      (local.set $lo
        (select (local.get $x) (local.get $lo) (i32.lt_s (local.get $x) (local.get $lo))))
      (local.set $hi
        (select (result i32)
          (local.get $x) (local.get $hi) (i32.gt_s (local.get $x) (local.get $hi))))
      (local.set $abs
        (i64.add (local.get $abs)
          (select (result i64)
            (i64.extend_i32_s (local.get $x))
            (i64.extend_i32_s (i32.sub (i32.const 0) (local.get $x)))
            (i32.ge_s (local.get $x) (i32.const 0)))))
      (local.set $fmax
        (select (result f64)
          (f64.convert_i32_s (local.get $x)) (local.get $fmax)
          (f64.gt (f64.convert_i32_s (local.get $x)) (local.get $fmax))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (i64.add
      (i64.add (i64.extend_i32_s (i32.sub (local.get $hi) (local.get $lo))) (local.get $abs))
      (i64.trunc_f64_s (local.get $fmax))))

  ;; Sum over i in [lo, hi) of clamp(i * 3, -40, 40).
  (func (export "clamp_sum") (param $lo i32) (param $hi i32) (result i32)
    (local $acc i32) (local $v i32)
    (loop $next
      (local.set $v (i32.mul (local.get $lo) (i32.const 3)))
      (local.set $v
        (select (i32.const -40) (local.get $v) (i32.lt_s (local.get $v) (i32.const -40))))
      (local.set $v
        (select (i32.const 40) (local.get $v) (i32.gt_s (local.get $v) (i32.const 40))))
      (local.set $acc (i32.add (local.get $acc) (local.get $v)))
      (local.set $lo (i32.add (local.get $lo) (i32.const 1)))
      (br_if $next (i32.lt_s (local.get $lo) (local.get $hi))))
    (local.get $acc))

  ;; A funcref chosen by typed select, stored and called.
  (func (export "pick_ref") (param $which i32) (result i32)
    (table.set (i32.const 0)
      (select (result funcref) (ref.func $a) (ref.func $b) (local.get $which)))
    (call_indirect (type $v) (i32.const 0))))
