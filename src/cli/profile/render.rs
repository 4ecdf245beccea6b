//! What `profile show`, `diff` and `lint` print for people: rules grouped under the entry
//! they come from, differences under a legend and grouped by what changed, findings
//! wrapped. Lines are wrapped to the terminal's width when standard output is a terminal;
//! otherwise each item keeps a line of its own, for scripts that grep.

use std::fmt::Write as _;
use syscage_policy::diff::Difference;
use syscage_policy::lint::Finding;
use syscage_policy::plan::Plan;
use syscage_policy::Policy;
use syscage_seccomp::compile::{self, Compiled};

/// The width to wrap at: the terminal's, when standard output is one.
pub fn width() -> Option<usize> {
    let out = std::io::stdout();
    if !rustix::termios::isatty(&out) {
        return None;
    }
    rustix::termios::tcgetwinsize(&out)
        .ok()
        .map(|w| usize::from(w.ws_col))
        .filter(|w| *w >= 40)
}

/// `words` after `first` on lines no wider than `width`, the continuation lines indented
/// by `indent`; one line when there is no width.
pub fn fill(first: &str, words: &[String], indent: usize, width: Option<usize>) -> String {
    let mut out = first.to_string();
    let mut line = first.chars().count();
    // Nothing on the line yet but its indent: a word goes there however wide it is.
    let mut empty = first.is_empty();
    for w in words {
        let n = w.chars().count();
        let sep = usize::from(!empty);
        if width.is_some_and(|max| line + sep + n > max) && !empty {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            out.push_str(w);
            line = indent + n;
        } else {
            if sep == 1 {
                out.push(' ');
            }
            out.push_str(w);
            line += sep + n;
        }
        empty = false;
    }
    out
}

/// Each line of `text` wrapped to `width`, its continuation lines indented two spaces more
/// than it.
pub fn wrap_lines(text: &str, width: Option<usize>) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let lead = line.len() - line.trim_start_matches(' ').len();
        let mut words = line[lead..].split(' ').map(str::to_string);
        let first = format!("{}{}", &line[..lead], words.next().unwrap_or_default());
        let rest: Vec<String> = words.collect();
        out.push_str(&fill(&first, &rest, lead + 2, width));
        out.push('\n');
    }
    out
}

/// `profile show`'s listing.
pub fn listing(name: &str, p: &Policy, pl: &Plan, compiled: &Compiled) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "profile {name}");
    let _ = writeln!(out, "default action: {}", p.default_action());
    let arches: Vec<String> = p.arches().iter().map(|a| a.to_string()).collect();
    let _ = writeln!(
        out,
        "ABIs: {} (every other ABI: KILL_PROCESS)",
        arches.join(", ")
    );
    if let Some(a) = p.newer_action() {
        let max: Vec<String> = p
            .arches()
            .iter()
            .filter_map(|ar| p.newer_max(*ar).map(|m| format!("{ar} above {m}")))
            .collect();
        let _ = writeln!(
            out,
            "calls newer than the profile: {a} ({})",
            max.join(", ")
        );
    }
    let f = p.flags();
    let _ = writeln!(
        out,
        "flags: tsync{}{}{}",
        if f.log { ", log" } else { "" },
        if f.spec_allow { ", spec_allow" } else { "" },
        if f.wait_killable_recv {
            ", wait_killable_recv"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "program: {} BPF instructions", compiled.program.len());
    for e in pl.exceptions() {
        let vals: Vec<String> = e.values().iter().map(|v| format!("{v:#x}")).collect();
        let _ = writeln!(
            out,
            "checked before libseccomp's program: {} arg{} in {{{}}} -> {}",
            e.syscall().name,
            e.index(),
            vals.join(", "),
            e.action()
        );
    }
    rules(&mut out, p);
    if !p.skipped().is_empty() {
        let _ = writeln!(out, "\nleft out ({}):", p.skipped().len());
        for s in p.skipped() {
            let what = s.what.replace(',', " ");
            let _ = writeln!(out, "  {}: {}: {what}", s.origin, s.why);
        }
    }
    if !compiled.omitted.is_empty() {
        let _ = writeln!(
            out,
            "\nnot nameable by libseccomp {} (these calls get the default action):",
            compile::libseccomp_version()
        );
        for e in &compiled.omitted {
            let _ = writeln!(out, "  {} {} on {}", e.action(), e.syscall().name, e.arch());
        }
    }
    wrap_lines(&out, width())
}

