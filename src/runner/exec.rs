//! Running one case against one session: resolve each step's references, send it through the
//! operation layer, judge the answer under the profile, and record everything in a
//! [`CaseReport`].
//!
//! The endpoint's own Last-Modified is the only clock a case can read (`save: {last_modified}`),
//! so time-based cases do not depend on the local clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::Barrier;

use crate::case::judge::{self, Judgement};
use crate::case::schema::{
    Common, CopyStep, DeleteStep, ParallelStep, PutStep, RaceExpect, ReadStep, RenameStep, Save,
    Step,
};
use crate::case::{Case, Template, Value};
use crate::profile::Profile;
use crate::report::{CaseReport, Mismatch, ObservedValue, StepRecord, Verdict};
use crate::s3::{
    CompletedPart, HttpDate, Observation, Operation, Preconditions, RawHeader, Request, Session,
    WriteConditions,
};

/// Captures made so far, by name.
type Vars = BTreeMap<String, Value>;

/// What running the steps accumulated.
#[derive(Default)]
struct Run {
    steps: Vec<StepRecord>,
    mismatches: Vec<Mismatch>,
    observed: Vec<ObservedValue>,
    error: Option<String>,
}

/// Runs `case` in `session` (already scoped to the case's own prefix) and judges it under
/// `profile`. Never panics on an endpoint's answer; every problem becomes the verdict.
pub async fn run_case(session: &Session, case: &Case, profile: Profile) -> CaseReport {
    let started = Instant::now();
    let mut run = Run::default();
    let mut vars = Vars::new();
    for (index, step) in case.file.steps.iter().enumerate() {
        let result = match step {
            Step::Sleep(s) => {
                let secs = s.seconds.clamp(0.0, crate::case::load::MAX_SLEEP_SECS);
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                run.steps.push(StepRecord {
                    index,
                    label: format!("sleep {secs}s"),
                    request: serde_json::Value::Null,
                    observations: Vec::new(),
                });
                Ok(())
            }
            Step::Parallel(p) => run_race(session, index, p, &vars, profile, &mut run).await,
            _ => run_single(session, index, step, &mut vars, profile, &mut run).await,
        };
        if let Err(message) = result {
            run.error = Some(message);
            break;
        }
    }
    let verdict = if !run.mismatches.is_empty() {
        Verdict::Fail {
            mismatches: run.mismatches,
        }
    } else if let Some(message) = run.error {
        Verdict::Error { message }
    } else {
        Verdict::Pass
    };
    CaseReport {
        name: case.id.clone(),
        operation: case.operation.clone(),
        description: case.file.description.clone(),
        source: case.file.source.clone(),
        tags: case.file.tags.clone(),
        verdict,
        baseline: None,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        steps: run.steps,
        observed: run.observed,
    }
}

/// One request step: build, send, record, judge, save.
async fn run_single(
    session: &Session,
    index: usize,
    step: &Step,
    vars: &mut Vars,
    profile: Profile,
    run: &mut Run,
) -> Result<(), String> {
    let (request, label) = build(session, step, vars, None)
        .map_err(|e| format!("step {index} ({}): {e}", step.op_name()))?;
    let obs = session
        .call(&request)
        .await
        .map_err(|e| format!("step {index} ({label}): {e}"))?;
    let common = step.common().cloned().unwrap_or_default();
    let expect = judge::expectation_for(common.expect.as_ref(), common.profiles.as_ref(), profile);
    let lookup = |n: &str| vars.get(n).cloned();
    let outcome = match expect {
        Some(e) => {
            let Judgement {
                mismatches,
                observed,
                ambiguous,
            } = judge::judge(index, e, &obs, &lookup);
            run.mismatches.extend(mismatches);
            run.observed.extend(observed);
            ambiguous.map_or(Ok(()), Err)
        }
        // A step without an expectation is set-up: it must succeed for the case to mean
        // anything, and if it does not, the case cannot be judged (an error, not a failure).
        None if obs.succeeded() => Ok(()),
        None => Err(format!(
            "step {index} ({label}) is set-up and must succeed, but the endpoint answered {}",
            describe(&obs)
        )),
    };
    if obs.succeeded()
        && let Some(save) = &common.save
        && let Err(e) = capture(save, &obs, vars)
    {
        run.steps
            .push(record(index, label.clone(), &request, vec![obs]));
        return Err(format!("step {index} ({label}): {e}"));
    }
    run.steps.push(record(index, label, &request, vec![obs]));
    outcome
}

