//! The edits of one fix lowered together against the document as it is, without the
//! documents in between.
//!
//! A fix's edits apply in turn: each is addressed in the document the ones before it left
//! (an item inserted at 3 moves the items after it; the next edit's path counts it). Lowering
//! them in turn needs each intermediate text parsed again, which costs as much as the rest
//! of the fix. [`Document::edit_text_together`] instead translates every edit's path back
//! into the original document's indices (as operational transformation does for lists),
//! lowers each there, and joins the splices when they are apart from each other. Items
//! inserted into the same gap of a list are written in the order the edits leave them.
//!
//! It gives up (`None`) whenever an edit depends on another: an edit inside an item or key
//! an earlier one inserted, removed or renamed; splices of different edits that overlap or
//! touch (other than insertions into one gap); an edit that changes nothing. The caller then
//! lowers the edits in turn. The result is checked by the caller like any other edit: the
//! new text is parsed and must mean the original with every edit applied.

use std::collections::BTreeMap;

use super::{Document, Op, Path, Seg, Splice, apply_splices};

/// An element of a list as the edits so far leave it: an item of the original document, by
/// its index there, or the item inserted by edit `k`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Item {
    Original(usize),
    Inserted(usize),
}

/// The lists the edits insert into or remove from, by their path in the original document.
#[derive(Default)]
struct Lists {
    lists: BTreeMap<Path, Vec<Item>>,
}

impl Lists {
    /// `path` (addressed after the edits so far) in the original document's indices; `None`
    /// when it goes through an inserted item.
    fn translate(&self, path: &Path) -> Option<Path> {
        let mut out: Vec<Seg> = Vec::with_capacity(path.segs().len());
        for seg in path.segs() {
            let seg = match seg {
                Seg::Index(j) => match self.lists.get(&Path::from_segs(out.clone())) {
                    Some(items) => match items.get(*j)? {
                        Item::Original(o) => Seg::Index(*o),
                        Item::Inserted(_) => return None,
                    },
                    None => Seg::Index(*j),
                },
                Seg::Key(_) => seg.clone(),
            };
            out.push(seg);
        }
        Some(Path::from_segs(out))
    }

    /// The items of the list at `list` (original indices), made on first use.
    fn items(&mut self, doc: &Document, list: &Path) -> Option<&mut Vec<Item>> {
        if !self.lists.contains_key(list) {
            let n = doc.node(list)?.items().len();
            self.lists
                .insert(list.clone(), (0..n).map(Item::Original).collect());
        }
        self.lists.get_mut(list)
    }
}

/// What a splice comes from: edit `op`, and for an insertion into a list, the list and the
/// original index of the gap it goes into.
struct Piece {
    splice: Splice,
    op: usize,
    gap: Option<(Path, usize)>,
}

