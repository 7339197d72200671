//! Parsing and validation: the first stage of the pipeline.
//!
//! Reads a binary module with wasmparser, validates it against the
//! WebAssembly 2.0 feature set without SIMD, and collects everything later
//! stages need: the module-level [`ModuleMetadata`] (minus the per-function
//! code facts the compiler fills in later) and the body of every defined
//! function, validated.
//!
//! This module must not generate code or decide anything about the native
//! layout; it only turns bytes into checked, typed descriptions.

use fuelc_runtime::abi::{
    self, BoundsChecks, ConstExpr, DataSegment, ElementMode, ElementSegment, Export, ExportKind,
    FuncType, GlobalDefinition, GlobalType, Import, ImportKind, Limits, MemoryType, ModuleMetadata,
    RefType, TableType, ValType,
};
use rayon::prelude::*;
use wasmparser::{
    FunctionBody, KnownCustom, Name, Operator, Parser, Payload, TypeRef, Validator, WasmFeatures,
};

use crate::error::CompileError;

/// A validated module, ready for translation.
pub struct ParsedModule<'a> {
    /// Module-level metadata; `functions[i].code_size` and `traps` are
    /// filled in after compilation.
    pub metadata: ModuleMetadata,
    /// Type index of every function, imports included.
    pub func_types: Vec<u32>,
    /// Type of every global, imports included.
    pub global_types: Vec<GlobalType>,
    /// Element type of every table, imports included.
    pub table_types: Vec<RefType>,
    /// Whether the module has a memory (imported or defined).
    pub has_memory: bool,
    /// Body of every defined function, in index order.
    pub bodies: Vec<FunctionBody<'a>>,
}

impl ParsedModule<'_> {
    /// Number of imported functions.
    pub fn num_imported_funcs(&self) -> u32 {
        self.func_types.len() as u32 - self.bodies.len() as u32
    }

    /// The type of function `index` (imports included).
    pub fn func_type(&self, index: u32) -> &FuncType {
        &self.metadata.types[self.func_types[index as usize] as usize]
    }
}

/// The features fuelc compiles: WebAssembly 2.0.
fn supported_features() -> WasmFeatures {
    WasmFeatures::WASM2
}

/// How wasmparser ends the message for a feature that is not enabled.
const NOT_ENABLED: &str = " support is not enabled";

/// Validates `wasm` and collects its metadata and function bodies.
pub fn parse<'a>(
    wasm: &'a [u8],
    name: &str,
    bounds_checks: BoundsChecks,
) -> Result<ParsedModule<'a>, CompileError> {
    match parse_with(wasm, name, bounds_checks, supported_features()) {
        Err(CompileError::Invalid { offset, message }) if message.contains(NOT_ENABLED) => {
            // Tell "uses a later proposal" apart from "is invalid": a module
            // that validates with every feature is unsupported, not invalid.
            match parse_with(wasm, name, bounds_checks, WasmFeatures::all()) {
                Ok(_) => Err(CompileError::Unsupported {
                    offset,
                    feature: message.replace(NOT_ENABLED, ""),
                }),
                Err(e) => Err(e),
            }
        }
        other => other,
    }
}

