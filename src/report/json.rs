//! The `--json` sink and its reader: the format `compare` and baselines are built from.
//!
//! The format itself is specified on [`crate::report::model`]. Reading checks the envelope
//! (`format`, `format_version`) before the body, so a wrong file gets "this is not a run
//! report" rather than a confusing "missing field `cases`".

use std::path::Path;

use serde::Deserialize;

use super::errors::ReportError;
use super::files;
use super::model::{CaseReport, FORMAT, FORMAT_VERSION, RunReport, StepRecord};
use crate::s3::HttpDate;

/// The report as pretty-printed JSON with a trailing newline, stable for diffs.
pub fn to_string(report: &RunReport) -> String {
    let mut text = serde_json::to_string_pretty(report)
        .expect("a RunReport has string keys only and always serializes");
    text.push('\n');
    text
}

/// Writes the report to `path`.
pub fn write(report: &RunReport, path: &Path) -> Result<(), ReportError> {
    files::write(path, &to_string(report))
}

/// Reads and validates a run report from `path`.
pub fn read(path: &Path) -> Result<RunReport, ReportError> {
    from_str(&files::read(path)?, path)
}

/// The envelope every version shares: checked first so errors say what the file is.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    format: Option<serde_json::Value>,
    #[serde(default)]
    format_version: Option<serde_json::Value>,
}

/// Parses and validates a run report; `path` only names the source in errors.
pub fn from_str(text: &str, path: &Path) -> Result<RunReport, ReportError> {
    let envelope: Envelope = match serde_json::from_str(text) {
        Ok(e) => e,
        // Valid JSON that is not an object (an array, a number) is "not a report", not "not JSON".
        Err(source) if source.is_data() => {
            return Err(ReportError::WrongFormat {
                path: path.to_owned(),
                expected: "an s3conform run report",
                found: "missing (the document is not a JSON object)".to_owned(),
            });
        }
        Err(source) => {
            return Err(ReportError::NotJson {
                path: path.to_owned(),
                source,
            });
        }
    };
    check_envelope(&envelope, path)?;
    serde_json::from_str(text).map_err(|source| ReportError::InvalidReport {
        path: path.to_owned(),
        source,
    })
}

fn check_envelope(envelope: &Envelope, path: &Path) -> Result<(), ReportError> {
    let wrong = |found: String| ReportError::WrongFormat {
        path: path.to_owned(),
        expected: "an s3conform run report",
        found,
    };
    match &envelope.format {
        Some(serde_json::Value::String(f)) if f == FORMAT => {}
        Some(other) => return Err(wrong(other.to_string())),
        None => return Err(wrong("missing".to_owned())),
    }
    match &envelope.format_version {
        Some(v) => match v.as_u64() {
            Some(found) if found > u64::from(FORMAT_VERSION) => Err(ReportError::NewerVersion {
                path: path.to_owned(),
                found,
                supported: FORMAT_VERSION,
            }),
            Some(0) | None => Err(wrong(format!("{FORMAT:?} with format_version {v}"))),
            Some(_) => Ok(()),
        },
        None => Err(wrong(format!("{FORMAT:?} without a format_version"))),
    }
}

/// What a normalized report says instead of a value that changes on every run.
pub const VOLATILE: &str = "(volatile)";

/// Where normalized dates start: the earliest Last-Modified a case observed becomes this instant.
const DATE_BASE: i64 = 978_307_200; // Mon, 01 Jan 2001 00:00:00 GMT

/// Dates up to this far from the ones a case observed are its own (`${t1-1d}` style offsets);
/// dates further away are fixed values written in the case and stay as they are.
const DATE_WINDOW_SECS: i64 = 3 * 86_400;

/// Replaces the values that change on every run against an unchanged endpoint, so that a
/// regenerated report differs from the committed one only where the endpoint's behaviour did:
///
/// - the start time and every duration become zero, and a loopback endpoint's port goes;
/// - request ids (`x-amz-request-id`, `x-amz-id-2`, `x-amzn-requestid`, ...), the `Date`
///   header (the server's clock, not its behaviour) and the run-id metadata every object carries
///   (`x-amz-meta-s3conform-run`: the run's time and a random id) become [`VOLATILE`];
/// - each case's dates are shifted together so its earliest observed Last-Modified is
///   2001-01-01: the gaps between them (what `If-Modified-Since` cases test) stay;
/// - each case's upload ids become `upload-1`, `upload-2`, ... in order of appearance;
/// - each case's call and return instants become their rank among the case's instants, which
///   keeps which call overlapped which and drops the timing.
///
/// Normalizing twice changes nothing.
pub fn normalize(report: &mut RunReport) {
    report.started_at = "1970-01-01T00:00:00Z".to_owned();
    report.duration_ms = 0;
    report.endpoint.url = normalize_url(&report.endpoint.url);
    if let Some(at) = &mut report.location {
        // The run prefix holds the run's time and a random id.
        at.run_prefix = "(volatile)".to_owned();
    }
    for case in &mut report.cases {
        normalize_case(case);
    }
}

