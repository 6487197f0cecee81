//! Commands that write `pipefix.toml`: `pipefix init` (a commented starting file) and
//! `pipefix ignore ID --path GLOB [--where EXPR]`, which edits the file with `toml_edit` so that the
//! user's comments, order and layout survive. Every edited text is checked with
//! [`Config::parse`] before it is written: a command never leaves a file pipefix refuses.

use std::fmt::Write as _;

use serde_json::Value;
use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, value};

use crate::config::{Config, DEFAULT_MAX_FILE_SIZE};
use crate::meta;

/// The text `pipefix init` writes: every setting, commented out at its default, and the
/// parameters of every fix of the catalog.
pub fn init_text() -> String {
    let mut s = String::new();
    s.push_str(
        "# pipefix.toml: which fixes pipefix runs, where, and with which parameters.\n\
         # Every setting is optional; the commented-out values are the defaults.\n\
         # `pipefix rules` lists the fixes; `pipefix explain ID` documents one.\n\n\
         # Only these fixes (ids or prefixes such as \"TD\"), instead of the default set\n\
         # (the fixes marked `on` in `pipefix rules`: defects, whatever the team's taste).\n\
         # select = [\"CP\", \"TD\"]\n\n",
    );
    let opt_in: Vec<String> = meta::all()
        .iter()
        .filter(|m| !m.default)
        .map(|m| format!("\"{}\"", m.id))
        .collect();
    let _ = writeln!(
        s,
        "# Add fixes to the set: the opt-in ones are trade-offs a team chooses.\n# extend-select = [{}]\n",
        opt_in.join(", ")
    );
    s.push_str(
        "# Never these fixes (ids or prefixes).\n\
         # ignore = []\n\n\
         # Also apply the fixes marked unsafe (they change deploy behaviour more deeply).\n\
         # unsafe-fixes = false\n\n\
         # Files larger than this many bytes are refused before they are read.\n",
    );
    let _ = writeln!(s, "# max-file-size = {DEFAULT_MAX_FILE_SIZE}\n");
    s.push_str(
        "# Ask image registries for the digests of mutable tags (TD002), as\n\
         # --resolve-digests does. The only setting that lets pipefix use the network;\n\
         # --offline overrides it. Credentials come from the Docker configuration.\n\
         # resolve-digests = false\n\
         # Seconds one registry request may take.\n\
         # registry-timeout = 10\n\n",
    );
    s.push_str(
        "# Fixes to skip below some paths: glob (relative to this file's folder) = [ids].\n\
         # `pipefix ignore ID --path GLOB` adds entries here.\n\
         [per-path-ignores]\n\
         # \"legacy/**\" = [\"BS\"]\n\n\
         # Image digests to pin: image repository (or image:tag) = digest.\n\
         [pins]\n\
         # \"public.ecr.aws/docker/library/node\" = \"sha256:<64 hex digits>\"\n\n\
         # One fix, only on the nodes a JSONPath expression selects (JSON and YAML files):\n\
         # reported as suppressed, never fixed. Repeat the table for more.\n\
         # `pipefix ignore ID --path GLOB --where EXPR --reason TEXT` adds one.\n\
         # [[suppress]]\n\
         # rule = \"TD002\"\n\
         # path = \"deploy/*.json\"\n\
         # where = \"$.containerDefinitions[?(@.name == 'datadog-agent')]\"\n\
         # reason = \"pinned by the platform team's image policy\"\n",
    );
    let with_params: Vec<_> = meta::all()
        .iter()
        .filter(|m| !m.parameters.is_empty())
        .collect();
    if !with_params.is_empty() {
        s.push_str("\n# Parameters of each fix: uncomment a table and the values to change.\n");
    }
    for m in with_params {
        let _ = writeln!(s, "\n# {}: {}", m.id, m.title);
        let _ = writeln!(s, "# [rules.{}]", m.id);
        for (name, p) in &m.parameters {
            for line in p.description.trim().lines() {
                let _ = writeln!(s, "#   {}", line.trim());
            }
            match toml_literal(&p.default) {
                Some(v) => {
                    let _ = writeln!(s, "# {name} = {v}");
                }
                None => {
                    let _ = writeln!(s, "# {name} =");
                }
            }
        }
    }
    s
}

