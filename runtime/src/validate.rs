//! Consistency checks on decoded [`ModuleMetadata`], so that the rest of the
//! runtime can index it without panicking and never builds a reference of
//! the wrong type from a constant expression.
//!
//! The compiler has already validated the WebAssembly module; these checks
//! only guard against corrupt or mismatched objects. This file must not
//! allocate runtime objects or look at code.

use crate::abi::{
    ConstExpr, ElementMode, ExportKind, FuncType, GlobalType, ImportKind, Limits, ModuleMetadata,
    ValType,
};

/// Why metadata was refused.
#[derive(Debug)]
pub(crate) enum Invalid {
    /// The module uses a feature the runtime does not support.
    Unsupported(String),
    /// The metadata contradicts itself.
    Inconsistent(String),
}

fn inconsistent<T>(msg: String) -> Result<T, Invalid> {
    Err(Invalid::Inconsistent(msg))
}

/// Checks `meta`.
pub(crate) fn validate(meta: &ModuleMetadata) -> Result<(), Invalid> {
    let mut globals: Vec<GlobalType> = Vec::new();
    for import in &meta.imports {
        let what = format!("import {}.{}", import.module, import.field);
        match &import.kind {
            ImportKind::Func(t) => check_type_index(meta, *t, &what)?,
            ImportKind::Table(t) => check_limits(t.limits, &what)?,
            ImportKind::Memory(m) => check_limits(m.limits, &what)?,
            ImportKind::Global(g) => globals.push(*g),
        }
    }
    for (i, f) in meta.functions.iter().enumerate() {
        let what = format!("function {}", meta.num_imported_funcs() as usize + i);
        check_type_index(meta, f.type_index, &what)?;
        if !f.traps.windows(2).all(|w| w[0].offset <= w[1].offset) {
            return inconsistent(format!("{what}: trap sites are not sorted"));
        }
        if f.traps.last().is_some_and(|t| t.offset >= f.code_size) {
            return inconsistent(format!("{what}: trap site outside its code"));
        }
    }
    let counts = Counts::of(meta);
    if counts.memories > 1 {
        return Err(Invalid::Unsupported("more than one memory".into()));
    }
    for m in &meta.memories {
        check_limits(m.limits, "memory")?;
    }
    for t in &meta.tables {
        check_limits(t.limits, "table")?;
    }
    for g in &meta.globals {
        let what = format!("global {}", globals.len());
        let ty = const_type(&g.init, &globals, counts.funcs, &what)?;
        if ty != g.ty.content {
            return inconsistent(format!(
                "{what}: initializer of type {ty:?}, expected {:?}",
                g.ty.content
            ));
        }
        globals.push(g.ty);
    }
    for e in &meta.exports {
        let count = match e.kind {
            ExportKind::Func => counts.funcs,
            ExportKind::Table => counts.tables,
            ExportKind::Memory => counts.memories,
            ExportKind::Global => counts.globals,
        };
        if e.index as usize >= count {
            return inconsistent(format!("export {:?} refers to a missing item", e.name));
        }
    }
    if let Some(start) = meta.start {
        let empty = FuncType {
            params: vec![],
            results: vec![],
        };
        if function_type(meta, start) != Some(&empty) {
            return inconsistent(format!(
                "start function {start} is missing or has parameters or results"
            ));
        }
    }
    for (i, seg) in meta.elements.iter().enumerate() {
        let what = format!("element segment {i}");
        if let ElementMode::Active { table, offset } = &seg.mode {
            if *table as usize >= counts.tables {
                return inconsistent(format!("{what}: missing table {table}"));
            }
            check_offset(offset, &globals, counts.funcs, &what)?;
        }
        for item in &seg.items {
            let ty = const_type(item, &globals, counts.funcs, &what)?;
            if ty != seg.element.into() {
                return inconsistent(format!("{what}: item of type {ty:?}"));
            }
        }
    }
    for (i, seg) in meta.data.iter().enumerate() {
        if let Some((memory, offset)) = &seg.active {
            let what = format!("data segment {i}");
            if *memory as usize >= counts.memories {
                return inconsistent(format!("{what}: missing memory {memory}"));
            }
            check_offset(offset, &globals, counts.funcs, &what)?;
        }
    }
    check_layout_size(&counts, meta.types.len())
}

/// Sizes of the index spaces, imports included.
struct Counts {
    funcs: usize,
    tables: usize,
    memories: usize,
    globals: usize,
}

impl Counts {
    fn of(meta: &ModuleMetadata) -> Counts {
        Counts {
            funcs: meta.num_imported_funcs() as usize + meta.functions.len(),
            tables: meta.num_imported_tables() as usize + meta.tables.len(),
            memories: meta.num_imported_memories() as usize + meta.memories.len(),
            globals: meta.num_imported_globals() as usize + meta.globals.len(),
        }
    }
}

/// The type of function `index`, if it exists.
pub(crate) fn function_type(meta: &ModuleMetadata, index: u32) -> Option<&FuncType> {
    let imported = meta.num_imported_funcs();
    let type_index = match index.checked_sub(imported) {
        Some(defined) => meta.functions.get(defined as usize)?.type_index,
        None => meta
            .imports
            .iter()
            .filter_map(|i| match i.kind {
                ImportKind::Func(t) => Some(t),
                _ => None,
            })
            .nth(index as usize)?,
    };
    meta.types.get(type_index as usize)
}

fn check_type_index(meta: &ModuleMetadata, index: u32, what: &str) -> Result<(), Invalid> {
    if index as usize >= meta.types.len() {
        return inconsistent(format!("{what}: missing type {index}"));
    }
    Ok(())
}

