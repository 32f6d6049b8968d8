//! Shared by the `cases_*` tests: the embedded reference endpoint, a session on it, and a run
//! of the YAML suite.

use std::path::{Path, PathBuf};

use s3conform::case::Suite;
use s3conform::profile::Profile;
use s3conform::report::{EndpointInfo, RunReport, Verdict};
use s3conform::runner::{RunOptions, run_suite};
use s3conform::s3::{RunPrefix, Session};
use s3conform::server::{self, FaultSet, ServerConfig};

/// The committed cases.
pub fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// Runs every case (or those matching `filter`) against a fresh reference endpoint.
pub fn run_against_reference(
    profile: Profile,
    faults: FaultSet,
    filter: Option<&str>,
) -> RunReport {
    let suite = Suite::load(&cases_dir()).expect("cases dir readable");
    assert!(
        suite.errors.is_empty(),
        "malformed committed cases: {:#?}",
        suite.errors
    );
    run_suite_against_reference(&suite, profile, faults, filter)
}

/// Runs the cases of another directory (malformed files included) against a fresh endpoint.
pub fn run_dir_against_reference(dir: &Path, profile: Profile) -> RunReport {
    let suite = Suite::load(dir).expect("dir readable");
    run_suite_against_reference(&suite, profile, FaultSet::none(), None)
}

fn run_suite_against_reference(
    suite: &Suite,
    profile: Profile,
    faults: FaultSet,
    filter: Option<&str>,
) -> RunReport {
    let mut reports = run_repeatedly_against_reference(suite, profile, faults, filter, 1, None);
    reports.remove(0)
}

/// Runs `suite` `times` times against one fresh endpoint, cleaning up after each run, each under
/// `prefix` (the same for every run) or a fresh run prefix.
pub fn run_repeatedly_against_reference(
    suite: &Suite,
    profile: Profile,
    faults: FaultSet,
    filter: Option<&str>,
    times: usize,
    prefix: Option<&str>,
) -> Vec<RunReport> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let handle = rt.block_on(async {
        server::spawn(ServerConfig {
            profile,
            faults,
            ..ServerConfig::default()
        })
        .await
        .expect("server starts")
    });
    let opts = RunOptions {
        profile,
        filter: filter.map(str::to_owned),
        quiet: true,
        ..RunOptions::default()
    };
    let endpoint = EndpointInfo {
        url: handle.endpoint_url(),
        label: "reference".into(),
        embedded: true,
    };
    let mut reports = Vec::new();
    for _ in 0..times {
        let session = rt.block_on(connect(&handle.endpoint_url(), prefix));
        reports.push(run_suite(
            &session,
            suite,
            &opts,
            endpoint.clone(),
            rt.handle(),
        ));
        rt.block_on(session.cleanup());
    }
    rt.block_on(handle.shutdown());
    reports
}

/// A session on the endpoint at `url`, creating the bucket if needed.
pub async fn connect(url: &str, prefix: Option<&str>) -> Session {
    let target =
        s3conform::embedded::target(url, &ServerConfig::default(), "s3conform-cases").expect("url");
    let prefix = match prefix {
        Some(p) => RunPrefix::parse(p).expect("prefix"),
        None => RunPrefix::fresh(),
    };
    Session::connect(target, prefix).await.expect("session")
}

/// A readable list of every non-passing case and why.
pub fn problems(report: &RunReport) -> String {
    let mut out = String::new();
    for c in &report.cases {
        match &c.verdict {
            Verdict::Pass | Verdict::Observed | Verdict::Skipped { .. } => {}
            Verdict::Fail { mismatches } => {
                out.push_str(&format!("FAIL {}\n", c.name));
                for m in mismatches {
                    out.push_str(&format!(
                        "    step {} {}: expected {} observed {}\n",
                        m.step, m.field, m.expected, m.observed
                    ));
                }
            }
            Verdict::Error { message } => out.push_str(&format!("ERROR {}: {message}\n", c.name)),
        }
    }
    out
}
