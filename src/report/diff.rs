//! Unified diffs that `git apply` and `patch -p1` accept.

use similar::TextDiff;

/// The diff of one file, with `a/` and `b/` prefixes and 3 lines of context. Files without a
/// final newline get git's `\ No newline at end of file` marker.
pub fn unified(display_path: &str, old: &str, new: &str) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    out.push_str(&format!("--- a/{display_path}\n+++ b/{display_path}\n"));
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Equal => ' ',
            };
            out.push(sign);
            let v = change.value();
            out.push_str(v);
            if !v.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_missing_final_newline() {
        let d = unified("x.txt", "a\nb", "a\nc");
        assert_eq!(
            d,
            "--- a/x.txt\n+++ b/x.txt\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"
        );
    }
}
