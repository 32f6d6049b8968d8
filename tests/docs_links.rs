//! Every piece of evidence the project cites can be followed inside the repository: a case's
//! `source:` line, a relative link in the documents and READMEs, and a document cited in a
//! source comment all point at a file, section, table row or probe that exists.
//!
//! Citation forms understood (in a `source:` line, separated by `;`):
//! - `docs/semantics.md §1.2`, `docs/semantics.md §6 #24`, and bare `§2.1` / `§6 #35` segments
//!   after one, which continue the same document; each section needs an anchor `id="s1.2"`,
//!   each row of the §6 table `id="s6-24"`;
//! - `docs/endpoints.md b3`, `docs/endpoints.md d15/e15`, `docs/endpoints.md probe i`; each
//!   probe needs an anchor `id="probe-b3"`;
//! - any other `*.md` file named must exist; RFC sections and vendor pages are outside the repo.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use s3conform::case::Suite;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The explicit anchors (`id="..."`) and the GitHub heading slugs of a Markdown file.
fn anchors(path: &Path) -> BTreeSet<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeSet::new();
    };
    let mut found = BTreeSet::new();
    for piece in text.split("id=\"").skip(1) {
        if let Some(end) = piece.find('"') {
            found.insert(piece[..end].to_owned());
        }
    }
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix('#') {
            found.insert(slug(heading.trim_start_matches('#')));
        }
    }
    found
}

