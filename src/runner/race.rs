//! Judging a race by what holds for every interleaving.
//!
//! Whether two racers overlapped at the server is not observable from the client (a proxy or a
//! load balancer may serialize them), so a race never asserts which status a loser got beyond
//! its set: exactly the expected number of winners; every loser one of the allowed statuses
//! with that status's error code; and, with `final_is_winner`, the state afterwards is the
//! winner's and the losers changed nothing. Whether a 409 was due is for the checker to prove
//! from recorded timing.

use std::collections::BTreeMap;

use crate::case::schema::{RaceExpect, Step};
use crate::report::{Mismatch, ObservedValue};
use crate::s3::{Key, Observation, Operation, Preconditions, Request, Session, normalize_etag};

use super::exec::RunSink;
use super::judge;

/// One racer: its step, its request as built, and a label.
pub struct Racer<'a> {
    /// The step it came from.
    pub step: &'a Step,
    /// The request it sends.
    pub request: Request,
    /// One line for reports.
    pub label: String,
}

/// The error code that goes with a loser's status: a 409 is ConditionalRequestConflict, a 412
/// PreconditionFailed, a 404 NoSuchKey (a delete racer finding the key already gone).
pub fn loser_code(status: u16) -> Option<&'static str> {
    match status {
        409 => Some("ConditionalRequestConflict"),
        412 => Some("PreconditionFailed"),
        404 => Some("NoSuchKey"),
        _ => None,
    }
}

/// The source key a copy or rename racer reads, if it is one.
fn source_of(request: &Request) -> Option<&Key> {
    match &request.op {
        Operation::CopyObject { source, .. } | Operation::RenameObject { source, .. } => {
            Some(source)
        }
        _ => None,
    }
}

