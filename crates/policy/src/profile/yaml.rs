//! YAML text to a JSON value, read the way every YAML reader reads it, or refused.
//!
//! Kubernetes objects are YAML, and readers disagree on YAML: Kubernetes' own
//! (`sigs.k8s.io/yaml`, YAML 1.1 rules) reads `0777` as octal 511, `1_000` as 1000 and
//! `yes`/`on` as `true`, where a YAML 1.2 reader sees 777, a string and a string. A
//! profile must mean on the node what syscage says it means, so this reader takes the
//! events of a YAML 1.2 parser (`saphyr-parser`) and builds the value itself:
//! - a plain scalar is `null`, `true`/`false`, a decimal integer without leading zeros,
//!   `0x` hex, or a float, where both rule sets agree; a plain scalar that one of them
//!   reads as a number or a boolean and the other does not, or differently, is refused;
//!   anything else is a string, as is every quoted scalar;
//! - a key given twice in one mapping is refused, as the JSON reader refuses it;
//! - anchors, aliases and tags are refused (Kubernetes objects do not need them, and an
//!   alias can multiply a document's size);
//! - one document per text.

use super::error::{ErrorKind, ReadError};
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::{Map, Number, Value};

/// Mappings and sequences nest at most this deep (serde_json's own limit is 128).
const MAX_DEPTH: usize = 64;

/// The single document of `text` as a JSON value.
pub fn to_value(text: &str) -> Result<Value, ReadError> {
    let mut r = Reader {
        parser: Parser::new_from_str(text),
    };
    loop {
        match r.next()? {
            (Event::StreamStart, _) => {}
            (Event::DocumentStart(_), _) => break,
            (Event::StreamEnd, _) => return Err(ReadError::Yaml("no document".to_string())),
            (_, span) => return Err(syntax("unexpected content", span)),
        }
    }
    let value = r.node("", 0)?;
    match r.next()? {
        (Event::DocumentEnd, _) => {}
        (_, span) => return Err(syntax("expected the end of the document", span)),
    }
    match r.next()? {
        (Event::StreamEnd, _) => Ok(value),
        (Event::DocumentStart(_), span) => Err(at_line("", span, ErrorKind::YamlSecondDocument)),
        (_, span) => Err(syntax("unexpected content after the document", span)),
    }
}

struct Reader<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
}

fn line_col(span: Span) -> String {
    format!("line {} column {}", span.start.line(), span.start.col() + 1)
}

fn syntax(what: &str, span: Span) -> ReadError {
    ReadError::Yaml(format!("{what} at {}", line_col(span)))
}

/// An error at a place in the document, with the line it starts on.
fn at_line(path: &str, span: Span, kind: ErrorKind) -> ReadError {
    ReadError::At {
        path: if path.is_empty() {
            line_col(span)
        } else {
            format!("{path} ({})", line_col(span))
        },
        kind,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), ReadError> {
        match self.parser.next_event() {
            Some(Ok(e)) => Ok(e),
            Some(Err(e)) => Err(ReadError::Yaml(format!(
                "{} at line {} column {}",
                e.info(),
                e.marker().line(),
                e.marker().col() + 1
            ))),
            None => Err(ReadError::Yaml("unexpected end".to_string())),
        }
    }

    /// The node that starts with the next event, at `path`.
    fn node(&mut self, path: &str, depth: usize) -> Result<Value, ReadError> {
        let (event, span) = self.next()?;
        self.node_from(event, span, path, depth)
    }

    fn node_from(
        &mut self,
        event: Event<'a>,
        span: Span,
        path: &str,
        depth: usize,
    ) -> Result<Value, ReadError> {
        let refuse = |what: &'static str| at_line(path, span, ErrorKind::YamlNotRead(what));
        if depth > MAX_DEPTH {
            return Err(at_line(path, span, ErrorKind::YamlDepth(MAX_DEPTH)));
        }
        match event {
            Event::Alias(_) => Err(refuse("aliases")),
            Event::Scalar(_, _, anchor, _) | Event::SequenceStart(anchor, _) if anchor != 0 => {
                Err(refuse("anchors"))
            }
            Event::MappingStart(anchor, _) if anchor != 0 => Err(refuse("anchors")),
            Event::Scalar(_, _, _, Some(_))
            | Event::SequenceStart(_, Some(_))
            | Event::MappingStart(_, Some(_)) => Err(refuse("tags")),
            Event::Scalar(text, style, _, None) => {
                scalar(&text, style).map_err(|kind| at_line(path, span, kind))
            }
            Event::SequenceStart(..) => {
                let mut items = Vec::new();
                loop {
                    let (e, s) = self.next()?;
                    if matches!(e, Event::SequenceEnd) {
                        return Ok(Value::Array(items));
                    }
                    let p = format!("{path}[{}]", items.len());
                    items.push(self.node_from(e, s, &p, depth + 1)?);
                }
            }
            Event::MappingStart(..) => {
                let mut map = Map::new();
                loop {
                    let (e, s) = self.next()?;
                    let key = match e {
                        Event::MappingEnd => return Ok(Value::Object(map)),
                        Event::Scalar(k, _, 0, None) => k.into_owned(),
                        _ => return Err(at_line(path, s, ErrorKind::YamlKey)),
                    };
                    let p = join(path, &key);
                    if map.contains_key(&key) {
                        return Err(at_line(&p, s, ErrorKind::Duplicate));
                    }
                    let v = self.node(&p, depth + 1)?;
                    map.insert(key, v);
                }
            }
            _ => Err(syntax("unexpected content", span)),
        }
    }
}

