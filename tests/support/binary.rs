//! The built `s3conform` binary as the end-to-end tests run it: an environment with test
//! credentials and none of the variables that would point it elsewhere (a developer's
//! `AWS_ENDPOINT_URL`, profile or cases directory), so it always tests the embedded endpoint.

use std::process::{Command, Output};

/// The binary with the tests' environment; add arguments and a working directory.
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_s3conform"));
    cmd.env_remove("AWS_ENDPOINT_URL")
        .env_remove("S3CONFORM_PROFILE")
        .env_remove("S3CONFORM_CASES")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1");
    cmd
}

/// Runs the binary with `args` and waits for it.
pub fn run(args: &[&str]) -> Output {
    command().args(args).output().expect("the binary runs")
}

/// Everything it printed, stdout then stderr.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
