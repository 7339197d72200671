//! Spelling wasm names and arbitrary strings in generated C source: string
//! literals, and identifiers that keep distinct names distinct.
//!
//! This module must not decide what generated C contains (`header.rs`,
//! `executable.rs` do); it only spells.

/// `text` as a C string literal: printable ASCII as is (but `"`, `\`, `?`,
/// which could start a trigraph, and `/`, so the literal never ends a
/// comment it is quoted in), every other byte as an octal escape.
pub fn string_literal(text: &str) -> String {
    let mut literal = String::from("\"");
    for byte in text.bytes() {
        if (0x20..=0x7e).contains(&byte) && !b"\"\\?/".contains(&byte) {
            literal.push(byte as char);
        } else {
            literal.push_str(&format!("\\{byte:03o}"));
        }
    }
    literal.push('"');
    literal
}

/// `name` as a piece of a C identifier: ASCII letters and digits as is,
/// every other byte (`_` included) as `_` and two lowercase hex digits. So
/// the result has no `__`, and pieces joined with `__` never collide:
/// reading left to right, `_` starts an escape unless another `_` follows.
pub fn identifier_piece(name: &str) -> String {
    let mut piece = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() {
            piece.push(byte as char);
        } else {
            piece.push_str(&format!("_{byte:02x}"));
        }
    }
    piece
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_escape_everything_unusual() {
        assert_eq!(string_literal("a b"), "\"a b\"");
        assert_eq!(string_literal("\"\\?"), "\"\\042\\134\\077\"");
        assert_eq!(string_literal("é\n"), "\"\\303\\251\\012\"");
        assert_eq!(string_literal("*/"), "\"*\\057\"");
    }

    #[test]
    fn identifier_pieces_keep_names_apart() {
        assert_eq!(identifier_piece("log"), "log");
        assert_eq!(identifier_piece("fd_write"), "fd_5fwrite");
        assert_eq!(identifier_piece("a.b-c"), "a_2eb_2dc");
        assert_eq!(identifier_piece(""), "");
        // Module and field joined with `__`: these would collide if `_`
        // were kept as is.
        let join = |m: &str, f: &str| format!("{}__{}", identifier_piece(m), identifier_piece(f));
        assert_ne!(join("a_", "b"), join("a", "_b"));
        assert_ne!(join("a", "b__c"), join("a__b", "c"));
    }
}
