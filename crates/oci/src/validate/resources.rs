//! `linux.resources` (and the `update --resources` document): values the kernel would
//! refuse or misread, caught with the field's name before any cgroup is made.

use super::{at, err, is_set, Problem, ValidateError};
use crate::config::Resources;

pub(super) fn check(r: &Resources, prefix: &str) -> Result<(), ValidateError> {
    if is_set(r.rdma.as_ref()) {
        return Err(err(
            at(prefix, "rdma"),
            Problem::NotApplied("syscage does not manage the rdma controller; leave the field out"),
        ));
    }
    if is_set(r.unified.as_ref()) {
        return Err(err(
            at(prefix, "unified"),
            Problem::NotApplied("syscage does not write raw cgroup v2 files; use the typed fields (memory, cpu, pids)"),
        ));
    }
    for (i, d) in r.devices.iter().flatten().enumerate() {
        let p = format!("{}[{i}]", at(prefix, "devices"));
        if let Some(t) = d.kind.as_deref().filter(|t| !matches!(*t, "a" | "c" | "b")) {
            return Err(err(
                at(&p, "type"),
                Problem::Unknown {
                    what: "device type",
                    value: t.into(),
                    hint: " (expected a, c or b)".into(),
                },
            ));
        }
        if let Some(a) = &d.access {
            let ok = !a.is_empty()
                && a.len() <= 3
                && a.chars().all(|c| "rwm".contains(c))
                && !has_repeat(a);
            if !ok {
                return Err(err(
                    at(&p, "access"),
                    Problem::Invalid(format!("`{a}` is not a set of the letters r, w and m")),
                ));
            }
        }
        for (field, v) in [("major", d.major), ("minor", d.minor)] {
            if let Some(n) = v.filter(|n| *n < -1) {
                return Err(err(
                    at(&p, field),
                    Problem::OutOfRange {
                        value: n.to_string(),
                        range: "-1 (all) and above",
                    },
                ));
            }
        }
    }
    if let Some(m) = &r.memory {
        let p = at(prefix, "memory");
        for (field, v) in [("kernel", m.kernel), ("kernelTCP", m.kernel_tcp)] {
            if v.is_some() {
                return Err(err(
                    at(&p, field),
                    Problem::NotApplied("kernel memory limits are deprecated and syscage does not apply them; leave the field out"),
                ));
            }
        }
        for (field, v) in [
            ("limit", m.limit),
            ("reservation", m.reservation),
            ("swap", m.swap),
        ] {
            if let Some(n) = v.filter(|n| *n < -1) {
                return Err(err(
                    at(&p, field),
                    Problem::OutOfRange {
                        value: n.to_string(),
                        range: "-1 (no limit) and above",
                    },
                ));
            }
        }
        if let (Some(limit), Some(swap)) = (m.limit, m.swap) {
            if limit > 0 && swap > 0 && swap < limit {
                return Err(err(
                    at(&p, "swap"),
                    Problem::Invalid(format!(
                        "`{swap}` is below `limit` `{limit}`: it counts memory plus swap"
                    )),
                ));
            }
        }
        if let Some(s) = m.swappiness.filter(|s| *s > 100) {
            return Err(err(
                at(&p, "swappiness"),
                Problem::OutOfRange {
                    value: s.to_string(),
                    range: "0..=100",
                },
            ));
        }
    }
    if let Some(c) = &r.cpu {
        let p = at(prefix, "cpu");
        if let Some(q) = c.quota.filter(|q| *q != -1 && *q != 0 && *q < 1000) {
            return Err(err(
                at(&p, "quota"),
                Problem::OutOfRange {
                    value: q.to_string(),
                    range: "-1 (no limit) or 1000 and above (microseconds)",
                },
            ));
        }
        if let Some(period) = c
            .period
            .filter(|v| *v != 0 && !(1000..=1_000_000).contains(v))
        {
            return Err(err(
                at(&p, "period"),
                Problem::OutOfRange {
                    value: period.to_string(),
                    range: "1000..=1000000 (microseconds)",
                },
            ));
        }
        if let Some(idle) = c.idle.filter(|v| !(0..=1).contains(v)) {
            return Err(err(
                at(&p, "idle"),
                Problem::OutOfRange {
                    value: idle.to_string(),
                    range: "0..=1",
                },
            ));
        }
        for (field, v) in [("cpus", &c.cpus), ("mems", &c.mems)] {
            if let Some(list) = v.as_deref().filter(|l| !l.is_empty()) {
                if !is_cpu_list(list) {
                    return Err(err(
                        at(&p, field),
                        Problem::Invalid(format!("`{list}` is not a list such as `0-3,5`")),
                    ));
                }
            }
        }
    }
    if let Some(pids) = &r.pids {
        if pids.limit < -1 {
            return Err(err(
                at(prefix, "pids.limit"),
                Problem::OutOfRange {
                    value: pids.limit.to_string(),
                    range: "-1 (no limit) and above",
                },
            ));
        }
    }
    if let Some(b) = &r.block_io {
        let p = at(prefix, "blockIO");
        let mut weights: Vec<(String, Option<u16>)> = vec![
            (at(&p, "weight"), b.weight),
            (at(&p, "leafWeight"), b.leaf_weight),
        ];
        for (i, d) in b.weight_device.iter().flatten().enumerate() {
            weights.push((format!("{p}.weightDevice[{i}].weight"), d.weight));
            weights.push((format!("{p}.weightDevice[{i}].leafWeight"), d.leaf_weight));
        }
        for (path, w) in weights {
            // 0 leaves the weight as it is, as runc reads it.
            if let Some(w) = w.filter(|w| *w != 0 && !(10..=1000).contains(w)) {
                return Err(err(
                    path,
                    Problem::OutOfRange {
                        value: w.to_string(),
                        range: "10..=1000",
                    },
                ));
            }
        }
    }
    for (i, h) in r.hugepage_limits.iter().flatten().enumerate() {
        if !is_page_size(&h.page_size) {
            return Err(err(
                format!("{}[{i}].pageSize", at(prefix, "hugepageLimits")),
                Problem::Invalid(format!(
                    "`{}` is not a page size such as `2MB` or `1GB`",
                    h.page_size
                )),
            ));
        }
    }
    Ok(())
}

fn has_repeat(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| b[..i].contains(&b[i]))
}

/// `0-3,5,7-8`: the kernel's list format for `cpuset.cpus`/`cpuset.mems`.
fn is_cpu_list(s: &str) -> bool {
    let num = |p: &str| !p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit());
    s.split(',').all(|item| match item.split_once('-') {
        Some((a, b)) => num(a) && num(b) && a.parse::<u32>().ok() <= b.parse::<u32>().ok(),
        None => num(item),
    })
}

/// `64KB`, `2MB`, `1GB`: the names of `/sys/kernel/mm/hugepages` as runc spells them.
fn is_page_size(s: &str) -> bool {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && matches!(unit, "KB" | "MB" | "GB" | "TB" | "PB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_page_sizes() {
        assert!(is_cpu_list("0-3,5"));
        assert!(is_cpu_list("7"));
        assert!(!is_cpu_list("3-1"));
        assert!(!is_cpu_list("0,,1"));
        assert!(!is_cpu_list("a"));
        assert!(is_page_size("2MB"));
        assert!(is_page_size("1GB"));
        assert!(!is_page_size("MB"));
        assert!(!is_page_size("2mb"));
        assert!(!is_page_size("2"));
        assert!(has_repeat("rwr"));
        assert!(!has_repeat("rwm"));
    }
}
