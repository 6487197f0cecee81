//! Helpers of the unit tests (compiled only for them).

/// Every readable text file of the bundled examples and of the shared real-world files and
/// corpus beside the project (read at test time, never copied into the repository).
pub fn shared_texts() -> Vec<String> {
    fn texts_below(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                texts_below(&p, out);
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                out.push(t);
            }
        }
    }
    let mut texts = Vec::new();
    for dir in ["examples", "../shared/realworld", "../shared/corpus"] {
        texts_below(std::path::Path::new(dir), &mut texts);
    }
    texts
}
