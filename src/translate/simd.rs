//! WebAssembly 2.0 SIMD: the `v128` operators that take more than one
//! Cranelift instruction, and the helpers every SIMD operator uses.
//!
//! Every `v128` on the operand stack (and in locals, block parameters,
//! globals and calls) is an `i8x16` value. An operator views its operands
//! as the lanes it works on with [`FuncTranslator::pop_lanes`], a
//! little-endian bitcast that costs no instruction, and pushes its result
//! back as `i8x16` with [`FuncTranslator::push_lanes`]. Results follow the
//! specification bit for bit; where Cranelift's backends recognise a
//! particular shape of instructions as one machine instruction (the
//! `_zero` truncations, `extadd_pairwise`, `dot`, `pmin`/`pmax`), the
//! translation emits that shape.
//!
//! This module must not compute memory addresses or bounds checks itself
//! (it goes through `memory`), and must not choose machine instructions:
//! it emits target-independent Cranelift IR only.

use cranelift_codegen::ir::{
    condcodes::FloatCC,
    types::{self, Type, I32, I8X16},
    Endianness, InstBuilder, MemFlagsData, Value,
};
use wasmparser::MemArg;

use super::memory::Extend;
use super::FuncTranslator;
use crate::error::CompileError;

/// Which half of the lanes a widening operator takes.
#[derive(Clone, Copy)]
pub(super) enum Half {
    /// The lanes with the lower indices.
    Low,
    /// The lanes with the higher indices.
    High,
}

/// How a widening operator extends its lanes.
#[derive(Clone, Copy)]
pub(super) enum Sign {
    /// Sign-extended.
    Signed,
    /// Zero-extended.
    Unsigned,
}

/// What a load of one lane puts in the other lanes.
#[derive(Clone, Copy)]
pub(super) enum Fill {
    /// The loaded value (`load*_splat`).
    Splat,
    /// Zeros (`load*_zero`).
    Zero,
}

/// Which of the pseudo-minimum and pseudo-maximum operators is meant.
#[derive(Clone, Copy)]
pub(super) enum Pseudo {
    /// `pmin`: `b < a ? b : a`.
    Min,
    /// `pmax`: `a < b ? b : a`.
    Max,
}

/// Flags of the bitcasts between `v128` views: lanes are numbered in
/// little-endian byte order, as in WebAssembly, whatever the target.
fn lane_order() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

impl FuncTranslator<'_, '_> {
    /// `v` (a vector of any lane type) viewed as lanes of `ty`.
    fn as_lanes(&mut self, ty: Type, v: Value) -> Value {
        if self.builder.func.dfg.value_type(v) == ty {
            v
        } else {
            self.builder.ins().bitcast(ty, lane_order(), v)
        }
    }

    /// Pops a `v128` operand viewed as lanes of `ty`.
    pub(super) fn pop_lanes(&mut self, ty: Type) -> Value {
        let v = self.pop();
        self.as_lanes(ty, v)
    }

    /// Pops two `v128` operands viewed as lanes of `ty`, the deeper first.
    pub(super) fn pop2_lanes(&mut self, ty: Type) -> (Value, Value) {
        let b = self.pop_lanes(ty);
        let a = self.pop_lanes(ty);
        (a, b)
    }

    /// Pushes a vector of any lane type as a `v128` (`i8x16`).
    pub(super) fn push_lanes(&mut self, v: Value) {
        let v = self.as_lanes(I8X16, v);
        self.push(v);
    }

    /// Pops the `i32` shift amount of a shift of lanes of `ty`, reduced
    /// modulo the lane width as WebAssembly specifies.
    pub(super) fn pop_shift_amount(&mut self, ty: Type) -> Value {
        let amount = self.pop();
        let mask = i64::from(ty.lane_bits() - 1);
        self.builder.ins().band_imm_u(amount, mask)
    }

    /// `v128.const`.
    pub(super) fn translate_v128_const(&mut self, bytes: &[u8; 16]) -> Result<(), CompileError> {
        let c = self
            .builder
            .func
            .dfg
            .constants
            .insert(bytes.to_vec().into());
        let v = self.builder.ins().vconst(I8X16, c);
        self.push(v);
        Ok(())
    }

