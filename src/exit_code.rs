//! The process exit codes of every subcommand and the policy that picks one, in one place so
//! scripts can rely on them.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | everything passed; the history is linearizable |
//! | 1 | a case failed, or an anomaly was found; a certificate is not conformant, or `certify --verify` found it tampered or not current |
//! | 2 | a usage, configuration or setup error (bad flags, bad YAML, endpoint down) |
//! | 3 | the checker ran out of budget (Unknown) and found no anomaly; a certificate is partial or inconclusive (also when the endpoint stopped answering mid-certify) |
//! | 4 | nothing was selected (a filter matched no case) |
//! | 130 | interrupted (SIGINT or SIGTERM); cleanup ran unless abandoned |
//!
//! The constants say what each code means; the functions below are the only places that decide
//! which code an outcome gets, so every command (and the report's closing line, which names the
//! code it predicts) answers the same outcome with the same code.

/// Everything passed.
pub const SUCCESS: u8 = 0;
/// A conformance case failed, or the checker found an anomaly.
pub const FAILURE: u8 = 1;
/// Usage, configuration or setup error; also "not built yet" subcommands.
pub const SETUP_ERROR: u8 = 2;
/// The checker's budget ran out before a verdict, and no anomaly was found.
pub const UNKNOWN: u8 = 3;
/// A filter matched no case.
pub const NOTHING_SELECTED: u8 = 4;
/// Stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

use crate::check::Verdict;
use crate::commands::run::RunError;
use crate::error::Error;
use crate::report::model::{BaselineMark, RunReport};
use crate::s3::HaltReason;

/// A checker verdict (`fuzz`, `check`): linearizable 0, anomalous 1, out of budget 3.
pub fn of_verdict(verdict: &Verdict) -> u8 {
    match verdict {
        Verdict::Linearizable => SUCCESS,
        Verdict::Anomalous(_) => FAILURE,
        Verdict::Unknown { .. } => UNKNOWN,
    }
}

/// A finished run report (`run`, and the report's closing line).
///
/// In order: a regression (a failure or error the baseline does not excuse) is [`FAILURE`];
/// with `strict`, so is a fixed baseline entry; a fuzz campaign that found an anomaly is
/// [`FAILURE`]; one that ran out of budget is [`UNKNOWN`]; a report with no case and no campaign
/// is [`NOTHING_SELECTED`]; otherwise [`SUCCESS`].
pub fn of_run(report: &RunReport, strict: bool) -> u8 {
    let fixed = report
        .cases
        .iter()
        .any(|c| matches!(c.baseline, Some(BaselineMark::Fixed)));
    if report.has_regressions() || (strict && fixed) {
        return FAILURE;
    }
    if report
        .fuzz
        .iter()
        .any(|f| f.verdict == "anomalous" || !f.anomalies.is_empty())
    {
        return FAILURE;
    }
    // A campaign that ran out of budget, or did not run to a verdict at all, proves nothing.
    if report
        .fuzz
        .iter()
        .any(|f| f.verdict == "unknown" || f.is_failed())
    {
        return UNKNOWN;
    }
    if report.cases.is_empty() && report.fuzz.is_empty() {
        return NOTHING_SELECTED;
    }
    SUCCESS
}

/// A certificate's overall verdict (`certify`): conformant 0, not conformant 1, partial or
/// inconclusive 3 (like an Unknown: nothing is proven wrong, but the pass is not earned).
pub fn of_certificate(verdict: crate::certify::model::Overall) -> u8 {
    use crate::certify::model::Overall;
    match verdict {
        Overall::Conformant => SUCCESS,
        Overall::NotConformant => FAILURE,
        Overall::Partial | Overall::Inconclusive => UNKNOWN,
    }
}

/// A run's code once malformed case files are counted: a case file that could not be loaded is a
/// configuration error whatever the cases that did load found.
pub fn with_malformed(code: u8, malformed_files: usize) -> u8 {
    if malformed_files > 0 {
        SETUP_ERROR
    } else {
        code
    }
}

/// A run the session stopped: by the user ([`INTERRUPTED`]) or because the endpoint stopped
/// answering ([`SETUP_ERROR`]: the endpoint, not the verdicts, is at fault). `certify` answers
/// a stopped endpoint with a certificate instead, inconclusive unless a violation stands, and
/// takes its code from [`of_certificate`].
pub fn of_halt(reason: HaltReason) -> u8 {
    match reason {
        HaltReason::Interrupted => INTERRUPTED,
        HaltReason::Stuck => SETUP_ERROR,
    }
}

/// An error that stopped a command before a verdict (the top [`Error`] or the command's own
/// error type): a filter that matched no case is [`NOTHING_SELECTED`]; everything else (bad
/// flags, bad files, an endpoint that cannot be reached or started) is [`SETUP_ERROR`].
pub fn of_error(err: &(dyn std::error::Error + 'static)) -> u8 {
    let run = match err.downcast_ref::<Error>() {
        Some(Error::Run(run)) => Some(run),
        Some(_) => None,
        None => err.downcast_ref::<RunError>(),
    };
    match run {
        Some(RunError::NothingSelected { .. }) => NOTHING_SELECTED,
        _ => SETUP_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_halts_and_malformed_files_map_to_the_documented_codes() {
        assert_eq!(of_verdict(&Verdict::Linearizable), SUCCESS);
        assert_eq!(of_verdict(&Verdict::Anomalous(Vec::new())), FAILURE);
        let unknown = Verdict::Unknown {
            reason: "budget".into(),
        };
        assert_eq!(of_verdict(&unknown), UNKNOWN);
        assert_eq!(of_halt(HaltReason::Interrupted), INTERRUPTED);
        assert_eq!(of_halt(HaltReason::Stuck), SETUP_ERROR);
        assert_eq!(with_malformed(SUCCESS, 0), SUCCESS);
        assert_eq!(with_malformed(FAILURE, 0), FAILURE);
        assert_eq!(with_malformed(SUCCESS, 1), SETUP_ERROR);
    }

    #[test]
    fn only_an_empty_selection_is_not_a_setup_error() {
        let nothing = RunError::NothingSelected {
            filter: Some("x".into()),
            exact: false,
        };
        assert_eq!(of_error(&nothing), NOTHING_SELECTED);
        assert_eq!(of_error(&Error::Run(nothing)), NOTHING_SELECTED);
        let malformed = RunError::Malformed(Vec::new());
        assert_eq!(of_error(&malformed), SETUP_ERROR);
        assert_eq!(of_error(&Error::Run(malformed)), SETUP_ERROR);
        let io = Error::Runtime(std::io::Error::other("no threads"));
        assert_eq!(of_error(&io), SETUP_ERROR);
    }
}