fn describe(obs: &Observation) -> String {
    match &obs.error_message {
        Some(m) => format!("{} ({m})", obs.summary()),
        None => obs.summary(),
    }
}

fn record(
    index: usize,
    label: String,
    request: &Request,
    observations: Vec<Observation>,
) -> StepRecord {
    StepRecord {
        index,
        label,
        request: serde_json::to_value(request).unwrap_or(serde_json::Value::Null),
        observations,
    }
}

/// Stores the captures of a successful answer.
fn capture(save: &Save, obs: &Observation, vars: &mut Vars) -> Result<(), String> {
    for name in [&save.etag, &save.part_etag].into_iter().flatten() {
        let etag = obs
            .etag
            .clone()
            .ok_or_else(|| format!("cannot save `{name}`: the answer has no ETag"))?;
        vars.insert(name.clone(), Value::Etag(etag));
    }
    if let Some(name) = &save.last_modified {
        let date = obs.last_modified_date().ok_or_else(|| {
            format!(
                "cannot save `{name}`: the answer has no valid Last-Modified (save it from a head or get)"
            )
        })?;
        vars.insert(name.clone(), Value::Date(date));
    }
    if let Some(name) = &save.upload_id {
        let id = obs
            .upload_id
            .clone()
            .ok_or_else(|| format!("cannot save `{name}`: the answer has no UploadId"))?;
        vars.insert(name.clone(), Value::Text(id));
    }
    Ok(())
}

/// A race: `count` copies of one request, released together by a barrier.
async fn run_race(
    session: &Session,
    index: usize,
    p: &ParallelStep,
    vars: &Vars,
    profile: Profile,
    run: &mut Run,
) -> Result<(), String> {
    let mut racers = Vec::new();
    for i in 0..p.count {
        let (request, label) = build(session, &p.step, vars, Some(i))
            .map_err(|e| format!("step {index} (racer {i}): {e}"))?;
        racers.push((request, label));
    }
    let label = format!("parallel x{}: {}", p.count, racers[0].1);
    let request_json = serde_json::to_value(&racers[0].0).unwrap_or(serde_json::Value::Null);
    let barrier = Arc::new(Barrier::new(racers.len()));
    let mut tasks = Vec::new();
    for (request, _) in &racers {
        let session = session.clone();
        let request = request.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            session.call(&request).await
        }));
    }
    let mut observations = Vec::new();
    for t in tasks {
        match t.await {
            Ok(Ok(obs)) => observations.push(obs),
            Ok(Err(e)) => return Err(format!("step {index} ({label}): {e}")),
            Err(e) => return Err(format!("step {index} ({label}): racer task failed: {e}")),
        }
    }
    let expect = judge::race_expectation_for(p.expect.as_ref(), p.profiles.as_ref(), profile);
    let outcome = match expect {
        Some(e) => judge_race(session, index, e, &p.step, &racers, &mut observations, run).await,
        None => Ok(()),
    };
    run.steps.push(StepRecord {
        index,
        label,
        request: request_json,
        observations,
    });
    outcome
}