/// A JSON value as a TOML literal (`None` for null, which TOML cannot hold).
fn toml_literal(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        // A JSON string literal is a valid TOML basic string.
        Value::String(s) => serde_json::to_string(s).ok()?,
        Value::Array(a) => {
            let items: Option<Vec<String>> = a.iter().map(toml_literal).collect();
            format!("[{}]", items?.join(", "))
        }
        Value::Object(o) => {
            let items: Option<Vec<String>> = o
                .iter()
                .map(|(k, v)| {
                    let key = serde_json::to_string(k).ok()?;
                    toml_literal(v).map(|v| format!("{key} = {v}"))
                })
                .collect();
            format!("{{ {} }}", items?.join(", "))
        }
    })
}

/// What [`add_per_path_ignore`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Edit {
    Added(String),
    AlreadyThere,
}

/// Add `id` to `[per-path-ignores]` under `glob` in the configuration `text`, keeping
/// everything else as it was. Errors name the line where the file is wrong.
pub fn add_per_path_ignore(text: &str, glob: &str, id: &str) -> Result<Edit, String> {
    if !meta::all().iter().any(|m| m.id.starts_with(id)) || id.is_empty() {
        return Err(format!(
            "no fix id starts with {id:?} (see `pipefix rules`)"
        ));
    }
    globset::Glob::new(glob).map_err(|e| format!("bad glob {glob:?}: {e}"))?;
    // The file must be valid before it is touched, so that errors name the user's lines.
    Config::parse(text).map_err(|e| format!("line {}: {}", e.line, e.message))?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.message().to_string())?;
    let root = doc.as_table_mut();
    if !root.contains_key("per-path-ignores") {
        let mut t = Table::new();
        if !text.trim().is_empty() {
            t.decor_mut().set_prefix("\n");
        }
        root.insert("per-path-ignores", Item::Table(t));
    }
    let Some(table) = root
        .get_mut("per-path-ignores")
        .and_then(Item::as_table_like_mut)
    else {
        return Err("`per-path-ignores` must be a table of glob = [ids]".into());
    };
    match table.get_mut(glob) {
        Some(item) => {
            let Some(arr) = item.as_array_mut() else {
                return Err(format!("`{glob}` in [per-path-ignores] is not a list"));
            };
            if arr.iter().any(|v| v.as_str() == Some(id)) {
                return Ok(Edit::AlreadyThere);
            }
            arr.push(id);
        }
        None => {
            let mut arr = Array::new();
            arr.push(id);
            table.insert(glob, Item::Value(arr.into()));
        }
    }
    let out = doc.to_string();
    Config::parse(&out).map_err(|e| format!("the edited file would be invalid: {}", e.message))?;
    Ok(Edit::Added(out))
}

