//! A pattern's own source, as `GET /api/patterns/{id}/source` serves it:
//! the engine's file first, then the family's shared files it uses (the
//! token tree, the breaker, the retry loop, the flow kit).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub files: Vec<SourceFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Its path in the repository.
    pub file: String,
    /// The file, byte for byte.
    pub text: String,
    /// The lines that emit an event, with the event's wire name.
    pub marks: Vec<Mark>,
    /// The file's lines as highlighted HTML, made when the server was
    /// built. Classes: `k` keyword, `t` type, `m` macro, `s` string, `n`
    /// number, `l` lifetime, `a` attribute, `c` comment.
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The event's wire name (`dropped`, `token_cancelled`).
    pub event: String,
    /// Counting from 1.
    pub line: u32,
}