    /// `i8x16.shuffle`: lane `i` of the result is lane `lanes[i]` of the
    /// 32 lanes of both operands, the first operand's first.
    pub(super) fn translate_shuffle(&mut self, lanes: &[u8; 16]) -> Result<(), CompileError> {
        let (a, b) = self.pop2_lanes(I8X16);
        let mask = self.builder.func.dfg.immediates.push(lanes.to_vec().into());
        let v = self.builder.ins().shuffle(a, b, mask);
        self.push_lanes(v);
        Ok(())
    }

    /// `*.splat`: the scalar operand in every lane of `ty`. Lanes narrower
    /// than `i32` take the operand's low bits.
    pub(super) fn translate_splat(&mut self, ty: Type) -> Result<(), CompileError> {
        let x = self.pop();
        let x = self.narrow_to_lane(ty, x);
        let v = self.builder.ins().splat(ty, x);
        self.push_lanes(v);
        Ok(())
    }

    /// The low bits of scalar `x` that fill one lane of `ty`.
    fn narrow_to_lane(&mut self, ty: Type, x: Value) -> Value {
        let lane = ty.lane_type();
        if self.builder.func.dfg.value_type(x) == lane {
            x
        } else {
            self.builder.ins().ireduce(lane, x)
        }
    }

    /// `*.extract_lane*`: lane `lane` of `ty`, extended to `i32` as
    /// `extend` says when the lane is narrower.
    pub(super) fn translate_extract_lane(
        &mut self,
        ty: Type,
        lane: u8,
        extend: Extend,
    ) -> Result<(), CompileError> {
        let x = self.pop_lanes(ty);
        let v = self.builder.ins().extractlane(x, lane);
        let v = match extend {
            Extend::None => v,
            Extend::Signed => self.builder.ins().sextend(I32, v),
            Extend::Unsigned => self.builder.ins().uextend(I32, v),
        };
        self.push(v);
        Ok(())
    }

    /// `*.replace_lane`: the vector with lane `lane` of `ty` replaced by
    /// the scalar operand (its low bits, for lanes narrower than `i32`).
    pub(super) fn translate_replace_lane(
        &mut self,
        ty: Type,
        lane: u8,
    ) -> Result<(), CompileError> {
        let x = self.pop();
        let x = self.narrow_to_lane(ty, x);
        let vector = self.pop_lanes(ty);
        let v = self.builder.ins().insertlane(vector, x, lane);
        self.push_lanes(v);
        Ok(())
    }

    /// `v128.bitselect`: the bits of the first operand where the third
    /// operand has ones, of the second where it has zeros.
    pub(super) fn translate_bitselect(&mut self) -> Result<(), CompileError> {
        let mask = self.pop_lanes(I8X16);
        let (a, b) = self.pop2_lanes(I8X16);
        let v = self.builder.ins().bitselect(mask, a, b);
        self.push_lanes(v);
        Ok(())
    }

    /// `v128.any_true`: whether any bit is set, as an `i32` boolean.
    pub(super) fn translate_any_true(&mut self) -> Result<(), CompileError> {
        let x = self.pop_lanes(I8X16);
        let b = self.builder.ins().vany_true(x);
        let v = self.builder.ins().uextend(I32, b);
        self.push(v);
        Ok(())
    }

    /// `*.all_true`: whether every lane of `ty` is nonzero, as an `i32`
    /// boolean.
    pub(super) fn translate_all_true(&mut self, ty: Type) -> Result<(), CompileError> {
        let x = self.pop_lanes(ty);
        let b = self.builder.ins().vall_true(x);
        let v = self.builder.ins().uextend(I32, b);
        self.push(v);
        Ok(())
    }