/// A scalar's value (see the module's comment).
fn scalar(text: &str, style: ScalarStyle) -> Result<Value, ErrorKind> {
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "true" | "True" | "TRUE" => return Ok(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Value::Bool(false)),
        "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "on" | "On"
        | "ON" | "off" | "Off" | "OFF" => {
            return Err(ambiguous(
                text,
                "a boolean to Kubernetes (YAML 1.1), a string to YAML 1.2 readers: write `true` or `false`, or a string in quotes",
            ))
        }
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(hex) = text.strip_prefix("0x") {
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return u64::from_str_radix(hex, 16)
                .map(|n| Value::Number(n.into()))
                .map_err(|_| out_of_range(text));
        }
    }
    if digits(unsigned) {
        if unsigned.len() > 1 && unsigned.starts_with('0') {
            return Err(ambiguous(
                text,
                "octal to Kubernetes (YAML 1.1), decimal to YAML 1.2 readers: write a number in decimal or 0x hex, a string in quotes",
            ));
        }
        if let Ok(n) = text.trim_start_matches('+').parse::<u64>() {
            return Ok(Value::Number(n.into()));
        }
        return text
            .parse::<i64>()
            .map(|n| Value::Number(n.into()))
            .map_err(|_| out_of_range(text));
    }
    let looks_numeric = unsigned.starts_with(|c: char| c.is_ascii_digit());
    if looks_numeric
        && (unsigned.starts_with("0o")
            || unsigned.starts_with("0b")
            || unsigned.starts_with("0x")
            || unsigned.contains('_')
            || unsigned.contains(':'))
    {
        return Err(ambiguous(
            text,
            "a number to some YAML readers and not to others, or a different one: write a number in decimal or 0x hex, a string in quotes",
        ));
    }
    if is_float(unsigned) {
        return text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| out_of_range(text));
    }
    Ok(Value::String(text.to_string()))
}

/// `1.5`, `.5`, `1.`, `1e3`, `1.5E-3` (YAML 1.2's core schema, which YAML 1.1 readers
/// also read as floats).
fn is_float(s: &str) -> bool {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = all_digits(int)
        && frac.is_none_or(all_digits)
        && !(int.is_empty() && frac.is_none_or(str::is_empty));
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exp_ok && (frac.is_some() || exp.is_some())
}

fn ambiguous(text: &str, why: &'static str) -> ErrorKind {
    ErrorKind::YamlAmbiguous {
        text: text.to_string(),
        why,
    }
}

fn out_of_range(text: &str) -> ErrorKind {
    ErrorKind::YamlRange(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Value {
        to_value(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> String {
        to_value(text).unwrap_err().to_string()
    }

    #[test]
    fn scalars_read_as_every_reader_reads_them() {
        assert_eq!(
            ok("a: 1\nb: 0x10\nc: -3\nd: \"0777\"\ne: '12'\nf: null\ng: true\nh: text\ni: 1.5\nj: ~\nk: SCMP_ACT_ALLOW\n"),
            serde_json::json!({"a": 1, "b": 16, "c": -3, "d": "0777", "e": "12", "f": null, "g": true, "h": "text", "i": 1.5, "j": null, "k": "SCMP_ACT_ALLOW"})
        );
        assert_eq!(
            ok("- 18446744073709551615\n"),
            serde_json::json!([u64::MAX])
        );
        assert_eq!(
            ok("{\"a\": [1, 2], \"b\": \"x\"}"),
            serde_json::json!({"a": [1, 2], "b": "x"})
        );
    }

    #[test]
    fn scalars_readers_disagree_on_are_refused() {
        for (text, want) in [
            ("v: 0777", "v (line 1 column 4): `0777` is octal to Kubernetes (YAML 1.1), decimal to YAML 1.2 readers: write a number in decimal or 0x hex, a string in quotes"),
            ("v: yes", "v (line 1 column 4): `yes` is a boolean to Kubernetes (YAML 1.1), a string to YAML 1.2 readers: write `true` or `false`, or a string in quotes"),
            ("v: 1_000", "v (line 1 column 4): `1_000` is a number to some YAML readers and not to others, or a different one: write a number in decimal or 0x hex, a string in quotes"),
            ("v: 0o17", "v (line 1 column 4): `0o17` is a number to some YAML readers and not to others, or a different one: write a number in decimal or 0x hex, a string in quotes"),
            ("v: 0x1_0", "v (line 1 column 4): `0x1_0` is a number to some YAML readers and not to others, or a different one: write a number in decimal or 0x hex, a string in quotes"),
            ("v: 99999999999999999999", "v (line 1 column 4): `99999999999999999999` is out of range for a 64-bit integer"),
        ] {
            assert_eq!(err(text), want, "{text}");
        }
    }

    #[test]
    fn duplicates_anchors_tags_and_documents_are_refused() {
        assert_eq!(
            err("spec:\n  syscalls:\n  - names: [a]\n    names: [b]\n"),
            "spec.syscalls[0].names (line 4 column 5): given twice in one object: JSON readers keep either the first or the last, so the profile would mean what the reader happens to pick; remove one"
        );
        assert_eq!(
            err("a: &x 1\nb: *x\n"),
            "a (line 1 column 4): anchors are not read: write the value out, without them"
        );
        assert_eq!(
            err("a: !!str 1\n"),
            "a (line 1 column 4): tags are not read: write the value out, without them"
        );
        assert_eq!(
            err("a: 1\n---\na: 2\n"),
            "line 2 column 1: a second document: give one profile per file"
        );
        assert_eq!(
            err("a: [1\n"),
            "not YAML: while parsing a flow sequence, expected ',' or ']' at line 2 column 1"
        );
        assert_eq!(err(""), "not YAML: no document");
        let deep = format!("{}1{}", "[".repeat(70), "]".repeat(70));
        assert!(
            err(&deep).ends_with("nested more than 64 levels deep"),
            "{}",
            err(&deep)
        );
    }
}
