//! Names that become paths.

/// Makes `s` safe as one path component: ASCII letters, digits, `-`, `_` and `.` are kept,
/// anything else becomes `_`; leading and trailing dots are dropped (no `.` or `..`), and the
/// result is at most 80 characters.
pub fn sanitize(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
        .collect();
    out.trim_matches('.').chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn sanitized_names_stay_one_component() {
        assert_eq!(sanitize("../a/b c"), "_a_b_c");
        assert_eq!(sanitize(".."), "");
        assert_eq!(sanitize(&"x".repeat(100)).len(), 80);
    }
}