/// `http://127.0.0.1:38211` becomes `http://127.0.0.1 (ephemeral port)`; other URLs stay.
fn normalize_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    let Some((host, port)) = authority.rsplit_once(':') else {
        return url.to_owned();
    };
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
    if loopback && !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) {
        format!("{scheme}://{host} (ephemeral port)")
    } else {
        url.to_owned()
    }
}

fn is_request_id(header: &str) -> bool {
    header.ends_with("request-id") || header.ends_with("requestid") || header == "x-amz-id-2"
}

fn normalize_case(case: &mut CaseReport) {
    case.duration_ms = 0;
    let mut instants: Vec<u64> = Vec::new();
    let mut dates: Vec<i64> = Vec::new();
    let mut uploads: Vec<String> = Vec::new();
    for obs in case.steps.iter().flat_map(|s| &s.observations) {
        instants.extend([obs.call_ns, obs.ret_ns]);
        let observed = [obs.last_modified.as_deref(), obs.header("last-modified")];
        dates.extend(observed.into_iter().flatten().filter_map(exact_date));
        if let Some(id) = &obs.upload_id
            && !uploads.contains(id)
        {
            uploads.push(id.clone());
        }
    }
    instants.sort_unstable();
    instants.dedup();
    let rank = |t: u64| instants.binary_search(&t).map_or(t, |i| i as u64);
    let window = dates.iter().min().zip(dates.iter().max());
    let rewrite = |text: &str| -> Option<String> {
        if let Some(i) = uploads.iter().position(|u| u == text) {
            return Some(format!("upload-{}", i + 1));
        }
        let (lo, hi) = window?;
        let shifted = shift_dates(text, |secs| {
            ((lo - DATE_WINDOW_SECS..=hi + DATE_WINDOW_SECS).contains(&secs))
                .then(|| secs - lo + DATE_BASE)
        });
        (shifted != text).then_some(shifted)
    };
    for step in &mut case.steps {
        for obs in &mut step.observations {
            obs.call_ns = rank(obs.call_ns);
            obs.ret_ns = rank(obs.ret_ns);
            for (name, value) in &mut obs.headers {
                if is_request_id(name)
                    || name == "date"
                    || name.eq_ignore_ascii_case(crate::s3::marker::MARKER_HEADER)
                {
                    *value = VOLATILE.to_owned();
                }
            }
        }
        rewrite_strings(step, &rewrite);
    }
}

/// Unix seconds of `text` when it is exactly an IMF-fixdate as s3conform writes one; a
/// malformed or obsolete-form date a case sends on purpose is left as it is.
fn exact_date(text: &str) -> Option<i64> {
    let date = HttpDate::parse(text)?;
    (date.to_string() == text).then(|| date.unix())
}