    /// `*.bitmask`: the top bit of each lane of `ty`, lane 0 in bit 0, as
    /// an `i32`.
    pub(super) fn translate_bitmask(&mut self, ty: Type) -> Result<(), CompileError> {
        let x = self.pop_lanes(ty);
        let v = self.builder.ins().vhigh_bits(I32, x);
        self.push(v);
        Ok(())
    }

    /// Lanes of `x` (a vector of narrow lanes) widened to twice their width.
    fn widen(&mut self, x: Value, half: Half, sign: Sign) -> Value {
        let ins = self.builder.ins();
        match (half, sign) {
            (Half::Low, Sign::Signed) => ins.swiden_low(x),
            (Half::High, Sign::Signed) => ins.swiden_high(x),
            (Half::Low, Sign::Unsigned) => ins.uwiden_low(x),
            (Half::High, Sign::Unsigned) => ins.uwiden_high(x),
        }
    }

    /// `*.extmul_{low,high}_*`: the full products of one half of the lanes
    /// of `ty`, widened as `sign` says.
    pub(super) fn translate_extmul(
        &mut self,
        ty: Type,
        half: Half,
        sign: Sign,
    ) -> Result<(), CompileError> {
        let (a, b) = self.pop2_lanes(ty);
        let a = self.widen(a, half, sign);
        let b = self.widen(b, half, sign);
        let v = self.builder.ins().imul(a, b);
        self.push_lanes(v);
        Ok(())
    }

    /// `*.extadd_pairwise_*`: sums of adjacent lanes of `ty`, widened as
    /// `sign` says.
    pub(super) fn translate_extadd_pairwise(
        &mut self,
        ty: Type,
        sign: Sign,
    ) -> Result<(), CompileError> {
        let x = self.pop_lanes(ty);
        let low = self.widen(x, Half::Low, sign);
        let high = self.widen(x, Half::High, sign);
        let v = self.builder.ins().iadd_pairwise(low, high);
        self.push_lanes(v);
        Ok(())
    }

    /// `i32x4.dot_i16x8_s`: sums of the full products of adjacent signed
    /// `i16` lanes (wrapping, as the one overflowing case must).
    pub(super) fn translate_dot(&mut self) -> Result<(), CompileError> {
        let (a, b) = self.pop2_lanes(types::I16X8);
        let a_low = self.widen(a, Half::Low, Sign::Signed);
        let b_low = self.widen(b, Half::Low, Sign::Signed);
        let a_high = self.widen(a, Half::High, Sign::Signed);
        let b_high = self.widen(b, Half::High, Sign::Signed);
        let low = self.builder.ins().imul(a_low, b_low);
        let high = self.builder.ins().imul(a_high, b_high);
        let v = self.builder.ins().iadd_pairwise(low, high);
        self.push_lanes(v);
        Ok(())
    }

    /// `f32x4.pmin`/`pmax` and the `f64x2` ones on lanes of `ty`: a lane
    /// of the second operand where it is strictly less (`pmin`) or
    /// greater (`pmax`) than the first's, else the first's lane, NaNs and
    /// signed zeros included.
    pub(super) fn translate_pseudo_min_max(
        &mut self,
        ty: Type,
        which: Pseudo,
    ) -> Result<(), CompileError> {
        let (a, b) = self.pop2_lanes(ty);
        let take_b = match which {
            Pseudo::Min => self.builder.ins().fcmp(FloatCC::LessThan, b, a),
            Pseudo::Max => self.builder.ins().fcmp(FloatCC::LessThan, a, b),
        };
        let take_b = self.builder.ins().bitcast(ty, lane_order(), take_b);
        let v = self.builder.ins().bitselect(take_b, b, a);
        self.push_lanes(v);
        Ok(())
    }

    /// `i32x4.trunc_sat_f64x2_{s,u}_zero`: both `f64` lanes truncated
    /// with saturation to `i32`, in the low lanes; the high lanes zero.
    pub(super) fn translate_trunc_sat_zero(&mut self, sign: Sign) -> Result<(), CompileError> {
        let x = self.pop_lanes(types::F64X2);
        let zero = self.zero(types::I64X2);
        let v = match sign {
            Sign::Signed => {
                let wide = self.builder.ins().fcvt_to_sint_sat(types::I64X2, x);
                self.builder.ins().snarrow(wide, zero)
            }
            Sign::Unsigned => {
                let wide = self.builder.ins().fcvt_to_uint_sat(types::I64X2, x);
                self.builder.ins().uunarrow(wide, zero)
            }
        };
        self.push_lanes(v);
        Ok(())
    }

