//! Strict reading: JSON text to the [`crate::config`] types, refusing what the spec does not
//! define with the path of the field (`process.capabilities.bounding[3]`).
//!
//! The types derive `Deserialize` with `deny_unknown_fields`; `serde_path_to_error` tracks
//! where the deserializer was when it failed. serde's own wording ("invalid type: string
//! \"x\", expected u32") is turned into the house style ("expected a number from 0 to
//! 4294967295, found a string") and unknown fields get a "did you mean" hint.

use crate::config::{Process, Resources, Spec};
use crate::suggest;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use serde_path_to_error::Segment;
use thiserror::Error;

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReadError {
    #[error("not JSON: {0}")]
    Syntax(String),
    #[error("truncated JSON: {0}")]
    Truncated(String),
    #[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    At { path: String, message: String },
}

impl ReadError {
    /// The path of the field the error is about; empty for the whole document.
    pub fn path(&self) -> &str {
        match self {
            ReadError::At { path, .. } => path,
            _ => "",
        }
    }
}

/// Reads a `config.json`.
pub fn config(text: &str) -> Result<Spec, ReadError> {
    parse(text)
}

/// Reads the process file `exec --process FILE` takes (a `process` object alone).
pub fn process(text: &str) -> Result<Process, ReadError> {
    parse(text)
}

/// Reads the resources `update --resources FILE|-` takes (a `linux.resources` object).
pub fn resources(text: &str) -> Result<Resources, ReadError> {
    parse(text)
}

fn parse<T: DeserializeOwned + Serialize>(text: &str) -> Result<T, ReadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| convert(&e))?;
    // Trailing text after the document (a second object, garbage) is an error too.
    de.end().map_err(|e| ReadError::Syntax(e.to_string()))?;
    // serde lets a struct be written as an array of its fields in order; the spec does
    // not, and `"root": ["rootfs", true]` should not quietly mean a read-only root.
    // Where the typed value is an object, the text must have had one.
    let written: Value =
        serde_json::from_str(text).map_err(|e| ReadError::Syntax(e.to_string()))?;
    let typed = serde_json::to_value(&value).map_err(|e| ReadError::Syntax(e.to_string()))?;
    same_shape(&written, &typed, &mut Vec::new())?;
    Ok(value)
}

