//! The committed certificates under reports/certificates/ and what the README says of them: the
//! README's certificate table is rendered from the certificates themselves (`certify
//! --summary`), and every committed certificate verifies against its evidence and the
//! requirements files in this tree, so a certificate judged against other wording, or a table
//! left behind by a regeneration, fails here. Needs no server.

use std::path::PathBuf;

use s3conform::certify::{summary, verify};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const BEGIN: &str = "<!-- generated: certificates -->\n";
const END: &str = "<!-- end generated: certificates -->";

/// The README's table is what the committed certificates produce; `S3CONFORM_WRITE_DOCS=1`
/// (which reports/regenerate.sh sets) rewrites it.
#[test]
fn the_readme_table_is_the_committed_certificates() {
    let root = root();
    let paths = summary::certificates_under(&root.join("reports/certificates"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !paths.is_empty(),
        "no certificate under reports/certificates/"
    );
    let entries: Vec<summary::Entry> = paths
        .iter()
        .map(|p| summary::entry(p, &root).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let want = summary::markdown(&entries);
    let path = root.join("README.md");
    let mut text = std::fs::read_to_string(&path).expect("README.md reads");
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
        panic!("README.md has no `{BEGIN}` ... `{END}` block");
    };
    if text[b + BEGIN.len()..e] == want {
        return;
    }
    if std::env::var_os("S3CONFORM_WRITE_DOCS").is_some() {
        text.replace_range(b + BEGIN.len()..e, &want);
        std::fs::write(&path, text).expect("README.md writes");
    } else {
        panic!(
            "README.md's certificate table is not what reports/certificates/ holds: run \
             `S3CONFORM_WRITE_DOCS=1 cargo test -- certdocs::` and commit the result.\n\
             It should read:\n{want}"
        );
    }
}

/// Every committed certificate follows from its evidence, judged against this tree's
/// requirements files (the histories are not committed, so they are not checked).
#[test]
fn every_committed_certificate_verifies() {
    let paths = summary::certificates_under(&root().join("reports/certificates"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut failed = Vec::new();
    for p in &paths {
        match verify::verify(p, None, None) {
            Ok(found) if found.differences.is_empty() => {}
            Ok(found) => failed.push(format!(
                "{}:\n    {}",
                p.display(),
                found.differences.join("\n    ")
            )),
            Err(e) => failed.push(format!("{}: {e}", p.display())),
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} committed certificates do not verify (regenerate them with \
         reports/regenerate.sh):\n  {}",
        failed.len(),
        paths.len(),
        failed.join("\n  ")
    );
}
