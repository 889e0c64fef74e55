//! The engines' own source, made ready to show beside the animation: each
//! file under `src/engines/<family>/` is embedded byte for byte, with its
//! lines highlighted (classed HTML spans) and the lines that emit an event
//! marked with the event's wire name, all worked out here, once.
//!
//! Highlighting lexes the file with `proc-macro2`, the tokenizer the
//! compiler's own macros use, so every literal, lifetime and raw string is
//! told apart as Rust tells them; what lies between tokens is white space
//! or a comment.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use std::fmt::Write as _;
use std::path::Path;

/// The families' folders, as `shared::Family` names them.
const FAMILIES: [&str; 4] = ["overload", "cancellation", "resilience", "flow"];

/// The event enums whose constructors mark a line.
const EVENT_ENUMS: [&str; 5] = [
    "OverloadEvent",
    "CancellationEvent",
    "ResilienceEvent",
    "FlowEvent",
    "RunEvent",
];

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while",
];

/// Writes `sources.rs` into `out`: a table of every engine file.
pub fn write(root: &Path, out: &Path) {
    let mut code = String::from("pub static FILES: &[SourceFile] = &[\n");
    for family in FAMILIES {
        let dir = root.join("server/src/engines").join(family);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".rs") && name != "mod.rs")
            .collect();
        names.sort();
        for name in names {
            let path = dir.join(&name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            let lines = highlight(&text);
            let marks = marks(&text);
            let uses = uses(&text);
            let _ = writeln!(
                code,
                "    SourceFile {{\n        path: {:?},\n        text: include_str!({:?}),\n        \
                 lines: &{:?},\n        marks: &{:?},\n        uses: &{:?},\n    }},",
                format!("server/src/engines/{family}/{name}"),
                path.display().to_string(),
                lines,
                marks,
                uses,
            );
        }
    }
    code.push_str("];\n");
    std::fs::write(out.join("sources.rs"), code).expect("write sources.rs");
}

/// The part of a file before its tests: what the engine runs.
fn before_tests(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, line)| line.trim_end() != "#[cfg(test)]")
        .map(|(i, line)| (i + 1, line))
}