/// Add a `[[suppress]]` entry (fix `id` in files matching `glob`, on the nodes `expr`
/// selects) to the configuration `text`, keeping everything else as it was.
pub fn add_suppression(
    text: &str,
    id: &str,
    glob: &str,
    expr: &str,
    reason: Option<&str>,
) -> Result<Edit, String> {
    if id.is_empty() || !meta::all().iter().any(|m| m.id.starts_with(id)) {
        return Err(format!(
            "no fix id starts with {id:?} (see `pipefix rules`)"
        ));
    }
    globset::Glob::new(glob).map_err(|e| format!("bad glob {glob:?}: {e}"))?;
    crate::document::Selector::parse(expr)?;
    let config = Config::parse(text).map_err(|e| format!("line {}: {}", e.line, e.message))?;
    if config
        .suppress
        .iter()
        .any(|s| s.rule == id && s.path.as_deref() == Some(glob) && s.selector.as_str() == expr)
    {
        return Ok(Edit::AlreadyThere);
    }
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.message().to_string())?;
    let mut t = Table::new();
    t.insert("rule", value(id));
    t.insert("path", value(glob));
    t.insert("where", value(expr));
    if let Some(r) = reason {
        t.insert("reason", value(r));
    }
    let root = doc.as_table_mut();
    match root.get_mut("suppress") {
        Some(item) => {
            let Some(list) = item.as_array_of_tables_mut() else {
                return Err("`suppress` must be [[suppress]] tables".into());
            };
            list.push(t);
        }
        None => {
            if !text.trim().is_empty() {
                t.decor_mut().set_prefix("\n");
            }
            let mut list = ArrayOfTables::new();
            list.push(t);
            root.insert("suppress", Item::ArrayOfTables(list));
        }
    }
    let mut out = doc.to_string();
    if !text.is_empty() && !text.ends_with('\n') && out.starts_with(text) {
        // toml_edit keeps a missing final newline before the new table; add one.
        out.insert(text.len(), '\n');
    }
    Config::parse(&out).map_err(|e| format!("the edited file would be invalid: {}", e.message))?;
    Ok(Edit::Added(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_text_is_a_valid_configuration() {
        let text = init_text();
        assert!(Config::parse(&text).is_ok());
        // Uncommenting every parameter table keeps it valid.
        let mut in_rules = false;
        let uncommented: String = text
            .lines()
            .map(|l| {
                in_rules |= l.starts_with("# [rules.");
                match l.strip_prefix("# ") {
                    Some(rest)
                        if in_rules && (rest.starts_with("[rules.") || rest.contains(" = ")) =>
                    {
                        rest.to_string()
                    }
                    _ => l.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        if let Err(e) = Config::parse(&uncommented) {
            panic!("line {}: {}\n{uncommented}", e.line, e.message);
        }
        // So does uncommenting the [[suppress]] example.
        let mut in_suppress = false;
        let with_suppress: String = text
            .lines()
            .map(|l| {
                in_suppress = (in_suppress || l == "# [[suppress]]") && l.starts_with("# ");
                match l.strip_prefix("# ") {
                    Some(rest) if in_suppress => rest.to_string(),
                    _ => l.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c = Config::parse(&with_suppress).expect("the [[suppress]] example is valid");
        assert_eq!(c.suppress.len(), 1);
    }

    #[test]
    fn adds_to_an_existing_list_and_refuses_unknown_ids() {
        let text = "[per-path-ignores]\n\"a/**\" = [\"BS\"] # old\n";
        assert_eq!(
            add_per_path_ignore(text, "a/**", "TD003"),
            Ok(Edit::Added(
                "[per-path-ignores]\n\"a/**\" = [\"BS\", \"TD003\"] # old\n".into()
            ))
        );
        assert_eq!(
            add_per_path_ignore(text, "a/**", "BS"),
            Ok(Edit::AlreadyThere)
        );
        assert!(add_per_path_ignore(text, "a/**", "ZZ9").is_err());
        assert!(add_per_path_ignore(text, "a/[", "TD").is_err());
    }

    #[test]
    fn adds_a_suppression_keeping_comments() {
        let text = "# team settings\nselect = [\"TD\"] # only task definitions\n";
        let expr = "$.containerDefinitions[?(@.name == 'datadog-agent')]";
        let Ok(Edit::Added(out)) = add_suppression(
            text,
            "TD002",
            "deploy/*.json",
            expr,
            Some("pinned by policy"),
        ) else {
            panic!("added");
        };
        assert!(out.starts_with(text), "{out}");
        assert!(
            out.contains("\n[[suppress]]\nrule = \"TD002\"\npath = \"deploy/*.json\"\n"),
            "{out}"
        );
        let c = Config::parse(&out).expect("valid");
        assert_eq!(c.suppress[0].selector.as_str(), expr);
        assert_eq!(c.suppress[0].reason.as_deref(), Some("pinned by policy"));
        assert_eq!(c.suppress[0].line, 4);
        assert_eq!(
            add_suppression(&out, "TD002", "deploy/*.json", expr, None),
            Ok(Edit::AlreadyThere)
        );
        let Ok(Edit::Added(two)) = add_suppression(&out, "TD003", "**", "$", None) else {
            panic!("a second entry");
        };
        assert_eq!(Config::parse(&two).expect("valid").suppress.len(), 2);
        assert!(two.starts_with(&out));
        let e = add_suppression(text, "TD002", "**", "$.a[?(@.b ==", None).unwrap_err();
        assert!(e.contains("not a JSONPath expression"), "{e}");
        assert!(add_suppression("", "TD002", "**", "$", None).is_ok());
        let no_newline = add_suppression("select = [\"TD\"]", "TD002", "**", "$", None);
        assert!(matches!(no_newline, Ok(Edit::Added(t)) if t.starts_with("select = [\"TD\"]\n")));
    }
}
