//! Text that comes from the container (program paths, process names, strings read from
//! its memory), made safe to print: whoever names a binary chooses those bytes, and raw
//! on syscage's stderr they could retitle or erase the user's terminal, or forge lines of
//! the report.

use std::fmt::Write;

/// `bytes` as one line of printable text: `\` and `"` escaped, newline, tab and carriage
/// return as `\n`, `\t`, `\r`, other control characters (C0, DEL, and C1, which some
/// terminals obey like ESC sequences) and the Unicode characters that reorder or hide text
/// (bidirectional overrides, zero-width and line separators) as `\u{...}`, and bytes that
/// are not UTF-8 as `\xNN`. Everything else, non-ASCII letters included, is kept.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() || hides_text(c) => {
                    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Format characters that change how the text around them shows (Trojan Source,
/// CVE-2021-42574), and the Unicode line and paragraph separators.
fn hides_text(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{061c}'
            | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_obey() {
        assert_eq!(escape(b"/bin/busybox"), "/bin/busybox");
        assert_eq!(escape("/tmp/caf\u{e9}".as_bytes()), "/tmp/caf\u{e9}");
        assert_eq!(
            escape(b"a\x1b]0;pwned\x07\x1b[2J\nsyscage: report: no call was denied\r\t\x7f"),
            "a\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\nsyscage: report: no call was denied\\r\\t\\u{7f}"
        );
        assert_eq!(escape(b"\xff\xfex\xc3"), "\\xff\\xfex\\xc3");
        assert_eq!(escape("\u{9b}2J".as_bytes()), "\\u{9b}2J", "C1 CSI");
        assert_eq!(
            escape("ok\u{202e}txt.exe\u{2028}".as_bytes()),
            "ok\\u{202e}txt.exe\\u{2028}"
        );
        assert_eq!(escape(br#"q"u\o"#), r#"q\"u\\o"#);
    }

    #[test]
    fn the_escaped_text_has_no_control_character_and_is_reversible() {
        // Every byte value, alone and after a valid character.
        for b in 0..=255u8 {
            for input in [vec![b], vec![b'x', b], vec![0xc3, b]] {
                let e = escape(&input);
                assert!(!e.chars().any(|c| c.is_control()), "{input:?} -> {e:?}");
                assert_eq!(unescape(&e), input, "{e:?}");
            }
        }
    }

    /// The inverse, to prove nothing is lost or made ambiguous.
    fn unescape(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            if c != '\\' {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            match it.next() {
                Some('n') => out.push(b'\n'),
                Some('t') => out.push(b'\t'),
                Some('r') => out.push(b'\r'),
                Some('x') => {
                    let h: String = it.by_ref().take(2).collect();
                    out.push(u8::from_str_radix(&h, 16).unwrap());
                }
                Some('u') => {
                    let h: String = it.by_ref().skip(1).take_while(|c| *c != '}').collect();
                    let c = char::from_u32(u32::from_str_radix(&h, 16).unwrap()).unwrap();
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                Some(c) => out.push(c as u8),
                None => panic!("dangling backslash"),
            }
        }
        out
    }
}
