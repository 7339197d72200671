//! The error type of the compiler.
//!
//! Every way compilation can fail maps to one [`CompileError`] whose
//! `Display` is a single line that says where (a byte offset into the
//! module, when there is one) and why. This module must not print or exit;
//! the CLI decides how to report.

use thiserror::Error;

/// Why a module could not be compiled.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CompileError {
    /// The module is malformed or does not validate.
    #[error("invalid module at offset {offset:#x}: {message}")]
    Invalid {
        /// Byte offset into the module.
        offset: usize,
        /// wasmparser's reason.
        message: String,
    },
    /// The module is valid but uses a feature fuelc does not support yet.
    #[error("unsupported feature at offset {offset:#x}: {feature} is not supported by fuelc yet")]
    Unsupported {
        /// Byte offset into the module.
        offset: usize,
        /// The feature, named.
        feature: String,
    },
    /// The module uses an operator the cost model forbids.
    #[error("forbidden operator at offset {offset:#x}: the cost model forbids {operator}")]
    Forbidden {
        /// Byte offset of the operator.
        offset: usize,
        /// The operator's name, as wasmparser spells it.
        operator: String,
    },
    /// The requested target or option is not supported.
    #[error("unsupported target: {0}")]
    Target(String),
    /// Cranelift could not compile a function (for example, an
    /// implementation limit was exceeded).
    #[error("code generation failed in function {function}: {message}")]
    Codegen {
        /// Function index.
        function: u32,
        /// Cranelift's reason.
        message: String,
    },
    /// Writing the object file failed.
    #[error("object emission failed: {0}")]
    Emit(String),
}

impl From<wasmparser::BinaryReaderError> for CompileError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        CompileError::Invalid {
            offset: e.offset() as usize,
            message: e.message().to_string(),
        }
    }
}
