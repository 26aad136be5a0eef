//! The layers of the crate: a module may refer only to modules of its own rank or
//! below (`crate::<module>` in code; `geoalign::<module>` in the binary's `cli`).
//! The documented order (also in docs/ARCHITECTURE.md, "Layers"), bottom first:

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ORDER: &[&[&str]] = &[
    &["geom", "text", "feature"],
    &["topo"],
    &["build"],
    &["align"],
    &["store"],
    &["ingest"],
    &["index"],
    &["snapshot", "change"],
    &["engine"],
    &["lookup", "tiles", "export"],
    &["config"],
    &["http"],
    &["demo"],
    &["cli"],
];

fn rank(module: &str) -> Option<usize> {
    ORDER.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/store/alignments.rs` -> `store`);
/// `src/main.rs` is the binary, whose only module is `cli`; `src/lib.rs` declares.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    match first.strip_suffix(".rs").unwrap_or(first) {
        "lib" => None,
        "main" => Some("cli".into()),
        module => Some(module.into()),
    }
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The top-level modules `code` names after `root::` (`crate::store::X`,
/// `crate::{align::Op, store::Store}`), comments left out.
fn references(code: &str, root: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let prefix = format!("{root}::");
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(at) = rest.find(&prefix) {
            let preceded = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            rest = &rest[at + prefix.len()..];
            if preceded {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                // Top-level items of the group: split at depth-0 commas.
                let (mut depth, mut start) = (0usize, 0usize);
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            out.insert(identifier(group[start..i].trim()).to_owned());
                            break;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            out.insert(identifier(group[start..i].trim()).to_owned());
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
            } else {
                out.insert(identifier(rest).to_owned());
            }
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

/// Every violation of the order in the files under `src`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let Some(module) = module_of(src, file) else {
            continue;
        };
        let Some(own) = rank(&module) else {
            problems.push(format!(
                "{}: module '{module}' is not in the layer order",
                file.display()
            ));
            continue;
        };
        let code = std::fs::read_to_string(file).unwrap();
        let mut named = references(&code, "crate");
        if module == "cli" {
            // The binary: `crate::` is itself, the library is `geoalign::`.
            named = references(&code, "geoalign");
            named.extend(references(&code, "crate").into_iter().filter(|m| m != "cli"));
        }
        for other in named.iter().filter(|m| **m != module) {
            match rank(other) {
                Some(theirs) if theirs <= own => {}
                Some(theirs) => problems.push(format!(
                    "{}: {module} (layer {own}) refers to {other} (layer {theirs}), above it",
                    file.display()
                )),
                None => problems.push(format!(
                    "{}: {module} refers to '{other}', which is not in the layer order",
                    file.display()
                )),
            }
        }
    }
    problems
}

#[test]
fn modules_refer_only_to_their_layer_or_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = violations(&src);
    assert!(
        problems.is_empty(),
        "layer order broken:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn every_layer_in_the_order_exists() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for module in ORDER.iter().flat_map(|l| l.iter()).filter(|m| **m != "cli") {
        assert!(
            src.join(format!("{module}.rs")).is_file() || src.join(module).join("mod.rs").is_file(),
            "{module} is in the order but not in src/"
        );
    }
}

#[test]
fn references_are_found_in_paths_and_groups_not_comments() {
    let code = "use crate::store::Store;\nuse crate::{align::{Op, state}, engine::Engine};\n\
                let x = crate::http::problem::ApiError::bad(a, b); // crate::demo\n\
                /// [`crate::tiles`]\nmy_crate::cli::x();";
    let found: Vec<String> = references(code, "crate").into_iter().collect();
    assert_eq!(found, ["align", "engine", "http", "store"]);
}
