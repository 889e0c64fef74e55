//! The engines' own source, embedded when the server is built (see
//! `build/source.rs`): each file byte for byte, its lines highlighted, and
//! the lines that emit an event marked with the event's wire name.

use shared::source::{Mark, Source};
use shared::{Family, PatternId};

/// One engine file, as the build made it.
#[derive(Debug)]
pub struct SourceFile {
    /// Its path in the repository.
    pub path: &'static str,
    pub text: &'static str,
    /// Highlighted HTML, one entry a line.
    pub lines: &'static [&'static str],
    /// `(wire name, line)` of each event it constructs outside its tests.
    pub marks: &'static [(&'static str, u32)],
    /// The family's shared files it uses (`tree.rs`).
    pub uses: &'static [&'static str],
}

include!(concat!(env!("OUT_DIR"), "/sources.rs"));

fn folder(family: Family) -> &'static str {
    match family {
        Family::Overload => "overload",
        Family::Cancellation => "cancellation",
        Family::Resilience => "resilience",
        Family::Flow => "flow",
    }
}

fn file(path: &str) -> Option<&'static SourceFile> {
    FILES.iter().find(|f| f.path == path)
}

/// The pattern's engine file, then the family's files it uses, and the
/// files those use (drop-blocking builds on drop-basic, which builds on the
/// workers in `load.rs`).
pub fn files(pattern: PatternId) -> Vec<&'static SourceFile> {
    let dir = format!("server/src/engines/{}", folder(pattern.family()));
    let engine = format!("{dir}/{}.rs", pattern.as_str().replace('-', "_"));
    let mut files: Vec<&'static SourceFile> = file(&engine).into_iter().collect();
    let mut next = 0;
    while let Some(current) = files.get(next).copied() {
        for name in current.uses {
            if let Some(used) = file(&format!("{dir}/{name}"))
                && !files.iter().any(|f| f.path == used.path)
            {
                files.push(used);
            }
        }
        next += 1;
    }
    files
}

/// What `GET /api/patterns/{id}/source` answers.
pub fn source(pattern: PatternId) -> Source {
    Source {
        files: files(pattern)
            .into_iter()
            .map(|f| shared::source::SourceFile {
                file: f.path.to_owned(),
                text: f.text.to_owned(),
                marks: f
                    .marks
                    .iter()
                    .map(|(event, line)| Mark {
                        event: (*event).to_owned(),
                        line: *line,
                    })
                    .collect(),
                lines: f.lines.iter().map(|l| (*l).to_owned()).collect(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_has_its_engine_file_first() {
        for pattern in PatternId::ALL {
            let files = files(pattern);
            let first = files
                .first()
                .unwrap_or_else(|| panic!("{pattern} has no source"));
            assert!(
                first
                    .path
                    .ends_with(&format!("{}.rs", pattern.as_str().replace('-', "_")))
            );
        }
    }

    #[test]
    fn the_lessons_in_shared_machinery_are_tabs() {
        let names = |p: PatternId| -> Vec<&str> { files(p).iter().map(|f| f.path).collect() };
        assert!(
            names(PatternId::CircuitBreaker)
                .iter()
                .any(|p| p.ends_with("breaker.rs"))
        );
        assert!(
            names(PatternId::RetryBackoff)
                .iter()
                .any(|p| p.ends_with("retry.rs"))
        );
        assert!(
            names(PatternId::CancelTree)
                .iter()
                .any(|p| p.ends_with("tree.rs"))
        );
        assert!(
            names(PatternId::Pipeline)
                .iter()
                .any(|p| p.ends_with("pipe.rs"))
        );
    }

    #[test]
    fn every_line_is_highlighted_and_says_what_the_file_says() {
        for file in FILES {
            assert_eq!(file.lines.len(), file.text.lines().count(), "{}", file.path);
            for (html, text) in file.lines.iter().zip(file.text.lines()) {
                assert_eq!(unescape(&strip_tags(html)), text, "{}", file.path);
            }
        }
    }

    fn strip_tags(html: &str) -> String {
        let mut out = String::new();
        let mut inside = false;
        for c in html.chars() {
            match c {
                '<' => inside = true,
                '>' => inside = false,
                c if !inside => out.push(c),
                _ => {}
            }
        }
        out
    }

    fn unescape(text: &str) -> String {
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    }
}
