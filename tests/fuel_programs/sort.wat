;; Sorting i32 arrays in linear memory: insertion sort (nested loops with a
;; data-dependent inner exit) and a recursive quicksort (Lomuto partition),
;; on pseudo-random data; returns a checksum after checking the order.
;; invoke: insertion 1
;; invoke: insertion 200
;; invoke: quick 1
;; invoke: quick 2000
(module
  (memory 1)

  ;; a[i] = xorshift values, i < n; a[i] is at address 4 + 4i.
  (func $fill (param $n i32)
    (local $i i32) (local $x i32)
    (local.set $x (i32.const 2463534242))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
        (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
        (i32.store offset=4 (i32.shl (local.get $i) (i32.const 2))
          (i32.rem_s (local.get $x) (i32.const 100000)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; -1 if a[0..n) is not sorted, else a weighted checksum.
  (func $check (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.and (i32.gt_u (local.get $i) (i32.const 0))
              (i32.lt_s (i32.load offset=4 (i32.shl (local.get $i) (i32.const 2)))
                        (i32.load (i32.shl (local.get $i) (i32.const 2)))))
          (then (return (i32.const -1))))
        (local.set $acc
          (i32.add (local.get $acc)
            (i32.mul (i32.load offset=4 (i32.shl (local.get $i) (i32.const 2)))
                     (i32.add (local.get $i) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))

  (func (export "insertion") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $key i32)
    (call $fill (local.get $n))
    (local.set $i (i32.const 1))
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $key (i32.load offset=4 (i32.shl (local.get $i) (i32.const 2))))
        (local.set $j (local.get $i))
        (block $placed
          (loop $shift
            (br_if $placed (i32.eqz (local.get $j)))
            (br_if $placed
              (i32.le_s (i32.load (i32.shl (local.get $j) (i32.const 2))) (local.get $key)))
            (i32.store offset=4 (i32.shl (local.get $j) (i32.const 2))
              (i32.load (i32.shl (local.get $j) (i32.const 2))))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br $shift)))
        (i32.store offset=4 (i32.shl (local.get $j) (i32.const 2)) (local.get $key))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (call $check (local.get $n)))

  (func $swap (param $i i32) (param $j i32)
    (local $t i32)
    (local.set $t (i32.load offset=4 (i32.shl (local.get $i) (i32.const 2))))
    (i32.store offset=4 (i32.shl (local.get $i) (i32.const 2))
      (i32.load offset=4 (i32.shl (local.get $j) (i32.const 2))))
    (i32.store offset=4 (i32.shl (local.get $j) (i32.const 2)) (local.get $t)))

  ;; Sorts a[lo..=hi].
  (func $quicksort (param $lo i32) (param $hi i32)
    (local $pivot i32) (local $i i32) (local $j i32)
    (if (i32.ge_s (local.get $lo) (local.get $hi)) (then (return)))
    (local.set $pivot (i32.load offset=4 (i32.shl (local.get $hi) (i32.const 2))))
    (local.set $i (local.get $lo))
    (local.set $j (local.get $lo))
    (loop $scan
      (if (i32.lt_s (i32.load offset=4 (i32.shl (local.get $j) (i32.const 2))) (local.get $pivot))
        (then
          (call $swap (local.get $i) (local.get $j))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $scan (i32.lt_s (local.get $j) (local.get $hi))))
    (call $swap (local.get $i) (local.get $hi))
    (call $quicksort (local.get $lo) (i32.sub (local.get $i) (i32.const 1)))
    (call $quicksort (i32.add (local.get $i) (i32.const 1)) (local.get $hi)))

  (func (export "quick") (param $n i32) (result i32)
    (call $fill (local.get $n))
    (call $quicksort (i32.const 0) (i32.sub (local.get $n) (i32.const 1)))
    (call $check (local.get $n))))
