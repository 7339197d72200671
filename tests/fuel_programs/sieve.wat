;; Sieve of Eratosthenes over a byte array in linear memory (memory.fill to
;; clear it), counting primes below n and summing the last few.
;; invoke: count_primes 2
;; invoke: count_primes 100
;; invoke: count_primes 60000
;; invoke: last_primes_sum 1000
(module
  (memory 1)

  (func $sieve (param $n i32)
    (local $i i32) (local $j i32)
    (memory.fill (i32.const 0) (i32.const 1) (local.get $n))
    (i32.store8 (i32.const 0) (i32.const 0))
    (i32.store8 (i32.const 1) (i32.const 0))
    (local.set $i (i32.const 2))
    (block $done
      (loop $outer
        (br_if $done (i32.gt_u (i32.mul (local.get $i) (local.get $i)) (local.get $n)))
        (if (i32.load8_u (local.get $i))
          (then
            (local.set $j (i32.mul (local.get $i) (local.get $i)))
            (block $inner_done
              (loop $inner
                (br_if $inner_done (i32.ge_u (local.get $j) (local.get $n)))
                (i32.store8 (local.get $j) (i32.const 0))
                (local.set $j (i32.add (local.get $j) (local.get $i)))
                (br $inner)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer))))

  (func (export "count_primes") (param $n i32) (result i32)
    (local $i i32) (local $count i32)
    (call $sieve (local.get $n))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $count (i32.add (local.get $count) (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $count))

  ;; The sum of the five largest primes below n, scanning down.
  (func (export "last_primes_sum") (param $n i32) (result i32)
    (local $left i32) (local $sum i32)
    (call $sieve (local.get $n))
    (local.set $left (i32.const 5))
    (loop $next
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (if (i32.load8_u (local.get $n))
        (then
          (local.set $sum (i32.add (local.get $sum) (local.get $n)))
          (local.set $left (i32.sub (local.get $left) (i32.const 1)))))
      (br_if $next
        (i32.and (i32.ne (local.get $left) (i32.const 0)) (i32.gt_u (local.get $n) (i32.const 2)))))
    (local.get $sum)))