/// GETs every copy or rename racer's source before the race, by full key.
pub async fn snapshot_sources(
    session: &Session,
    racers: &[Racer<'_>],
) -> Result<BTreeMap<String, Observation>, String> {
    let mut out = BTreeMap::new();
    for r in racers {
        let Some(source) = source_of(&r.request) else {
            continue;
        };
        if out.contains_key(source.as_str()) {
            continue;
        }
        let obs = get(session, source).await?;
        if !obs.succeeded() {
            return Err(format!(
                "the source `{}` could not be read before the race: {}",
                source.relative(),
                obs.summary()
            ));
        }
        out.insert(source.as_str().to_owned(), obs);
    }
    Ok(out)
}

async fn get(session: &Session, key: &Key) -> Result<Observation, String> {
    session
        .call(&Request::new(Operation::GetObject {
            key: key.clone(),
            cond: Preconditions::default(),
        }))
        .await
        .map_err(|e| e.to_string())
}

/// Checks a race's invariants; appends the reads of the final state to `observations`.
pub async fn judge_race(
    session: &Session,
    index: usize,
    e: &RaceExpect,
    racers: &[Racer<'_>],
    before: &BTreeMap<String, Observation>,
    observations: &mut Vec<Observation>,
    run: &mut dyn RunSink,
) -> Result<(), String> {
    if let Some(amb) = observations.iter().find(|o| o.is_ambiguous()) {
        return Err(format!(
            "step {index}: a racer's answer was {}; the race cannot be judged",
            amb.summary()
        ));
    }
    let (mismatches, observed) = judge_answers(index, e, observations);
    for m in mismatches {
        run.mismatch(m);
    }
    if let Some(o) = observed {
        run.observe(o);
    }
    let winners = winners(observations);
    if e.final_is_winner == Some(true) {
        // With no single winner the winners check has already failed.
        if let [winner] = winners.as_slice() {
            final_state(session, index, *winner, racers, before, observations, run).await?;
        }
    }
    Ok(())
}

/// The indexes of the racers that succeeded.
fn winners(observations: &[Observation]) -> Vec<usize> {
    observations
        .iter()
        .enumerate()
        .filter(|(_, o)| o.succeeded())
        .map(|(i, _)| i)
        .collect()
}

/// The invariants on the racers' answers alone: the number of winners, every loser's status
/// in the allowed set and its error code matching its status. Returns the mismatches and, with
/// `observe_losers`, the losers' statuses as an observed value.
pub fn judge_answers(
    index: usize,
    e: &RaceExpect,
    observations: &[Observation],
) -> (Vec<Mismatch>, Option<ObservedValue>) {
    let mut out = Vec::new();
    let winners = winners(observations);
    let loser_summary = summarize_losers(observations);
    let mut miss = |field: &str, expected: String, observed: String| {
        out.push(Mismatch {
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
        let losers = observations.iter().filter(|o| !o.succeeded());
        let bad_status = losers
            .clone()
            .any(|o| !o.status.is_some_and(|s| set.contains(s)));
        if bad_status {
            miss(
                "losers",
                format!("every loser {set}"),
                format!("losers: {loser_summary}"),
            );
        }
        let bad_code = losers.clone().any(|o| {
            let want = o.status.and_then(loser_code);
            want.is_some_and(|w| o.error_code.as_deref() != Some(w))
        });
        if bad_code {
            let wanted: Vec<String> = set
                .0
                .iter()
                .filter_map(|s| loser_code(*s).map(|c| format!("{s} {c}")))
                .collect();
            miss(
                "loser_code",
                format!(
                    "every loser's code to match its status ({})",
                    wanted.join(", ")
                ),
                format!("losers: {loser_summary}"),
            );
        }
    }
    let observed = e.observe_losers.then(|| ObservedValue {
        step: index,
        field: "losers".into(),
        value: loser_summary,
    });
    (out, observed)
}

/// `412 PreconditionFailed x15, 409 ConditionalRequestConflict x1`.
fn summarize_losers(observations: &[Observation]) -> String {
    let mut losers: BTreeMap<String, usize> = BTreeMap::new();
    for o in observations.iter().filter(|o| !o.succeeded()) {
        *losers.entry(o.summary()).or_default() += 1;
    }
    if losers.is_empty() {
        return "(none)".to_owned();
    }
    losers
        .iter()
        .map(|(s, n)| format!("{s} x{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The state after a race with one winner: the winner's, and untouched by the losers.
async fn final_state(
    session: &Session,
    index: usize,
    winner: usize,
    racers: &[Racer<'_>],
    before: &BTreeMap<String, Observation>,
    observations: &mut Vec<Observation>,
    run: &mut dyn RunSink,
) -> Result<(), String> {
    let won = &racers[winner];
    let answer = observations[winner].clone();
    let mut reads = Vec::new();
    let mut checks: Vec<(String, String, String)> = Vec::new();
    let read = |obs: Observation, reads: &mut Vec<Observation>| -> Result<Observation, String> {
        if obs.is_ambiguous() {
            let s = obs.summary();
            reads.push(obs);
            return Err(format!("step {index}: a read after the race was {s}"));
        }
        reads.push(obs.clone());
        Ok(obs)
    };
    let outcome: Result<(), String> = async {
        match &won.request.op {
            Operation::PutObject { key, body, .. } => {
                let got = read(get(session, key).await?, &mut reads)?;
                if got.body_bytes.as_deref() != Some(body.as_ref()) {
                    checks.push((
                        "final_body".into(),
                        format!(
                            "the winner's bytes (racer {winner}: {})",
                            preview(body.as_ref())
                        ),
                        judge::body_text(&got),
                    ));
                }
            }
            Operation::CompleteMultipartUpload { key, .. } | Operation::CopyObject { key, .. } => {
                let got = read(get(session, key).await?, &mut reads)?;
                let want = answer.etag.as_deref().map(normalize_etag);
                if want.is_none() || got.etag.as_deref().map(normalize_etag) != want {
                    checks.push((
                        "final_etag".into(),
                        format!(
                            "the winner's ETag (racer {winner}: {})",
                            answer.etag.as_deref().unwrap_or("(none)")
                        ),
                        format!("{} {}", got.summary(), got.etag.as_deref().unwrap_or("")),
                    ));
                }
                if let Operation::CopyObject { source, .. } = &won.request.op
                    && let Some(src) = before.get(source.as_str())
                    && got.body_bytes != src.body_bytes
                {
                    checks.push((
                        "final_body".into(),
                        format!("the copied source's bytes ({})", judge::body_text(src)),
                        judge::body_text(&got),
                    ));
                }
            }
            Operation::RenameObject { source, key, .. } => {
                let got = read(get(session, key).await?, &mut reads)?;
                let src = before.get(source.as_str());
                let want = src.and_then(|s| s.etag.as_deref()).map(normalize_etag);
                if got.etag.as_deref().map(normalize_etag) != want {
                    checks.push((
                        "final_etag".into(),
                        format!(
                            "the winning source's ETag (racer {winner}, `{}`: {})",
                            source.relative(),
                            want.unwrap_or("(none)")
                        ),
                        format!("{} {}", got.summary(), got.etag.as_deref().unwrap_or("")),
                    ));
                }
                let gone = read(get(session, source).await?, &mut reads)?;
                if gone.status != Some(404) {
                    checks.push((
                        "winner_source".into(),
                        format!("`{}` gone (404)", source.relative()),
                        gone.summary(),
                    ));
                }
            }
            Operation::DeleteObject { key, .. } => {
                let got = read(get(session, key).await?, &mut reads)?;
                if got.status != Some(404) {
                    checks.push((
                        "final_state".into(),
                        format!("`{}` deleted (404)", key.relative()),
                        got.summary(),
                    ));
                }
            }
            _ => {}
        }
        // Losers changed nothing: every losing rename's source still holds what it held.
        for (i, loser) in racers.iter().enumerate() {
            if i == winner {
                continue;
            }
            let Operation::RenameObject { source, .. } = &loser.request.op else {
                continue;
            };
            if source_of(&won.request).is_some_and(|s| s == source) {
                continue;
            }
            let Some(was) = before.get(source.as_str()) else {
                continue;
            };
            let now = read(get(session, source).await?, &mut reads)?;
            let same = now.succeeded()
                && now.etag.as_deref().map(normalize_etag)
                    == was.etag.as_deref().map(normalize_etag)
                && now.body_bytes == was.body_bytes;
            if !same {
                checks.push((
                    "loser_source".into(),
                    format!(
                        "racer {i}'s source `{}` unchanged ({})",
                        source.relative(),
                        was.etag.as_deref().unwrap_or("")
                    ),
                    format!("{} {}", now.summary(), now.etag.as_deref().unwrap_or("")),
                ));
            }
        }
        Ok(())
    }
    .await;
    observations.extend(reads);
    outcome?;
    for (field, expected, observed) in checks {
        run.mismatch(Mismatch {
            step: index,
            field,
            expected,
            observed,
        });
    }
    Ok(())
}

fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]);
    if bytes.len() > 40 {
        format!("{text:?}... ({} bytes)", bytes.len())
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, code: Option<&str>) -> Observation {
        Observation::answered(status, code, None)
    }

    fn expect() -> RaceExpect {
        RaceExpect {
            winners: Some(1),
            losers: Some(crate::case::schema::StatusSet(vec![409, 412])),
            final_is_winner: None,
            observe_losers: true,
        }
    }

    #[test]
    fn any_mix_of_409_and_412_losers_passes_and_none_is_required() {
        for losers in [
            vec![answer(412, Some("PreconditionFailed")); 3],
            vec![answer(409, Some("ConditionalRequestConflict")); 3],
            vec![
                answer(409, Some("ConditionalRequestConflict")),
                answer(412, Some("PreconditionFailed")),
            ],
        ] {
            let mut all = vec![answer(200, None)];
            all.extend(losers);
            let (m, o) = judge_answers(1, &expect(), &all);
            assert!(m.is_empty(), "{m:?}");
            assert!(o.is_some());
        }
    }

    #[test]
    fn a_loser_with_the_wrong_code_or_status_or_two_winners_fail() {
        let wrong_code = [
            answer(200, None),
            answer(409, Some("OperationAborted")),
            answer(412, Some("PreconditionFailed")),
        ];
        let (m, _) = judge_answers(1, &expect(), &wrong_code);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].field, "loser_code");
        let swapped = [
            answer(200, None),
            answer(412, Some("ConditionalRequestConflict")),
        ];
        assert_eq!(
            judge_answers(1, &expect(), &swapped).0[0].field,
            "loser_code"
        );
        let two = [answer(200, None), answer(200, None), answer(500, None)];
        let fields: Vec<String> = judge_answers(1, &expect(), &two)
            .0
            .into_iter()
            .map(|m| m.field)
            .collect();
        assert_eq!(fields, ["winners", "losers"]);
    }

    #[test]
    fn each_loser_status_has_its_code() {
        assert_eq!(loser_code(409), Some("ConditionalRequestConflict"));
        assert_eq!(loser_code(412), Some("PreconditionFailed"));
        assert_eq!(loser_code(404), Some("NoSuchKey"));
        assert_eq!(loser_code(400), None);
    }
}
