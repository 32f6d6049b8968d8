//! `s3conform certify`: the suite and a level's campaigns against one endpoint, judged against a
//! profile's requirements, written as a certificate; and `certify --verify`, which checks a
//! certificate against its evidence.

use std::path::PathBuf;
use std::time::Duration;

use super::interrupt::{Cleanup, Interrupts, left_behind, report_stop};
use super::run::{RunError, SelectArgs};
use super::target::{TargetArgs, TargetError};
use crate::certify::engine::{self, Inputs, Progress};
use crate::certify::evidence::{self, Basis, Evidence, RequirementsRef, Stop, sha256_hex};
use crate::certify::levels::Level;
use crate::certify::model::{Certificate, State};
use crate::certify::requirements::{self, RequirementsError};
use crate::certify::verify::{self, VerifyError};
use crate::certify::{badge, render_html, render_markdown, summary, verdict};
use crate::exit_code;
use crate::report::outdir::{self, OutDir, OutDirError};
use crate::s3::{Halt, HaltReason};

/// Certify an endpoint against a profile's documented conditional-request promises.
#[derive(Debug, Clone, clap::Args)]
pub struct CertifyArgs {
    /// Which endpoint, and which profile's documents to judge it by.
    #[command(flatten)]
    pub target: TargetArgs,

    /// How hard to test: the suite, then the level's campaigns (each level's writers, keys, ops
    /// and time cap are listed below and in the certificate).
    #[arg(long, value_enum, default_value_t = Level::Quick)]
    pub level: Level,

    /// The certify seed every campaign's seed derives from; printed at start, and replays the
    /// same campaigns.
    #[arg(long)]
    pub seed: Option<u64>,

    /// The results root: the certificate goes in a new folder `DIR/<UTC time>-<label>-certify-<profile>/`
    /// [default: s3conform-out].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Judge against this requirements file instead of the one built in for the profile.
    #[arg(long, value_name = "FILE")]
    pub requirements: Option<PathBuf>,

    /// The cases directory (default: ./cases if it exists, else the one the binary was built
    /// with).
    #[arg(long = "cases", value_name = "DIR", env = "S3CONFORM_CASES")]
    pub cases: Option<PathBuf>,

    /// Verify CERT.json against its evidence instead of certifying: recompute the evidence digest
    /// and every verdict, and say what differs (exit 0 verified, 1 tampered).
    #[arg(long, value_name = "CERT.json")]
    pub verify: Option<PathBuf>,

    /// Print one Markdown table of these certificates instead of certifying: per certificate its
    /// endpoint, badge, counts, violated promises (linked to the page), campaigns over the
    /// ambiguity threshold and links, linked as the paths are given.
    #[arg(long, value_name = "CERT.json", num_args = 1.., conflicts_with = "verify")]
    pub summary: Vec<PathBuf>,

    /// With --verify: the evidence file (default: the one the certificate names, beside it).
    #[arg(long, value_name = "PATH", requires = "verify")]
    pub evidence: Option<PathBuf>,

