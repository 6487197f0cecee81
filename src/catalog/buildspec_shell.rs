//! A buildspec's commands as the shell runs them: which variables each line can use.
//!
//! CodeBuild runs the phases in the order install → pre_build → build → post_build (each
//! phase's `commands`, then its `finally`). In `version: 0.2` one shell runs every command, so
//! a variable assigned by an earlier command is set in a later one; in `version: 0.1` each
//! command runs in its own shell. Variables also come from `env` (`variables`,
//! `parameter-store`, `secrets-manager`), CodeBuild's built-ins, and the CodeBuild project: a
//! variable the committed buildspec expands but never assigns must be set by the project.
//!
//! Rules use [`Shell`] to decide whether a line they add may use a variable at the place they
//! add it; the engine uses [`check_edit`] after every buildspec edit and undoes an edit that
//! makes a line use a variable nothing assigned before it, puts `$VAR` inside single quotes,
//! appends a tag to a value that already carries one, adds template interpolation to a
//! Terraform/CloudFormation template, or relies on `version: 0.2` features in a `0.1` file.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use serde_json::Value;

use crate::document::Path;

use super::buildspec::commands;

/// Phases in the order CodeBuild runs them.
pub const PHASES: [&str; 4] = ["install", "pre_build", "build", "post_build"];

/// Variables CodeBuild or the shell set in every build.
const BUILT_IN: &[&str] = &[
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "HOME",
    "PATH",
    "PWD",
    "OLDPWD",
    "SHELL",
    "USER",
    "HOSTNAME",
    "TMPDIR",
    "LANG",
    "TERM",
    "IFS",
    "RANDOM",
    "LINENO",
    "SECONDS",
    "UID",
    "EUID",
    "PPID",
    "JAVA_HOME",
    "GOPATH",
    "DOCKER_HOST",
];

pub fn built_in(name: &str) -> bool {
    name.starts_with("CODEBUILD_") || name.starts_with("BASH") || BUILT_IN.contains(&name)
}

/// One shell line of the buildspec, in run order.
#[derive(Clone, Debug)]
pub struct Line {
    pub phase: String,
    /// Which command item (run order) the line belongs to: lines of one item share a shell
    /// even in `version: 0.1`.
    pub item: usize,
    pub text: String,
    /// The line as the shell sees it ([`Shell::shell_text`]) and the names it assigns, made
    /// once: every check of an edit reads them again.
    shell: String,
    assigns: BTreeSet<String>,
}

/// A variable use found in a line.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Use {
    name: String,
    /// `${X:-…}` and friends: no assignment needed.
    guarded: bool,
    /// Inside single quotes: written literally.
    single_quoted: bool,
}

/// The shell view of one buildspec.
pub struct Shell {
    pub lines: Vec<Line>,
    pub version_01: bool,
    pub template: bool,
    /// `env.variables`, `parameter-store`, `secrets-manager`, `exported-variables`.
    pub env: BTreeSet<String>,
    /// Expanded but never assigned by the file: set by the CodeBuild project.
    pub project: BTreeSet<String>,
}

/// Whether the text is a Terraform or CloudFormation template of a buildspec: `${lower_case}`
/// interpolation, `$${` escapes, `%{ if … }` directives.
pub fn is_template(text: &str) -> bool {
    let b = text.as_bytes();
    if memchr::memmem::find(b, b"%{").is_some() {
        return true;
    }
    for at in memchr::memmem::find_iter(b, b"${") {
        // `$${`.
        if at > 0 && b[at - 1] == b'$' {
            return true;
        }
        let start = at + 2;
        let mut j = start;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.') {
            j += 1;
        }
        let name = &text[start..j];
        if j > start
            && b.get(j) == Some(&b'}')
            && name.chars().any(|c| c.is_ascii_lowercase())
            && !name.chars().any(|c| c.is_ascii_uppercase())
        {
            return true;
        }
    }
    false
}

