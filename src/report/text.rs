//! Wording shared by every sink, so the terminal, Markdown, JUnit and HTML say the same thing.

use std::collections::BTreeMap;

use super::model::{BaselineMark, CaseReport, Counts, Mismatch, RunReport, StepRecord, Verdict};

/// Cases grouped by operation, operations in name order, cases in report order.
pub fn by_operation(report: &RunReport) -> Vec<(&str, Vec<&CaseReport>)> {
    let mut groups: BTreeMap<&str, Vec<&CaseReport>> = BTreeMap::new();
    for case in &report.cases {
        groups
            .entry(case.operation.as_str())
            .or_default()
            .push(case);
    }
    groups.into_iter().collect()
}

/// [`RunReport::counts`] over any subset of cases (one operation's, for the tables).
pub fn tally<'a>(cases: impl IntoIterator<Item = &'a CaseReport>) -> Counts {
    let mut c = Counts::default();
    for case in cases {
        match case.verdict {
            Verdict::Pass => c.passed += 1,
            Verdict::Observed => c.observed += 1,
            Verdict::Fail { .. } => c.failed += 1,
            Verdict::Error { .. } => c.errored += 1,
            Verdict::Skipped { .. } => c.skipped += 1,
        }
        match case.baseline {
            Some(BaselineMark::Known { .. }) => c.known += 1,
            Some(BaselineMark::Fixed) => c.fixed += 1,
            None => {}
        }
    }
    c
}

/// The column headers of every per-operation count table, in [`count_cells`] order.
pub const COUNT_HEADERS: [&str; 7] = [
    "passed", "failed", "errored", "skipped", "known", "fixed", "observed",
];

/// The numbers of a count table row, in [`COUNT_HEADERS`] order.
pub fn count_cells(c: &Counts) -> [usize; 7] {
    [
        c.passed, c.failed, c.errored, c.skipped, c.known, c.fixed, c.observed,
    ]
}

/// `step 2 status: expected 412, observed 200`.
pub fn mismatch_line(m: &Mismatch) -> String {
    format!(
        "step {} {}: expected {}, observed {}",
        m.step, m.field, m.expected, m.observed
    )
}

/// What a case's result is called in lists: `pass`, `fail`, `known failure`, `fixed`, ...
pub fn outcome_word(case: &CaseReport) -> &'static str {
    match (&case.verdict, &case.baseline) {
        (Verdict::Fail { .. }, Some(BaselineMark::Known { .. })) => "known failure",
        (Verdict::Error { .. }, Some(BaselineMark::Known { .. })) => "known error",
        (Verdict::Pass | Verdict::Observed, Some(BaselineMark::Fixed)) => "fixed",
        (v, _) => v.name(),
    }
}

/// `1 anomaly`, `2 anomalies`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1.25s` for a second or more, `12ms` below.
pub fn duration(ms: u64) -> String {
    if ms >= 1000 {
        format!("{}.{:02}s", ms / 1000, (ms % 1000) / 10)
    } else {
        format!("{ms}ms")
    }
}

/// The libtest-style closing line: `test result: FAILED. 5 passed; 2 failed (1 known); ...`.
pub fn summary_line(report: &RunReport) -> String {
    let c = report.counts();
    let word = match crate::exit_code::of_run(report, false) {
        crate::exit_code::SUCCESS => "ok",
        crate::exit_code::UNKNOWN => "UNKNOWN",
        crate::exit_code::NOTHING_SELECTED => "NOTHING RUN",
        _ => "FAILED",
    };
    let mut parts = vec![format!("{} passed", c.passed)];
    let known_failed = report
        .cases
        .iter()
        .filter(|k| matches!(k.verdict, Verdict::Fail { .. }))
        .filter(|k| matches!(k.baseline, Some(BaselineMark::Known { .. })))
        .count();
    parts.push(if known_failed > 0 {
        format!("{} failed ({known_failed} known)", c.failed)
    } else {
        format!("{} failed", c.failed)
    });
    let known_errored = c.known - known_failed;
    parts.push(if known_errored > 0 {
        format!("{} errored ({known_errored} known)", c.errored)
    } else {
        format!("{} errored", c.errored)
    });
    parts.push(format!("{} skipped", c.skipped));
    if c.fixed > 0 {
        parts.push(format!("{} fixed", c.fixed));
    }
    parts.push(format!("{} observed", c.observed));
    let anomalies: usize = report.fuzz.iter().map(|f| f.anomalies.len()).sum();
    if !report.fuzz.is_empty() {
        parts.push(plural(anomalies, "fuzz anomaly", "fuzz anomalies"));
    }
    let failed = report.fuzz.iter().filter(|f| f.is_failed()).count();
    if failed > 0 {
        parts.push(plural(
            failed,
            "fuzz campaign failed to run",
            "fuzz campaigns failed to run",
        ));
    }
    format!(
        "test result: {word}. {}; finished in {}",
        parts.join("; "),
        duration(report.duration_ms)
    )
}