/// `text` with every IMF-fixdate in it (a whole value or inside a label such as
/// `copy src -> dst [x-amz-copy-source-if-modified-since: <date>]`) moved to `shift(secs)`,
/// where `shift` gives a new instant.
fn shift_dates(text: &str, shift: impl Fn(i64) -> Option<i64>) -> String {
    // `Sun, 06 Nov 1994 08:49:37 GMT`: always 29 ASCII bytes.
    const LEN: usize = 29;
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, _) in text.match_indices(" GMT") {
        let end = at + 4;
        let Some(start) = end.checked_sub(LEN) else {
            continue;
        };
        if start < copied || !text.is_char_boundary(start) {
            continue;
        }
        let Some(secs) = exact_date(&text[start..end]) else {
            continue;
        };
        if let Some(new) = shift(secs) {
            out.push_str(&text[copied..start]);
            out.push_str(&HttpDate::from_unix(new).to_string());
            copied = end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Applies `rewrite` to every string in the step (label, request, observations), through the
/// step's JSON form so that no field is missed when the request or observation grows one.
fn rewrite_strings(step: &mut StepRecord, rewrite: &dyn Fn(&str) -> Option<String>) {
    fn walk(v: &mut serde_json::Value, rewrite: &dyn Fn(&str) -> Option<String>) {
        match v {
            serde_json::Value::String(s) => {
                if let Some(new) = rewrite(s) {
                    *s = new;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| walk(i, rewrite)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|i| walk(i, rewrite)),
            _ => {}
        }
    }
    let Ok(mut value) = serde_json::to_value(&*step) else {
        return;
    };
    walk(&mut value, rewrite);
    if let Ok(new) = serde_json::from_value(value) {
        *step = new;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report as a third-party run writes it: a port, real dates, request and upload ids.
    fn raw() -> RunReport {
        let obs = |call: u64, ret: u64, extra: serde_json::Value| {
            let mut o = serde_json::json!({
                "outcome": { "kind": "definite" }, "status": 200,
                "headers": { "date": "Sat, 28 Nov 2026 18:09:14 GMT", "x-amz-request-id": "18EC47D9",
                             "x-amzn-requestid": "s5k4aDFS", "etag": "\"e1\"",
                             "x-amz-meta-s3conform-run": "20261205T004155Z-a10457c9" },
                "call_ns": call, "ret_ns": ret
            });
            o.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            o
        };
        let report = serde_json::json!({
            "format": FORMAT, "format_version": FORMAT_VERSION, "tool_version": "0.1.0",
            "started_at": "2026-11-28T18:09:00Z", "duration_ms": 2380,
            "endpoint": { "url": "http://127.0.0.1:38211", "label": "x", "embedded": false },
            "profile": "coreweave",
            "cases": [{
                "name": "mpu::x", "operation": "mpu", "description": "d", "source": "s",
                "verdict": { "kind": "pass" }, "duration_ms": 41,
                "steps": [
                    { "index": 0, "label": "mpu_create k", "request": { "op": "create_multipart_upload", "key": "k" },
                      "observations": [obs(1_000, 5_000, serde_json::json!({ "upload_id": "0gpAB5Unh0OX" }))] },
                    { "index": 1, "label": "get k [If-Modified-Since: Sat, 28 Nov 2026 18:09:15 GMT]",
                      "request": { "op": "get_object", "key": "k", "upload_id": "0gpAB5Unh0OX",
                                   "cond": { "if_modified_since": "Fri, 27 Nov 2026 18:09:15 GMT",
                                             "if_unmodified_since": "Sat, 01 Jan 2000 00:00:00 GMT" },
                                   "raw_headers": [["If-Modified-Since", "not a date GMT"]] },
                      "observations": [obs(3_000, 9_000, serde_json::json!({ "last_modified": "Sat, 28 Nov 2026 18:09:15 GMT" }))] }
                ]
            }]
        });
        serde_json::from_value(report).unwrap()
    }

    #[test]
    fn volatile_values_are_replaced_and_relations_kept() {
        let mut r = raw();
        normalize(&mut r);
        assert_eq!(r.started_at, "1970-01-01T00:00:00Z");
        assert_eq!(r.duration_ms, 0);
        assert_eq!(r.endpoint.url, "http://127.0.0.1 (ephemeral port)");
        let case = &r.cases[0];
        assert_eq!(case.duration_ms, 0);
        let (create, get) = (&case.steps[0], &case.steps[1]);
        let (o1, o2) = (&create.observations[0], &get.observations[0]);
        assert_eq!((o1.call_ns, o1.ret_ns, o2.call_ns, o2.ret_ns), (0, 2, 1, 3));
        assert_eq!(o1.header("x-amz-request-id"), Some(VOLATILE));
        assert_eq!(o1.header("x-amzn-requestid"), Some(VOLATILE));
        assert_eq!(o1.header("x-amz-meta-s3conform-run"), Some(VOLATILE));
        assert_eq!(o1.header("etag"), Some("\"e1\""));
        assert_eq!(o1.upload_id.as_deref(), Some("upload-1"));
        assert_eq!(get.request["upload_id"], "upload-1");
        assert_eq!(o1.header("date"), Some(VOLATILE));
        assert_eq!(
            o2.last_modified.as_deref(),
            Some("Mon, 01 Jan 2001 00:00:00 GMT")
        );
        // One day earlier stays one day earlier: the gaps the case tests survive.
        assert_eq!(
            get.request["cond"]["if_modified_since"],
            "Sun, 31 Dec 2000 00:00:00 GMT"
        );
        assert_eq!(
            get.label,
            "get k [If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT]"
        );
        // A fixed date written in the case, and a malformed one, are the case's own.
        assert_eq!(
            get.request["cond"]["if_unmodified_since"],
            "Sat, 01 Jan 2000 00:00:00 GMT"
        );
        assert_eq!(get.request["raw_headers"][0][1], "not a date GMT");
    }

    #[test]
    fn normalizing_twice_changes_nothing() {
        let mut once = raw();
        normalize(&mut once);
        let mut twice = once.clone();
        normalize(&mut twice);
        assert_eq!(once, twice);
        assert_eq!(to_string(&once), to_string(&twice));
    }

    #[test]
    fn only_loopback_ports_are_dropped() {
        assert_eq!(
            normalize_url("http://localhost:9000/"),
            "http://localhost (ephemeral port)"
        );
        assert_eq!(
            normalize_url("https://s3.example.com:8443"),
            "https://s3.example.com:8443"
        );
        assert_eq!(normalize_url("not a url"), "not a url");
    }
}