impl Document {
    /// The text after `ops` applied in turn, lowered together against this document; `None`
    /// when one edit depends on another (see the module documentation).
    pub fn edit_text_together(&self, ops: &[Op]) -> Option<String> {
        let mut lists = Lists::default();
        // Paths that an edit removed or renamed: no later edit may address them.
        let mut gone: Vec<Path> = Vec::new();
        let mut pieces: Vec<Piece> = Vec::new();
        for (k, op) in ops.iter().enumerate() {
            let path = lists.translate(op.path())?;
            if gone.iter().any(|g| path.starts_with(g)) {
                return None;
            }
            // The edit as it applies to the original document.
            let mut op = op.clone();
            *op.path_mut() = path.clone();
            let mut gap = None;
            match &mut op {
                Op::InsertItem { index, .. } => {
                    let items = lists.items(self, &path)?;
                    if *index > items.len() {
                        return None;
                    }
                    items.insert(*index, Item::Inserted(k));
                    *index = original_gap(items, *index);
                    gap = Some((path, *index));
                }
                Op::Remove { .. } => {
                    if let (Some(list), Some(Seg::Index(o))) = (path.parent(), path.last()) {
                        let items = lists.items(self, &list)?;
                        let at = items.iter().position(|i| *i == Item::Original(*o))?;
                        items.remove(at);
                    }
                    gone.push(path);
                }
                Op::RenameKey { .. } => gone.push(path),
                _ => {}
            }
            let splices = self.splices(&op).ok()?;
            if splices.is_empty() {
                return None;
            }
            pieces.extend(splices.into_iter().map(|splice| Piece {
                splice,
                op: k,
                gap: gap.clone(),
            }));
        }
        // Insertions into one gap, in the order the edits leave them in their list.
        let rank = |p: &Piece| -> usize {
            match &p.gap {
                Some((list, _)) => lists.lists.get(list).map_or(0, |items| {
                    items
                        .iter()
                        .position(|i| *i == Item::Inserted(p.op))
                        .unwrap_or(0)
                }),
                None => 0,
            }
        };
        let mut order: Vec<(usize, &Piece)> = pieces.iter().map(|p| (rank(p), p)).collect();
        order.sort_by_key(|(r, p)| (p.splice.span.start, p.splice.span.end, *r));
        for w in order.windows(2) {
            let ((_, a), (_, b)) = (w[0], w[1]);
            let empty = |p: &Piece| p.splice.span.start == p.splice.span.end;
            // Splices of one edit may touch (it made them together); an insertion may touch
            // a replacement of another edit, on the side its position puts it.
            let apart = if a.op == b.op || empty(a) != empty(b) {
                a.splice.span.end <= b.splice.span.start
            } else {
                a.splice.span.end < b.splice.span.start
            };
            let same_gap = empty(a)
                && empty(b)
                && a.splice.span.start == b.splice.span.start
                && a.gap.is_some()
                && a.gap == b.gap;
            if !apart && !same_gap {
                return None;
            }
        }
        // `apply_splices` keeps the order of splices that start and end at the same place.
        let splices: Vec<Splice> = order.into_iter().map(|(_, p)| p.splice.clone()).collect();
        apply_splices(self.text(), &splices).ok()
    }
}

