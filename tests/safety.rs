//! Safety on a bucket full of someone else's data, proved through the binary: raw headers that
//! name keys are refused at load time, load errors are never hidden, flags are bounded.

use std::path::{Path, PathBuf};

use crate::support::binary::{run as s3conform, text};

/// A fresh cases directory holding one file, `<op>/<name>.yaml`.
fn cases_dir(tag: &str, op: &str, name: &str, yaml: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("s3conform-safety-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(op)).unwrap();
    std::fs::write(dir.join(op).join(format!("{name}.yaml")), yaml).unwrap();
    dir
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

const RENAME_FOREIGN: &str = "\
description: moves a foreign object into the run prefix through a raw header
source: test
steps:
  - op: put
    key: k
    body: v1
  - op: put
    key: k
    body: v2
    raw_headers:
      x-amz-rename-source: bucket/payroll.csv
";

#[test]
fn a_raw_header_naming_a_key_is_a_load_error_with_its_line() {
    let dir = cases_dir("rename", "rename", "steal", RENAME_FOREIGN);
    for cmd in ["list", "run"] {
        let out = s3conform(&[cmd, "--cases", path_str(&dir)]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {t}");
        assert!(t.contains("steal.yaml:11:"), "{cmd}: names file:line: {t}");
        assert!(t.contains("x-amz-rename-source"), "{cmd}: {t}");
        assert!(!t.contains("no case matches"), "{cmd}: {t}");
        assert!(!t.contains("panicked"), "{cmd}: {t}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn copy_source_in_raw_headers_is_refused_by_the_loader() {
    let yaml = RENAME_FOREIGN.replace("x-amz-rename-source", "X-Amz-Copy-Source");
    let e = s3conform::case::parse_str("copy", "read-foreign", &yaml).unwrap_err();
    assert_eq!(e.line, 11, "{e}");
    assert_eq!(
        e.field.as_deref(),
        Some("steps[1].raw_headers.X-Amz-Copy-Source"),
        "{e}"
    );
    let fine = RENAME_FOREIGN.replace("x-amz-rename-source", "x-amz-copy-source-if-match");
    assert!(s3conform::case::parse_str("copy", "fine", &fine).is_ok());
}

#[test]
fn a_malformed_case_alone_in_its_folder_shows_its_error_and_exits_2() {
    let dir = cases_dir(
        "alone",
        "put",
        "broken",
        "description: x\nsource: y\nsteps:\n  - op: put\n    key: k\n    if_mach: x\n",
    );
    for cmd in ["list", "run"] {
        let out = s3conform(&[cmd, "--cases", path_str(&dir)]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {t}");
        assert!(t.contains("broken.yaml:6:"), "{cmd}: {t}");
        assert!(t.contains("if_mach"), "{cmd}: {t}");
        assert!(!t.contains("no case matches"), "{cmd}: {t}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fake endpoint on loopback: `answer` turns each request line (`PUT /b/k?x HTTP/1.1`) into
/// a whole HTTP response.
fn fake_endpoint(answer: fn(&str) -> String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                use std::io::{BufRead, BufReader, Read, Write};
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut len = 0usize;
                    let mut request_line = String::new();
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if request_line.is_empty() {
                            request_line = line.trim().to_owned();
                            continue;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0u8; len];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    if stream.write_all(answer(&request_line).as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn response(status: &str, ctype: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
}

/// `200 text/html` to everything, like a web server at the wrong port.
fn html_everywhere(_: &str) -> String {
    response(
        "200 OK",
        "text/html",
        "",
        "<html><body>Welcome to nginx!</body></html>",
    )
}

/// Answers the bucket probes like S3, but lists garbage.
fn garbage_listing(request: &str) -> String {
    if request.contains("versioning") {
        response(
            "200 OK",
            "application/xml",
            "",
            "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>",
        )
    } else if request.contains("list-type=2") {
        response("200 OK", "text/plain", "", "here are your files: none")
    } else {
        response("200 OK", "application/xml", "", "")
    }
}

/// Lists like S3, but its errors are web pages.
fn html_errors(request: &str) -> String {
    if request.starts_with("GET") && request.contains("s3conform-absent") {
        response(
            "404 Not Found",
            "text/html",
            "",
            "<html><h1>Not Found</h1></html>",
        )
    } else {
        no_etag(request)
    }
}

/// Lists like S3 and answers a missing key with an S3 error, but a PUT answers 200 without
/// an ETag.
fn no_etag(request: &str) -> String {
    if request.starts_with("GET") && request.contains("s3conform-absent") {
        response(
            "404 Not Found",
            "application/xml",
            "",
            "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>",
        )
    } else if request.contains("list-type=2") {
        response(
            "200 OK",
            "application/xml",
            "",
            "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>s3conform\
             </Name><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>\
             </ListBucketResult>",
        )
    } else {
        garbage_listing(request)
    }
}

#[test]
fn an_endpoint_that_does_not_speak_s3_is_refused_before_judging() {
    for (fake, sign) in [
        (html_everywhere as fn(&str) -> String, "GetBucketVersioning"),
        (garbage_listing, "ListObjectsV2"),
        (html_errors, "did not answer an S3 error"),
        (no_etag, "PutObject answered no ETag"),
    ] {
        refused_as_not_s3(&fake_endpoint(fake), sign);
    }
}

fn refused_as_not_s3(url: &str, sign: &str) {
    for cmd in [
        &["fuzz", "--endpoint", url, "--ops", "50", "--no-progress"][..],
        &["run", "--endpoint", url, "-q", "put"][..],
    ] {
        let out = s3conform(cmd);
        let t = text(&out);
        eprintln!("{cmd:?}: {t}");
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {t}");
        assert!(t.contains("does not speak S3"), "{cmd:?}: {t}");
        assert!(t.contains(sign), "{cmd:?}: expected `{sign}` in {t}");
        assert!(!t.contains("verdict"), "{cmd:?} judged: {t}");
        assert!(!t.contains("test result"), "{cmd:?} judged: {t}");
    }
}

/// Every report names the bucket and the run prefix, the same one printed at the start, so a
/// killed run's leftovers can be found from its report alone.
#[test]
fn every_report_carries_the_run_prefix_printed_at_start() {
    let dir = std::env::temp_dir().join(format!("s3conform-safety-prefix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (json, junit, md) = (dir.join("r.json"), dir.join("r.xml"), dir.join("r.md"));
    let out = s3conform(&[
        "run",
        "-q",
        "--exact",
        "get::if-match-hit",
        "--json",
        path_str(&json),
        "--junit",
        path_str(&junit),
        "--markdown",
        path_str(&md),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let prefix = report["location"]["run_prefix"]
        .as_str()
        .expect("the JSON report names the run prefix");
    assert!(prefix.starts_with("s3conform/"), "{prefix}");
    assert!(
        stderr.contains(&format!("run prefix {prefix}")),
        "the prefix in the report is not the one printed at start:\n{stderr}"
    );
    assert!(report["location"]["bucket"].as_str().is_some());
    for file in [&junit, &md] {
        let body = std::fs::read_to_string(file).unwrap();
        assert!(
            body.contains(prefix),
            "{} lacks the run prefix",
            file.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
