;; Nested loops: a multiplication-table sum (two counted loops), a
;; triangular triple loop, and a `br 2` that leaves both loops at once.
;; invoke: table_sum 0 5
;; invoke: table_sum 12 12
;; invoke: triangle 9
;; invoke: find_pair 37
;; invoke: find_pair 1000
(module
  (func (export "table_sum") (param $rows i32) (param $cols i32) (result i32)
    (local $i i32) (local $j i32) (local $acc i32)
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $cols_done
          (loop $col
            (br_if $cols_done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $acc
              (i32.add (local.get $acc)
                (i32.mul (i32.add (local.get $i) (i32.const 1))
                         (i32.add (local.get $j) (i32.const 1)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $col)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row)))
    (local.get $acc))

  ;; Counts the triples i < j < k < n.
  (func (export "triangle") (param $n i32) (result i64)
    (local $i i32) (local $j i32) (local $k i32) (local $count i64)
    (loop $li
      (local.set $j (i32.add (local.get $i) (i32.const 1)))
      (loop $lj
        (local.set $k (i32.add (local.get $j) (i32.const 1)))
        (loop $lk
          (if (i32.lt_u (local.get $k) (local.get $n))
            (then (local.set $count (i64.add (local.get $count) (i64.const 1)))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $lk (i32.lt_u (local.get $k) (local.get $n))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $lj (i32.lt_u (local.get $j) (local.get $n))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $li (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $count))

  ;; The first (a, b) with 1 <= a <= b < 64 and a*a + b*b == target, as
  ;; a*64 + b, or -1.
  (func (export "find_pair") (param $target i32) (result i32)
    (local $a i32) (local $b i32) (local $found i32)
    (local.set $found (i32.const -1))
    (local.set $a (i32.const 1))
    (block $out
      (loop $la
        (local.set $b (local.get $a))
        (loop $lb
          (if (i32.eq (local.get $target)
                (i32.add (i32.mul (local.get $a) (local.get $a))
                         (i32.mul (local.get $b) (local.get $b))))
            (then
              (local.set $found
                (i32.add (i32.mul (local.get $a) (i32.const 64)) (local.get $b)))
              (br $out)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $lb (i32.lt_u (local.get $b) (i32.const 64))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br_if $la (i32.lt_u (local.get $a) (i32.const 64)))))
    (local.get $found)))
