//! The table of several certificates, one row each: what the README shows of the committed
//! certificates, rendered from their `certificate.json` so that it can never say something the
//! certificates do not (`certify --summary`, and the test that keeps the README in step).

use std::path::{Path, PathBuf};

use super::model::{Certificate, State};
use super::verify::{self, VerifyError};
use crate::report::markdown::{cell, table};

/// One certificate and where its files are, as a link from the document the table goes in.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The certificate.
    pub cert: Certificate,
    /// Its folder as a relative link (`/`-separated, no trailing slash).
    pub link: String,
    /// Whether the folder holds `screenshot.png` (the page as a browser renders it).
    pub screenshot: bool,
}

/// Reads the certificate at `path` and links its folder from `from`, the folder of the document
/// the table goes in (`""`: as `path` is written).
pub fn entry(path: &Path, from: &Path) -> Result<Entry, VerifyError> {
    let cert = verify::read_certificate(path)?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let link = folder
        .strip_prefix(from)
        .unwrap_or(folder)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    Ok(Entry {
        cert,
        screenshot: folder.join(SCREENSHOT).is_file(),
        link,
    })
}

/// The screenshot's name in a certificate's folder.
pub const SCREENSHOT: &str = "screenshot.png";

/// Every `*/certificate.json` one level under `dir`, in name order.
pub fn certificates_under(dir: &Path) -> Result<Vec<PathBuf>, VerifyError> {
    let read = std::fs::read_dir(dir).map_err(|source| VerifyError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut found: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .map(|e| e.path().join("certificate.json"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    Ok(found)
}

fn href(link: &str, file: &str) -> String {
    if link.is_empty() {
        file.to_owned()
    } else {
        format!("{link}/{file}")
    }
}

/// The Markdown table: the embedded reference endpoint first, then by endpoint and profile, so
/// the order does not depend on the order the files were named in.
pub fn markdown(entries: &[Entry]) -> String {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |e: &Entry| {
            let b = &e.cert.basis;
            (
                !b.endpoint.embedded,
                b.endpoint.label.clone(),
                b.profile.name(),
            )
        };
        key(a).cmp(&key(b))
    });
    let rows: Vec<Vec<String>> = sorted.iter().map(|e| row(e)).collect();
    table(
        &[
            "endpoint (profile)",
            "verdict",
            "hold / violated / not established / not applicable",
            "violated",
            "ambiguity over the threshold",
            "judged",
            "certificate",
        ],
        usize::MAX,
        &rows,
    )
}

fn row(e: &Entry) -> Vec<String> {
    let c = &e.cert;
    let b = &c.basis;
    let mut endpoint = if b.endpoint.embedded {
        format!("{} (embedded, {})", cell(&b.endpoint.label), b.profile)
    } else {
        format!("{} ({})", cell(&b.endpoint.label), b.profile)
    };
    // The label is the operator's word; the Server header is the endpoint's.
    if let Some(server) = &c.server {
        endpoint += &format!("<br>Server: `{}`", cell(&server.header));
    }
    if c.stopped.is_some() {
        endpoint += "<br>(the endpoint stopped answering; the run did not finish)";
    }
    let verdict = format!("![{}]({})", c.verdict.words(), href(&e.link, "badge.svg"));
    let n = &c.counts;
    let mut counts = format!(
        "{} / {} / {} / {}",
        n.holds, n.violated, n.not_established, n.not_applicable
    );
    if n.not_testable > 0 {
        counts += &format!(" ({} not testable)", n.not_testable);
    }
    let violated: Vec<String> = c
        .requirements
        .iter()
        .filter(|r| r.verdict == State::Violated)
        .map(|r| {
            format!(
                "[{}]({}#v-{})",
                cell(&r.id),
                href(&e.link, "certificate.html"),
                r.id
            )
        })
        .collect();
    let violated = if violated.is_empty() {
        "(none)".to_owned()
    } else {
        violated.join(", ")
    };
    let a = &c.ambiguity;
    let over: Vec<String> = std::iter::once(&a.suite)
        .chain(&a.campaigns)
        .filter(|r| r.over)
        .map(|r| format!("{} ({:.1}%)", cell(&r.of), r.rate * 100.0))
        .collect();
    let over = if over.is_empty() {
        format!("none over {:.0}%", a.threshold * 100.0)
    } else {
        over.join(", ")
    };
    let judged = format!(
        "{}, seed {}, s3conform {}, {} promises",
        b.level.name(),
        b.seed,
        cell(&b.tool_version),
        c.requirements.len()
    );
    let mut links = vec![
        format!("[HTML]({})", href(&e.link, "certificate.html")),
        format!("[Markdown]({})", href(&e.link, "certificate.md")),
    ];
    if e.screenshot {
        links.push(format!("[screenshot]({})", href(&e.link, SCREENSHOT)));
    }
    vec![
        endpoint,
        verdict,
        counts,
        violated,
        over,
        judged,
        links.join(", "),
    ]
}
