;; Indirect calls through two tables (a non-zero table index), with entries
;; placed by active segments, by `ref.func` + `table.set`, and a declared
;; element segment; "objects" in memory carry a vtable base index.
;; invoke: area_sum 0
;; invoke: area_sum 9
;; invoke: rebind 6
(module
  (type $shape (func (param i32) (result i32)))
  (type $combine (func (param i32 i32) (result i32)))
  (table $vt 6 funcref)
  (table $ops 2 funcref)
  (memory 1)
  ;; vtable 0 (square) = [area, perimeter], vtable 2 (rect) = [area, perimeter],
  ;; vtable 4 (triangle) = [area, perimeter].
  (elem (table $vt) (i32.const 0)
    func $sq_area $sq_perim $rect_area $rect_perim $tri_area $tri_perim)
  (elem (table $ops) (i32.const 0) func $plus $max)
  (elem declare func $min)

  ;; An object at address a: [vtable base i32][w i32][h i32].
  (func $sq_area (type $shape)
    (i32.mul (i32.load offset=4 (local.get 0)) (i32.load offset=4 (local.get 0))))
  (func $sq_perim (type $shape)
    (i32.shl (i32.load offset=4 (local.get 0)) (i32.const 2)))
  (func $rect_area (type $shape)
    (i32.mul (i32.load offset=4 (local.get 0)) (i32.load offset=8 (local.get 0))))
  (func $rect_perim (type $shape)
    (i32.shl
      (i32.add (i32.load offset=4 (local.get 0)) (i32.load offset=8 (local.get 0)))
      (i32.const 1)))
  (func $tri_area (type $shape)
    (i32.shr_u
      (i32.mul (i32.load offset=4 (local.get 0)) (i32.load offset=8 (local.get 0)))
      (i32.const 1)))
  (func $tri_perim (type $shape)
    (i32.mul (i32.load offset=4 (local.get 0)) (i32.const 3)))
  (func $plus (type $combine) (i32.add (local.get 0) (local.get 1)))
  (func $max (type $combine)
    (select (local.get 0) (local.get 1) (i32.gt_s (local.get 0) (local.get 1))))
  (func $min (type $combine)
    (select (local.get 0) (local.get 1) (i32.lt_s (local.get 0) (local.get 1))))

  ;; Builds n objects at 16*i (kind i mod 3, w = i + 1, h = 2i + 1) and folds
  ;; area(o) + perimeter(o) with the combiner in $ops[op].
  (func $fold (param $n i32) (param $op i32) (result i32)
    (local $i i32) (local $obj i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $obj (i32.shl (local.get $i) (i32.const 4)))
        (i32.store (local.get $obj)
          (i32.shl (i32.rem_u (local.get $i) (i32.const 3)) (i32.const 1)))
        (i32.store offset=4 (local.get $obj) (i32.add (local.get $i) (i32.const 1)))
        (i32.store offset=8 (local.get $obj)
          (i32.add (i32.shl (local.get $i) (i32.const 1)) (i32.const 1)))
        (local.set $acc
          (call_indirect $ops (type $combine)
            (local.get $acc)
            (i32.add
              (call_indirect $vt (type $shape) (local.get $obj) (i32.load (local.get $obj)))
              (call_indirect $vt (type $shape)
                (local.get $obj) (i32.add (i32.load (local.get $obj)) (i32.const 1))))
            (local.get $op)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))

  (func (export "area_sum") (param $n i32) (result i32)
    (call $fold (local.get $n) (i32.const 0)))

  ;; Folds with max, then replaces max by min with table.set and folds again.
  (func (export "rebind") (param $n i32) (result i32)
    (local $largest i32)
    (local.set $largest (call $fold (local.get $n) (i32.const 1)))
    (table.set $ops (i32.const 1) (ref.func $min))
    (i32.sub (local.get $largest) (call $fold (local.get $n) (i32.const 1)))))
