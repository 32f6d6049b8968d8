//! Running one case against one session: resolve each step's references, send it through the
//! operation layer, judge the answer under the profile, and record everything in a
//! [`CaseReport`].
//!
//! The endpoint's own Last-Modified is the only clock a case can read (`save: {last_modified}`),
//! so time-based cases do not depend on the local clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Barrier;

use crate::case::expectation::expectation_for;
use crate::case::policy;
use crate::case::schema::{Accepted, Expect, ParallelStep, Save, Step};
use crate::case::{Case, Value};

use super::judge::{self, Judgement};
use super::race;
use super::step::{self, Vars, build};
use crate::profile::Profile;
use crate::report::{CaseReport, Mismatch, ObservedValue, StepRecord, Verdict};
use crate::s3::{Observation, Request, Session};

/// What an earlier write's answer says about its effect, for `accepted:` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteOutcome {
    /// 2xx: it took effect.
    Accepted,
    /// 4xx or 501: it was refused and must have changed nothing.
    Refused,
    /// A timeout, a dropped connection, another 5xx: it may or may not have taken effect.
    Unknown,
}

impl WriteOutcome {
    fn of(obs: &Observation) -> WriteOutcome {
        if obs.succeeded() {
            return WriteOutcome::Accepted;
        }
        match obs.status {
            Some(s) if (400..500).contains(&s) && !obs.is_ambiguous() => WriteOutcome::Refused,
            Some(501) => WriteOutcome::Refused,
            _ => WriteOutcome::Unknown,
        }
    }
}

/// Where a race's judgement goes: the case's mismatches and observed values.
pub trait RunSink {
    /// Records an expectation that did not hold.
    fn mismatch(&mut self, m: Mismatch);
    /// Records a value that is shown, not judged.
    fn observe(&mut self, o: ObservedValue);
}

impl RunSink for Run {
    fn mismatch(&mut self, m: Mismatch) {
        self.mismatches.push(m);
    }

    fn observe(&mut self, o: ObservedValue) {
        self.observed.push(o);
    }
}

/// What running the steps accumulated.
#[derive(Default)]
struct Run {
    steps: Vec<StepRecord>,
    mismatches: Vec<Mismatch>,
    observed: Vec<ObservedValue>,
    error: Option<String>,
    /// The outcome of every request step so far, by step index.
    outcomes: BTreeMap<usize, WriteOutcome>,
}

/// The value of `${unique}` for one run of one case: 32 hex digits from the session's prefix
/// (the run id and the case's name) and a random number, so that it differs between cases and
/// between runs, even two runs with the same `--prefix` (a RenameObject client token must), and
/// fits a 64-character token.
pub fn unique_value(session: &Session) -> String {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    h.update(session.prefix().as_str().as_bytes());
    h.update(rand::random::<u64>().to_le_bytes());
    hex::encode(h.finalize())
}

/// Runs `case` in `session` (already scoped to the case's own prefix) and judges it under
/// `profile`. Never panics on an endpoint's answer; every problem becomes the verdict.
pub async fn run_case(session: &Session, case: &Case, profile: Profile) -> CaseReport {
    let started = Instant::now();
    let mut run = Run::default();
    let mut vars = Vars::new();
    vars.insert(
        crate::case::load::UNIQUE.to_owned(),
        Value::Text(unique_value(session)),
    );
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
    } else if !policy::asserts_under(&case.file.steps, profile) {
        // Nothing was judged beyond the set-up: what was recorded is evidence, not a pass.
        Verdict::Observed
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

/// The `accepted:` of a read step, if it has one.
fn accepted_of(step: &Step) -> Option<&Accepted> {
    match step {
        Step::Get(s) | Step::Head(s) => s.accepted.as_ref(),
        Step::List(s) => s.accepted.as_ref(),
        _ => None,
    }
}

/// Judges `obs` against the expectation that applies: the step's own under `profile`, or, for
/// a read with `accepted:`, the one matching the earlier write's outcome. When that outcome is
/// unknown, either expectation may hold.
fn judge_step(
    index: usize,
    step: &Step,
    default: Option<&Expect>,
    obs: &Observation,
    run: &Run,
    lookup: &dyn Fn(&str) -> Option<Value>,
) -> Option<Judgement> {
    let Some(accepted) = accepted_of(step) else {
        return default.map(|e| judge::judge(index, e, obs, lookup));
    };
    let refused_expect = default.cloned().unwrap_or_default();
    let when_refused = judge::judge(index, &refused_expect, obs, lookup);
    let when_accepted = judge::judge(index, &accepted.expect, obs, lookup);
    let label = |mut j: Judgement, case: &str| {
        for m in &mut j.mismatches {
            m.field = format!("{} (step {} {case})", m.field, accepted.step);
        }
        j
    };
    let outcomes: Vec<WriteOutcome> = accepted
        .step
        .0
        .iter()
        .map(|n| {
            run.outcomes
                .get(n)
                .copied()
                .unwrap_or(WriteOutcome::Unknown)
        })
        .collect();
    let outcome = if outcomes.contains(&WriteOutcome::Accepted) {
        WriteOutcome::Accepted
    } else if outcomes.iter().all(|o| *o == WriteOutcome::Refused) {
        WriteOutcome::Refused
    } else {
        WriteOutcome::Unknown
    };
    Some(match outcome {
        WriteOutcome::Accepted => label(when_accepted, "accepted"),
        WriteOutcome::Refused => label(when_refused, "refused"),
        _ if when_refused.mismatches.is_empty() => when_refused,
        _ if when_accepted.mismatches.is_empty() => when_accepted,
        _ => {
            let mut j = label(when_refused, "refused, if it was");
            j.mismatches
                .extend(label(when_accepted, "accepted, if it was").mismatches);
            j
        }
    })
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
    run.outcomes.insert(index, WriteOutcome::of(&obs));
    let common = step.common().cloned().unwrap_or_default();
    let expect = expectation_for(common.expect.as_ref(), common.profiles.as_ref(), profile);
    let lookup = |n: &str| vars.get(n).cloned();
    let outcome = match judge_step(index, step, expect, &obs, run, &lookup) {
        Some(Judgement {
            mismatches,
            observed,
            ambiguous,
        }) => {
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

/// A race: the racers' requests, released together by a barrier.
async fn run_race(
    session: &Session,
    index: usize,
    p: &ParallelStep,
    vars: &Vars,
    profile: Profile,
    run: &mut Run,
) -> Result<(), String> {
    let (racers, label) = step::race::racers(session, index, p, vars)?;
    let request_json = serde_json::to_value(&racers[0].request).unwrap_or(serde_json::Value::Null);
    let expect = expectation_for(p.expect.as_ref(), p.profiles.as_ref(), profile);
    // The sources' state before the race, so that afterwards a winner's move or copy and the
    // losers' untouched sources can be told apart.
    let before = if expect.is_some_and(|e| e.final_is_winner == Some(true)) {
        race::snapshot_sources(session, &racers)
            .await
            .map_err(|e| format!("step {index} ({label}): {e}"))?
    } else {
        BTreeMap::new()
    };
    let barrier = Arc::new(Barrier::new(racers.len()));
    let mut tasks = Vec::new();
    for racer in &racers {
        let session = session.clone();
        let request = racer.request.clone();
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
    let outcome = match expect {
        Some(e) => {
            race::judge_race(session, index, e, &racers, &before, &mut observations, run).await
        }
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
