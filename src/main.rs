//! The `s3conform` binary: parse, run, report the error chain, exit with the documented code.

use std::process::ExitCode;

use clap::Parser;

/// Large blocks on huge pages: see the module for why.
#[global_allocator]
static ALLOC: s3conform::alloc::HugePages = s3conform::alloc::HugePages;

fn main() -> ExitCode {
    // Output piped into `head` closes early; like other Unix tools, end quietly instead of
    // panicking inside `println!`.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
    let cli = s3conform::cli::Cli::parse();
    match s3conform::cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) if closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("s3conform: error: {}", s3conform::error::Chain(&err));
            ExitCode::from(err.exit_code())
        }
    }
}

/// Whether the error comes from a reader that closed our stdout (`| head`): not a failure.
fn closed_pipe(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        cur = e.source();
    }
    false
}
