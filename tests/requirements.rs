//! The requirements files against the suite: every promise has a case (or says why no black-box
//! test can check it), every case establishes a promise or is listed as an extra with a reason,
//! and every case pattern names a case. The tables in docs/requirements.md are generated from
//! the files and must match them.

use std::path::PathBuf;

use s3conform::case::Suite;
use s3conform::certify::requirements::{self, Requirements};
use s3conform::profile::Profile;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn suite_ids() -> Vec<String> {
    let suite = Suite::load(&root().join("cases")).expect("cases/ reads");
    assert!(
        suite.errors.is_empty(),
        "malformed cases: {:?}",
        suite.errors
    );
    suite.cases.into_iter().map(|c| c.id).collect()
}

fn shipped(profile: Profile) -> Requirements {
    requirements::embedded(profile).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_requirement_has_a_case_and_every_case_a_requirement_or_a_reason() {
    let ids = suite_ids();
    for profile in Profile::ALL {
        let reqs = shipped(profile);
        let resolved = reqs.resolve(&ids).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            resolved.unmapped.is_empty(),
            "{}: these cases establish no requirement and are not extras: {:?}",
            reqs.origin,
            resolved.unmapped
        );
        for r in &reqs.requirements {
            assert!(
                r.not_testable.is_some() || !resolved.cases(&r.id).is_empty(),
                "{}:{}: {} has no case and is not marked not-testable",
                reqs.origin,
                r.line,
                r.id
            );
        }
    }
}

/// A table cell: pipes and asterisks escaped, so `If-None-Match: *` stays literal.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('*', "\\*")
}

/// The generated part of docs/requirements.md for one profile: its documents, its
/// requirements and its extras, as tables.
fn tables(r: &Requirements) -> String {
    let mut out = format!(
        "{} requirements and {} extras from `{}`.\n\n| document | title | publisher | date |\n|---|---|---|---|\n",
        r.requirements.len(),
        r.extras.len(),
        r.origin
    );
    for d in &r.documents {
        let title = match &d.url {
            Some(url) => format!("[{}]({url})", cell(&d.title)),
            None => cell(&d.title),
        };
        out += &format!(
            "| `{}` | {title} | {} | {} |\n",
            d.id,
            d.publisher,
            d.date.as_deref().unwrap_or("")
        );
    }
    out += "\n| id | statement | source | cases | campaigns | refuted by |\n|---|---|---|---|---|---|\n";
    for q in &r.requirements {
        let statement = if q.quoted {
            format!("\"{}\"", cell(&q.statement))
        } else {
            format!("{} *(paraphrase)*", cell(&q.statement))
        };
        let statement = match &q.note {
            Some(note) => format!("{statement}<br>Note: {}", cell(note)),
            None => statement,
        };
        let cases = match &q.not_testable {
            Some(reason) => format!("not testable: {}", cell(reason)),
            None => q
                .cases
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let campaigns = q
            .campaigns
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ");
        let refuted_by = q
            .refuted_by
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        out += &format!(
            "| `{}` | {statement} | `{}` {} | {cases} | {campaigns} | {refuted_by} |\n",
            q.id,
            q.source.document,
            cell(&q.source.section)
        );
    }
    out += "\n| extra case | why it is not a requirement |\n|---|---|\n";
    for e in &r.extras {
        out += &format!("| `{}` | {} |\n", e.case, cell(&e.reason));
    }
    out
}

/// The tables in docs/requirements.md are the files' content; `S3CONFORM_WRITE_DOCS=1`
/// rewrites them after a change to a requirements file.
#[test]
fn the_documented_tables_are_the_files() {
    let path = root().join("docs/requirements.md");
    let mut text = std::fs::read_to_string(&path).expect("docs/requirements.md reads");
    let mut stale = Vec::new();
    for profile in Profile::ALL {
        let begin = format!("<!-- generated: {profile} -->\n");
        let end = format!("<!-- end generated: {profile} -->");
        let (Some(b), Some(e)) = (text.find(&begin), text.find(&end)) else {
            panic!("docs/requirements.md has no `{begin}` ... `{end}` block");
        };
        let want = tables(&shipped(profile));
        if text[b + begin.len()..e] != want {
            stale.push(profile.name());
            text.replace_range(b + begin.len()..e, &want);
        }
    }
    if stale.is_empty() {
        return;
    }
    if std::env::var_os("S3CONFORM_WRITE_DOCS").is_some() {
        std::fs::write(&path, text).expect("docs/requirements.md writes");
    } else {
        panic!(
            "docs/requirements.md is behind requirements/ for {stale:?}: run \
             `S3CONFORM_WRITE_DOCS=1 cargo test -- requirements::` and commit the result"
        );
    }
}