    /// `f64x2.convert_low_i32x4_{s,u}`: the two low `i32` lanes converted
    /// to `f64` (exactly).
    pub(super) fn translate_convert_low(&mut self, sign: Sign) -> Result<(), CompileError> {
        let x = self.pop_lanes(types::I32X4);
        let wide = self.widen(x, Half::Low, sign);
        let v = match sign {
            Sign::Signed => self.builder.ins().fcvt_from_sint(types::F64X2, wide),
            Sign::Unsigned => self.builder.ins().fcvt_from_uint(types::F64X2, wide),
        };
        self.push_lanes(v);
        Ok(())
    }

    /// `v128.load{8x8,16x4,32x2}_{s,u}`: eight bytes of lanes of type
    /// `lane`, each widened to twice its width as `sign` says.
    pub(super) fn translate_load_extend(
        &mut self,
        lane: Type,
        sign: Sign,
        memarg: MemArg,
    ) -> Result<(), CompileError> {
        let index = self.pop();
        let (address, offset) = self.heap_address(index, &memarg, 8);
        let flags = Self::heap_flags();
        let ins = self.builder.ins();
        let v = match (lane, sign) {
            (types::I8, Sign::Signed) => ins.sload8x8(flags, address, offset),
            (types::I8, Sign::Unsigned) => ins.uload8x8(flags, address, offset),
            (types::I16, Sign::Signed) => ins.sload16x4(flags, address, offset),
            (types::I16, Sign::Unsigned) => ins.uload16x4(flags, address, offset),
            (types::I32, Sign::Signed) => ins.sload32x2(flags, address, offset),
            (types::I32, Sign::Unsigned) => ins.uload32x2(flags, address, offset),
            _ => unreachable!("no extending load of {lane} lanes"),
        };
        self.push_lanes(v);
        Ok(())
    }

    /// `v128.load*_splat` and `v128.load{32,64}_zero`: one lane of `ty`
    /// loaded, then put in every lane or in lane 0 with zeros elsewhere.
    pub(super) fn translate_load_one_lane(
        &mut self,
        ty: Type,
        memarg: MemArg,
        fill: Fill,
    ) -> Result<(), CompileError> {
        let lane = ty.lane_type();
        self.translate_load(lane, lane.bytes(), Extend::None, memarg);
        let x = self.pop();
        let v = match fill {
            Fill::Splat => self.builder.ins().splat(ty, x),
            Fill::Zero => self.builder.ins().scalar_to_vector(ty, x),
        };
        self.push_lanes(v);
        Ok(())
    }

    /// `v128.load*_lane`: the vector operand with lane `lane` of `ty`
    /// replaced by a value loaded from memory.
    pub(super) fn translate_load_lane(
        &mut self,
        ty: Type,
        memarg: MemArg,
        lane: u8,
    ) -> Result<(), CompileError> {
        let vector = self.pop_lanes(ty);
        let lane_ty = ty.lane_type();
        self.translate_load(lane_ty, lane_ty.bytes(), Extend::None, memarg);
        let x = self.pop();
        let v = self.builder.ins().insertlane(vector, x, lane);
        self.push_lanes(v);
        Ok(())
    }

    /// `v128.store*_lane`: stores lane `lane` of `ty` of the vector
    /// operand.
    pub(super) fn translate_store_lane(
        &mut self,
        ty: Type,
        memarg: MemArg,
        lane: u8,
    ) -> Result<(), CompileError> {
        let vector = self.pop_lanes(ty);
        let x = self.builder.ins().extractlane(vector, lane);
        self.push(x);
        self.translate_store(ty.lane_type().bytes(), memarg);
        Ok(())
    }
}
