;; i64 arithmetic: mul, div/rem (signed and unsigned), shifts, rotations,
;; clz/ctz/popcnt and comparisons, through gcd, modular exponentiation and
;; a bit-counting sweep.
;; invoke: gcd 1071 462
;; invoke: gcd 2880067194370816120 1779979416004714189
;; invoke: modpow 3 1000000 1000000007
;; invoke: modpow 2 0 7
;; invoke: bits 64
;; invoke: signed_ops -1234567890123 97
(module
  (func (export "gcd") (param $a i64) (param $b i64) (result i64)
    (local $t i64)
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $b)))
        (local.set $t (i64.rem_u (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (br $next)))
    (local.get $a))

  ;; base^exp mod m by squaring; m below 2^31 so products fit.
  (func (export "modpow") (param $base i64) (param $exp i64) (param $m i64) (result i64)
    (local $r i64)
    (local.set $r (i64.const 1))
    (local.set $base (i64.rem_u (local.get $base) (local.get $m)))
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $exp)))
        (if (i64.ne (i64.and (local.get $exp) (i64.const 1)) (i64.const 0))
          (then
            (local.set $r (i64.rem_u (i64.mul (local.get $r) (local.get $base)) (local.get $m)))))
        (local.set $base (i64.rem_u (i64.mul (local.get $base) (local.get $base)) (local.get $m)))
        (local.set $exp (i64.shr_u (local.get $exp) (i64.const 1)))
        (br $next)))
    (i64.rem_u (local.get $r) (local.get $m)))

  ;; Sum over i < n of clz(x) + ctz(x) * 3 + popcnt(x) * 7 for x = rotl(i*k, i).
  (func (export "bits") (param $n i32) (result i64)
    (local $i i64) (local $x i64) (local $acc i64)
    (loop $next
      (local.set $x
        (i64.rotl (i64.mul (i64.add (local.get $i) (i64.const 1)) (i64.const 0x2545f4914f6cdd1d))
                  (local.get $i)))
      (local.set $acc
        (i64.add (local.get $acc)
          (i64.add (i64.clz (local.get $x))
            (i64.add (i64.mul (i64.ctz (local.get $x)) (i64.const 3))
                     (i64.mul (i64.popcnt (local.get $x)) (i64.const 7))))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $next (i64.lt_u (local.get $i) (i64.extend_i32_u (local.get $n)))))
    (local.get $acc))

  (func (export "signed_ops") (param $a i64) (param $b i64) (result i64 i64 i64 i64 i32)
    (i64.div_s (local.get $a) (local.get $b))
    (i64.rem_s (local.get $a) (local.get $b))
    (i64.shr_s (local.get $a) (i64.and (local.get $b) (i64.const 63)))
    (i64.rotr (local.get $a) (local.get $b))
    (i32.add
      (i64.lt_s (local.get $a) (local.get $b))
      (i32.shl (i64.ge_u (local.get $a) (local.get $b)) (i32.const 1)))))