/// One line per observation of a step: `put k If-None-Match: * -> 412 PreconditionFailed`.
pub fn step_line(step: &StepRecord) -> String {
    let answers: Vec<String> = step.observations.iter().map(|o| o.summary()).collect();
    let answer = match answers.len() {
        0 => "(no request)".to_owned(),
        1 => answers[0].clone(),
        n => format!("{n} answers: {}", collapse(&answers)),
    };
    format!("{}. {} -> {answer}", step.index, step.label)
}

/// `412 x15, 200 x1` for the many answers of a `parallel:` block, in first-seen order.
fn collapse(answers: &[String]) -> String {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for a in answers {
        match seen.iter_mut().find(|(s, _)| *s == a) {
            Some((_, n)) => *n += 1,
            None => seen.push((a, 1)),
        }
    }
    seen.iter()
        .map(|(a, n)| {
            if *n == 1 {
                (*a).to_owned()
            } else {
                format!("{a} x{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Greedy word wrap: the first line starts with `first`, later ones with `indent`.
///
/// A word longer than a whole line (a long path or URL) is cut into line-sized pieces, so the
/// output never exceeds `width`.
pub fn wrap(first: &str, indent: &str, text: &str, width: usize) -> String {
    let room = width.saturating_sub(indent.chars().count()).max(8);
    let mut out = String::new();
    for (i, paragraph) in text.lines().enumerate() {
        let mut line = String::from(if i == 0 { first } else { indent });
        let mut empty = true;
        for word in paragraph.split_whitespace().flat_map(|w| pieces(w, room)) {
            let would = line.chars().count() + usize::from(!empty) + word.chars().count();
            if !empty && would > width {
                out.push_str(line.trim_end());
                out.push('\n');
                line = String::from(indent);
                empty = true;
            } else if empty && would > width {
                // A prefix wider than `indent` leaves less room: start the word on its own line.
                out.push_str(line.trim_end());
                out.push('\n');
                line = String::from(indent);
            }
            if !empty {
                line.push(' ');
            }
            line.push_str(&word);
            empty = false;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if text.is_empty() {
        out.push_str(first.trim_end());
        out.push('\n');
    }
    out
}

/// A word cut into pieces of at most `room` characters.
fn pieces(word: &str, room: usize) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    chars.chunks(room).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(12), "12ms");
        assert_eq!(duration(2380), "2.38s");
        assert_eq!(duration(61_005), "61.00s");
    }

    #[test]
    fn wraps_words() {
        assert_eq!(
            wrap("- ", "  ", "aaa bbb ccc ddd", 9),
            "- aaa bbb\n  ccc ddd\n"
        );
        assert_eq!(wrap("- ", "  ", "", 9), "-\n");
        assert_eq!(
            wrap("", "  ", "averyveryverylongword x", 10),
            "averyver\n  yverylon\n  gword x\n"
        );
    }

    #[test]
    fn collapses_parallel_answers() {
        let a = ["412", "200", "412"].map(str::to_owned);
        assert_eq!(collapse(&a), "412 x2, 200");
    }
}