/// Where the item at list position `at` goes in the original list: before the first
/// original item after it, or else after the last original item before it.
fn original_gap(items: &[Item], at: usize) -> usize {
    let original = |i: &Item| match i {
        Item::Original(o) => Some(*o),
        Item::Inserted(_) => None,
    };
    items[at + 1..]
        .iter()
        .find_map(original)
        .or_else(|| items[..at].iter().rev().find_map(original).map(|o| o + 1))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{Format, Limits, Position};
    use super::*;

    fn root() -> Path {
        Path::root()
    }

    /// The edits applied in turn, each parsed and checked, as the engine did before.
    fn in_turn(doc: &Document, ops: &[Op]) -> String {
        let mut d = doc.clone();
        for op in ops {
            d = d.apply(op, &Limits::default()).expect("the edit applies");
        }
        d.text().to_string()
    }

    /// Lowered together, the edits give what they give in turn (`Some`), or give up.
    fn check(format: Format, text: &str, ops: Vec<Op>, together: bool) {
        let doc = Document::parse(text, format, &Limits::default()).expect("parses");
        let got = doc.edit_text_together(&ops);
        assert_eq!(got.is_some(), together, "{text}\n{got:?}");
        if let Some(got) = got {
            assert_eq!(got, in_turn(&doc, &ops), "{text}");
        }
    }

    fn insert(list: &Path, index: usize, v: &str) -> Op {
        Op::InsertItem {
            path: list.clone(),
            index,
            value: json!(v),
        }
    }

    fn replace(path: Path, v: &str) -> Op {
        Op::Replace {
            path,
            value: json!(v),
        }
    }

    const BUILDSPEC: &str = "phases:\n  post_build:\n    commands:\n      - echo a # one\n      - docker push r:latest\n      - printf x > f.json\n\nartifacts:\n  files: [f.json]\n";

    #[test]
    fn insertions_into_one_gap_keep_the_order_they_are_made_in() {
        let list = root().key("phases").key("post_build").key("commands");
        // Two items before `docker push`, the second before the first, then the printf
        // addressed after both insertions (index 4 there, 2 here).
        check(
            Format::Yaml,
            BUILDSPEC,
            vec![
                insert(&list, 1, "push t"),
                insert(&list, 1, "tag t"),
                replace(list.index(4), "printf y > f.json"),
            ],
            true,
        );
        // One after the other at the end, and at the start.
        for (a, b, c) in [(3, 4, 0), (0, 1, 0)] {
            let ops = vec![
                insert(&list, a, "x"),
                insert(&list, b, "y"),
                insert(&list, c, "z"),
            ];
            check(Format::Yaml, BUILDSPEC, ops, true);
        }
        // A flow list inside the same file.
        let files = root().key("artifacts").key("files");
        check(
            Format::Yaml,
            BUILDSPEC,
            vec![insert(&files, 1, "a.json"), insert(&files, 1, "b.json")],
            true,
        );
        // Compact items (`- a: 1`).
        check(
            Format::Yaml,
            "list:\n- a: 1\n  b: 2\n- a: 3\n",
            vec![
                Op::InsertItem {
                    path: root().key("list"),
                    index: 0,
                    value: json!({"a": 0}),
                },
                Op::InsertItem {
                    path: root().key("list"),
                    index: 0,
                    value: json!({"a": -1}),
                },
            ],
            true,
        );
    }

    #[test]
    fn removals_shift_what_comes_after() {
        let list = root().key("phases").key("post_build").key("commands");
        check(
            Format::Yaml,
            BUILDSPEC,
            vec![
                Op::Remove {
                    path: list.index(0),
                },
                replace(list.index(1), "printf y > f.json"),
            ],
            true,
        );
        check(
            Format::Json,
            r#"{"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]}"#,
            vec![
                Op::Remove {
                    path: root().key("env").index(2),
                },
                Op::Remove {
                    path: root().key("env").index(0),
                },
            ],
            true,
        );
    }

    #[test]
    fn json_lists_and_objects() {
        let text = "{\n  \"a\": [1, 2, 3],\n  \"b\": [\n    {\"x\": 1},\n    {\"x\": 2}\n  ],\n  \"c\": {\"enabled\": false, \"k\": 1}\n}\n";
        let a = root().key("a");
        check(
            Format::Json,
            text,
            vec![
                Op::InsertItem {
                    path: a.clone(),
                    index: 1,
                    value: json!(7),
                },
                Op::InsertItem {
                    path: a.clone(),
                    index: 1,
                    value: json!(8),
                },
                Op::Replace {
                    path: a.index(4),
                    value: json!(9),
                },
            ],
            true,
        );
        let b = root().key("b");
        check(
            Format::Json,
            text,
            vec![
                Op::InsertItem {
                    path: b.clone(),
                    index: 2,
                    value: json!({"x": 3}),
                },
                Op::InsertItem {
                    path: b.clone(),
                    index: 3,
                    value: json!({"x": 4}),
                },
            ],
            true,
        );
        // Keys at both ends of one object (DG001's shape).
        let c = root().key("c");
        check(
            Format::Json,
            text,
            vec![
                Op::InsertKey {
                    path: c.clone(),
                    key: "first".into(),
                    value: json!(true),
                    position: Position::Start,
                },
                Op::InsertKey {
                    path: c,
                    key: "last".into(),
                    value: json!([1]),
                    position: Position::End,
                },
            ],
            true,
        );
    }

    #[test]
    fn gives_up_when_an_edit_depends_on_another() {
        let list = root().key("phases").key("post_build").key("commands");
        // Inside an item inserted before.
        check(
            Format::Yaml,
            BUILDSPEC,
            vec![insert(&list, 1, "x"), replace(list.index(1), "y")],
            false,
        );
        // An item the list does not have.
        check(
            Format::Yaml,
            BUILDSPEC,
            vec![Op::Remove {
                path: list.index(9),
            }],
            false,
        );
        // Two keys appended to one mapping: both at its end, in an order only the second
        // edit's document shows.
        let post = root().key("phases").key("post_build");
        let key = |k: &str| Op::InsertKey {
            path: post.clone(),
            key: k.into(),
            value: json!("v"),
            position: Position::End,
        };
        check(Format::Yaml, BUILDSPEC, vec![key("k1"), key("k2")], false);
        // A key renamed, then addressed by its old name.
        check(
            Format::Yaml,
            BUILDSPEC,
            vec![
                Op::RenameKey {
                    path: root().key("artifacts"),
                    new_key: "outputs".into(),
                },
                replace(root().key("artifacts").key("files"), "x"),
            ],
            false,
        );
        // Overlapping: the whole list replaced after one item in it.
        check(
            Format::Yaml,
            BUILDSPEC,
            vec![
                replace(list.index(0), "echo b"),
                Op::Replace {
                    path: list.clone(),
                    value: json!(["z"]),
                },
            ],
            false,
        );
    }
}