    /// No progress: only the verdict and where the certificate is.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Why `certify` could not produce a certificate.
#[derive(Debug, thiserror::Error)]
pub enum CertifyError {
    /// The requirements could not be read or matched to the suite.
    #[error(transparent)]
    Requirements(#[from] RequirementsError),
    /// The cases could not be loaded.
    #[error(transparent)]
    Cases(#[from] RunError),
    /// Case files are malformed: a certificate needs the whole suite.
    #[error("{} malformed case file(s); a certificate needs the whole suite:\n  {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Malformed(Vec<crate::case::CaseError>),
    /// The target could not be reached or set up.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The results folder could not be made.
    #[error(transparent)]
    OutDir(#[from] OutDirError),
    /// Verification could not be carried out.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Runs `certify` (or `certify --verify`) and returns the exit code.
pub fn run(args: &CertifyArgs, rt: &tokio::runtime::Runtime) -> Result<u8, CertifyError> {
    if let Some(cert) = &args.verify {
        return verify_command(args, cert);
    }
    if !args.summary.is_empty() {
        let entries = args
            .summary
            .iter()
            .map(|p| summary::entry(p, std::path::Path::new("")))
            .collect::<Result<Vec<_>, _>>()?;
        print!("{}", summary::markdown(&entries));
        return Ok(exit_code::SUCCESS);
    }
    let profile = args.target.profile;
    let requirements = match &args.requirements {
        Some(path) => requirements::load(path, profile)?,
        None => requirements::embedded(profile)?,
    };
    let suite = SelectArgs {
        cases: args.cases.clone(),
        ..SelectArgs::default()
    }
    .load()?;
    if !suite.errors.is_empty() {
        return Err(CertifyError::Malformed(suite.errors));
    }
    let ids: Vec<String> = suite.cases.iter().map(|c| c.id.clone()).collect();
    let resolved = requirements.resolve(&ids)?;
    let seed = args.seed.unwrap_or_else(rand::random);
    let plan = args.level.campaigns();
    let progress = Progress::detect(args.quiet);
    println!(
        "s3conform certify: profile {profile}, level {}, seed {seed} (replay the campaigns with --seed {seed})",
        args.level.name()
    );
    if progress.lines {
        eprintln!(
            "  requirements: {} ({}, {} promises, SHA-256 {})",
            requirements.title,
            requirements.origin,
            requirements.requirements.len(),
            requirements.digest
        );
    }
    let started_at = now_rfc3339();
    let connected = rt.block_on(args.target.connect())?;
    let halt = connected.session.halt().clone();
    let root = connected.session.root_prefix().to_string();
    let interrupts = Interrupts::watch(
        rt.handle(),
        halt.clone(),
        root.clone(),
        connected.session.cleanup_bound(),
    );
    eprintln!(
        "  endpoint {} ({}), bucket {}, run prefix {} (after a kill: s3conform clean --prefix {})",
        connected.info.url,
        connected.info.label,
        connected.session.bucket(),
        root,
        root
    );
    let endpoint = connected.info.clone();
    let bucket = connected.session.bucket().to_owned();
    let dir = match OutDir::create(
        args.out.as_deref(),
        &endpoint.label,
        &format!("certify-{profile}"),
    ) {
        Ok(d) => d,
        Err(e) => {
            rt.block_on(interrupts.finish(connected, args.target.keep));
            return Err(e.into());
        }
    };
    let ran = engine::run(
        &Inputs {
            session: &connected.session,
            suite: &suite,
            profile,
            endpoint: endpoint.clone(),
            plan: &plan,
            seed,
            dir: &dir,
            progress,
        },
        rt.handle(),
    );
    let keep = args.target.keep;
    let cleanup = rt.block_on(interrupts.finish(connected, keep));
    let cleaned = Cleanup::of(cleanup.as_ref(), keep);
    let timeout = Duration::from_secs(args.target.timeout);
    let stopped = match halt.reason() {
        // Interrupted: the operator asked for no verdict.
        Some(reason @ HaltReason::Interrupted) => {
            eprintln!("no certificate: the run did not finish");
            return Ok(report_stop(reason, cleaned, &root, timeout));
        }
        // The endpoint went silent: what it answered before stands, on an inconclusive
        // certificate that says where it stopped.
        Some(HaltReason::Stuck) => Some(Stop {
            reason: format!(
                "the endpoint stopped answering (no response for {} s, twice the --timeout of {} s)",
                Halt::stall_for(timeout).as_secs(),
                timeout.as_secs()
            ),
            during: ran
                .halted
                .as_ref()
                .map_or_else(|| "cleanup".to_owned(), |h| h.during.clone()),
            cases_unjudged: ran
                .cases
                .iter()
                .filter(|c| {
                    matches!(
                        c.verdict,
                        crate::report::Verdict::Error { .. }
                            | crate::report::Verdict::Skipped { .. }
                    )
                })
                .count(),
            campaigns_unfinished: ran
                .halted
                .as_ref()
                .map(|h| h.campaigns_unfinished.clone())
                .unwrap_or_default(),
        }),
        None => None,
    };
    if let Some(stop) = &stopped {
        eprintln!("s3conform: error: {} during {}", stop.reason, stop.during);
        match left_behind(cleaned, &root) {
            Some(line) => eprintln!("s3conform: {line}"),
            None => eprintln!("s3conform: cleanup removed everything this run wrote under {root}"),
        }
    } else if !keep && let Some(line) = left_behind(cleaned, &root) {
        eprintln!("warning: {line}");
    }
    let evidence = Evidence {
        format: evidence::FORMAT.to_owned(),
        format_version: evidence::FORMAT_VERSION,
        basis: Basis {
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            profile,
            level: args.level,
            seed,
            requirements: RequirementsRef {
                title: requirements.title.clone(),
                origin: requirements.origin.clone(),
                digest: requirements.digest.clone(),
            },
            endpoint,
            bucket,
            region: args.target.region.clone(),
            run_prefix: root,
            started_at,
            finished_at: now_rfc3339(),
            plan,
        },
        cases: ran.cases,
        campaigns: ran.campaigns,
        stopped,
    };
    let evidence_bytes = evidence.to_bytes();
    let cert = verdict::certificate(
        &evidence,
        &requirements,
        &resolved,
        &sha256_hex(&evidence_bytes),
    );
    print_verdict(&cert);
    save(&dir, &cert, &evidence_bytes);
    Ok(exit_code::of_certificate(cert.verdict))
}

/// The verdict, the violated requirements and what did not establish, on stdout.
fn print_verdict(cert: &Certificate) {
    println!(
        "\nverdict: {} ({})",
        cert.verdict.words().to_uppercase(),
        cert.because
    );
    if let Some(server) = &cert.server {
        println!("  the endpoint says it is: Server: {}", server.describe());
    }
    for r in &cert.requirements {
        if matches!(r.verdict, State::Violated | State::NotEstablished) {
            println!("  {} {}: {}", r.id, r.verdict.words(), r.because);
            if let Some(ex) = r
                .cases
                .iter()
                .find(|c| c.failed())
                .and_then(|c| c.decisive.as_ref())
            {
                println!("    {}  ->  {}", ex.request_line(), ex.answer_line());
            }
        }
    }
}

/// Writes the evidence, the certificate in three forms and the badge; a file that cannot be
/// written is a warning (the verdict has printed and stands).
fn save(dir: &OutDir, cert: &Certificate, evidence_bytes: &[u8]) {
    let mut json = serde_json::to_string_pretty(cert).unwrap_or_default();
    json.push('\n');
    let files: [(&str, Vec<u8>); 5] = [
        (verdict::EVIDENCE_FILE, evidence_bytes.to_vec()),
        ("certificate.json", json.into_bytes()),
        (
            "certificate.md",
            render_markdown::markdown(cert).into_bytes(),
        ),
        ("certificate.html", render_html::html(cert).into_bytes()),
        ("badge.svg", badge::svg(cert).into_bytes()),
    ];
    for (name, bytes) in files {
        if let Err(e) = dir.write(name, &bytes) {
            outdir::warn(&e, &mut std::io::stderr());
        }
    }
    println!("\ncertificate saved in {}", dir.path().display());
    println!(
        "verify it with `s3conform certify --verify {}`",
        dir.path().join("certificate.json").display()
    );
}

fn verify_command(args: &CertifyArgs, cert: &std::path::Path) -> Result<u8, CertifyError> {
    let found = verify::verify(cert, args.evidence.as_deref(), args.requirements.as_deref())?;
    for note in &found.notes {
        eprintln!("note: {note}");
    }
    if found.differences.is_empty() {
        println!(
            "verified: {} follows from its evidence (digest and every verdict recomputed)",
            cert.display()
        );
        Ok(exit_code::SUCCESS)
    } else if found.requirements_changed {
        // Judged against other wording: not a forgery, but not a statement about these
        // requirements either; its verdicts cannot be recomputed against them.
        println!(
            "NOT CURRENT: {} was judged against other requirements; re-certify, or verify with \
             --requirements naming the file it was judged against:",
            cert.display()
        );
        for d in &found.differences {
            println!("  {d}");
        }
        Ok(exit_code::FAILURE)
    } else {
        println!("TAMPERED: {} does not match its evidence:", cert.display());
        for d in &found.differences {
            println!("  {d}");
        }
        Ok(exit_code::FAILURE)
    }
}
