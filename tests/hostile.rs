//! Hostile input and fault safety: for every kind of file pipefix may meet, the run reports it
//! clearly (file, and line:col where there is one), leaves it byte-identical, and still
//! processes and fixes the other files of the same run.
//!
//! Each test runs the binary (not an in-process call) so that a stack overflow or an abort
//! fails the test instead of killing the harness. Faults that cannot be provoked from outside
//! (a write that fails half-way, a file changed between reading and writing) are injected
//! through `run::run_with` and its `Sink`.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command as Std, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use pipefix::run::{self, RunOptions};
use pipefix::write::{self, Sink};

/// A task definition that TD003 fixes (`"retries":1` → `"retries":2,"startPeriod":50`).
const TD: &str = r#"{"family":"x","containerDefinitions":[{"name":"app","image":"app","healthCheck":{"command":["CMD-SHELL","true"],"interval":5,"retries":1}}]}"#;

fn pipefix() -> Command {
    let mut c = Command::cargo_bin("pipefix").expect("binary");
    c.env_remove("NO_COLOR");
    c.env_remove("PIPEFIX_TEST_WRITE_DELAY_MS");
    c
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A run folder with `good/taskdef.json` (fixable) and an empty `bad/`.
struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("good")).expect("mkdir");
        fs::create_dir_all(dir.path().join("bad")).expect("mkdir");
        fs::write(dir.path().join("good/taskdef.json"), TD).expect("write");
        Tree { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Write `bad/<name>` and return its path.
    fn bad(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path("bad").join(name);
        fs::write(&p, bytes).expect("write");
        p
    }

    /// `pipefix --apply --select TD003 <extra> .` in the tree.
    fn apply(&self, extra: &[&str]) -> Output {
        pipefix()
            .current_dir(self.dir.path())
            .args(["--apply", "--select", "TD003"])
            .args(extra)
            .arg(".")
            .timeout(Duration::from_secs(60))
            .output()
            .expect("runs")
    }

    fn assert_good_fixed(&self, out: &Output) {
        let fixed = fs::read_to_string(self.path("good/taskdef.json")).expect("read");
        assert!(
            fixed.contains("\"retries\":2"),
            "the other file was not fixed: {fixed}\n{}",
            stderr_of(out)
        );
        assert!(stderr_of(out).contains("good/taskdef.json:1:67: TD003"));
        assert_no_temp_files(self.dir.path());
    }
}