/// Finds an array in `written` where `typed` has an object.
fn same_shape(written: &Value, typed: &Value, path: &mut Vec<String>) -> Result<(), ReadError> {
    match (written, typed) {
        (Value::Array(_), Value::Object(_)) => Err(ReadError::At {
            path: path.concat().trim_start_matches('.').to_string(),
            message: "expected an object, found an array".into(),
        }),
        (Value::Object(w), Value::Object(t)) => {
            for (key, wv) in w {
                if let Some(tv) = t.get(key) {
                    path.push(format!(".{key}"));
                    same_shape(wv, tv, path)?;
                    path.pop();
                }
            }
            Ok(())
        }
        (Value::Array(w), Value::Array(t)) => {
            for (i, (wv, tv)) in w.iter().zip(t).enumerate() {
                path.push(format!("[{i}]"));
                same_shape(wv, tv, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn convert(e: &serde_path_to_error::Error<serde_json::Error>) -> ReadError {
    let inner = e.inner();
    match inner.classify() {
        serde_json::error::Category::Eof => return ReadError::Truncated(inner.to_string()),
        serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
            return ReadError::Syntax(inner.to_string())
        }
        serde_json::error::Category::Data => {}
    }
    // serde_json appends the position; the path says more.
    let full = inner.to_string();
    let suffix = format!(" at line {} column {}", inner.line(), inner.column());
    let raw = full.strip_suffix(&suffix).unwrap_or(&full);

    let mut segments: Vec<&Segment> = e.path().iter().collect();
    let message = if let Some((field, expected)) = unknown_field(raw) {
        // The path ends at the unknown key itself; name the object that holds it.
        if matches!(segments.last(), Some(Segment::Map { key }) if *key == field) {
            segments.pop();
        }
        let hint = suggest::closest(&field, expected.iter().map(String::as_str))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        format!("unknown field `{field}`{hint}")
    } else {
        reword(raw)
    };
    ReadError::At {
        path: render(&segments),
        message,
    }
}

/// `a.b[3].c`, from the deserializer's path.
fn render(segments: &[&Segment]) -> String {
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    out
}

/// Parses serde's "unknown field `x`, expected one of `a`, `b`" (or "expected `a` or
/// `b`", "expected `a`", "there are no fields") into the field and the known names.
fn unknown_field(msg: &str) -> Option<(String, Vec<String>)> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((field.to_string(), expected))
}

/// serde's type words in the house style.
fn reword(msg: &str) -> String {
    // A struct given as an array: serde tries to read its fields in order.
    if msg.starts_with("invalid length ") && msg.contains(", expected struct ") {
        return "expected an object, found an array".into();
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            return format!(
                "expected {}, found {}",
                expected_name(expected),
                found_name(found)
            );
        }
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            return format!(
                "expected {}, found {}",
                expected_name(expected),
                found_name(found)
            );
        }
    }
    msg.to_string()
}

fn expected_name(e: &str) -> String {
    match e {
        "u16" => "a number from 0 to 65535".into(),
        "u32" => "a number from 0 to 4294967295".into(),
        "u64" => "a non-negative integer".into(),
        "i64" => "an integer".into(),
        "a boolean" | "a string" => e.into(),
        "a sequence" => "an array".into(),
        "a map" => "an object".into(),
        "any valid JSON value" => "a JSON value".into(),
        other if other.starts_with("struct ") => "an object".into(),
        other => other.into(),
    }
}

fn found_name(f: &str) -> String {
    if f.starts_with("string ") {
        return "a string".into();
    }
    match f {
        "map" => "an object".into(),
        "sequence" => "an array".into(),
        "null" => "null".into(),
        // `integer `-1``, `floating point `1.5``, `boolean `true``: keep the value.
        other => match other.split_once(' ') {
            Some((_, value)) => value.to_string(),
            None => other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match config(text) {
            Ok(_) => "accepted".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn paths_name_the_field() {
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0","process":{"user":{"uid":"0","gid":0},"cwd":"/"}}"#),
            "process.user.uid: expected a number from 0 to 4294967295, found a string"
        );
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0","mounts":[{"destination":"/a"},{"destination":1}]}"#),
            "mounts[1].destination: expected a string, found `1`"
        );
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0","process":{"user":{"uid":-1,"gid":0},"cwd":"/"}}"#),
            "process.user.uid: expected a number from 0 to 4294967295, found `-1`"
        );
    }

    #[test]
    fn unknown_fields_are_named_with_a_hint() {
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0","root":{"path":"r","readOnly":true}}"#),
            "root: unknown field `readOnly` (did you mean `readonly`?)"
        );
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0","linux":{"resources":{"pids":{"limit":1,"max":2}}}}"#),
            "linux.resources.pids: unknown field `max`"
        );
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0","bogus":1}"#),
            "unknown field `bogus`"
        );
    }

    #[test]
    fn missing_fields_name_their_object() {
        assert_eq!(err("{}"), "missing field `ociVersion`");
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0","process":{"user":{"uid":0,"gid":0}}}"#),
            "process: missing field `cwd`"
        );
    }

    #[test]
    fn syntax_and_truncation() {
        assert_eq!(err("]"), "not JSON: expected value at line 1 column 1");
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0""#),
            "truncated JSON: EOF while parsing an object at line 1 column 21"
        );
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0"} {}"#),
            "not JSON: trailing characters at line 1 column 24"
        );
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0","ociVersion":"1.0.0"}"#),
            "duplicate field `ociVersion`"
        );
    }

    #[test]
    fn objects_must_be_objects() {
        assert_eq!(err("[]"), "expected an object, found an array");
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0","root":["rootfs",true]}"#),
            "root: expected an object, found an array"
        );
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0","mounts":[{"destination":"/a"},["/b","bind"]]}"#),
            "mounts[1]: expected an object, found an array"
        );
        assert_eq!(
            err(r#"{"ociVersion":"1.0.0","process":{"user":[0,0],"cwd":"/"}}"#),
            "process.user: expected an object, found an array"
        );
    }

    #[test]
    fn annotations_and_seccomp_stay_raw() {
        let spec = config(
            r#"{"ociVersion":"1.2.0","annotations":{"b":"1","a":"2"},
                "linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","anything":[1]}}}"#,
        )
        .unwrap();
        let keys: Vec<&String> = spec.annotations.as_ref().unwrap().keys().collect();
        assert_eq!(keys, ["b", "a"], "order as written");
        let seccomp = spec.linux.unwrap().seccomp.unwrap();
        assert_eq!(seccomp["anything"][0], 1);
    }

    #[test]
    fn process_and_resources_documents() {
        let p = process(r#"{"user":{"uid":0,"gid":0},"cwd":"/","args":["true"]}"#).unwrap();
        assert_eq!(p.args(), ["true"]);
        assert_eq!(
            process(r#"{"user":{"uid":0,"gid":0},"cwd":"/","arg":["true"]}"#)
                .unwrap_err()
                .to_string(),
            "unknown field `arg` (did you mean `args`?)"
        );
        let r =
            resources(r#"{"memory":{"limit":134217728,"swap":268435456},"cpu":{"shares":512}}"#)
                .unwrap();
        assert_eq!(r.memory.unwrap().limit, Some(134_217_728));
        assert_eq!(
            resources(r#"{"memory":{"limit":"1g"}}"#)
                .unwrap_err()
                .to_string(),
            "memory.limit: expected an integer, found a string"
        );
    }
}