fn check_limits(limits: Limits, what: &str) -> Result<(), Invalid> {
    if limits.max.is_some_and(|max| max < limits.min) {
        return inconsistent(format!("{what}: maximum below minimum"));
    }
    Ok(())
}

/// The type of a constant expression that may read the first
/// `globals.len()` globals and refer to `funcs` functions.
fn const_type(
    expr: &ConstExpr,
    globals: &[GlobalType],
    funcs: usize,
    what: &str,
) -> Result<ValType, Invalid> {
    Ok(match *expr {
        ConstExpr::I32(_) => ValType::I32,
        ConstExpr::I64(_) => ValType::I64,
        ConstExpr::F32(_) => ValType::F32,
        ConstExpr::F64(_) => ValType::F64,
        ConstExpr::V128(_) => ValType::V128,
        ConstExpr::RefNull(t) => t.into(),
        ConstExpr::RefFunc(f) if (f as usize) < funcs => ValType::FuncRef,
        ConstExpr::GlobalGet(g) if (g as usize) < globals.len() => globals[g as usize].content,
        ConstExpr::RefFunc(_) | ConstExpr::GlobalGet(_) => {
            return inconsistent(format!("{what}: constant refers to a missing item"));
        }
    })
}

fn check_offset(
    expr: &ConstExpr,
    globals: &[GlobalType],
    funcs: usize,
    what: &str,
) -> Result<(), Invalid> {
    let ty = const_type(expr, globals, funcs, what)?;
    if ty != ValType::I32 {
        return inconsistent(format!("{what}: offset of type {ty:?}"));
    }
    Ok(())
}

/// The instance context layout uses 32-bit offsets.
fn check_layout_size(counts: &Counts, types: usize) -> Result<(), Invalid> {
    let size = (32 + 4 * types as u64).next_multiple_of(8)
        + 8 * (counts.tables as u64 + counts.globals as u64)
        + 24 * counts.funcs as u64;
    if size > u64::from(u32::MAX) {
        return Err(Invalid::Unsupported(
            "module too large for a 32-bit instance context".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{
        BoundsChecks, DataSegment, ElementSegment, Export, FunctionInfo, GlobalDefinition, Import,
        MemoryType, RefType, TrapCode, TrapSite,
    };

    /// A small consistent module: one type, an imported global, a function
    /// with a trap site, a memory and a start function.
    fn consistent() -> ModuleMetadata {
        ModuleMetadata {
            types: vec![FuncType {
                params: vec![],
                results: vec![],
            }],
            imports: vec![Import {
                module: "env".into(),
                field: "g".into(),
                kind: ImportKind::Global(GlobalType {
                    content: ValType::I32,
                    mutable: false,
                }),
            }],
            functions: vec![FunctionInfo {
                type_index: 0,
                code_size: 8,
                traps: vec![TrapSite {
                    offset: 2,
                    code: TrapCode::Unreachable,
                }],
            }],
            memories: vec![MemoryType {
                limits: Limits { min: 1, max: None },
            }],
            start: Some(0),
            ..ModuleMetadata::empty("m", BoundsChecks::Guard)
        }
    }

    /// `meta` with one more global definition.
    fn with_global(
        mut meta: ModuleMetadata,
        content: ValType,
        mutable: bool,
        init: ConstExpr,
    ) -> ModuleMetadata {
        meta.globals.push(GlobalDefinition {
            ty: GlobalType { content, mutable },
            init,
        });
        meta
    }

    fn rejected(meta: &ModuleMetadata) -> bool {
        matches!(validate(meta), Err(Invalid::Inconsistent(_)))
    }

    #[test]
    fn accepts_consistent_modules() {
        assert!(validate(&ModuleMetadata::empty("e", BoundsChecks::Explicit)).is_ok());
        let mut meta = with_global(consistent(), ValType::I32, true, ConstExpr::GlobalGet(0));
        meta.data.push(DataSegment {
            active: Some((0, ConstExpr::GlobalGet(1))),
            bytes: vec![1],
        });
        assert!(validate(&meta).is_ok());
    }

    #[test]
    fn rejects_missing_indices() {
        let mut meta = consistent();
        meta.functions[0].type_index = 1;
        assert!(rejected(&meta));

        let mut meta = consistent();
        meta.exports.push(Export {
            name: "t".into(),
            kind: ExportKind::Table,
            index: 0,
        });
        assert!(rejected(&meta));

        let mut meta = consistent();
        meta.start = Some(1);
        assert!(rejected(&meta));

        let mut meta = consistent();
        meta.elements.push(ElementSegment {
            mode: ElementMode::Passive,
            element: RefType::FuncRef,
            items: vec![ConstExpr::RefFunc(5)],
        });
        assert!(rejected(&meta));
    }

    #[test]
    fn rejects_ill_typed_constants() {
        let meta = with_global(consistent(), ValType::FuncRef, false, ConstExpr::I32(4));
        assert!(rejected(&meta));

        let meta = with_global(consistent(), ValType::I32, false, ConstExpr::GlobalGet(1));
        assert!(rejected(&meta), "a global may only read earlier globals");

        let mut meta = consistent();
        meta.data.push(DataSegment {
            active: Some((0, ConstExpr::I64(0))),
            bytes: vec![],
        });
        assert!(rejected(&meta));
    }

    #[test]
    fn rejects_bad_trap_tables_and_limits() {
        let mut meta = consistent();
        meta.functions[0].traps[0].offset = 8;
        assert!(rejected(&meta));

        let mut meta = consistent();
        meta.memories[0].limits = Limits {
            min: 2,
            max: Some(1),
        };
        assert!(rejected(&meta));
    }

    #[test]
    fn refuses_unsupported_features() {
        let mut meta = consistent();
        meta.memories.push(meta.memories[0]);
        assert!(matches!(validate(&meta), Err(Invalid::Unsupported(_))));
    }
}
