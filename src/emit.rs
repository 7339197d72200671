//! Object emission: the last stage of the pipeline.
//!
//! Places compiled functions and trampolines in a relocatable object with
//! cranelift-object and writes the [`ModuleDescriptor`] that the runtime
//! reads: the encoded [`ModuleMetadata`] and tables of code addresses.
//! Symbols follow the scheme in [`fuelc_runtime::abi`]: only the descriptor
//! is global; functions, trampolines and tables are local to the object.
//!
//! This module must not compile code or change metadata; it only lays out
//! what earlier stages produced, in a fixed order, so the same input always
//! gives the same bytes.
//!
//! [`ModuleDescriptor`]: fuelc_runtime::abi::ModuleDescriptor

use std::sync::Arc;

use cranelift_codegen::ir::Signature;
use cranelift_codegen::isa::TargetIsa;
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};
use fuelc_runtime::abi::{self, descriptor_offsets, ModuleMetadata};

use crate::codegen::CompiledFunction;
use crate::error::CompileError;

fn emit_error(e: impl std::fmt::Display) -> CompileError {
    CompileError::Emit(e.to_string())
}

/// One function to place in the object.
pub struct ObjectFunction {
    /// Symbol name.
    pub name: String,
    /// Signature, for the declaration.
    pub signature: Signature,
    /// Its machine code.
    pub code: CompiledFunction,
}

/// Everything that goes into one object.
pub struct ObjectContents {
    /// Symbol prefix of the module.
    pub prefix: String,
    /// Metadata to encode into the descriptor.
    pub metadata: ModuleMetadata,
    /// Defined functions, in index order. They are declared first, so
    /// defined function `i` gets `FuncId` `i`, as translation assumes.
    pub functions: Vec<ObjectFunction>,
    /// The out-of-fuel stub of a metered module, declared right after the
    /// defined functions (see `translate::ModuleEnv::out_of_fuel_stub_id`).
    pub out_of_fuel_stub: Option<ObjectFunction>,
    /// Entry trampolines, one per type.
    pub entry_trampolines: Vec<ObjectFunction>,
    /// Host-call trampolines, one per type.
    pub host_trampolines: Vec<ObjectFunction>,
}

