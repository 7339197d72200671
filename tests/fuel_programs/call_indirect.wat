;; Indirect calls through one table holding functions of several
;; signatures: each call site names its type, and the index is computed at
;; run time (including from a loop counter).
;; invoke: dispatch 0 7
;; invoke: dispatch 3 7
;; invoke: mixed 12
;; invoke: apply_all 50
(module
  (type $unary (func (param i32) (result i32)))
  (type $binary (func (param i32 i32) (result i32)))
  (type $wide (func (param i64) (result i64)))
  (type $nullary (func (result i32)))
  (table 8 funcref)
  (elem (i32.const 0) $double $square $negate $inc $add $mul $widen $seven)

  (func $double (type $unary) (i32.shl (local.get 0) (i32.const 1)))
  (func $square (type $unary) (i32.mul (local.get 0) (local.get 0)))
  (func $negate (type $unary) (i32.sub (i32.const 0) (local.get 0)))
  (func $inc (type $unary) (i32.add (local.get 0) (i32.const 1)))
  (func $add (type $binary) (i32.add (local.get 0) (local.get 1)))
  (func $mul (type $binary) (i32.mul (local.get 0) (local.get 1)))
  (func $widen (type $wide) (i64.mul (local.get 0) (i64.const 0x100000001)))
  (func $seven (type $nullary) (i32.const 7))

  (func (export "dispatch") (param $f i32) (param $x i32) (result i32)
    (call_indirect (type $unary) (local.get $x) (local.get $f)))

  ;; Calls every signature: unary f(x), binary, wide and nullary.
  (func (export "mixed") (param $x i32) (result i64)
    (i64.add
      (i64.extend_i32_s
        (call_indirect (type $binary)
          (call_indirect (type $unary) (local.get $x) (i32.const 1))
          (call_indirect (type $nullary) (i32.const 7))
          (i32.const 5)))
      (call_indirect (type $wide) (i64.extend_i32_u (local.get $x)) (i32.const 6))))

  ;; Applies the four unary functions in turn, n times.
  (func (export "apply_all") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (local.set $acc (i32.const 1))
    (loop $next
      (local.set $acc
        (call_indirect (type $unary)
          (local.get $acc)
          (i32.and (local.get $i) (i32.const 3))))
      (local.set $acc (i32.and (local.get $acc) (i32.const 0xffff)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))
