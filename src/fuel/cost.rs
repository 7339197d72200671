//! Cost models: what each operator, each function entry and each unit of
//! dynamic work costs in fuel.
//!
//! Three sources: the `wasmtime` preset (the default, matching Wasmtime 50's
//! fuel accounting as measured), the `uniform` preset (1 per operator,
//! nothing else) and custom TOML files. Operators are named as wasmparser
//! spells its `Operator` variants (`I32Add`, `MemoryCopy`, `BrTable`, ...).
//!
//! This module must not look at code; it only answers "what does this
//! cost".

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use wasmparser::Operator;

use fuelc_runtime::abi::{FuelMetadata, FuelMode};

/// The cost of one operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatorCost {
    /// It costs this much fuel each time it executes.
    Fuel(u32),
    /// A module that uses it does not compile.
    Forbidden,
}

/// A complete cost model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CostModel {
    /// Cost of every operator not in `operators`.
    pub default: OperatorCost,
    /// Costs of individual operators, by wasmparser name.
    pub operators: BTreeMap<String, OperatorCost>,
    /// Charged once per function entry.
    pub function_entry: u64,
    /// Charged per declared local (not parameters) at function entry.
    pub local: u64,
    /// Per byte of `memory.copy`, `memory.fill`, `memory.init`.
    pub memory_byte: u64,
    /// Per element of `table.copy`, `table.fill`, `table.init`, and per
    /// element added by a successful `table.grow`.
    pub table_element: u64,
    /// Per page added by a successful `memory.grow`.
    pub memory_page: u64,
}

/// Why a cost model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CostModelError {
    /// The file could not be read.
    #[error("cannot read cost model {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The reason.
        source: std::io::Error,
    },
    /// The TOML is malformed or does not follow the schema.
    #[error("invalid cost model {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

