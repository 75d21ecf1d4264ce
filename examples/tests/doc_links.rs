//! A link checker over the repository's Markdown: every relative link and anchor
//! resolves; a published crate's README links only inside its own package (anything
//! else dangles on crates.io and docs.rs); and no published text cites notes that are
//! not in the repository. Intra-doc links are checked by `cargo doc` with
//! `RUSTDOCFLAGS="-D warnings"` in `.ci/run`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, keep: &dyn Fn(&Path) -> bool) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            walk(&path, out, keep);
        } else if keep(&path) {
            out.push(path);
        }
    }
}

fn markdown_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(&root(), &mut out, &|p| {
        p.extension().is_some_and(|e| e == "md")
    });
    out.sort();
    out
}

/// The workspace members that are published (no `publish = false`).
fn published_crates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root()).unwrap() {
        let dir = entry.unwrap().path();
        let manifest = dir.join("Cargo.toml");
        if dir == root() || !manifest.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest).unwrap();
        if !text.contains("publish = false") {
            out.push(dir);
        }
    }
    out.sort();
    assert!(out.len() >= 7, "found only {out:?}");
    out
}

/// `(line, target)` of every inline link `[text](target)` outside code.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // drop inline code spans
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
            }
        }
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            out.push((n + 1, target.to_owned()));
            rest = &after[end..];
        }
    }
    out
}

/// GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let slug: String = title
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => {
                    Some(c.to_lowercase().next().unwrap())
                }
                _ => None,
            })
            .collect();
        out.insert(slug);
    }
    out
}

fn is_external(target: &str) -> bool {
    target.starts_with("http://") || target.starts_with("https://") || target.starts_with("mailto:")
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut broken = Vec::new();
    let files = markdown_files();
    assert!(files.len() >= 10, "{files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (line, target) in links(&text) {
            if target.is_empty() || is_external(&target) {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            let shown = format!(
                "{}:{line}: {target}",
                file.strip_prefix(root()).unwrap().display()
            );
            if !resolved.exists() {
                broken.push(format!("{shown} (no such file)"));
                continue;
            }
            if let Some(anchor) = anchor
                && resolved.is_file()
                && resolved.extension().is_some_and(|e| e == "md")
            {
                let headings = anchors(&std::fs::read_to_string(&resolved).unwrap());
                if !headings.contains(anchor) {
                    broken.push(format!("{shown} (no heading #{anchor})"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn published_readmes_link_only_inside_their_package() {
    let mut escaping = Vec::new();
    for dir in published_crates() {
        let readme = dir.join("README.md");
        let text = std::fs::read_to_string(&readme).unwrap();
        for (line, target) in links(&text) {
            if target.is_empty() || is_external(&target) || target.starts_with('#') {
                continue;
            }
            let path = target.split('#').next().unwrap();
            let resolved = dir.join(path);
            let inside = resolved
                .canonicalize()
                .map(|p| p.starts_with(dir.canonicalize().unwrap()))
                .unwrap_or(false);
            if !inside {
                escaping.push(format!(
                    "{}:{line}: {target} (outside the package: link https://docs.rs/… or the repository instead)",
                    readme.strip_prefix(root()).unwrap().display()
                ));
            }
        }
    }
    assert!(escaping.is_empty(), "{}", escaping.join("\n"));
}

#[test]
fn published_text_cites_no_unpublished_notes() {
    let needles = [
        "DESIGN.md",
        "STYLE.md",
        "../shared",
        "brivo.md",
        "entrata.md §",
        "officernd.md",
        "integrations.md",
        "§",
    ];
    let mut found = Vec::new();
    for dir in published_crates() {
        let mut files = vec![dir.join("README.md")];
        walk(&dir.join("src"), &mut files, &|p| {
            p.extension().is_some_and(|e| e == "rs")
        });
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let doc = file.extension().is_some_and(|e| e == "md")
                    || line.trim_start().starts_with("//");
                if !doc {
                    continue;
                }
                if let Some(needle) = needles.iter().find(|w| line.contains(*w)) {
                    found.push(format!(
                        "{}:{}: cites {needle:?}: {}",
                        file.strip_prefix(root()).unwrap().display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