impl Shell {
    /// The shell view of the buildspec `bs` at `root` of the file `text`, shared: several
    /// fixes and the check of every buildspec edit ask for the same one in a pass, and the
    /// edited buildspec's is asked for again by the checks after the edit. A few recent ones
    /// are kept per thread, found by their text, root and buildspec (compared whole).
    pub fn of(bs: &Value, root: &Path, text: &str) -> Rc<Shell> {
        type Entry = (String, Path, Value, Rc<Shell>);
        const KEPT: usize = 4;
        thread_local! {
            static RECENT: RefCell<VecDeque<Entry>> = const { RefCell::new(VecDeque::new()) };
        }
        RECENT.with(|recent| {
            let mut recent = recent.borrow_mut();
            if let Some((_, _, _, shell)) = recent.iter().find(|(t, r, v, _)| {
                t.as_str() == text && r == root && crate::document::value::same(v, bs)
            }) {
                return Rc::clone(shell);
            }
            let shell = Rc::new(Shell::new(bs, root, text));
            if recent.len() == KEPT {
                recent.pop_back();
            }
            recent.push_front((
                text.to_string(),
                root.clone(),
                bs.clone(),
                Rc::clone(&shell),
            ));
            shell
        })
    }

    pub fn new(bs: &Value, root: &Path, text: &str) -> Shell {
        let version_01 = match bs.get("version") {
            Some(Value::String(s)) => s.trim() == "0.1",
            Some(Value::Number(n)) => n.to_string() == "0.1",
            _ => false,
        };
        let template = is_template(text);
        let mut env = BTreeSet::new();
        if let Some(e) = bs.get("env") {
            for k in ["variables", "parameter-store", "secrets-manager"] {
                if let Some(m) = e.get(k).and_then(Value::as_object) {
                    env.extend(m.keys().cloned());
                }
            }
        }
        let cmds = in_run_order(bs, root);
        let mut lines = Vec::new();
        for (item, c) in cmds.iter().enumerate() {
            let mut pending = String::new();
            for raw in c.text.split('\n') {
                let t = raw.trim();
                if pending.is_empty() && (t.is_empty() || t.starts_with('#')) {
                    continue;
                }
                if let Some(head) = t.strip_suffix('\\') {
                    pending.push_str(head);
                    pending.push(' ');
                    continue;
                }
                pending.push_str(t);
                lines.push((c.phase, item, std::mem::take(&mut pending)));
            }
            if !pending.trim().is_empty() {
                lines.push((c.phase, item, pending));
            }
        }
        let lines = lines
            .into_iter()
            .map(|(phase, item, text)| {
                let shell = Shell::shell_text(template, &text);
                Line {
                    phase: phase.to_string(),
                    item,
                    assigns: assignments(&shell),
                    shell,
                    text,
                }
            })
            .collect();
        let mut shell = Shell {
            lines,
            version_01,
            template,
            env,
            project: BTreeSet::new(),
        };
        // `exported-variables` are assigned by commands; they count as known names.
        if let Some(Value::Array(a)) = bs.pointer("/env/exported-variables") {
            shell
                .env
                .extend(a.iter().filter_map(Value::as_str).map(str::to_string));
        }
        let assigned: BTreeSet<String> = shell
            .lines
            .iter()
            .flat_map(|l| l.assigns.iter().cloned())
            .collect();
        let mut project = BTreeSet::new();
        for l in &shell.lines {
            for u in uses(&l.shell) {
                if !u.guarded
                    && !u.single_quoted
                    && !assigned.contains(&u.name)
                    && !shell.env.contains(&u.name)
                    && !built_in(&u.name)
                {
                    project.insert(u.name);
                }
            }
        }
        shell.project = project;
        shell
    }

