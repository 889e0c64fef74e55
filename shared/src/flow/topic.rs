//! Pub/sub topics and the patterns subscribers give: one rule, read by the
//! engine that routes messages and by the page that previews a pattern.

/// How many dot-separated segments a pattern may have.
pub const MAX_SEGMENTS: usize = 3;

/// The rule a pattern must follow, as a refusal states it.
pub const RULE: &str = "a pattern is 1 to 3 segments joined by dots, each made of a-z, 0-9 \
                        and _ or a lone * (one segment), e.g. orders.*, *.created or *";

/// Whether `pattern` matches `topic`: segment by segment, `*` standing for
/// exactly one segment, except that the pattern `*` alone matches every
/// topic.
pub fn matches(pattern: &str, topic: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let (mut p, mut t) = (pattern.split('.'), topic.split('.'));
    loop {
        match (p.next(), t.next()) {
            (None, None) => return true,
            (Some(ps), Some(ts)) if ps == "*" || ps == ts => {}
            _ => return false,
        }
    }
}

/// Whether `pattern` follows [`RULE`].
pub fn valid(pattern: &str) -> bool {
    let segments: Vec<&str> = pattern.split('.').collect();
    let segment_ok = |s: &&str| {
        *s == "*"
            || (!s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    };
    segments.len() <= MAX_SEGMENTS && segments.iter().all(segment_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_route_as_specified() {
        let table = [
            ("orders.*", "orders.created", true),
            ("orders.*", "orders.paid", true),
            ("orders.*", "orders", false),
            ("orders.*", "users.created", false),
            ("orders.*", "orders.a.b", false),
            ("*.created", "users.created", true),
            ("*.created", "orders.created", true),
            ("*.created", "orders.paid", false),
            ("*.created", "created", false),
            ("*.created", "a.b.created", false),
            ("*", "orders.created", true),
            ("*", "payments.failed", true),
            ("*", "orders", true),
            ("*", "a.b.c", true),
            ("orders.created", "orders.created", true),
            ("orders.created", "orders.paid", false),
            ("*.*", "users.deleted", true),
            ("*.*", "users", false),
        ];
        for (pattern, topic, expected) in table {
            assert_eq!(matches(pattern, topic), expected, "{pattern} on {topic}");
        }
    }

    #[test]
    fn patterns_follow_the_rule() {
        for ok in [
            "orders.*",
            "*.created",
            "*",
            "orders",
            "a.b.c",
            "*.*.*",
            "x_1.y2",
        ] {
            assert!(valid(ok), "{ok}");
        }
        for bad in [
            "",
            "orders.",
            ".created",
            "Orders.*",
            "a.b.c.d",
            "orders.#",
            "or ders",
            "**",
            "orders.*x",
            "a..b",
        ] {
            assert!(!valid(bad), "{bad}");
        }
    }
}
