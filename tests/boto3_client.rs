//! A stock boto3 client (tests/py/boto3_smoke.py) talks to the reference endpoint: put, get and
//! a conditional put. This proves the endpoint is a real S3 endpoint, not only one our own SDK
//! layer understands.
//!
//! Without `python3` + boto3 the test prints a loud SKIP and passes, except under CI (env `CI`
//! set), where a missing boto3 is a failure: `.ci/run` installs it.

use std::path::Path;
use std::process::Command;

use clap::Parser;
use s3conform::commands::serve::ServeArgs;
use s3conform::server;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

fn boto3_available() -> Result<(), String> {
    match Command::new("python3")
        .args(["-c", "import boto3"])
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).trim().to_owned()),
        Err(e) => Err(format!("cannot run python3: {e}")),
    }
}

#[ignore = "needs a third-party server: .ci/endpoints.sh install, then cargo test -- --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_put_get_and_conditional_put() {
    if let Err(why) = boto3_available() {
        if std::env::var_os("CI").is_some() {
            panic!("boto3 is required under CI ({why}); `.ci/run` must `pip install boto3`");
        }
        eprintln!(
            "\n{bar}\nSKIP boto3_client: python3 with boto3 is not available ({why}).\n     Install it with `pip install boto3` to run this test.\n{bar}\n",
            bar = "!".repeat(78)
        );
        return;
    }
    // The same configuration path as `s3conform serve`, on an ephemeral port.
    let cli = Cli::parse_from(["serve", "--addr", "127.0.0.1:0"]);
    let config = cli.serve.config();
    let handle = server::spawn(config.clone()).await.expect("server starts");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/boto3_smoke.py");
    let url = handle.endpoint_url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .env("S3CONFORM_ENDPOINT", url)
            .env("S3CONFORM_ACCESS_KEY", &config.access_key)
            .env("S3CONFORM_SECRET_KEY", &config.secret_key)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "boto3 smoke failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("BOTO3 SMOKE PASSED"), "{stdout}");
    handle.shutdown().await;
}
