//! `certificate.html`: the certificate as one self-contained page (inline CSS, no script), for a
//! reader who never saw s3conform: the verdict first, then every violated promise in the
//! vendor's words with the request and answer that prove it, then every requirement, the
//! campaigns, and what the verdict rests on.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::badge::colour;
use super::model::{CaseResult, Certificate, RequirementResult, State};
use crate::html::{FOOT, escape, head};

const STYLE: &str = r#".verdict{font-size:1.6em;font-weight:700;color:#fff;padding:.4em .8em;border-radius:6px;display:inline-block}
.chip{font-weight:600;padding:0 .4em;border-radius:4px;color:#fff;white-space:nowrap}
.holds{background:#2e7d32}.violated{background:#c62828}.not-established{background:#b26a00}.not-applicable{background:#6a6a6a}
blockquote{margin:.5em 0;padding:.3em .8em;border-left:4px solid #c62828;background:#fff5f5}
.ok blockquote{border-left-color:#d0d7de;background:#f6f8fa}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto}
.exchange td:first-child{font-weight:600;white-space:nowrap}
.violation{border:2px solid #c62828;border-radius:6px;padding:.2em 1em 1em;margin:1em 0}
details{margin:.3em 0}summary{cursor:pointer}
.rule{color:#57606a;font-size:.92em;margin:.2em 0}
.stopped{border-left:4px solid #b26a00;background:#fff8e6;padding:.5em .8em}
"#;

fn chip(state: State) -> String {
    let class = match state {
        State::Holds => "holds",
        State::Violated => "violated",
        State::NotEstablished => "not-established",
        State::NotApplicable => "not-applicable",
    };
    format!("<span class=\"chip {class}\">{}</span>", state.words())
}

fn case_block(out: &mut String, c: &CaseResult) {
    let _ = writeln!(
        out,
        "<p>Case <code>{}</code> ({}): {}</p>",
        escape(&c.case),
        escape(&c.outcome),
        escape(&c.description)
    );
    out.push_str("<table class=\"exchange\">");
    if let Some(ex) = &c.condition {
        let _ = writeln!(
            out,
            "<tr><td>conditional request (step {})</td><td><code>{}</code></td></tr>\
             <tr><td>answer</td><td><code>{}</code></td></tr>",
            ex.step,
            escape(&ex.request_line()),
            escape(&ex.answer_line())
        );
    }
    if let Some(ex) = &c.decisive {
        let _ = writeln!(
            out,
            "<tr><td>request (step {})</td><td><code>{}</code></td></tr>\
             <tr><td>answer</td><td><code>{}</code></td></tr>",
            ex.step,
            escape(&ex.request_line()),
            escape(&ex.answer_line())
        );
    }
    out.push_str("</table>\n");
    if !c.mismatches.is_empty() {
        crate::html::mismatch_table(out, &c.mismatches);
    }
    if let Some(msg) = &c.message {
        let _ = writeln!(out, "<p>{}</p>", escape(msg));
    }
}

/// What the top of the page has already shown in full: a case or a witness that proves several
/// promises is shown once, and linked from the others, so the page stays readable when one
/// fault breaks dozens of promises.
#[derive(Default)]
struct Shown {
    cases: HashSet<String>,
    witnesses: HashSet<String>,
}

/// A witness's anchor: its campaign, kind and key name it within a certificate.
fn witness_anchor(campaign: &str, kind: &str, key: &str) -> String {
    format!("w-{campaign}-{kind}-{key}")
}

/// A failed case already shown in full above: its deciding exchange on one line, and a link.
fn case_line(out: &mut String, c: &CaseResult) {
    let exchange = c
        .decisive
        .as_ref()
        .map(|ex| {
            format!(
                ": <code>{}</code> answered <code>{}</code>",
                escape(&ex.request_line()),
                escape(&ex.answer_line())
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<p>Case <a href=\"#c-{id}\"><code>{id}</code></a> ({}){exchange}; shown in full above.</p>",
        escape(&c.outcome),
        id = escape(&c.case)
    );
}

/// The promise's refutation rule in words, for a promise that rests on campaigns: which
/// witnesses disprove it, so a reader sees why a campaign finding violates it (or does not).
pub(super) fn rule(r: &RequirementResult) -> Option<String> {
    if r.refuted_by.is_empty() {
        return None;
    }
    Some(format!(
        "Refuted by a campaign witness of: {}. A condition in parentheses counts only a convicted request that carried it; operations count only a witness whose convicted operations are all among them.",
        r.refuted_by
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// For a promise no failed case breaks: that the verdict rests on a campaign's history as a
/// whole, which a reader would otherwise look for among the cases.
pub(super) fn campaign_only(r: &RequirementResult, failed: usize) -> Option<String> {
    if failed > 0 {
        return None;
    }
    let broke: Vec<&str> = r
        .campaigns
        .iter()
        .filter(|c| !c.witnesses.is_empty())
        .map(|c| c.campaign.as_str())
        .collect();
    if broke.is_empty() {
        return None;
    }
    Some(format!(
        "None of its {} case(s) failed. It is violated because the history recorded by {} holds \
         an anomaly of a kind that disproves this promise (the requirements file names, for each \
         promise, the anomaly kinds that do); each witness below is that history shrunk to the \
         operations that still show the anomaly.",
        r.cases.len(),
        broke.join(", ")
    ))
}

/// A case in full; a failed one only the first time the page shows it, linked after that.
fn case_once(out: &mut String, c: &CaseResult, shown: &mut Shown) {
    if c.outcome != "fail" {
        case_block(out, c);
    } else if shown.cases.insert(c.case.clone()) {
        let _ = writeln!(out, "<div id=\"c-{}\">", escape(&c.case));
        case_block(out, c);
        out.push_str("</div>\n");
    } else {
        case_line(out, c);
    }
}

/// The witnesses of `r`: every one, or (`first_per_kind`, at the top of the page) the first of
/// each anomaly kind with a count of the rest; each in full only the first time the page shows
/// it, linked after that.
fn witnesses(out: &mut String, r: &RequirementResult, first_per_kind: bool, shown: &mut Shown) {
    let mut kinds: Vec<&str> = Vec::new();
    let mut rest = 0;
    for c in &r.campaigns {
        for f in &c.witnesses {
            let w = &f.witness;
            if first_per_kind && kinds.contains(&w.kind.as_str()) {
                rest += 1;
                continue;
            }
            kinds.push(&w.kind);
            let anchor = witness_anchor(&c.campaign, &w.kind, &w.key);
            if !shown.witnesses.insert(anchor.clone()) {
                let _ = writeln!(
                    out,
                    "<p>Campaign <code>{}</code> found <strong>{}</strong> on key <code>{}</code>: <a href=\"#{}\">the witness above</a>.</p>",
                    escape(&c.campaign),
                    escape(&w.kind),
                    escape(&w.key),
                    escape(&anchor)
                );
                continue;
            }
            let _ = writeln!(
                out,
                "<p id=\"{}\">Campaign <code>{}</code> found <strong>{}</strong> on key <code>{}</code>:</p>\n<pre>{}\n\n{}</pre>",
                escape(&anchor),
                escape(&c.campaign),
                escape(&w.kind),
                escape(&w.key),
                escape(w.explanation.trim_end()),
                escape(w.lanes.trim_end())
            );
        }
    }
    if rest > 0 {
        let _ = writeln!(
            out,
            "<p>{rest} more witness(es) of the same kinds: see <a href=\"#r-{}\">the evidence below</a>.</p>",
            escape(&r.id)
        );
    }
}

/// The most failing cases a violation shows at the top of the page; the rest are below.
const TOP_CASES: usize = 3;

fn statement(r: &RequirementResult) -> String {
    let said = if r.quoted {
        "says"
    } else {
        "says, in substance"
    };
    format!(
        "<p>{} {said}:</p><blockquote>{}</blockquote>",
        escape(&r.source),
        escape(&r.statement)
    )
}

/// The HTML page.
pub fn html(cert: &Certificate) -> String {
    let b = &cert.basis;
    let mut out = head(&format!("{}: {}", cert.title, cert.verdict.words()), STYLE);
    let _ = writeln!(out, "<h1>Certificate: {}</h1>", escape(&cert.title));
    let violated_ids: Vec<String> = cert
        .requirements
        .iter()
        .filter(|r| r.verdict == State::Violated)
        .map(|r| format!("<a href=\"#v-{id}\">{id}</a>", id = escape(&r.id)))
        .collect();
    // The overall reason names every violated promise: the count reads at a glance, and the
    // names lead, as links, to each proof in the section below.
    let because = if violated_ids.is_empty() {
        escape(&cert.because)
    } else {
        format!(
            "{} of its {} documented promises violated (<a href=\"#broken\">the proofs</a>)",
            violated_ids.len(),
            cert.requirements.len()
        )
    };
    let _ = writeln!(
        out,
        "<p><span class=\"verdict\" style=\"background:{}\">{}</span></p>\n<p>Endpoint <code>{}</code> ({}{}), profile <strong>{}</strong>, level {}: {}.</p>",
        colour(cert.verdict),
        escape(&cert.verdict.words().to_uppercase()),
        escape(&b.endpoint.url),
        escape(&b.endpoint.label),
        cert.server
            .as_ref()
            .map(|s| format!("; it answers <code>Server: {}</code>", escape(&s.header)))
            .unwrap_or_default(),
        b.profile,
        b.level.name(),
        because
    );
    if let Some(stop) = &cert.stopped {
        let _ = writeln!(
            out,
            "<p class=\"stopped\"><strong>The run did not finish</strong>: {} during {}. {} case(s) could not be judged; campaigns not run to their end: {}. What the endpoint answered before stands; every promise that rested on the rest is not established.</p>",
            escape(&stop.reason),
            escape(&stop.during),
            stop.cases_unjudged,
            if stop.campaigns_unfinished.is_empty() {
                "none".to_owned()
            } else {
                escape(&stop.campaigns_unfinished.join(", "))
            }
        );
    }
    let _ = writeln!(
        out,
        "<p>The verdict rests on the answers to the {} suite case(s) listed below and to {} fuzz campaign(s), judged against <em>{}</em> (<code>{}</code>); the certificate is recomputed from them by <code>s3conform certify --verify</code>. See <a href=\"#basis\">what this rests on</a>.</p>",
        cert.requirements
            .iter()
            .flat_map(|r| r.cases.iter().map(|c| c.case.as_str()))
            .chain(cert.extras.iter().map(|e| e.case.case.as_str()))
            .collect::<HashSet<_>>()
            .len(),
        cert.campaigns.len(),
        escape(&b.requirements.title),
        escape(&b.requirements.origin)
    );
    let c = &cert.counts;
    let _ = writeln!(
        out,
        "<p>Of {} documented promises: {} hold, {} violated, {} not established, {} not applicable, {} not testable from outside.</p>",
        cert.requirements.len(),
        c.holds,
        c.violated,
        c.not_established,
        c.not_applicable,
        c.not_testable
    );
    let mut violated: Vec<_> = cert
        .requirements
        .iter()
        .filter(|r| r.verdict == State::Violated)
        .collect();
    // A failed case's single exchange is the plainest proof: those promises come first.
    violated.sort_by_key(|r| !r.cases.iter().any(|c| c.failed()));
    let mut shown = Shown::default();
    if !violated.is_empty() {
        let _ = writeln!(
            out,
            "<h2 id=\"broken\">Promises the endpoint broke</h2>\n<p>{}.</p>",
            violated_ids.join(", ")
        );
        out.push_str("<p>Each broken promise in the vendor's words, then the proof: a failed case's request and the answer that contradicts the promise, or a campaign's witness (the operations, as recorded, that no correct order explains). A case or witness that breaks several promises is shown in full once and linked from the others.</p>\n");
        for r in violated {
            let _ = writeln!(
                out,
                "<div class=\"violation\" id=\"v-{}\"><h3>{} {}</h3>{}<p>{}</p>",
                escape(&r.id),
                escape(&r.id),
                chip(r.verdict),
                statement(r),
                escape(&r.because)
            );
            if let Some(rule) = rule(r) {
                let _ = writeln!(out, "<p class=\"rule\">{}</p>", escape(&rule));
            }
            let failed: Vec<_> = r.cases.iter().filter(|c| c.failed()).collect();
            if let Some(note) = campaign_only(r, failed.len()) {
                let _ = writeln!(out, "<p><em>{}</em></p>", escape(&note));
            }
            for c in failed.iter().take(TOP_CASES) {
                case_once(&mut out, c, &mut shown);
            }
            if failed.len() > TOP_CASES {
                let _ = writeln!(
                    out,
                    "<p>{} more failed case(s): see <a href=\"#r-{}\">the evidence below</a>.</p>",
                    failed.len() - TOP_CASES,
                    escape(&r.id)
                );
            }
            witnesses(&mut out, r, true, &mut shown);
            out.push_str("</div>\n");
        }
    }
    out.push_str("<h2>Every requirement</h2>\n<table><thead><tr><th>id</th><th>verdict</th><th>promise</th><th>why</th><th>refuted by (campaign anomalies)</th></tr></thead><tbody>\n");
    for r in &cert.requirements {
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#r-{id}\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            chip(r.verdict),
            escape(&r.statement),
            escape(&r.because),
            r.refuted_by
                .iter()
                .map(|x| format!("<code>{}</code>", escape(&x.to_string())))
                .collect::<Vec<_>>()
                .join(", "),
            id = escape(&r.id)
        );
    }
    out.push_str("</tbody></table>\n<h2>Evidence per requirement</h2>\n");
    for r in &cert.requirements {
        let open = if r.verdict == State::Violated {
            " open"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<details id=\"r-{id}\"{open} class=\"ok\"><summary><strong>{id}</strong> {} ({} case(s), {} campaign(s))</summary>{}",
            chip(r.verdict),
            r.cases.len(),
            r.campaigns.len(),
            statement(r),
            id = escape(&r.id)
        );
        if let Some(rule) = rule(r) {
            let _ = writeln!(out, "<p class=\"rule\">{}</p>", escape(&rule));
        }
        for c in &r.cases {
            case_once(&mut out, c, &mut shown);
        }
        for c in &r.campaigns {
            let _ = writeln!(
                out,
                "<p>Campaign <code>{}</code>: {}</p>",
                escape(&c.campaign),
                c.checker.name()
            );
        }
        witnesses(&mut out, r, false, &mut shown);
        out.push_str("</details>\n");
    }
    out.push_str("<h2>Campaigns</h2>\n<table><thead><tr><th>campaign</th><th>mix</th><th>seed</th><th>writers</th><th>keys</th><th>ops</th><th>412</th><th>409</th><th>ambiguous</th><th>checker</th><th>check time</th></tr></thead><tbody>\n");
    for c in &cert.campaigns {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{} ms</td></tr>",
            escape(&c.id),
            escape(&c.mix),
            c.seed,
            c.writers,
            c.keys,
            c.ops,
            c.precondition_failed,
            c.conflicts,
            c.ambiguous,
            c.checker.name(),
            c.detail
                .as_deref()
                .map(|d| format!(": {}", escape(d)))
                .unwrap_or_default(),
            c.check_ms
        );
    }
    out.push_str("</tbody></table>\n");
    let a = &cert.ambiguity;
    let _ = writeln!(
        out,
        "<p>Ambiguous answers (a timeout, a reset or a 5xx: the request may or may not have taken effect) never violate a promise; above {:.0}% of the answers of the suite or of a campaign, the certificate is inconclusive. Suite: {} of {} ({:.2}%).</p>",
        a.threshold * 100.0,
        a.suite.ambiguous,
        a.suite.answers,
        a.suite.rate * 100.0
    );
    let failed_extras: Vec<_> = cert.failed_extras().collect();
    let _ = writeln!(
        out,
        "<h2>Beyond the documents</h2>\n<p>{} case(s) check behaviour these documents do not promise; {} failed. They are shown for information and do not change the verdict.</p>",
        cert.extras.len(),
        failed_extras.len()
    );
    for e in failed_extras {
        let _ = writeln!(out, "<p><em>{}</em></p>", escape(&e.reason));
        case_block(&mut out, &e.case);
    }
    let _ = writeln!(
        out,
        "<h2 id=\"basis\">What this rests on</h2>\n<table>\
         <tr><td>tool</td><td>s3conform {}</td></tr>\
         <tr><td>profile</td><td>{}</td></tr>\
         <tr><td>requirements</td><td>{} (<code>{}</code>, SHA-256 <code>{}</code>)</td></tr>\
         <tr><td>endpoint</td><td><code>{}</code> ({})</td></tr>\
         <tr><td>server</td><td>{}</td></tr>\
         <tr><td>bucket, region</td><td>{}, {}</td></tr>\
         <tr><td>run prefix</td><td><code>{}</code></td></tr>\
         <tr><td>started, finished</td><td>{}, {}</td></tr>\
         <tr><td>level</td><td>{}: the suite, then<ul>{}</ul></td></tr>\
         <tr><td>seed</td><td>{} (<code>--seed {}</code> replays the campaigns)</td></tr>\
         <tr><td>evidence</td><td><code>{}</code>, SHA-256 <code>{}</code></td></tr></table>",
        escape(&b.tool_version),
        b.profile,
        escape(&b.requirements.title),
        escape(&b.requirements.origin),
        escape(&b.requirements.digest),
        escape(&b.endpoint.url),
        escape(&b.endpoint.label),
        cert.server.as_ref().map_or_else(
            || "no answer carried a <code>Server</code> header".to_owned(),
            |s| format!(
                "<code>{}</code>{}, on {} of {} answers{}",
                escape(&s.header),
                escape(&s.version_note()),
                s.answers,
                s.of,
                s.others
                    .iter()
                    .map(|o| format!("; also <code>{}</code>", escape(o)))
                    .collect::<String>()
            )
        ),
        escape(&b.bucket),
        escape(&b.region),
        escape(&b.run_prefix),
        escape(&b.started_at),
        escape(&b.finished_at),
        b.level.name(),
        b.plan
            .iter()
            .map(|p| format!("<li>{}</li>", escape(&p.describe())))
            .collect::<String>(),
        b.seed,
        b.seed,
        escape(&cert.evidence.file),
        escape(&cert.evidence.sha256)
    );
    out.push_str("<h2>Documents</h2>\n<ul>\n");
    for d in &cert.documents {
        let _ = writeln!(
            out,
            "<li>{}, {}{}{}</li>",
            escape(&d.title),
            escape(&d.publisher),
            d.date
                .as_deref()
                .map(|x| format!(", {}", escape(x)))
                .unwrap_or_default(),
            d.url
                .as_deref()
                .map(|u| format!(": <code>{}</code>", escape(u)))
                .unwrap_or_default()
        );
    }
    out.push_str("</ul>\n<p>Verify with <code>s3conform certify --verify certificate.json</code>: it recomputes the evidence digest and every verdict from the evidence file.</p>\n");
    out.push_str(FOOT);
    out
}
