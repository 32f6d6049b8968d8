//! `op: parallel`: a race's racers, each step built with its own `${i}`, and the race's label.

use crate::case::schema::ParallelStep;
use crate::runner::race::Racer;
use crate::s3::Session;

use super::{Vars, build};

/// The racers of `p` and one label for the whole race. `index` is the race's step index, for
/// error messages.
pub fn racers<'a>(
    session: &Session,
    index: usize,
    p: &'a ParallelStep,
    vars: &Vars,
) -> Result<(Vec<Racer<'a>>, String), String> {
    let mut racers = Vec::new();
    for (i, step) in p.racers() {
        let (request, label) = build(session, step, vars, Some(i))
            .map_err(|e| format!("step {index} (racer {i}): {e}"))?;
        racers.push(Racer {
            step,
            request,
            label,
        });
    }
    let label = match &p.steps {
        Some(_) => format!(
            "parallel: {}",
            racers
                .iter()
                .map(|r| r.label.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        ),
        None => format!("parallel x{}: {}", racers.len(), racers[0].label),
    };
    Ok((racers, label))
}