fn assert_no_temp_files(dir: &Path) {
    for e in walk(dir) {
        let name = e.file_name().map(|n| n.to_string_lossy().into_owned());
        assert!(
            !name.is_some_and(|n| n.starts_with(".pipefix-") && n.ends_with(".tmp")),
            "temporary file left behind: {}",
            e.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        let is_dir = fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir());
        if is_dir {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The common shape of a hostile-input test: the bad file is reported with `message` (after
/// its path), exit status 2, its bytes unchanged, and the good file fixed.
fn assert_rejected(name: &str, bytes: &[u8], message: &str) -> Output {
    let t = Tree::new();
    let bad = t.bad(name, bytes);
    let out = t.apply(&[]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let expected = format!("error: ./bad/{name}{message}");
    assert!(
        stderr.contains(&expected),
        "expected {expected:?} in:\n{stderr}"
    );
    assert_eq!(fs::read(&bad).expect("read"), bytes, "the bad file changed");
    t.assert_good_fixed(&out);
    out
}

#[test]
fn not_utf8_is_reported_with_its_position() {
    let mut bytes = br#"{"family":"x","containerDefinitions":["#.to_vec();
    bytes.push(0xff);
    bytes.extend_from_slice(b"]}");
    assert_rejected("taskdef.json", &bytes, ":1:39: not valid UTF-8");
}

#[test]
fn utf8_bom_is_kept_when_the_file_is_fixed() {
    let t = Tree::new();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(TD.as_bytes());
    let p = t.bad("taskdef.json", &bytes);
    let out = t.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let after = fs::read(&p).expect("read");
    assert!(after.starts_with(b"\xEF\xBB\xBF"), "BOM dropped");
    let text = String::from_utf8(after[3..].to_vec()).expect("utf-8");
    assert!(text.contains("\"retries\":2"), "{text}");
    assert!(!text.contains('\u{feff}'), "BOM duplicated");
    t.assert_good_fixed(&out);
}

#[test]
fn nul_bytes_are_binary_content() {
    assert_rejected(
        "taskdef.json",
        b"{\"family\":\"x\",\0\"containerDefinitions\":[]}",
        ":1:15: binary content (NUL byte): not a pipeline file",
    );
}

#[test]
fn empty_file_is_skipped_with_a_note() {
    // An empty file is not a pipeline file: nothing to check, nothing to fix, not an error.
    let t = Tree::new();
    let json = t.bad("taskdef.json", b"");
    let yaml = t.bad("buildspec.yml", b"  \n\n");
    let out = t.apply(&[]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: ./bad/taskdef.json: skipped: empty file"),
        "{stderr}"
    );
    assert!(stderr.contains("warning: ./bad/buildspec.yml: skipped: empty file"));
    assert_eq!(fs::read(&json).expect("read"), b"");
    assert_eq!(fs::read(&yaml).expect("read"), b"  \n\n");
    t.assert_good_fixed(&out);
}

#[test]
fn file_of_only_comments_is_skipped_with_a_note() {
    let t = Tree::new();
    let body = b"# buildspec for later\n---\n# phases:\n#   build: {}\n";
    let p = t.bad("buildspec.yml", body);
    let out = t.apply(&[]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: ./bad/buildspec.yml: skipped: no content (only comments)"),
        "{stderr}"
    );
    assert_eq!(fs::read(&p).expect("read"), body);
    t.assert_good_fixed(&out);
}

#[test]
fn truncated_json_is_reported() {
    assert_rejected(
        "taskdef.json",
        b"{\n  \"family\": \"x\",\n  \"containerDefinitions\": [\n    {\"name\": \"a\"",
        ":4:17: cannot parse JSON: unexpected end of input",
    );
}

#[test]
fn truncated_yaml_is_reported() {
    assert_rejected(
        "buildspec.yml",
        b"version: 0.2\nphases:\n  build:\n    commands:\n      - \"echo\n",
        ":5:9: cannot parse YAML: while scanning a quoted scalar, found unexpected end of stream",
    );
}

#[test]
fn duplicate_json_keys_are_reported_not_resolved() {
    assert_rejected(
        "taskdef.json",
        br#"{"family":"x","family":"y","containerDefinitions":[]}"#,
        ":1:15: cannot parse JSON: duplicate key \"family\" (first defined at 1:2)",
    );
}

#[test]
fn duplicate_yaml_keys_are_reported_not_resolved() {
    assert_rejected(
        "buildspec.yml",
        b"version: 0.2\nphases:\n  build:\n    commands: [a]\nphases: {}\n",
        ":5:1: cannot parse YAML: duplicate key \"phases\" at 5:1 (first defined at 2:1)",
    );
}

#[test]
fn unquoted_placeholder_in_json_is_an_unparsable_template() {
    assert_rejected(
        "taskdef.json",
        br#"{"family":"x","containerDefinitions":[{"name":"a","portMappings":[{"containerPort": <SERVICE_PORT>}]}]}"#,
        ":1:85: unparsable template (render it before running pipefix): cannot parse JSON: unquoted token `<SERVICE_PORT>`",
    );
}

#[test]
fn unquoted_go_template_in_yaml_is_an_unparsable_template() {
    assert_rejected(
        "buildspec.yml",
        b"version: 0.2\nenv:\n  variables:\n    PORT: {{ must_env \"X\" }}\nphases:\n  build:\n    commands: [make]\n",
        ":4:12: unparsable template (render it before running pipefix): cannot parse YAML:",
    );
}

fn deep(open: &str, close: &str, n: usize) -> String {
    let mut s = String::with_capacity((open.len() + close.len()) * n);
    for _ in 0..n {
        s.push_str(open);
    }
    for _ in 0..n {
        s.push_str(close);
    }
    s
}

#[test]
fn json_nested_100000_levels_hits_the_depth_limit() {
    let body = format!(
        "{{\"family\": \"x\", \"containerDefinitions\": {}}}",
        deep("[", "]", 100_000)
    );
    assert_rejected(
        "taskdef.json",
        body.as_bytes(),
        ":1:296: cannot parse JSON: nesting deeper than 256 levels",
    );
}

#[test]
fn yaml_flow_nested_100000_levels_hits_the_depth_limit() {
    let body = format!("version: 0.2\nphases: {}\n", deep("{a: ", "}", 100_000));
    let out = assert_rejected("buildspec.yml", body.as_bytes(), ":2:");
    assert!(stderr_of(&out).contains("cannot parse YAML: nesting too deep"));
}

#[test]
fn yaml_block_nested_100000_levels_hits_the_depth_limit() {
    let body = format!("version: 0.2\nphases:\n  {}x\n", "- ".repeat(100_000));
    assert_rejected(
        "buildspec.yml",
        body.as_bytes(),
        ":3:513: cannot parse YAML: nesting deeper than 256 levels",
    );
}

#[test]
fn yaml_alias_bomb_is_bounded() {
    let mut body =
        String::from("version: 0.2\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        body.push_str(&format!("x{i}: &a{i} [{refs}]\n"));
    }
    body.push_str("phases:\n  build:\n    commands:\n      - *a9\n");
    let start = Instant::now();
    assert_rejected(
        "buildspec.yml",
        body.as_bytes(),
        ":8:10: cannot parse YAML: the document expands to more than 1000000 nodes (alias bomb?)",
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn file_over_the_size_limit_is_refused_before_reading() {
    let t = Tree::new();
    let mut bytes = TD.as_bytes().to_vec();
    bytes.extend(std::iter::repeat_n(b' ', 2000));
    let p = t.bad("taskdef.json", &bytes);
    let out = t.apply(&["--max-file-size", "1000"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "error: ./bad/taskdef.json: refused: 2140 bytes is over the size limit of 1000 bytes (see --max-file-size)"
        ),
        "{stderr}"
    );
    assert_eq!(fs::read(&p).expect("read"), bytes);
    t.assert_good_fixed(&out);
}

#[test]
fn sparse_200_mb_file_is_refused_with_the_default_limit() {
    let t = Tree::new();
    let p = t.path("bad/taskdef.json");
    // Sparse: 200 MB long, almost nothing on disk, and pipefix must not read it whole.
    let f = fs::File::create(&p).expect("create");
    f.set_len(200 * 1024 * 1024).expect("set_len");
    drop(f);
    let start = Instant::now();
    let out = t.apply(&[]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: ./bad/taskdef.json: refused: 209715200 bytes is over the size limit of 10485760 bytes"),
        "{stderr}"
    );
    assert!(start.elapsed() < Duration::from_secs(20));
    assert_eq!(fs::metadata(&p).expect("meta").len(), 200 * 1024 * 1024);
    t.assert_good_fixed(&out);
}

#[test]
fn yaml_with_documents_tags_merge_keys_and_flow_is_parsed_and_fixed() {
    let t = Tree::new();
    let body = concat!(
        "# several documents, tags, merge keys, multi-line flow\n",
        "family: !Sub \"${Env}-x\"\n",
        "defaults: &hc\n",
        "  retries: 3\n",
        "containerDefinitions:\n",
        "  - name: app\n",
        "    image: !Ref Image\n",
        "    portMappings: [\n",
        "      {containerPort: 80,\n",
        "       protocol: tcp}\n",
        "    ]\n",
        "    healthCheck:\n",
        "      <<: *hc\n",
        "      command: [CMD-SHELL,\n",
        "                \"true\"]\n",
        "      interval: 5\n",
        "---\n",
        "second: !GetAtt [Svc, Arn]\n",
    );
    let p = t.bad("taskdef.yml", body.as_bytes());
    let out = t.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let after = fs::read_to_string(&p).expect("read");
    assert_eq!(
        after,
        body.replace(
            "      interval: 5\n",
            "      interval: 5\n      startPeriod: 45\n"
        )
    );
    t.assert_good_fixed(&out);
}

#[test]
fn link_to_a_file_inside_the_root_fixes_the_target_and_stays_a_link() {
    let t = Tree::new();
    fs::create_dir_all(t.path("real")).expect("mkdir");
    fs::write(t.path("real/taskdef.json"), TD).expect("write");
    std::os::unix::fs::symlink("../real/taskdef.json", t.path("bad/taskdef.json"))
        .expect("symlink");
    // A second link to the same file: the file is still fixed once.
    std::os::unix::fs::symlink("../real/taskdef.json", t.path("bad/again.json")).expect("symlink");
    let out = t.apply(&["--jobs", "2"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let link = fs::symlink_metadata(t.path("bad/taskdef.json")).expect("meta");
    assert!(link.file_type().is_symlink(), "the link was replaced");
    assert_eq!(
        fs::read_link(t.path("bad/taskdef.json")).expect("readlink"),
        PathBuf::from("../real/taskdef.json")
    );
    let real = fs::read_to_string(t.path("real/taskdef.json")).expect("read");
    assert!(real.contains("\"retries\":2"), "{real}");
    assert_eq!(
        stderr.matches("TD003").count(),
        2,
        "each file on disk fixed once:\n{stderr}"
    );
    t.assert_good_fixed(&out);
}

#[test]
fn link_to_a_lone_target_inside_the_root_is_fixed_through_the_link() {
    let t = Tree::new();
    // The target is inside the root but in a folder that is never walked.
    fs::create_dir_all(t.path("node_modules")).expect("mkdir");
    fs::write(t.path("node_modules/taskdef.json"), TD).expect("write");
    std::os::unix::fs::symlink("../node_modules/taskdef.json", t.path("bad/taskdef.json"))
        .expect("symlink");
    let out = t.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        fs::symlink_metadata(t.path("bad/taskdef.json"))
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    let real = fs::read_to_string(t.path("node_modules/taskdef.json")).expect("read");
    assert!(real.contains("\"retries\":2"), "{real}");
    t.assert_good_fixed(&out);
}

#[test]
fn link_out_of_the_root_is_skipped_with_a_warning() {
    let t = Tree::new();
    let outside = tempfile::tempdir().expect("tempdir");
    let target = outside.path().join("taskdef.json");
    fs::write(&target, TD).expect("write");
    std::os::unix::fs::symlink(&target, t.path("bad/taskdef.json")).expect("symlink");
    let out = t.apply(&[]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: ./bad/taskdef.json: skipped: symbolic link points outside"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&target).expect("read"), TD);
    assert!(
        fs::symlink_metadata(t.path("bad/taskdef.json"))
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    t.assert_good_fixed(&out);
}

#[test]
fn read_only_file_is_not_overwritten() {
    let t = Tree::new();
    let p = t.bad("taskdef.json", TD.as_bytes());
    fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).expect("chmod");
    let out = t.apply(&[]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: ./bad/taskdef.json: the file is read-only; not overwritten"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&p).expect("read"), TD);
    assert_eq!(
        fs::metadata(&p).expect("meta").permissions().mode() & 0o777,
        0o444
    );
    t.assert_good_fixed(&out);
}

#[test]
fn file_in_a_read_only_folder_is_not_overwritten() {
    let t = Tree::new();
    let p = t.bad("taskdef.json", TD.as_bytes());
    fs::set_permissions(t.path("bad"), fs::Permissions::from_mode(0o555)).expect("chmod");
    let out = t.apply(&[]);
    fs::set_permissions(t.path("bad"), fs::Permissions::from_mode(0o755)).expect("chmod");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr
            .contains("error: ./bad/taskdef.json: its folder ./bad is read-only; not overwritten"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&p).expect("read"), TD);
    t.assert_good_fixed(&out);
}

/// Run `script` as root in a private mount namespace (mounts vanish with it), when this
/// machine allows it; `None` (and a note) otherwise.
fn in_mount_namespace(script: &str) -> Option<Output> {
    let probe = Std::new("unshare")
        .args(["-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("note: no private mount namespace here; covered by injected writer errors");
        return None;
    }
    Some(
        Std::new("unshare")
            .args(["-m", "sh", "-euc", script])
            .output()
            .expect("unshare runs"),
    )
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("pipefix")
}

#[test]
fn read_only_filesystem_is_reported_and_the_original_kept() {
    // A real write failure, even as root: the folder is a read-only bind mount.
    let t = Tree::new();
    let p = t.bad("taskdef.json", TD.as_bytes());
    let script = format!(
        "cd '{}'; mount --bind bad bad; mount -o remount,bind,ro bad; \
         '{}' --apply --select TD003 . 2>&1 || echo \"status $?\"",
        t.dir.path().display(),
        bin().display()
    );
    let Some(out) = in_mount_namespace(&script) else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("status 2"), "{text}");
    assert!(
        text.contains("error: ./bad/taskdef.json: cannot create a temporary file in ./bad"),
        "{text}"
    );
    assert!(text.contains("Read-only file system"), "{text}");
    assert_eq!(fs::read_to_string(&p).expect("read"), TD);
    assert!(
        fs::read_to_string(t.path("good/taskdef.json"))
            .expect("read")
            .contains("\"retries\":2")
    );
    assert_no_temp_files(t.dir.path());
}

#[test]
fn full_filesystem_is_reported_and_the_original_kept() {
    // A real ENOSPC: a 64 KiB tmpfs, filled up before the run.
    let t = Tree::new();
    let p = t.bad("taskdef.json", TD.as_bytes());
    let script = format!(
        "cd '{dir}'; mount -t tmpfs -o size=64k tmpfs bad; printf '%s' '{td}' > bad/taskdef.json; \
         dd if=/dev/zero of=bad/filler bs=1k 2>/dev/null || true; \
         '{bin}' --apply --select TD003 . 2>&1 || echo \"status $?\"; \
         echo; echo '== after'; cat bad/taskdef.json; echo; ls -a bad",
        dir = t.dir.path().display(),
        td = TD,
        bin = bin().display()
    );
    let Some(out) = in_mount_namespace(&script) else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("status 2"), "{text}");
    assert!(
        text.contains("error: ./bad/taskdef.json: cannot write: No space left on device"),
        "{text}"
    );
    let after = text.split("== after\n").nth(1).unwrap_or_default();
    assert!(after.starts_with(TD), "the original was not kept: {after}");
    assert!(!after.contains(".pipefix-"), "temporary file left: {after}");
    // The bad folder on the real disk was under the mount: untouched.
    assert_eq!(fs::read_to_string(&p).expect("read"), TD);
    assert!(
        fs::read_to_string(t.path("good/taskdef.json"))
            .expect("read")
            .contains("\"retries\":2")
    );
}

#[test]
fn failed_rename_is_reported_and_the_original_kept() {
    // An immutable file (chattr +i) cannot be replaced, even by root: the rename fails after
    // the new content was written to the temporary file.
    let t = Tree::new();
    let p = t.bad("taskdef.json", TD.as_bytes());
    let set = Std::new("chattr").arg("+i").arg(&p).output();
    if !set.is_ok_and(|o| o.status.success()) {
        eprintln!("note: chattr +i is not available here; covered by injected writer errors");
        return;
    }
    struct Unset(PathBuf);
    impl Drop for Unset {
        fn drop(&mut self) {
            let _ = Std::new("chattr").arg("-i").arg(&self.0).output();
        }
    }
    let guard = Unset(p.clone());
    let out = t.apply(&[]);
    drop(guard);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "error: ./bad/taskdef.json: cannot replace the file: Operation not permitted"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("the original is unchanged"));
    assert_eq!(fs::read_to_string(&p).expect("read"), TD);
    t.assert_good_fixed(&out);
}

// ---------------------------------------------------------------------------------------
// Faults injected in process through `run::run_with`.

/// Runs the library on the tree with `sink` as the writer factory.
fn run_in_process(
    t: &Tree,
    sink: &(dyn Fn() -> Box<dyn Sink> + Sync),
) -> pipefix::report::RunReport {
    let opts = RunOptions {
        paths: vec![t.path("bad"), t.path("good")],
        apply: true,
        select: vec!["TD003".into()],
        jobs: 1,
        ..RunOptions::default()
    };
    let config = run::configuration(&opts).expect("config");
    run::run_with(&opts, &config, sink)
}

/// A sink that fails for the file whose content holds `marker`, after writing half of it.
struct FailFor {
    marker: &'static str,
    kind: io::ErrorKind,
}

impl Sink for FailFor {
    fn write_all(&mut self, file: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
        if String::from_utf8_lossy(bytes).contains(self.marker) {
            file.write_all(&bytes[..bytes.len() / 2])?;
            return Err(io::Error::new(
                self.kind,
                "injected: no space left on device",
            ));
        }
        write::Plain.write_all(file, bytes)
    }
}

fn errors_of(r: &pipefix::report::RunReport) -> Vec<String> {
    r.all_errors().map(|e| e.to_string()).collect()
}

#[test]
fn injected_write_error_keeps_the_original_and_leaves_no_temp_file() {
    let t = Tree::new();
    let marked = TD.replace("\"x\"", "\"marked\"");
    let p = t.bad("taskdef.json", marked.as_bytes());
    let report = run_in_process(&t, &|| {
        Box::new(FailFor {
            marker: "marked",
            kind: io::ErrorKind::StorageFull,
        })
    });
    assert_eq!(report.exit_code(), 2);
    let errors = errors_of(&report);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].ends_with(
            "bad/taskdef.json: cannot write: injected: no space left on device; the original is unchanged"
        ),
        "{errors:?}"
    );
    assert_eq!(fs::read_to_string(&p).expect("read"), marked);
    assert!(
        fs::read_to_string(t.path("good/taskdef.json"))
            .expect("read")
            .contains("\"retries\":2")
    );
    assert_no_temp_files(t.dir.path());
}

/// A sink factory that first changes (or deletes) the bad file on disk: the write must then
/// be refused, as if another process had edited it between pipefix's read and its write.
fn tamper(p: PathBuf, delete: bool) -> impl Fn() -> Box<dyn Sink> + Sync {
    move || {
        if fs::read_to_string(&p).is_ok_and(|s| s.contains("\"x\"") && s.contains("marked")) {
            if delete {
                let _ = fs::remove_file(&p);
            } else {
                let _ = fs::write(&p, TD.replace("marked", "edited by someone else"));
            }
        }
        Box::new(write::Plain)
    }
}

#[test]
fn file_changed_on_disk_between_read_and_write_is_not_overwritten() {
    let t = Tree::new();
    let marked = TD.replace("\"app\",\"h", "\"app\",\"marked\":1,\"h");
    let p = t.bad("taskdef.json", marked.as_bytes());
    let report = run_in_process(&t, &tamper(p.clone(), false));
    assert_eq!(report.exit_code(), 2);
    let errors = errors_of(&report);
    assert!(
        errors.iter().any(|e| e.ends_with(
            "bad/taskdef.json: changed on disk since it was read; not overwritten (run pipefix again)"
        )),
        "{errors:?}"
    );
    assert_eq!(
        fs::read_to_string(&p).expect("read"),
        TD.replace("marked", "edited by someone else"),
        "the other process's edit was lost"
    );
    assert!(
        fs::read_to_string(t.path("good/taskdef.json"))
            .expect("read")
            .contains("\"retries\":2")
    );
    assert_no_temp_files(t.dir.path());
}

#[test]
fn file_deleted_between_read_and_write_is_not_recreated() {
    let t = Tree::new();
    let marked = TD.replace("\"app\",\"h", "\"app\",\"marked\":1,\"h");
    let p = t.bad("taskdef.json", marked.as_bytes());
    let report = run_in_process(&t, &tamper(p.clone(), true));
    assert_eq!(report.exit_code(), 2);
    let errors = errors_of(&report);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("bad/taskdef.json: cannot re-read before writing")),
        "{errors:?}"
    );
    assert!(!p.exists(), "a deleted file was written again");
    assert!(
        fs::read_to_string(t.path("good/taskdef.json"))
            .expect("read")
            .contains("\"retries\":2")
    );
    assert_no_temp_files(t.dir.path());
}

// ---------------------------------------------------------------------------------------
// An interrupted --apply.

/// `n` units, each with one fixable task definition.
fn many(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..n {
        let d = dir.path().join(format!("svc{i:03}"));
        fs::create_dir_all(&d).expect("mkdir");
        fs::write(d.join("taskdef.json"), TD).expect("write");
    }
    dir
}

fn interrupted_apply(signal: &str, status: i32, name: &str) {
    let n = 40;
    let dir = many(n);
    let child = Std::new(bin())
        .current_dir(dir.path())
        .args(["--apply", "--select", "TD003", "--jobs", "2", "."])
        .env("PIPEFIX_TEST_WRITE_DELAY_MS", "40")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until some files are written, then interrupt.
    let deadline = Instant::now() + Duration::from_secs(20);
    let fixed = |d: &Path| {
        (0..n)
            .filter(|i| {
                fs::read_to_string(d.join(format!("svc{i:03}/taskdef.json")))
                    .is_ok_and(|s| s.contains("\"retries\":2"))
            })
            .count()
    };
    while fixed(dir.path()) < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let kill = Std::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let out = child.wait_with_output().expect("wait");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(status), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "interrupted by {name}: stopped between files; every file has either its old or its new content"
        )),
        "{stderr}"
    );
    let new = TD.replace("\"retries\":1", "\"retries\":2,\"startPeriod\":50");
    let mut old_count = 0;
    let mut new_count = 0;
    for i in 0..n {
        let s =
            fs::read_to_string(dir.path().join(format!("svc{i:03}/taskdef.json"))).expect("read");
        if s == TD {
            old_count += 1;
        } else if s == new {
            new_count += 1;
        } else {
            panic!("svc{i:03}/taskdef.json is neither old nor new: {s}");
        }
    }
    assert!(new_count >= 3, "{new_count} new");
    assert!(old_count >= 1, "the run was not interrupted: all {n} new");
    assert_no_temp_files(dir.path());
}

#[test]
fn sigterm_stops_apply_between_files() {
    interrupted_apply("TERM", 143, "SIGTERM");
}

#[test]
fn sigint_stops_apply_between_files() {
    interrupted_apply("INT", 130, "SIGINT");
}