    /// The line as the shell sees it: in a template, `$${X}` is the shell's `${X}` and a bare
    /// `${x}` is the template engine's (dropped here).
    fn shell_text(template: bool, text: &str) -> String {
        if !template {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            if rest[..i].ends_with('$') {
                // `$${X}` → `${X}`.
                out.push_str(&rest[..i]);
                out.push('{');
                rest = &rest[i + 2..];
                continue;
            }
            out.push_str(&rest[..i]);
            match rest[i..].find('}') {
                Some(j) => {
                    out.push_str("TEMPLATE");
                    rest = &rest[i + j + 1..];
                }
                None => {
                    out.push_str(&rest[i..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Whether a line added just before the command item number `item` (run order; `item ==
    /// number of items` means after the last one) may expand `name`.
    pub fn available_before(&self, item: usize, name: &str) -> bool {
        if self.env.contains(name) || built_in(name) || self.project.contains(name) {
            return true;
        }
        if self.version_01 {
            return false;
        }
        self.lines
            .iter()
            .filter(|l| l.item < item)
            .any(|l| l.assigns.contains(name))
    }

    /// The run-order number of the command at `list[index]`, to use with
    /// [`Shell::available_before`].
    pub fn item_of(bs: &Value, root: &Path, list: &Path, index: usize) -> usize {
        let cmds = in_run_order(bs, root);
        cmds.iter()
            .position(|c| *c.list == *list && c.index == index)
            .unwrap_or(cmds.len())
    }

    /// Problems of the file as (kind, variable) → count. Comparing them before and after an
    /// edit tells what the edit introduced.
    fn problems(&self, project: &BTreeSet<String>) -> BTreeMap<(String, String), usize> {
        let mut out: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut add = |k: &str, v: &str| {
            *out.entry((k.to_string(), v.to_string())).or_default() += 1;
        };
        let mut assigned_by_item: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
        let mut assigned: BTreeSet<String> = BTreeSet::new();
        // Variables whose simple assignment's value carries a tag, with how a tag appended to
        // them is written: `${X}:` and `$X:`.
        let mut tagged: BTreeMap<String, [String; 2]> = BTreeMap::new();
        for l in &self.lines {
            let text = l.shell.as_str();
            let here = assigned_by_item.entry(l.item).or_default();
            let mine = &l.assigns;
            let mut own_dollars = None;
            for u in uses(text) {
                if u.single_quoted {
                    if !*own_dollars.get_or_insert_with(|| reads_own_dollars(text)) {
                        add("single-quote", &u.name);
                    }
                    continue;
                }
                if u.guarded
                    || self.env.contains(&u.name)
                    || built_in(&u.name)
                    || project.contains(&u.name)
                    || here.contains(&u.name)
                    || mine.contains(&u.name)
                {
                    continue;
                }
                if assigned.contains(&u.name) {
                    if self.version_01 {
                        add("v01-cross-command", &u.name);
                    }
                    continue;
                }
                add("unassigned", &u.name);
            }
            for t in tag_appended(text, &tagged) {
                add("tag-twice", &t);
            }
            for (name, value) in simple_assignments(text) {
                if carries_tag(&value) {
                    let forms = [format!("${{{name}}}:"), format!("${name}:")];
                    tagged.insert(name, forms);
                } else {
                    tagged.remove(&name);
                }
            }
            here.extend(mine.iter().cloned());
            assigned.extend(mine.iter().cloned());
        }
        out
    }
}

/// Whether a line runs a program that reads `$name` in its own single-quoted arguments.
fn reads_own_dollars(text: &str) -> bool {
    const PROGRAMS: &[&str] = &[
        "awk", "gawk", "jq", "yq", "envsubst", "perl", "python", "python3", "node", "ruby", "sh",
        "bash", "sed",
    ];
    text.split(|c: char| c.is_whitespace() || matches!(c, '|' | ';' | '&' | '(' | '`'))
        .any(|w| PROGRAMS.contains(&w.rsplit('/').next().unwrap_or(w)))
}

/// Variables a line expands, with how.
fn uses(text: &str) -> Vec<Use> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut single = false;
    let mut double = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && !single {
            i += 2;
            continue;
        }
        if c == b'\'' && !double {
            single = !single;
        } else if c == b'"' && !single {
            double = !double;
        } else if c == b'#' && !single && !double && (i == 0 || b[i - 1] == b' ') {
            break;
        } else if c == b'$' {
            let braced = b.get(i + 1) == Some(&b'{');
            let start = i + 1 + usize::from(braced);
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start && !b[start].is_ascii_digit() {
                let rest = &text[j..];
                let guarded = braced
                    && (rest.starts_with(":-")
                        || rest.starts_with(":=")
                        || rest.starts_with(":+")
                        || rest.starts_with(":?")
                        || rest.starts_with('-')
                        || rest.starts_with('=')
                        || rest.starts_with('+'));
                // `${#X}` / `${!X}` are also uses, but rare; `$X` in `$(( ))` too.
                out.push(Use {
                    name: text[start..j].to_string(),
                    guarded,
                    single_quoted: single,
                });
                i = j;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Names a line assigns: `X=…`, `export X=…`, `read X`, `for X in`, `X+=…`.
pub fn assignments(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    // An assignment has its `=`, a `read` or `for` its word: most command lines have none.
    if memchr::memchr(b'=', text.as_bytes()).is_none()
        && !text.contains("read")
        && !text.contains("for")
    {
        return out;
    }
    for segment in text.split([';', '&', '|', '(', ')', '`']) {
        assignments_of_segment(segment, &mut out);
    }
    out
}

fn assignments_of_segment(segment: &str, out: &mut BTreeSet<String>) {
    let words: Vec<&str> = segment.split_whitespace().collect();
    for (k, w) in words.iter().enumerate() {
        let name_end = w
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(w.len());
        let name = &w[..name_end];
        let rest = &w[name_end..];
        if !name.is_empty()
            && !name.as_bytes()[0].is_ascii_digit()
            && (rest.starts_with('=') || rest.starts_with("+="))
        {
            out.insert(name.to_string());
        }
        if (*w == "read" || *w == "for") && k + 1 < words.len() {
            for v in words[k + 1..].iter() {
                if v.starts_with('-') {
                    continue;
                }
                if *v == "in" || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    break;
                }
                out.insert((*v).to_string());
                if *w == "for" {
                    break;
                }
            }
        }
    }
}

/// `NAME=value` assignments of a line with their literal right-hand side (quotes removed).
fn simple_assignments(text: &str) -> Vec<(String, String)> {
    let t = text.trim();
    let t = t.strip_prefix("export ").map(str::trim_start).unwrap_or(t);
    let Some((name, value)) = t.split_once('=') else {
        return Vec::new();
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Vec::new();
    }
    vec![(
        name.to_string(),
        value.trim().trim_matches(['"', '\'']).to_string(),
    )]
}

/// Whether an image reference already carries a tag or digest (`:` after the last `/`).
pub fn carries_tag(value: &str) -> bool {
    let v = value.trim_matches(['"', '\'']);
    if v.contains('@') {
        return true;
    }
    let last = v.rsplit('/').next().unwrap_or(v);
    if v.contains('/') && last.contains(':') {
        return true;
    }
    // `$REPOSITORY_URI:$TAG`: a variable holding the repository, then a tag (a registry
    // host's port would be digits).
    let Some((var, tag)) = v.split_once(':') else {
        return false;
    };
    let name = var
        .strip_prefix("${")
        .and_then(|n| n.strip_suffix('}'))
        .or_else(|| var.strip_prefix('$'));
    name.is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        && !tag.is_empty()
        && !tag.starts_with('-')
        && !tag.chars().all(|c| c.is_ascii_digit())
}

/// Expressions of a line that get `:tag` appended although they may already carry one:
/// `$(cat FILE):…` (a file's content is unknown here) and `$X:…` / `${X}:…` where X's value
/// carries a tag.
fn tag_appended(text: &str, tagged: &BTreeMap<String, [String; 2]>) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("$(cat ") {
        let after = &rest[i..];
        if let Some(j) = after.find(')') {
            let tail = after[j + 1..].trim_start_matches('"');
            if tail.starts_with(':') && !tail.starts_with(":-") {
                out.push(after[..=j].to_string());
            }
            rest = &after[j + 1..];
        } else {
            break;
        }
    }
    for (name, forms) in tagged {
        for form in forms {
            if text.contains(form.as_str()) {
                out.push(name.clone());
            }
        }
    }
    out
}

/// What an edit of a buildspec (from `before` to `after`) introduced that breaks the build in
/// the shell: empty when nothing.
pub fn check_edit(
    before: (&Value, &str),
    after: (&Value, &str),
    root_before: &Path,
    root_after: &Path,
) -> Vec<String> {
    let old = Shell::of(before.0, root_before, before.1);
    let new = Shell::of(after.0, root_after, after.1);
    let mut out = Vec::new();
    let was = old.problems(&old.project);
    let now = new.problems(&old.project);
    for ((kind, var), n) in &now {
        if was.get(&(kind.clone(), var.clone())).copied().unwrap_or(0) < *n {
            out.push(match kind.as_str() {
                "single-quote" => format!("${var} inside single quotes is written literally"),
                "v01-cross-command" => format!(
                    "${var} is set by an earlier command, but version 0.1 runs every command in its own shell"
                ),
                "tag-twice" => format!("a tag is appended to {var}, which may already carry one"),
                _ => format!("${var} is used before anything assigns it"),
            });
        }
    }
    if old.template {
        let count = |s: &str| {
            s.match_indices("${")
                .filter(|(i, _)| !s[..*i].ends_with('$'))
                .count()
        };
        if count(after.1) > count(before.1) {
            out.push(
                "the buildspec is a template: a new ${…} is read by the template engine, not the shell"
                    .to_string(),
            );
        }
    }
    if new.version_01 {
        let on_failure = |v: &Value| {
            PHASES
                .iter()
                .filter(|p| {
                    v.get("phases")
                        .and_then(|ph| ph.get(*p))
                        .and_then(|ph| ph.get("on-failure"))
                        .is_some()
                })
                .count()
        };
        if on_failure(after.0) > on_failure(before.0) {
            out.push("on-failure added to a version 0.1 buildspec, which has none".to_string());
        }
    }
    out
}

/// The buildspec's command items in the order CodeBuild runs them: install, pre_build, build,
/// post_build, each phase's `commands` before its `finally`.
fn in_run_order<'a>(bs: &'a Value, root: &Path) -> Vec<super::buildspec::Command<'a>> {
    let mut cmds = commands(bs, root);
    cmds.sort_by_key(|c| {
        let rank = PHASES
            .iter()
            .position(|p| *p == c.phase)
            .unwrap_or(PHASES.len());
        let finally = c
            .list
            .segs()
            .last()
            .is_some_and(|s| matches!(s, crate::document::Seg::Key(k) if &**k == "finally"));
        (rank, finally, c.index)
    });
    cmds
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shell(bs: &Value) -> Shell {
        Shell::new(bs, &Path::root(), &bs.to_string())
    }

    #[test]
    fn values_that_carry_a_tag() {
        assert!(carries_tag(
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com/api:1"
        ));
        assert!(carries_tag("\"$REPOSITORY_URI:$TAG\""));
        assert!(carries_tag("${REPOSITORY_URI}:v2"));
        assert!(!carries_tag("$REGISTRY:5000"));
        assert!(!carries_tag("${IMAGE_TAG:-latest}"));
        assert!(!carries_tag("$REPOSITORY_URI"));
    }

    #[test]
    fn variables_follow_run_order() {
        let bs = json!({"version": 0.2, "env": {"variables": {"E": "1"}}, "phases": {
            "post_build": {"commands": ["docker push $REPOSITORY_URI:$TAG"]},
            "pre_build": {"commands": ["REPOSITORY_URI=1.dkr.ecr.x.amazonaws.com/app", "echo $PROJ"]},
        }});
        let s = shell(&bs);
        assert!(s.project.contains("PROJ"));
        assert!(s.project.contains("TAG"));
        assert!(!s.project.contains("REPOSITORY_URI"));
        // Item 0 is the assignment (pre_build runs first).
        assert!(!s.available_before(0, "REPOSITORY_URI"));
        assert!(s.available_before(1, "REPOSITORY_URI"));
        assert!(s.available_before(0, "E"));
        assert!(s.available_before(0, "CODEBUILD_BUILD_NUMBER"));
    }

    #[test]
    fn edits_that_break_the_shell_are_seen() {
        let before = json!({"version": 0.2, "phases": {"pre_build": {"commands": [
            "REPOSITORY_URI=1.dkr.ecr.x.amazonaws.com/app"
        ]}, "post_build": {"commands": ["docker push $REPOSITORY_URI:latest"]}}});
        let bad = json!({"version": 0.2, "phases": {"pre_build": {"commands": [
            "docker login ${REPOSITORY_URI%%/*}",
            "REPOSITORY_URI=1.dkr.ecr.x.amazonaws.com/app"
        ]}, "post_build": {"commands": ["docker push $REPOSITORY_URI:latest",
            "printf '{\"ImageURI\":\"$REPOSITORY_URI:latest\"}' > imageDetail.json"]}}});
        let good = json!({"version": 0.2, "phases": {"pre_build": {"commands": [
            "REPOSITORY_URI=1.dkr.ecr.x.amazonaws.com/app",
            "docker login ${REPOSITORY_URI%%/*}"
        ]}, "post_build": {"commands": ["docker push $REPOSITORY_URI:latest",
            "printf '{\"ImageURI\":\"%s\"}' \"$REPOSITORY_URI:latest\" > imageDetail.json"]}}});
        let root = Path::root();
        let t = |v: &Value| v.to_string();
        let problems = check_edit((&before, &t(&before)), (&bad, &t(&bad)), &root, &root);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(check_edit((&before, &t(&before)), (&good, &t(&good)), &root, &root).is_empty());
    }

    #[test]
    fn tags_twice_templates_and_version_01() {
        let before = json!({"version": 0.2, "phases": {"build": {"commands": [
            "echo $R:$(date +%s) > /tmp/tag.out", "docker push \"$(cat /tmp/tag.out)\""
        ]}}});
        let after = json!({"version": 0.2, "phases": {"build": {"commands": [
            "echo $R:$(date +%s) > /tmp/tag.out", "docker push \"$(cat /tmp/tag.out)\"",
            "docker push \"$(cat /tmp/tag.out):$CODEBUILD_BUILD_NUMBER\""
        ]}}});
        let root = Path::root();
        let p = check_edit(
            (&before, &before.to_string()),
            (&after, &after.to_string()),
            &root,
            &root,
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(is_template("image: ${repository_url}:latest"));
        assert!(is_template("echo $${TAG}"));
        assert!(!is_template("echo ${REPOSITORY_URI%%/*} ${TAG}"));
        let v01 = json!({"version": 0.1, "phases": {"build": {"commands": ["T=1", "echo ok"]}}});
        let v01_bad = json!({"version": 0.1, "phases": {"build": {"on-failure": "ABORT",
            "commands": ["T=1", "echo ok", "echo $T"]}}});
        let p = check_edit(
            (&v01, &v01.to_string()),
            (&v01_bad, &v01_bad.to_string()),
            &root,
            &root,
        );
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(
            assignments("export A=1; read -r B C; for D in x; do E+=y; done"),
            ["A", "B", "C", "D", "E"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        );
    }
}
