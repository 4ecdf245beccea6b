//! "Did you mean" hints for misspelt names.

/// The candidate closest to `name`, when it is close enough to be a likely typo: at most
/// two edits, or a third of the name for long names. Case differences count as edits, so
/// `readOnly` suggests `readonly`.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        let d = distance(name, cand);
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.filter(|(d, _)| *d <= 2.max(name.len() / 3))
        .map(|(_, c)| c)
}

/// Edit distance where a swap of two neighbouring letters is one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_far_ones_not() {
        let fields = ["readonly", "path"];
        assert_eq!(closest("readOnly", fields), Some("readonly"));
        assert_eq!(closest("pth", fields), Some("path"));
        assert_eq!(closest("destination", fields), None);
        assert_eq!(closest("x", []), None);
        assert_eq!(distance("noNewPrivileges", "noNewPriviledges"), 1);
    }
}
