;; SHA-256-style mixing: the SHA-256 compression function (message
;; schedule, 64 rounds with rotations, xors, and/not and additions, round
;; constants loaded from a data segment) applied to n blocks derived from a
;; seed; returns the first and last state words.
;; invoke: digest 1 0
;; invoke: digest 4 12345
;; invoke: abc
(module
  (memory 1)
  ;; Round constants K[0..64) at 0.
  (data (i32.const 0)
    "\98\2f\8a\42\91\44\37\71\cf\fb\c0\b5\a5\db\b5\e9"
    "\5b\c2\56\39\f1\11\f1\59\a4\82\3f\92\d5\5e\1c\ab"
    "\98\aa\07\d8\01\5b\83\12\be\85\31\24\c3\7d\0c\55"
    "\74\5d\be\72\fe\b1\de\80\a7\06\dc\9b\74\f1\9b\c1"
    "\c1\69\9b\e4\86\47\be\ef\c6\9d\c1\0f\cc\a1\0c\24"
    "\6f\2c\e9\2d\aa\84\74\4a\dc\a9\b0\5c\da\88\f9\76"
    "\52\51\3e\98\6d\c6\31\a8\c8\27\03\b0\c7\7f\59\bf"
    "\f3\0b\e0\c6\47\91\a7\d5\51\63\ca\06\67\29\29\14"
    "\85\0a\b7\27\38\21\1b\2e\fc\6d\2c\4d\13\0d\38\53"
    "\54\73\0a\65\bb\0a\6a\76\2e\c9\c2\81\85\2c\72\92"
    "\a1\e8\bf\a2\4b\66\1a\a8\70\8b\4b\c2\a3\51\6c\c7"
    "\19\e8\92\d1\24\06\99\d6\85\35\0e\f4\70\a0\6a\10"
    "\16\c1\a4\19\08\6c\37\1e\4c\77\48\27\b5\bc\b0\34"
    "\b3\0c\1c\39\4a\aa\d8\4e\4f\ca\9c\5b\f3\6f\2e\68"
    "\ee\82\8f\74\6f\63\a5\78\14\78\c8\84\08\02\c7\8c"
    "\fa\ff\be\90\eb\6c\50\a4\f7\a3\f9\be\f2\78\71\c6")
  ;; Initial state H[0..8) at 256.
  (data (i32.const 256)
    "\67\e6\09\6a\85\ae\67\bb\72\f3\6e\3c\3a\f5\4f\a5"
    "\7f\52\0e\51\8c\68\05\9b\ab\d9\83\1f\19\cd\e0\5b")
  ;; The padded one-block message "abc" at 384, each word stored so that
  ;; i32.load reads its big-endian value.
  (data (i32.const 384) "\80\63\62\61")
  (data (i32.const 440) "\00\00\00\00\18\00\00\00")

  ;; W[0..64) at 512; W[0..16) must be filled by the caller.
  (func $schedule
    (local $t i32) (local $w15 i32) (local $w2 i32)
    (local.set $t (i32.const 16))
    (loop $next
      (local.set $w15 (i32.load offset=452 (i32.shl (local.get $t) (i32.const 2))))
      (local.set $w2 (i32.load offset=504 (i32.shl (local.get $t) (i32.const 2))))
      (i32.store offset=512 (i32.shl (local.get $t) (i32.const 2))
        (i32.add
          (i32.add (i32.load offset=448 (i32.shl (local.get $t) (i32.const 2)))
                   (i32.load offset=484 (i32.shl (local.get $t) (i32.const 2))))
          (i32.add
            (i32.xor (i32.xor (i32.rotr (local.get $w15) (i32.const 7))
                              (i32.rotr (local.get $w15) (i32.const 18)))
                     (i32.shr_u (local.get $w15) (i32.const 3)))
            (i32.xor (i32.xor (i32.rotr (local.get $w2) (i32.const 17))
                              (i32.rotr (local.get $w2) (i32.const 19)))
                     (i32.shr_u (local.get $w2) (i32.const 10))))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $t) (i32.const 64)))))

  ;; Adds $v to the state word at address $at.
  (func $add_state (param $at i32) (param $v i32)
    (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (local.get $v))))

  ;; One compression of W into the state at 256.
  (func $compress
    (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $e i32) (local $f i32) (local $g i32) (local $h i32)
    (local $t i32) (local $t1 i32) (local $t2 i32)
    (call $schedule)
    (local.set $a (i32.load (i32.const 256)))
    (local.set $b (i32.load (i32.const 260)))
    (local.set $c (i32.load (i32.const 264)))
    (local.set $d (i32.load (i32.const 268)))
    (local.set $e (i32.load (i32.const 272)))
    (local.set $f (i32.load (i32.const 276)))
    (local.set $g (i32.load (i32.const 280)))
    (local.set $h (i32.load (i32.const 284)))
    (loop $round
      (local.set $t1
        (i32.add
          (i32.add (local.get $h)
            (i32.xor (i32.xor (i32.rotr (local.get $e) (i32.const 6))
                              (i32.rotr (local.get $e) (i32.const 11)))
                     (i32.rotr (local.get $e) (i32.const 25))))
          (i32.add
            (i32.xor (i32.and (local.get $e) (local.get $f))
                     (i32.and (i32.xor (local.get $e) (i32.const -1)) (local.get $g)))
            (i32.add (i32.load (i32.shl (local.get $t) (i32.const 2)))
                     (i32.load offset=512 (i32.shl (local.get $t) (i32.const 2)))))))
      (local.set $t2
        (i32.add
          (i32.xor (i32.xor (i32.rotr (local.get $a) (i32.const 2))
                            (i32.rotr (local.get $a) (i32.const 13)))
                   (i32.rotr (local.get $a) (i32.const 22)))
          (i32.xor (i32.xor (i32.and (local.get $a) (local.get $b))
                            (i32.and (local.get $a) (local.get $c)))
                   (i32.and (local.get $b) (local.get $c)))))
      (local.set $h (local.get $g))
      (local.set $g (local.get $f))
      (local.set $f (local.get $e))
      (local.set $e (i32.add (local.get $d) (local.get $t1)))
      (local.set $d (local.get $c))
      (local.set $c (local.get $b))
      (local.set $b (local.get $a))
      (local.set $a (i32.add (local.get $t1) (local.get $t2)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $round (i32.lt_u (local.get $t) (i32.const 64))))
    (call $add_state (i32.const 256) (local.get $a))
    (call $add_state (i32.const 260) (local.get $b))
    (call $add_state (i32.const 264) (local.get $c))
    (call $add_state (i32.const 268) (local.get $d))
    (call $add_state (i32.const 272) (local.get $e))
    (call $add_state (i32.const 276) (local.get $f))
    (call $add_state (i32.const 280) (local.get $g))
    (call $add_state (i32.const 284) (local.get $h)))

  ;; H[0] << 32 | H[7].
  (func $state (result i64)
    (i64.or (i64.shl (i64.load32_u offset=256 (i32.const 0)) (i64.const 32))
            (i64.load32_u offset=284 (i32.const 0))))

  ;; n blocks; block k's words are xorshift outputs seeded by seed + k.
  (func (export "digest") (param $n i32) (param $seed i32) (result i64)
    (local $k i32) (local $i i32) (local $x i32)
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $x (i32.or (i32.add (local.get $seed) (local.get $k)) (i32.const 1)))
        (local.set $i (i32.const 0))
        (loop $word
          (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
          (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
          (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
          (i32.store offset=512 (i32.shl (local.get $i) (i32.const 2)) (local.get $x))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $word (i32.lt_u (local.get $i) (i32.const 16))))
        (call $compress)
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $block)))
    (call $state))

  ;; SHA-256("abc"): its first word is 0xba7816bf, its last 0xf20015ad.
  (func (export "abc") (result i64)
    (memory.copy (i32.const 512) (i32.const 384) (i32.const 64))
    (call $compress)
    (call $state)))