fn parse_with<'a>(
    wasm: &'a [u8],
    name: &str,
    bounds_checks: BoundsChecks,
    features: WasmFeatures,
) -> Result<ParsedModule<'a>, CompileError> {
    let mut validator = Validator::new_with_features(features);
    let mut m = ParsedModule {
        metadata: ModuleMetadata::empty(name, bounds_checks),
        func_types: Vec::new(),
        global_types: Vec::new(),
        table_types: Vec::new(),
        has_memory: false,
        bodies: Vec::new(),
    };
    let mut to_validate = Vec::new();
    let mut defined_types = Vec::new();
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(wasm) {
        let payload = payload?;
        if let wasmparser::ValidPayload::Func(func, body) = validator.payload(&payload)? {
            to_validate.push((func, body.clone()));
            m.bodies.push(body);
            continue;
        }
        match payload {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    let ty = ty?;
                    m.metadata.types.push(FuncType {
                        params: ty.params().iter().map(|t| val_type(*t)).collect(),
                        results: ty.results().iter().map(|t| val_type(*t)).collect(),
                    });
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let kind = match import.ty {
                        TypeRef::Func(t) => {
                            m.func_types.push(t);
                            ImportKind::Func(t)
                        }
                        TypeRef::Table(t) => {
                            let t = table_type(&t);
                            m.table_types.push(t.element);
                            ImportKind::Table(t)
                        }
                        TypeRef::Memory(t) => {
                            m.has_memory = true;
                            ImportKind::Memory(memory_type(&t))
                        }
                        TypeRef::Global(t) => {
                            let t = global_type(&t);
                            m.global_types.push(t);
                            ImportKind::Global(t)
                        }
                        other => unreachable!("validation rejects import {other:?}"),
                    };
                    m.metadata.imports.push(Import {
                        module: import.module.to_string(),
                        field: import.name.to_string(),
                        kind,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    let t = t?;
                    m.func_types.push(t);
                    defined_types.push(t);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let t = table_type(&table?.ty);
                    m.table_types.push(t.element);
                    m.metadata.tables.push(t);
                }
            }
            Payload::MemorySection(reader) => {
                for mem in reader {
                    m.has_memory = true;
                    m.metadata.memories.push(memory_type(&mem?));
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global?;
                    let ty = global_type(&global.ty);
                    m.global_types.push(ty);
                    m.metadata.globals.push(GlobalDefinition {
                        ty,
                        init: const_expr(&global.init_expr)?,
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let kind = match export.kind {
                        wasmparser::ExternalKind::Func => ExportKind::Func,
                        wasmparser::ExternalKind::Table => ExportKind::Table,
                        wasmparser::ExternalKind::Memory => ExportKind::Memory,
                        wasmparser::ExternalKind::Global => ExportKind::Global,
                        other => unreachable!("validation rejects export {other:?}"),
                    };
                    m.metadata.exports.push(Export {
                        name: export.name.to_string(),
                        kind,
                        index: export.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => m.metadata.start = Some(func),
            Payload::ElementSection(reader) => {
                for elem in reader {
                    m.metadata.elements.push(element_segment(elem?)?);
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data?;
                    let active = match data.kind {
                        wasmparser::DataKind::Passive => None,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => Some((memory_index, const_expr(&offset_expr)?)),
                    };
                    m.metadata.data.push(DataSegment {
                        active,
                        bytes: data.data.to_vec(),
                    });
                }
            }
            Payload::CustomSection(reader) => {
                if let KnownCustom::Name(names) = reader.as_known() {
                    m.metadata.function_names = function_names(names);
                }
            }
            _ => {}
        }
    }
    to_validate
        .into_par_iter()
        .map_init(
            wasmparser::FuncValidatorAllocations::default,
            |allocs, (func, body)| {
                let mut v = func.into_validator(std::mem::take(allocs));
                v.validate(&body)?;
                *allocs = v.into_allocations();
                Ok(())
            },
        )
        .collect::<Result<Vec<()>, wasmparser::BinaryReaderError>>()?;
    m.metadata.functions = defined_types
        .into_iter()
        .map(|type_index| abi::FunctionInfo {
            type_index,
            code_size: 0,
            traps: Vec::new(),
        })
        .collect();
    Ok(m)
}

/// Function names from a name section. A malformed name section is not an
/// error (custom sections are not validated); the names read so far are kept.
fn function_names(reader: wasmparser::NameSectionReader<'_>) -> Vec<(u32, String)> {
    let mut names = Vec::new();
    for subsection in reader {
        let Ok(Name::Function(map)) = subsection else {
            continue;
        };
        for naming in map.into_iter().map_while(Result::ok) {
            names.push((naming.index, naming.name.to_string()));
        }
    }
    names.sort_by_key(|(i, _)| *i);
    names.dedup_by_key(|(i, _)| *i);
    names
}

fn element_segment(elem: wasmparser::Element<'_>) -> Result<ElementSegment, CompileError> {
    let mode = match elem.kind {
        wasmparser::ElementKind::Passive => ElementMode::Passive,
        wasmparser::ElementKind::Declared => ElementMode::Declared,
        wasmparser::ElementKind::Active {
            table_index,
            offset_expr,
        } => ElementMode::Active {
            table: table_index.unwrap_or(0),
            offset: const_expr(&offset_expr)?,
        },
    };
    let (element, items) = match elem.items {
        wasmparser::ElementItems::Functions(funcs) => (
            RefType::FuncRef,
            funcs
                .into_iter()
                .map(|f| f.map(ConstExpr::RefFunc))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        wasmparser::ElementItems::Expressions(ty, exprs) => (
            ref_type(ty),
            exprs
                .into_iter()
                .map(|e| const_expr(&e?))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(ElementSegment {
        mode,
        element,
        items,
    })
}

/// Reads a (validated) constant expression: one instruction and `end`.
fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, CompileError> {
    let mut reader = expr.get_operators_reader();
    let offset = reader.original_position();
    let value = match reader.read()? {
        Operator::I32Const { value } => ConstExpr::I32(value),
        Operator::I64Const { value } => ConstExpr::I64(value),
        Operator::F32Const { value } => ConstExpr::F32(value.bits()),
        Operator::F64Const { value } => ConstExpr::F64(value.bits()),
        Operator::V128Const { value } => ConstExpr::V128(u128::from_le_bytes(*value.bytes())),
        Operator::RefNull { hty } => ConstExpr::RefNull(heap_ref_type(hty)),
        Operator::RefFunc { function_index } => ConstExpr::RefFunc(function_index),
        Operator::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
        other => {
            return Err(CompileError::Unsupported {
                offset: offset as usize,
                feature: format!("constant expression {other:?}"),
            })
        }
    };
    Ok(value)
}

/// Converts a wasmparser value type (validated against WebAssembly 2.0).
pub fn val_type(t: wasmparser::ValType) -> ValType {
    match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) => ref_type(r).into(),
    }
}

fn ref_type(r: wasmparser::RefType) -> RefType {
    heap_ref_type(r.heap_type())
}

fn heap_ref_type(h: wasmparser::HeapType) -> RefType {
    if h == wasmparser::HeapType::EXTERN {
        RefType::ExternRef
    } else {
        RefType::FuncRef
    }
}

fn table_type(t: &wasmparser::TableType) -> TableType {
    TableType {
        element: ref_type(t.element_type),
        limits: Limits {
            min: t.initial,
            max: t.maximum,
        },
    }
}

fn memory_type(t: &wasmparser::MemoryType) -> MemoryType {
    MemoryType {
        limits: Limits {
            min: t.initial,
            max: t.maximum,
        },
    }
}

fn global_type(t: &wasmparser::GlobalType) -> GlobalType {
    GlobalType {
        content: val_type(t.content_type),
        mutable: t.mutable,
    }
}