/// The rules under the entry (or option) each comes from, in profile order: the calls an
/// entry decides without condition on one line per action, the others one per rule.
fn rules(out: &mut String, p: &Policy) {
    let _ = writeln!(
        out,
        "\nrules ({}), under the profile entry or option each comes from:",
        p.rules().len()
    );
    let mut i = 0;
    let rules = p.rules();
    while i < rules.len() {
        let origin = rules[i].origin();
        let end = rules[i..]
            .iter()
            .position(|r| r.origin() != origin)
            .map_or(rules.len(), |n| i + n);
        let _ = writeln!(out, "  {origin}:");
        let group = &rules[i..end];
        let mut done = vec![false; group.len()];
        for (j, r) in group.iter().enumerate() {
            if done[j] {
                continue;
            }
            if r.is_unconditional() {
                let mut names: Vec<String> = Vec::new();
                for (k, x) in group.iter().enumerate() {
                    if x.is_unconditional() && x.action() == r.action() && !done[k] {
                        done[k] = true;
                        names.push(x.name().to_string());
                    }
                }
                let _ = writeln!(out, "    {} {}", r.action(), names.join(" "));
            } else {
                done[j] = true;
                let _ = writeln!(out, "    {r}");
            }
        }
        i = end;
    }
}

/// `profile diff`'s report: a legend, then the calls grouped by what changed.
pub fn diff(a: &str, b: &str, d: &[Difference]) -> String {
    let width = width();
    let mut out = String::new();
    let _ = writeln!(out, "A = `{a}`, B = `{b}`");
    let _ = writeln!(out, "+ B lets the call run, A refuses it");
    let _ = writeln!(out, "- A lets the call run, B refuses it");
    let _ = writeln!(out, "~ both refuse it, differently (A / B)");
    const GROUPS: [(&str, &str); 5] = [
        ("+", "B lets it run, A refuses it"),
        ("+", "B lets it run for some arguments A refuses"),
        ("-", "A lets it run, B refuses it"),
        ("-", "A lets it run for some arguments B refuses"),
        ("~", "both refuse it, differently"),
    ];
    // Which group a difference goes in, and how it is listed there.
    let item = |x: &Difference| match x {
        Difference::OnlyB { call, some_args } => (usize::from(*some_args), call.to_string()),
        Difference::OnlyA { call, some_args } => (2 + usize::from(*some_args), call.to_string()),
        Difference::Refusal { call, a, b } => (4, format!("{call}: {a} / {b}")),
    };
    for (g, (sign, what)) in GROUPS.iter().enumerate() {
        let items: Vec<String> = d
            .iter()
            .map(item)
            .filter(|(i, _)| *i == g)
            .map(|(_, s)| s)
            .collect();
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{sign} {what} ({}):", items.len());
        // On a terminal, the calls of a group share lines (refusals keep one each).
        if width.is_some() && *sign != "~" {
            let _ = writeln!(out, "  {sign} {}", items.join(" "));
        } else {
            for i in &items {
                let _ = writeln!(out, "{sign} {i}");
            }
        }
    }
    if d.is_empty() {
        let _ = writeln!(out, "\nno difference: both decide every call alike");
    }
    wrap_lines(&out, width)
}

/// `profile lint`'s findings: wrapped, with the continuation lines indented, on a terminal;
/// one line each otherwise.
pub fn findings(f: &[Finding]) -> String {
    let width = width();
    let mut out = String::new();
    for x in f {
        let words: Vec<String> = x.to_string().split(' ').map(str::to_string).collect();
        let _ = writeln!(out, "{}", fill("", &words, 4, width));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn filling_lines() {
        let w = words("alpha beta gamma delta epsilon");
        assert_eq!(
            fill("  ALLOW", &w, 4, None),
            "  ALLOW alpha beta gamma delta epsilon"
        );
        assert_eq!(
            fill("  ALLOW", &w, 4, Some(20)),
            "  ALLOW alpha beta\n    gamma delta\n    epsilon"
        );
        assert_eq!(
            fill("", &w, 2, Some(12)),
            "alpha beta\n  gamma\n  delta\n  epsilon"
        );
        // A word wider than the line gets a line of its own.
        assert_eq!(
            fill("", &words("a bbbbbbbbbbbbbbbbb c"), 2, Some(10)),
            "a\n  bbbbbbbbbbbbbbbbb\n  c"
        );
    }
}
