//! The one error type that reaches `main`, and its exit code.

use crate::exit_code;

/// Everything that can stop a subcommand before it has a verdict.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The async runtime could not start.
    #[error("failed to start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// `serve` failed.
    #[error(transparent)]
    Serve(#[from] crate::commands::serve::ServeError),
    /// A report could not be read or written (`compare`, `run --json`, ...).
    #[error(transparent)]
    Report(#[from] crate::report::errors::ReportError),
    /// `run` or `list` could not load or select cases.
    #[error(transparent)]
    Run(#[from] crate::commands::run::RunError),
    /// The target could not be reached or set up.
    #[error(transparent)]
    Target(#[from] crate::commands::target::TargetError),
    /// `fuzz` failed.
    #[error(transparent)]
    Fuzz(#[from] crate::commands::fuzz::FuzzError),
    /// `check` failed.
    #[error(transparent)]
    Check(#[from] crate::commands::check::CheckCommandError),
    /// `clean` failed.
    #[error(transparent)]
    Clean(#[from] crate::commands::clean::CleanError),
    /// `certify` failed before a certificate.
    #[error(transparent)]
    Certify(#[from] crate::commands::certify::CertifyError),
    /// `bench` failed.
    #[error(transparent)]
    Bench(#[from] crate::commands::bench::BenchError),
}

impl Error {
    /// The documented exit code (see [`crate::exit_code`]).
    pub fn exit_code(&self) -> u8 {
        exit_code::of_error(self)
    }
}

/// An error and its causes as the user reads them, on the model of cargo-nextest's
/// `display_to_stderr`: the top message, then one `caused by:` line per source.
///
/// Variants never interpolate their `#[source]` into their own message, so each cause appears
/// once. A foreign error (the SDK's, hyper's) may still repeat its source's text in its own
/// message; such a cause is skipped rather than printed a second time.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut said = self.0.to_string();
        f.write_str(&said)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !said.contains(&text) {
                write!(f, "\n  caused by: {text}")?;
                said = text;
            }
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_printed_once() {
        let err = Error::Check(crate::commands::check::CheckCommandError::Write {
            path: "/ro/out.html".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        });
        assert_eq!(
            Chain(&err).to_string(),
            "failed to write /ro/out.html\n  caused by: permission denied"
        );
    }

    #[test]
    fn a_cause_already_in_the_message_above_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("foreign failure: {0}")]
        struct Foreign(#[source] std::io::Error);
        let err = Foreign(std::io::Error::other("disk on fire"));
        assert_eq!(Chain(&err).to_string(), "foreign failure: disk on fire");
    }
}