/// Writes the object file.
pub fn emit_object(
    isa: Arc<dyn TargetIsa>,
    contents: ObjectContents,
) -> Result<Vec<u8>, CompileError> {
    let prefix = &contents.prefix;
    let builder = ObjectBuilder::new(
        isa,
        prefix.as_bytes().to_vec(),
        cranelift_module::default_libcall_names(),
    )
    .map_err(emit_error)?;
    let mut module = ObjectModule::new(builder);

    let declare =
        |module: &mut ObjectModule, list: &[ObjectFunction]| -> Result<Vec<FuncId>, CompileError> {
            list.iter()
                .map(|f| {
                    module
                        .declare_function(&f.name, Linkage::Local, &f.signature)
                        .map_err(emit_error)
                })
                .collect()
        };
    let function_ids = declare(&mut module, &contents.functions)?;
    for (i, id) in function_ids.iter().enumerate() {
        assert_eq!(
            id.as_u32() as usize,
            i,
            "defined functions are declared first"
        );
    }
    let stub = contents.out_of_fuel_stub.as_slice();
    let stub_ids = declare(&mut module, stub)?;
    assert!(
        stub_ids
            .iter()
            .all(|id| id.as_u32() as usize == function_ids.len()),
        "the out-of-fuel stub is declared right after the defined functions"
    );
    let entry_ids = declare(&mut module, &contents.entry_trampolines)?;
    let host_ids = declare(&mut module, &contents.host_trampolines)?;

    let all = contents
        .functions
        .iter()
        .zip(&function_ids)
        .chain(stub.iter().zip(&stub_ids))
        .chain(contents.entry_trampolines.iter().zip(&entry_ids))
        .chain(contents.host_trampolines.iter().zip(&host_ids));
    for (f, id) in all {
        module
            .define_function_bytes(*id, f.code.alignment, &f.code.bytes, &f.code.relocs)
            .map_err(emit_error)?;
    }

    let metadata = contents.metadata.encode();
    let metadata_id = define_bytes(&mut module, &format!("{prefix}_metadata"), &metadata)?;
    let functions = define_code_table(&mut module, &format!("{prefix}_functions"), &function_ids)?;
    let entries = define_code_table(
        &mut module,
        &format!("{prefix}_entry_trampolines"),
        &entry_ids,
    )?;
    let hosts = define_code_table(
        &mut module,
        &format!("{prefix}_host_trampolines"),
        &host_ids,
    )?;

    let mut descriptor = vec![0u8; descriptor_offsets::SIZE as usize];
    let put = |bytes: &mut Vec<u8>, offset: u32, value: &[u8]| {
        bytes[offset as usize..offset as usize + value.len()].copy_from_slice(value);
    };
    put(
        &mut descriptor,
        descriptor_offsets::MAGIC,
        &abi::DESCRIPTOR_MAGIC,
    );
    put(
        &mut descriptor,
        descriptor_offsets::ABI_VERSION,
        &abi::ABI_VERSION.to_le_bytes(),
    );
    put(
        &mut descriptor,
        descriptor_offsets::METADATA_LEN,
        &(metadata.len() as u64).to_le_bytes(),
    );
    let mut data = DataDescription::new();
    data.define(descriptor.into_boxed_slice());
    data.set_align(8);
    let pointers = [
        (descriptor_offsets::METADATA, Some(metadata_id)),
        (descriptor_offsets::FUNCTIONS, functions),
        (descriptor_offsets::ENTRY_TRAMPOLINES, entries),
        (descriptor_offsets::HOST_TRAMPOLINES, hosts),
    ];
    for (offset, target) in pointers {
        if let Some(target) = target {
            let gv = module.declare_data_in_data(target, &mut data);
            data.write_data_addr(offset, gv, 0);
        }
    }
    let descriptor_id = module
        .declare_data(
            &abi::descriptor_symbol(prefix),
            Linkage::Export,
            false,
            false,
        )
        .map_err(emit_error)?;
    module
        .define_data(descriptor_id, &data)
        .map_err(emit_error)?;

    module.finish().emit().map_err(emit_error)
}

fn define_bytes(
    module: &mut ObjectModule,
    name: &str,
    bytes: &[u8],
) -> Result<DataId, CompileError> {
    let id = module
        .declare_data(name, Linkage::Local, false, false)
        .map_err(emit_error)?;
    let mut data = DataDescription::new();
    // An empty data object would share its address with its neighbour;
    // give it one byte so every symbol is distinct.
    let contents = if bytes.is_empty() {
        vec![0]
    } else {
        bytes.to_vec()
    };
    data.define(contents.into_boxed_slice());
    data.set_align(8);
    module.define_data(id, &data).map_err(emit_error)?;
    Ok(id)
}

/// Defines a table of code addresses; `None` when it would be empty.
fn define_code_table(
    module: &mut ObjectModule,
    name: &str,
    ids: &[FuncId],
) -> Result<Option<DataId>, CompileError> {
    if ids.is_empty() {
        return Ok(None);
    }
    let id = module
        .declare_data(name, Linkage::Local, false, false)
        .map_err(emit_error)?;
    let mut data = DataDescription::new();
    data.define(vec![0u8; ids.len() * abi::POINTER_SIZE as usize].into_boxed_slice());
    data.set_align(8);
    for (i, func) in ids.iter().enumerate() {
        let fref = module.declare_func_in_data(*func, &mut data);
        data.write_function_addr(i as u32 * abi::POINTER_SIZE, fref);
    }
    module.define_data(id, &data).map_err(emit_error)?;
    Ok(Some(id))
}
