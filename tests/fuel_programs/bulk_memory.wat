;; Bulk memory: memory.init from passive data segments, memory.copy
;; (overlapping, both directions, zero length), memory.fill, data.drop (and
;; a zero-length init of a dropped segment, which is allowed), then a
;; checksum of the region touched.
;; invoke: shuffle 0
;; invoke: shuffle 100
;; invoke: shuffle 4000
;; invoke: fill_sum 0
;; invoke: fill_sum 65536
(module
  (memory 1)
  (data $text "The quick brown fox jumps over the lazy dog.")
  (data $pattern "\01\02\03\04\05\06\07\08")

  (func $checksum (param $from i32) (param $len i32) (result i32)
    (local $acc i32) (local $end i32)
    (local.set $end (i32.add (local.get $from) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $from) (local.get $end)))
        (local.set $acc
          (i32.add (i32.mul (local.get $acc) (i32.const 31)) (i32.load8_u (local.get $from))))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (br $next)))
    (local.get $acc))

  ;; Places the text at 0 and the pattern n times at 64.., slides regions
  ;; around with overlapping copies, clears a stripe and checksums.
  (func (export "shuffle") (param $n i32) (result i32)
    (local $i i32)
    (memory.init $text (i32.const 0) (i32.const 0) (i32.const 44))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (memory.init $pattern
          (i32.add (i32.const 64) (i32.shl (local.get $i) (i32.const 3)))
          (i32.and (local.get $i) (i32.const 7))
          (i32.sub (i32.const 8) (i32.and (local.get $i) (i32.const 7))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (data.drop $pattern)
    (memory.init $pattern (i32.const 0) (i32.const 0) (i32.const 0))
    ;; Overlapping forward and backward copies, then one of length zero.
    (memory.copy (i32.const 10) (i32.const 0) (i32.const 40))
    (memory.copy (i32.const 0) (i32.const 20) (i32.const 30))
    (memory.copy (i32.const 100) (i32.const 0) (i32.const 0))
    (memory.copy
      (i32.const 32768) (i32.const 64) (i32.shl (local.get $n) (i32.const 3)))
    (memory.fill (i32.const 5) (i32.const 0x2a) (i32.const 7))
    (i32.xor
      (call $checksum (i32.const 0) (i32.const 64))
      (call $checksum (i32.const 32768) (i32.shl (local.get $n) (i32.const 3)))))

  ;; Fills n bytes with 3 at address 0 and sums every 4096th byte.
  (func (export "fill_sum") (param $n i32) (result i32)
    (local $addr i32) (local $acc i32)
    (memory.fill (i32.const 0) (i32.const 3) (local.get $n))
    (loop $next
      (local.set $acc (i32.add (local.get $acc) (i32.load8_u (local.get $addr))))
      (local.set $addr (i32.add (local.get $addr) (i32.const 4096)))
      (br_if $next (i32.lt_u (local.get $addr) (i32.const 65536))))
    (local.get $acc)))