/// Checks a race's invariants; appends the final read (if any) to `observations`.
async fn judge_race(
    session: &Session,
    index: usize,
    e: &RaceExpect,
    step: &Step,
    racers: &[(Request, String)],
    observations: &mut Vec<Observation>,
    run: &mut Run,
) -> Result<(), String> {
    if let Some(amb) = observations.iter().find(|o| o.is_ambiguous()) {
        return Err(format!(
            "step {index}: a racer's answer was {}; the race cannot be judged",
            amb.summary()
        ));
    }
    let winners: Vec<usize> = observations
        .iter()
        .enumerate()
        .filter(|(_, o)| o.succeeded())
        .map(|(i, _)| i)
        .collect();
    let mut losers: BTreeMap<String, usize> = BTreeMap::new();
    for o in observations.iter().filter(|o| !o.succeeded()) {
        *losers.entry(o.summary()).or_default() += 1;
    }
    let loser_summary = if losers.is_empty() {
        "(none)".to_owned()
    } else {
        losers
            .iter()
            .map(|(s, n)| format!("{s} x{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut miss = |field: &str, expected: String, observed: String| {
        run.mismatches.push(Mismatch {
            step: index,
            field: field.to_owned(),
            expected,
            observed,
        });
    };
    if let Some(w) = e.winners
        && winners.len() != w as usize
    {
        miss(
            "winners",
            format!("exactly {w}"),
            format!("{} (losers: {loser_summary})", winners.len()),
        );
    }
    if let Some(set) = &e.losers {
        let bad: Vec<String> = observations
            .iter()
            .filter(|o| !o.succeeded())
            .filter(|o| !o.status.is_some_and(|s| set.contains(s)))
            .map(Observation::summary)
            .collect();
        if !bad.is_empty() {
            miss(
                "losers",
                format!("every loser {set}"),
                format!("losers: {loser_summary}"),
            );
        }
    }
    if let Some(want) = e.some_loser
        && !observations
            .iter()
            .any(|o| !o.succeeded() && o.status == Some(want))
    {
        miss(
            "losers",
            format!("at least one loser {want}"),
            format!("losers: {loser_summary}"),
        );
    }
    if e.observe_losers {
        run.observed.push(ObservedValue {
            step: index,
            field: "losers".into(),
            value: loser_summary,
        });
    }
    if e.final_is_winner == Some(true) {
        let (Step::Put(put), [winner]) = (step, winners.as_slice()) else {
            // With no single winner the winners check has already failed.
            return Ok(());
        };
        let Operation::PutObject { body: want, .. } = &racers[*winner].0.op else {
            return Ok(());
        };
        let key = session.key(&put.key).map_err(|e| e.to_string())?;
        let read = session
            .call(&Request::new(Operation::GetObject {
                key,
                cond: Preconditions::default(),
            }))
            .await
            .map_err(|e| format!("step {index}: final read: {e}"))?;
        if read.is_ambiguous() {
            let s = read.summary();
            observations.push(read);
            return Err(format!("step {index}: the final read was {s}"));
        }
        if read.body_bytes.as_deref() != Some(want.as_ref()) {
            let mut miss = |field: &str, expected: String, observed: String| {
                run.mismatches.push(Mismatch {
                    step: index,
                    field: field.to_owned(),
                    expected,
                    observed,
                });
            };
            miss(
                "final_body",
                format!(
                    "the winner's bytes (racer {winner}: {:?})",
                    String::from_utf8_lossy(want)
                ),
                judge::body_text(&read),
            );
        }
        observations.push(read);
    }
    Ok(())
}

/// Builds the request of a step, resolving references. `racer` is `${i}` inside a race.
fn build(
    session: &Session,
    step: &Step,
    vars: &Vars,
    racer: Option<u32>,
) -> Result<(Request, String), String> {
    let lookup = |n: &str| -> Option<Value> {
        match (n, racer) {
            ("i", Some(i)) => Some(Value::Text(i.to_string())),
            _ => vars.get(n).cloned(),
        }
    };
    let text = |t: &Template| t.render(&lookup).map_err(|e| e.to_string());
    let opt = |t: &Option<Template>| t.as_ref().map(text).transpose();
    let date = |t: &Option<Template>| -> Result<Option<HttpDate>, String> {
        t.as_ref().map(|t| t.render_date(&lookup)).transpose()
    };
    // Inside a race, `${i}` in a key gives each racer its own key (e.g. one source per racer).
    let key = |k: &str| {
        let k = match racer {
            Some(i) => k.replace("${i}", &i.to_string()),
            None => k.to_owned(),
        };
        session.key(&k).map_err(|e| e.to_string())
    };
    let mut label_parts: Vec<String> = Vec::new();
    let mut note = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            label_parts.push(format!("{name}: {v}"));
        }
    };
    let (op, head) = match step {
        Step::Put(PutStep {
            key: k,
            body,
            size,
            metadata,
            if_match,
            if_none_match,
            ..
        }) => {
            let cond = WriteConditions {
                if_match: opt(if_match)?,
                if_none_match: opt(if_none_match)?,
            };
            note("If-Match", &cond.if_match);
            note("If-None-Match", &cond.if_none_match);
            let body = body_of(body.as_ref().map(text).transpose()?, *size);
            (
                Operation::PutObject {
                    key: key(k)?,
                    body,
                    metadata: metadata.clone().into_iter().collect(),
                    cond,
                },
                format!("put {k}"),
            )
        }
        Step::Get(r) | Step::Head(r) => {
            let ReadStep {
                key: k,
                if_match,
                if_none_match,
                if_modified_since,
                if_unmodified_since,
                ..
            } = r;
            let cond = Preconditions {
                if_match: opt(if_match)?,
                if_none_match: opt(if_none_match)?,
                if_modified_since: date(if_modified_since)?,
                if_unmodified_since: date(if_unmodified_since)?,
            };
            note("If-Match", &cond.if_match);
            note("If-None-Match", &cond.if_none_match);
            note(
                "If-Modified-Since",
                &cond.if_modified_since.map(|d| d.to_string()),
            );
            note(
                "If-Unmodified-Since",
                &cond.if_unmodified_since.map(|d| d.to_string()),
            );
            let key = key(k)?;
            if matches!(step, Step::Get(_)) {
                (Operation::GetObject { key, cond }, format!("get {k}"))
            } else {
                (Operation::HeadObject { key, cond }, format!("head {k}"))
            }
        }
        Step::Copy(CopyStep {
            source,
            key: k,
            if_match,
            if_none_match,
            source_if_match,
            source_if_none_match,
            source_if_modified_since,
            source_if_unmodified_since,
            ..
        }) => {
            let cond = WriteConditions {
                if_match: opt(if_match)?,
                if_none_match: opt(if_none_match)?,
            };
            let source_cond = Preconditions {
                if_match: opt(source_if_match)?,
                if_none_match: opt(source_if_none_match)?,
                if_modified_since: date(source_if_modified_since)?,
                if_unmodified_since: date(source_if_unmodified_since)?,
            };
            note("If-Match", &cond.if_match);
            note("If-None-Match", &cond.if_none_match);
            note("x-amz-copy-source-if-match", &source_cond.if_match);
            note(
                "x-amz-copy-source-if-none-match",
                &source_cond.if_none_match,
            );
            note(
                "x-amz-copy-source-if-modified-since",
                &source_cond.if_modified_since.map(|d| d.to_string()),
            );
            note(
                "x-amz-copy-source-if-unmodified-since",
                &source_cond.if_unmodified_since.map(|d| d.to_string()),
            );
            (
                Operation::CopyObject {
                    source: key(source)?,
                    key: key(k)?,
                    cond,
                    source_cond,
                },
                format!("copy {source} -> {k}"),
            )
        }
        Step::Delete(DeleteStep {
            key: k, if_match, ..
        }) => {
            let if_match = opt(if_match)?;
            note("If-Match", &if_match);
            (
                Operation::DeleteObject {
                    key: key(k)?,
                    if_match,
                },
                format!("delete {k}"),
            )
        }
        Step::Rename(RenameStep {
            source,
            key: k,
            if_match,
            if_none_match,
            if_modified_since,
            if_unmodified_since,
            source_if_match,
            source_if_none_match,
            source_if_modified_since,
            source_if_unmodified_since,
            client_token,
            ..
        }) => {
            let cond = Preconditions {
                if_match: opt(if_match)?,
                if_none_match: opt(if_none_match)?,
                if_modified_since: date(if_modified_since)?,
                if_unmodified_since: date(if_unmodified_since)?,
            };
            let source_cond = Preconditions {
                if_match: opt(source_if_match)?,
                if_none_match: opt(source_if_none_match)?,
                if_modified_since: date(source_if_modified_since)?,
                if_unmodified_since: date(source_if_unmodified_since)?,
            };
            let client_token = opt(client_token)?;
            note("If-Match", &cond.if_match);
            note("If-None-Match", &cond.if_none_match);
            note(
                "If-Modified-Since",
                &cond.if_modified_since.map(|d| d.to_string()),
            );
            note(
                "If-Unmodified-Since",
                &cond.if_unmodified_since.map(|d| d.to_string()),
            );
            note("x-amz-rename-source-if-match", &source_cond.if_match);
            note(
                "x-amz-rename-source-if-none-match",
                &source_cond.if_none_match,
            );
            note(
                "x-amz-rename-source-if-modified-since",
                &source_cond.if_modified_since.map(|d| d.to_string()),
            );
            note(
                "x-amz-rename-source-if-unmodified-since",
                &source_cond.if_unmodified_since.map(|d| d.to_string()),
            );
            note("x-amz-client-token", &client_token);
            (
                Operation::RenameObject {
                    source: key(source)?,
                    key: key(k)?,
                    cond,
                    source_cond,
                    client_token,
                },
                format!("rename {source} -> {k}"),
            )
        }
        Step::MpuCreate(s) => (
            Operation::CreateMultipartUpload {
                key: key(&s.key)?,
                metadata: s.metadata.clone().into_iter().collect(),
            },
            format!("mpu_create {}", s.key),
        ),
        Step::UploadPart(s) => {
            let body = body_of(s.body.as_ref().map(text).transpose()?, s.size);
            (
                Operation::UploadPart {
                    key: key(&s.key)?,
                    upload_id: text(&s.upload)?,
                    part_number: s.part,
                    body,
                },
                format!("upload_part {} #{}", s.key, s.part),
            )
        }
        Step::MpuComplete(s) => {
            let mut parts = Vec::new();
            for (n, p) in s.parts.iter().enumerate() {
                parts.push(CompletedPart {
                    part_number: i32::try_from(n + 1).unwrap_or(i32::MAX),
                    etag: text(p)?,
                });
            }
            let cond = WriteConditions {
                if_match: opt(&s.if_match)?,
                if_none_match: opt(&s.if_none_match)?,
            };
            note("If-Match", &cond.if_match);
            note("If-None-Match", &cond.if_none_match);
            (
                Operation::CompleteMultipartUpload {
                    key: key(&s.key)?,
                    upload_id: text(&s.upload)?,
                    parts,
                    cond,
                },
                format!("mpu_complete {}", s.key),
            )
        }
        Step::MpuAbort(s) => (
            Operation::AbortMultipartUpload {
                key: key(&s.key)?,
                upload_id: text(&s.upload)?,
            },
            format!("mpu_abort {}", s.key),
        ),
        Step::List(s) => (
            Operation::ListObjectsV2 {
                prefix: s.prefix.clone(),
            },
            "list".to_owned(),
        ),
        Step::Sleep(_) | Step::Parallel(_) => {
            return Err("not a request step".into());
        }
    };
    let mut request = Request::new(op);
    if let Some(Common { raw_headers, .. }) = step.common() {
        for (name, value) in raw_headers {
            let value = text(value)?;
            label_parts.push(format!("{name}: {value}"));
            request = request.with_header(RawHeader::new(name, &value).map_err(|e| e.to_string())?);
        }
    }
    let label = if label_parts.is_empty() {
        head
    } else {
        format!("{head} [{}]", label_parts.join("; "))
    };
    Ok((request, label))
}

/// A step's body: the text, or `size` bytes made by repeating the text (or the alphabet when
/// there is no text), so that big parts and big racer bodies need no big YAML and racers'
/// bodies still differ.
fn body_of(text: Option<String>, size: Option<u64>) -> Bytes {
    let Some(n) = size else {
        return Bytes::from(text.unwrap_or_default());
    };
    let n = usize::try_from(n.min(crate::case::load::MAX_BODY)).unwrap_or(0);
    let pattern = match text {
        Some(t) if !t.is_empty() => t.into_bytes(),
        _ => b"abcdefghijklmnopqrstuvwxyz".to_vec(),
    };
    Bytes::from(pattern.iter().copied().cycle().take(n).collect::<Vec<u8>>())
}
