;; if/else shapes: an if without else, else-if chains with results, ifs
;; nested in both arms, and an if whose arms end in br to different
;; depths, all in a loop over a range of inputs.
;; invoke: grade_sum 0
;; invoke: grade_sum 101
;; invoke: fizzbuzz 100
(module
  (func $grade (param $score i32) (result i32)
    (if (result i32) (i32.ge_u (local.get $score) (i32.const 90))
      (then (i32.const 4))
      (else
        (if (result i32) (i32.ge_u (local.get $score) (i32.const 80))
          (then (i32.const 3))
          (else
            (if (result i32) (i32.ge_u (local.get $score) (i32.const 65))
              (then
                (if (result i32) (i32.and (local.get $score) (i32.const 1))
                  (then (i32.const 2))
                  (else (i32.const 20))))
              (else (i32.const 0))))))))

  (func (export "grade_sum") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (call $grade (local.get $i))))
        (if (i32.eq (local.get $i) (i32.const 50))
          (then (local.set $acc (i32.add (local.get $acc) (i32.const 1000)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))

  ;; Sums 1 per fizz, 10 per buzz, 100 per fizzbuzz and i otherwise, for
  ;; i in [1, n]; multiples of 7 skip the rest of the iteration.
  (func (export "fizzbuzz") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $done (i32.gt_u (local.get $i) (local.get $n)))
        (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 7)))
          (then (br $next)))
        (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 3)))
          (then
            (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 5)))
              (then (local.set $acc (i32.add (local.get $acc) (i32.const 100))))
              (else (local.set $acc (i32.add (local.get $acc) (i32.const 1))))))
          (else
            (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 5)))
              (then (local.set $acc (i32.add (local.get $acc) (i32.const 10))))
              (else
                (local.set $acc (i32.add (local.get $acc) (local.get $i)))
                (br $next)))))
        (br $next)))
    (local.get $acc)))
