//! Every integration test, in one binary: one link, one shared [`support`] module, and test
//! names that start with the module (`cargo test -- checker_oracle::` runs that group).
//!
//! Tests that need a third-party S3 server are `#[ignore = "needs ..."]`; run them with
//! `cargo test -- --include-ignored` after `.ci/endpoints.sh install` (docs/endpoints.md).
//! Tests in one process share its environment, current directory and signal handlers, so none
//! changes them: the binary's own runs get theirs through `Command`.

mod support;

mod boto3_client;
mod cases_faults;
mod cases_load;
mod cases_malformed;
mod cases_proxy;
mod cases_reference;
mod cases_repeat;
mod cases_runner;
mod certdocs;
mod certify;
mod certify_frozen;
mod checker_corpus;
mod checker_oracle;
mod checker_props;
mod cli;
mod detect;
mod docs_links;
mod endpoints_certify;
mod endpoints_fuzz;
mod endpoints_suite;
mod error_chain;
mod fuzz_live;
mod fuzz_reference;
mod hang;
mod op_layer;
mod outdir;
mod reference_endpoint;
#[cfg(unix)]
mod reference_serve;
mod report_baseline;
mod report_campaigns;
mod report_compare;
mod report_regenerate;
mod report_sinks;
mod requirements;
mod safety;
mod safety_bucket;
mod safety_probes;
mod schedule_digest;
mod shrinking;
mod witnesses;