/// `(wire name, line)` for each event constructed outside the tests.
fn marks(text: &str) -> Vec<(String, u32)> {
    let mut marks = Vec::new();
    for (number, line) in before_tests(text) {
        let code = line.split("//").next().unwrap_or_default();
        for family in EVENT_ENUMS {
            let needle = format!("{family}::");
            let mut rest = code;
            while let Some(at) = rest.find(&needle) {
                let after = &rest[at + needle.len()..];
                let variant: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                let preceded = rest[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
                if !preceded && variant.starts_with(|c: char| c.is_ascii_uppercase()) {
                    let mark = (snake(&variant), number as u32);
                    if !marks.contains(&mark) {
                        marks.push(mark);
                    }
                }
                rest = after;
            }
        }
    }
    marks
}

/// The family's shared files this one uses (`use super::tree::…`).
fn uses(text: &str) -> Vec<String> {
    let mut uses = Vec::new();
    for (_, line) in before_tests(text) {
        let Some(rest) = line.trim_start().strip_prefix("use super::") else {
            continue;
        };
        let module: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if rest[module.len()..].starts_with("::") && !uses.contains(&format!("{module}.rs")) {
            uses.push(format!("{module}.rs"));
        }
    }
    uses
}

/// `ItemEnded` → `item_ended`, as serde's `snake_case` renames it.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A class for each piece of the file, in order, covering all of it.
fn pieces(text: &str) -> Vec<(Option<&'static str>, String)> {
    let starts = line_starts(text);
    let offset = |span: Span, end: bool| {
        let at = if end { span.end() } else { span.start() };
        let line_start = starts
            .get(at.line.saturating_sub(1))
            .copied()
            .unwrap_or(text.len());
        let line = &text[line_start..];
        let column = line
            .char_indices()
            .nth(at.column)
            .map_or(line.len(), |(i, _)| i);
        line_start + column
    };
    let Ok(tokens) = text.parse::<TokenStream>() else {
        // Not Rust the lexer reads: shown plain.
        return vec![(None, text.to_owned())];
    };
    let mut leaves = Vec::new();
    flatten(tokens, &mut leaves);
    let mut out = Vec::new();
    let mut cursor = 0;
    let mut previous: Option<TokenTree> = None;
    for (i, leaf) in leaves.iter().enumerate() {
        let (start, end) = (offset(leaf.span(), false), offset(leaf.span(), true));
        if start < cursor || end > text.len() || start > end {
            continue;
        }
        gap(&text[cursor..start], &mut out);
        let slice = &text[start..end];
        let class = if slice.starts_with("//") || slice.starts_with("/*") {
            Some("c")
        } else {
            classify(leaf, previous.as_ref(), leaves.get(i + 1))
        };
        out.push((class, slice.to_owned()));
        cursor = end;
        previous = Some(leaf.clone());
    }
    gap(&text[cursor..], &mut out);
    out
}

/// What lies between two tokens: white space, and any comment in it.
fn gap(text: &str, out: &mut Vec<(Option<&'static str>, String)>) {
    if text.is_empty() {
        return;
    }
    let class = (!text.trim().is_empty()).then_some("c");
    out.push((class, text.to_owned()));
}

fn classify(
    leaf: &TokenTree,
    previous: Option<&TokenTree>,
    next: Option<&TokenTree>,
) -> Option<&'static str> {
    match leaf {
        TokenTree::Ident(ident) => {
            let name = ident.to_string();
            let after_quote = matches!(previous, Some(TokenTree::Punct(p)) if p.as_char() == '\'');
            if after_quote {
                Some("l")
            } else if KEYWORDS.contains(&name.as_str()) {
                Some("k")
            } else if matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == '!') {
                Some("m")
            } else if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                Some("t")
            } else {
                None
            }
        }
        TokenTree::Literal(literal) => {
            let text = literal.to_string();
            if text.starts_with(|c: char| c.is_ascii_digit()) {
                Some("n")
            } else {
                Some("s")
            }
        }
        TokenTree::Punct(p) if p.as_char() == '\'' => Some("l"),
        TokenTree::Punct(p) if p.as_char() == '#' => Some("a"),
        _ => None,
    }
}

/// Every leaf token in order, with a group's delimiters as their own
/// (one-character) leaves.
fn flatten(tokens: TokenStream, out: &mut Vec<TokenTree>) {
    for tree in tokens {
        match tree {
            TokenTree::Group(group) => {
                let open = group.span_open();
                let close = group.span_close();
                if group.delimiter() == Delimiter::None {
                    flatten(group.stream(), out);
                    continue;
                }
                out.push(delimiter(open));
                flatten(group.stream(), out);
                out.push(delimiter(close));
            }
            leaf => out.push(leaf),
        }
    }
}

/// A group's delimiter as a leaf: a neutral stand-in (proc-macro2 makes
/// no punctuation of brackets) carrying the delimiter's span.
fn delimiter(span: Span) -> TokenTree {
    let mut punct = proc_macro2::Punct::new('.', proc_macro2::Spacing::Alone);
    punct.set_span(span);
    TokenTree::Punct(punct)
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// The file's lines as HTML, each piece of it in a span of its class.
pub fn highlight(text: &str) -> Vec<String> {
    let mut lines = vec![String::new()];
    for (class, piece) in pieces(text) {
        for (i, part) in piece.split('\n').enumerate() {
            if i > 0 {
                lines.push(String::new());
            }
            if part.is_empty() {
                continue;
            }
            let line = lines.last_mut().expect("one line at least");
            let escaped = escape(part);
            match class {
                Some(class) => {
                    let _ = write!(line, "<span class=\"{class}\">{escaped}</span>");
                }
                None => line.push_str(&escaped),
            }
        }
    }
    if text.ends_with('\n') {
        lines.pop();
    }
    lines
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
