;; Table instructions: table.size, table.grow (success and failure against
;; the maximum), table.fill, table.copy (overlapping), table.init from a
;; passive segment, elem.drop, table.get/ref.is_null and table.set, with
;; calls through the resulting entries.
;; invoke: grow_and_fill 3
;; invoke: grow_and_fill 20
;; invoke: shuffle 0
;; invoke: shuffle 5
;; invoke: count_null 0
(module
  (type $unary (func (param i32) (result i32)))
  (table $t 4 16 funcref)
  (table $spare 0 funcref)
  (elem $fns func $one $two $three $four)
  (elem declare func $ten)

  (func $one (type $unary) (i32.add (local.get 0) (i32.const 1)))
  (func $two (type $unary) (i32.add (local.get 0) (i32.const 2)))
  (func $three (type $unary) (i32.add (local.get 0) (i32.const 3)))
  (func $four (type $unary) (i32.add (local.get 0) (i32.const 4)))
  (func $ten (type $unary) (i32.add (local.get 0) (i32.const 10)))

  ;; Calls every non-null entry of $t on an accumulator.
  (func $run_all (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (table.size $t)))
        (if (i32.eqz (ref.is_null (table.get $t (local.get $i))))
          (then
            (local.set $acc
              (call_indirect $t (type $unary) (local.get $acc) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))

  ;; Grows $t by n filled with $ten (fails past the maximum of 16), grows
  ;; the unbounded $spare by n, and returns
  ;; old size * 10000 + run_all() * 10 + table.size $spare.
  (func (export "grow_and_fill") (param $n i32) (result i32)
    (local $old i32)
    (table.init $t $fns (i32.const 0) (i32.const 0) (i32.const 4))
    (local.set $old (table.grow $t (ref.func $ten) (local.get $n)))
    (drop (table.grow $spare (ref.null func) (local.get $n)))
    (i32.add
      (i32.add
        (i32.mul (local.get $old) (i32.const 10000))
        (i32.mul (call $run_all) (i32.const 10)))
      (table.size $spare)))

  ;; Loads the segment, then overlapping copies, a fill with null and a
  ;; table.set; n extra copies of entry 0 over entry 1.
  (func (export "shuffle") (param $n i32) (result i32)
    (local $i i32)
    (table.init $t $fns (i32.const 0) (i32.const 0) (i32.const 4))
    (elem.drop $fns)
    (table.init $t $fns (i32.const 4) (i32.const 0) (i32.const 0))
    (table.copy $t $t (i32.const 1) (i32.const 0) (i32.const 3))
    (table.copy $t $t (i32.const 0) (i32.const 1) (i32.const 3))
    (drop (table.grow $t (ref.null func) (i32.const 4)))
    (table.fill $t (i32.const 4) (ref.func $ten) (i32.const 3))
    (table.set $t (i32.const 5) (ref.null func))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (table.copy $t $t (i32.const 1) (i32.const 0) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $run_all))

  ;; Counts null entries of $t after filling the 4 + n slots with null.
  (func (export "count_null") (param $n i32) (result i32)
    (local $i i32) (local $nulls i32)
    (drop (table.grow $t (ref.null func) (local.get $n)))
    (table.fill $t (i32.const 0) (ref.null func) (table.size $t))
    (loop $next
      (local.set $nulls
        (i32.add (local.get $nulls) (ref.is_null (table.get $t (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (table.size $t))))
    (local.get $nulls)))