macro_rules! define_operator_names {
    ($(@$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        /// Every operator name wasmparser knows, in its order.
        pub const OPERATOR_NAMES: &[&str] = &[$(stringify!($op)),*];

        /// The wasmparser name of an operator.
        pub fn operator_name(op: &Operator<'_>) -> &'static str {
            match op {
                $(Operator::$op { .. } => stringify!($op),)*
                _ => "Unknown",
            }
        }
    };
}

wasmparser::for_each_operator!(define_operator_names);

impl CostModel {
    /// Wasmtime 50's default fuel accounting: 0 for `nop`, `drop`, `block`,
    /// `loop`, `unreachable`, `return`, `else` and `end`, 1 for every other
    /// operator and per function entry; 1 per byte or element of bulk
    /// operations and successful table growth, and 1 per page added by a
    /// successful `memory.grow` (Wasmtime charges it, though its
    /// documentation does not say so; its behaviour is what the preset
    /// follows).
    pub fn wasmtime() -> CostModel {
        let free = [
            "Nop",
            "Drop",
            "Block",
            "Loop",
            "Unreachable",
            "Return",
            "Else",
            "End",
        ];
        CostModel {
            default: OperatorCost::Fuel(1),
            operators: free
                .iter()
                .map(|name| (name.to_string(), OperatorCost::Fuel(0)))
                .collect(),
            function_entry: 1,
            local: 0,
            memory_byte: 1,
            table_element: 1,
            memory_page: 1,
        }
    }

    /// 1 per operator executed and nothing else.
    pub fn uniform() -> CostModel {
        CostModel {
            default: OperatorCost::Fuel(1),
            operators: BTreeMap::new(),
            function_entry: 0,
            local: 0,
            memory_byte: 0,
            table_element: 0,
            memory_page: 0,
        }
    }

    /// A preset by name (`wasmtime` or `uniform`), or a TOML file.
    pub fn from_arg(arg: &str) -> Result<CostModel, CostModelError> {
        match arg {
            "wasmtime" => Ok(CostModel::wasmtime()),
            "uniform" => Ok(CostModel::uniform()),
            path => CostModel::from_file(Path::new(path)),
        }
    }

    /// Loads a cost model from a TOML file (schema in `docs/fuel.md`).
    pub fn from_file(path: &Path) -> Result<CostModel, CostModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| CostModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        CostModel::from_toml(&text).map_err(|message| CostModelError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses a cost model from TOML text.
    pub fn from_toml(text: &str) -> Result<CostModel, String> {
        let file: CostFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let mut model = match file.base.as_deref() {
            None | Some("wasmtime") => CostModel::wasmtime(),
            Some("uniform") => CostModel::uniform(),
            Some(other) => return Err(format!("unknown base preset {other:?}")),
        };
        if let Some(default) = file.default {
            model.default = default.into();
        }
        for (name, cost) in file.operators {
            if !OPERATOR_NAMES.contains(&name.as_str()) {
                return Err(format!("unknown operator {name:?}"));
            }
            model.operators.insert(name, cost.into());
        }
        let units = [
            (file.function_entry, &mut model.function_entry),
            (file.local, &mut model.local),
            (file.memory_byte, &mut model.memory_byte),
            (file.table_element, &mut model.table_element),
            (file.memory_page, &mut model.memory_page),
        ];
        for (value, field) in units {
            if let Some(v) = value {
                *field = v;
            }
        }
        Ok(model)
    }

    /// The cost of `op`.
    pub fn operator(&self, op: &Operator<'_>) -> OperatorCost {
        let name = operator_name(op);
        self.operators.get(name).copied().unwrap_or(self.default)
    }

    /// What the runtime needs to know of this model.
    pub fn metadata(&self, mode: FuelMode) -> FuelMetadata {
        FuelMetadata {
            mode,
            memory_byte: self.memory_byte,
            table_element: self.table_element,
            memory_page: self.memory_page,
        }
    }
}

/// A cost as written in TOML: a number or `"forbidden"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum CostEntry {
    Fuel(u32),
    Word(Forbidden),
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Forbidden {
    Forbidden,
}

impl From<CostEntry> for OperatorCost {
    fn from(e: CostEntry) -> OperatorCost {
        match e {
            CostEntry::Fuel(n) => OperatorCost::Fuel(n),
            CostEntry::Word(Forbidden::Forbidden) => OperatorCost::Forbidden,
        }
    }
}

/// The TOML schema of a custom cost model.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CostFile {
    base: Option<String>,
    default: Option<CostEntry>,
    #[serde(default)]
    operators: BTreeMap<String, CostEntry>,
    function_entry: Option<u64>,
    local: Option<u64>,
    memory_byte: Option<u64>,
    table_element: Option<u64>,
    memory_page: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_a_base_preset() {
        let model = CostModel::from_toml(
            r#"
            base = "uniform"
            default = 2
            function_entry = 5
            memory_byte = 3
            [operators]
            I64DivS = 10
            MemoryGrow = "forbidden"
            "#,
        )
        .unwrap();
        assert_eq!(model.default, OperatorCost::Fuel(2));
        assert_eq!(model.function_entry, 5);
        assert_eq!(model.memory_byte, 3);
        assert_eq!(model.table_element, 0);
        assert_eq!(model.operator(&Operator::I64DivS), OperatorCost::Fuel(10));
        assert_eq!(model.operator(&Operator::I32Add), OperatorCost::Fuel(2));
        assert_eq!(
            model.operator(&Operator::MemoryGrow { mem: 0 }),
            OperatorCost::Forbidden
        );
    }

    #[test]
    fn unknown_operators_and_fields_are_errors() {
        let e = CostModel::from_toml("[operators]\nI32Plus = 1\n").unwrap_err();
        assert!(e.contains("I32Plus"), "{e}");
        assert!(CostModel::from_toml("speed = 1\n").is_err());
        assert!(CostModel::from_toml("[operators]\nNop = \"cheap\"\n").is_err());
    }

    #[test]
    fn wasmtime_preset_frees_structural_operators() {
        let m = CostModel::wasmtime();
        assert_eq!(m.operator(&Operator::Nop), OperatorCost::Fuel(0));
        assert_eq!(m.operator(&Operator::End), OperatorCost::Fuel(0));
        assert_eq!(m.operator(&Operator::I32Add), OperatorCost::Fuel(1));
        assert_eq!(
            m.operator(&Operator::Call { function_index: 0 }),
            OperatorCost::Fuel(1)
        );
    }

    #[test]
    fn simd_operators_have_costs_in_every_source() {
        let shuffle = Operator::I8x16Shuffle { lanes: [0; 16] };
        for model in [CostModel::wasmtime(), CostModel::uniform()] {
            assert_eq!(model.operator(&Operator::I32x4Add), OperatorCost::Fuel(1));
            assert_eq!(model.operator(&shuffle), OperatorCost::Fuel(1));
        }
        let model =
            CostModel::from_toml("[operators]\nI32x4DotI16x8S = 4\nI8x16Shuffle = \"forbidden\"\n")
                .unwrap();
        assert_eq!(
            model.operator(&Operator::I32x4DotI16x8S),
            OperatorCost::Fuel(4)
        );
        assert_eq!(model.operator(&shuffle), OperatorCost::Forbidden);
        assert_eq!(model.operator(&Operator::F64x2Add), OperatorCost::Fuel(1));
    }
}