/// GitHub's anchor for a heading: lowercase, spaces to `-`, punctuation dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The numbers after each `§` in `text` (`§1.2` gives `1.2`), trailing dots dropped.
fn sections(text: &str) -> Vec<String> {
    let parts: Vec<&str> = text.split('§').collect();
    parts
        .windows(2)
        // A `§` right after "RFC 9110 " is that RFC's section, not one of ours.
        .filter(|w| !cites_an_rfc(w[0]))
        .map(|w| {
            w[1].chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect::<String>()
                .trim_end_matches('.')
                .to_owned()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether `before` ends with an RFC's name ("RFC 9110 "), so the `§` after it is the RFC's.
fn cites_an_rfc(before: &str) -> bool {
    let mut words = before.split_whitespace().rev();
    let number = words.next().unwrap_or("");
    number.chars().all(|c| c.is_ascii_digit())
        && !number.is_empty()
        && words.next().is_some_and(|w| w.ends_with("RFC"))
}

/// The numbers after each `#` in `text` (`#24`).
fn rows(text: &str) -> Vec<String> {
    text.split('#')
        .skip(1)
        .map(|s| {
            s.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Documents cited in `text`, as paths from the repository root: words ending in `.md` that
/// are a path (`docs/semantics.md`) or a document's capitalized name (`SEMANTICS.md`). A
/// lowercase bare name (`report.md`) is a file the tool writes, not a citation.
fn named_files(text: &str) -> Vec<String> {
    text.split(|c: char| {
        c.is_whitespace() || matches!(c, '(' | ')' | '`' | ',' | '[' | ']' | '"' | '\'')
    })
    .filter_map(|w| {
        let stem = w.strip_suffix(".md")?;
        let cited = w.contains('/')
            || (!stem.is_empty() && stem.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
        cited.then(|| w.to_owned())
    })
    .collect()
}

/// What is wrong with one `source:` line, if anything.
fn check_source(
    source: &str,
    semantics: &BTreeSet<String>,
    probes: &BTreeSet<String>,
) -> Vec<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Doc {
        Semantics,
        Endpoints,
        Other,
    }
    let mut problems = Vec::new();
    let mut doc = Doc::Other;
    for segment in source.split(';').map(str::trim) {
        let rest = if let Some(rest) = segment.strip_prefix("docs/semantics.md") {
            doc = Doc::Semantics;
            rest
        } else if let Some(rest) = segment.strip_prefix("docs/endpoints.md") {
            doc = Doc::Endpoints;
            rest
        } else if segment.starts_with('§') {
            segment
        } else {
            doc = Doc::Other;
            segment
        };
        for file in named_files(segment) {
            if !root().join(&file).is_file() {
                problems.push(format!("`{file}` is not a file in the repository"));
            }
        }
        match doc {
            Doc::Semantics => {
                let secs = sections(rest);
                if secs.is_empty() {
                    problems.push(format!("`{segment}` names no section"));
                }
                for s in &secs {
                    if !semantics.contains(&format!("s{s}")) {
                        problems.push(format!("docs/semantics.md has no §{s}"));
                    }
                }
                if secs.last().is_some_and(|s| s == "6") {
                    for r in rows(rest) {
                        if !semantics.contains(&format!("s6-{r}")) {
                            problems.push(format!("docs/semantics.md §6 has no row #{r}"));
                        }
                    }
                }
            }
            Doc::Endpoints => {
                let rest = rest.trim_start();
                let rest = rest.strip_prefix("probe ").unwrap_or(rest);
                let ids = rest.split_whitespace().next().unwrap_or("");
                if ids.is_empty() {
                    problems.push(format!("`{segment}` names no probe"));
                }
                for id in ids.split('/').filter(|i| !i.is_empty()) {
                    if !probes.contains(&format!("probe-{id}")) {
                        problems.push(format!("docs/endpoints.md has no probe `{id}`"));
                    }
                }
            }
            Doc::Other => {}
        }
    }
    problems
}

fn semantics() -> BTreeSet<String> {
    anchors(&root().join("docs/semantics.md"))
}

fn probes() -> BTreeSet<String> {
    anchors(&root().join("docs/endpoints.md"))
}

#[test]
fn an_rfc_section_is_not_taken_for_ours() {
    assert_eq!(sections("§1.4 (RFC 9110 §13.2.2 order)"), vec!["1.4"]);
    assert_eq!(sections("§6 #15; RFC 9110 §13.2.2; §99"), vec!["6", "99"]);
}

#[test]
fn every_case_source_points_at_something_that_exists() {
    let suite = Suite::load(&root().join("cases")).expect("the cases load");
    assert!(suite.errors.is_empty(), "{:?}", suite.errors);
    let (sem, ends) = (semantics(), probes());
    let mut broken = Vec::new();
    for case in &suite.cases {
        for problem in check_source(&case.file.source, &sem, &ends) {
            broken.push(format!("{}: {problem}", case.path.display()));
        }
    }
    assert!(
        broken.is_empty(),
        "{} broken citations:\n{}",
        broken.len(),
        broken.join("\n")
    );
}

/// The checker itself: a wrong section, row, probe or file is caught, a right one is not.
#[test]
fn broken_citations_are_caught() {
    let (sem, ends) = (semantics(), probes());
    let ok = "docs/semantics.md §6 #24; §1.2 [doc][rec]; §2.1 CoreWeave; docs/endpoints.md d15/e15 (?); RFC 9110 §13.1.1";
    assert_eq!(check_source(ok, &sem, &ends), Vec::<String>::new());
    for bad in [
        "docs/semantics.md §9.9",
        "docs/semantics.md §6 #999",
        "docs/semantics.md §1.2; §7",
        "docs/endpoints.md z42",
        "docs/endpoints.md d15/zz",
        "SEMANTICS.md §1.2",
        "docs/semantics.md",
    ] {
        assert!(!check_source(bad, &sem, &ends).is_empty(), "`{bad}` passed");
    }
}

/// Relative links `[text](target#fragment)` in a Markdown file.
fn links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|s| s.find(')').map(|end| s[..end].to_owned()))
        .filter(|t| !t.contains("://") && !t.starts_with("mailto:"))
        .collect()
}

#[test]
fn relative_links_in_the_documents_resolve() {
    let mut files = vec![root().join("README.md"), root().join("cases/README.md")];
    for entry in std::fs::read_dir(root().join("docs")).expect("docs/ exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut broken = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for link in links(&text) {
            let (target, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let resolved = if target.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(target)
            };
            if !resolved.exists() {
                broken.push(format!("{}: `{link}`: no such file", file.display()));
            } else if !fragment.is_empty()
                && resolved.extension().is_some_and(|e| e == "md")
                && !anchors(&resolved).contains(fragment)
            {
                broken.push(format!("{}: `{link}`: no such anchor", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
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

#[test]
fn documents_cited_in_source_comments_exist() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches"] {
        rust_files(&root().join(dir), &mut files);
    }
    let this = root().join("tests/docs_links.rs");
    let sem = semantics();
    let mut broken = Vec::new();
    for file in files.iter().filter(|f| **f != this) {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let Some(comment) = line.trim_start().strip_prefix("//") else {
                continue;
            };
            let at = format!("{}:{}", file.display(), n + 1);
            for name in named_files(comment) {
                if !root().join(&name).is_file() {
                    broken.push(format!("{at}: `{name}` is not a file in the repository"));
                }
            }
            for cite in comment.split("docs/semantics.md").skip(1) {
                let first = cite.trim_start();
                if !first.starts_with('§') {
                    continue;
                }
                if let Some(s) = sections(first).first()
                    && !sem.contains(&format!("s{s}"))
                {
                    broken.push(format!("{at}: docs/semantics.md has no §{s}"));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "broken citations:\n{}",
        broken.join("\n")
    );
}
