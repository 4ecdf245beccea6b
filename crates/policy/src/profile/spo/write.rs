//! A resolved policy as a `SeccompProfile` resource, in YAML: the same entries as the OCI
//! form ([`crate::profile::policy_to_oci`]), so the same guarantee (runc and crun read
//! each entry as syscage does), within what the resource can hold; what it cannot hold is
//! refused, never approximated.

use super::{API_VERSION, KIND, MAX_VALUE};
use crate::action::Action;
use crate::model::Policy;
use crate::profile::portable::PortableError;
use crate::profile::raw::{RawArg, RawProfile, RawSyscall};
use crate::profile::write::policy_to_raw;
use crate::profile::yaml;
use thiserror::Error;

/// Why a policy cannot be written in a format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WriteError {
    #[error(transparent)]
    Portable(#[from] PortableError),
    #[error("`{0}` is not a Kubernetes object name: lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit, at most 253 characters")]
    BadName(String),
    #[error("its default action is {0}, and the resource has no defaultErrnoRet: a SeccompProfile's default ERRNO or TRACE answers 1 (EPERM); hint: the OCI form (--to oci) keeps it")]
    Default(Action),
    #[error("the rule for `{names}` answers ERRNO(0), which a SeccompProfile cannot say: the operator drops a zero errnoRet and the profile on the node would answer EPERM")]
    ZeroErrno { names: String },
    #[error("the rule for `{names}` compares `{value:#x}`, above 2^63-1: the SeccompProfile resource stores values as int64 and cannot hold it")]
    Value { names: String, value: u64 },
}

/// The policy as a `SeccompProfile` named `name`, its YAML text; `header`: comment lines
/// to put first (where it came from).
pub fn policy_to_spo(p: &Policy, name: &str, header: &[String]) -> Result<String, WriteError> {
    if !is_name(name) {
        return Err(WriteError::BadName(name.to_string()));
    }
    let raw = policy_to_raw(p, false)?;
    let default = p.default_action();
    if default.data().is_some_and(|v| v != 1) {
        return Err(WriteError::Default(default));
    }
    let calls: Vec<&RawSyscall> = raw.syscalls.iter().flatten().map(|e| &e.0).collect();
    for c in &calls {
        let names = || c.names.clone().unwrap_or_default().join(",");
        if c.errno_ret == Some(0) {
            return Err(WriteError::ZeroErrno { names: names() });
        }
        for a in c.args.iter().flatten() {
            for v in [a.0.value, a.0.value_two].into_iter().flatten() {
                if v > MAX_VALUE {
                    return Err(WriteError::Value {
                        names: names(),
                        value: v,
                    });
                }
            }
        }
    }
    Ok(emit(&raw, &calls, name, header))
}

/// Whether `s` can name a Kubernetes object (a DNS-1123 subdomain).
pub fn is_name(s: &str) -> bool {
    let label = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    !s.is_empty() && s.len() <= 253 && s.split('.').all(label)
}

/// A name for a profile written from `source` (a file name or a built-in's): its stem,
/// lowercased, with what a name cannot hold turned into `-`; `profile` if nothing is left.
pub fn name_from(source: &str) -> String {
    let base = source.rsplit('/').next().unwrap_or(source);
    let stem = [".json", ".yaml", ".yml"]
        .iter()
        .find_map(|x| base.strip_suffix(x))
        .unwrap_or(base);
    let mut out = String::new();
    for c in stem.chars().map(|c| c.to_ascii_lowercase()) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let out: String = out
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .chars()
        .take(253)
        .collect();
    if is_name(&out) {
        out
    } else {
        "profile".to_string()
    }
}

/// A scalar as YAML: plain when every reader reads it as this string, else quoted (a JSON
/// string is a YAML double-quoted scalar).
fn q(s: &str) -> String {
    let simple = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '/');
    let reads_back = yaml::to_value(s).ok() == Some(serde_json::Value::String(s.to_string()));
    if simple && reads_back {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
    }
}

fn emit(raw: &RawProfile, calls: &[&RawSyscall], name: &str, header: &[String]) -> String {
    let mut o = String::new();
    for h in header {
        o += &format!("# {}\n", h.replace(['\n', '\r'], " "));
    }
    o += &format!(
        "apiVersion: {API_VERSION}\nkind: {KIND}\nmetadata:\n  name: {}\nspec:\n",
        q(name)
    );
    if let Some(a) = &raw.default_action {
        o += &format!("  defaultAction: {}\n", q(a));
    }
    let list = |o: &mut String, key: &str, items: &Option<Vec<String>>| {
        if let Some(items) = items.as_ref().filter(|i| !i.is_empty()) {
            *o += &format!("  {key}:\n");
            for i in items {
                *o += &format!("  - {}\n", q(i));
            }
        }
    };
    list(&mut o, "architectures", &raw.architectures);
    list(&mut o, "flags", &raw.flags);
    if let Some(l) = &raw.listener_path {
        o += &format!("  listenerPath: {}\n", q(l));
    }
    if let Some(m) = &raw.listener_metadata {
        o += &format!("  listenerMetadata: {}\n", q(m));
    }
    if !calls.is_empty() {
        o += "  syscalls:\n";
    }
    for c in calls {
        o += "  - names:\n";
        for n in c.names.iter().flatten() {
            o += &format!("    - {}\n", q(n));
        }
        if let Some(a) = &c.action {
            o += &format!("    action: {}\n", q(a));
        }
        if let Some(e) = c.errno_ret {
            o += &format!("    errnoRet: {e}\n");
        }
        if let Some(args) = c.args.as_ref().filter(|a| !a.is_empty()) {
            o += "    args:\n";
            for a in args {
                arg(&mut o, &a.0);
            }
        }
    }
    o
}

fn arg(o: &mut String, a: &RawArg) {
    *o += &format!("    - index: {}\n", a.index.unwrap_or(0));
    *o += &format!("      value: {}\n", a.value.unwrap_or(0));
    if let Some(v) = a.value_two {
        *o += &format!("      valueTwo: {v}\n");
    }
    if let Some(op) = &a.op {
        *o += &format!("      op: {}\n", q(op));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_scalars() {
        assert_eq!(name_from("/tmp/Web Server.json"), "web-server");
        assert_eq!(name_from("default"), "default");
        assert_eq!(name_from("--.yaml"), "profile");
        assert_eq!(name_from("a_b.v2.yml"), "a-b.v2");
        assert!(!is_name("Web"));
        assert!(!is_name("a..b"));
        assert_eq!(q("SCMP_ACT_ALLOW"), "SCMP_ACT_ALLOW");
        assert_eq!(q("/run/agent.sock"), "/run/agent.sock");
        assert_eq!(q("yes"), "\"yes\"");
        assert_eq!(q("0777"), "\"0777\"");
        assert_eq!(q("12"), "\"12\"");
        assert_eq!(q("a: b"), "\"a: b\"");
        assert_eq!(q(""), "\"\"");
    }
}
