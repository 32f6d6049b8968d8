//! The comparison as one self-contained HTML page (`reports/COMPARISON.html`).
//!
//! Everything is inline (CSS, a few lines of JS, no fonts, images or links outside the page), so
//! the file can be attached to an email or opened from a CI artifact offline. Each failing,
//! erroring or observed cell links to an evidence section with the case's mismatches and every
//! step's request and response; with JavaScript the section opens in a dialog, without it the
//! link jumps to the section (`:target` shows it). Each fuzz anomaly is a `<details>` element
//! holding its explanation and lane timeline.

use std::fmt::Write as _;

use super::matrix::{CellKind, Matrix};
use super::table::LEGEND;
use crate::report::model::{CaseReport, StepRecord, Verdict};
use crate::report::text;
use crate::s3::Observation;

pub use crate::html::escape;

/// The matrix's own rules, after [`crate::html::BASE_STYLE`].
const STYLE: &str = r#"td.num{text-align:right;font-variant-numeric:tabular-nums}
.matrix td{white-space:nowrap;text-align:center}
.matrix tbody th{font-weight:normal}
td.pass{background:#e6ffec}td.observed{background:#ddf4ff}td.fail{background:#ffebe9}
td.error{background:#fff8c5}td.skipped,td.not_run{color:#656d76}
td.known{background:#fbefff}
td a{color:inherit;text-decoration:underline dotted}
pre{background:#f6f8fa;padding:.5em;overflow:auto;max-height:30em;font-size:12px}
.detail{display:none;border:1px solid #d0d7de;padding:.5em 1em;margin:1em 0}
.detail:target,dialog .detail,body.all .detail{display:block}
.legend{color:#656d76}
.step{border-left:3px solid #d0d7de;padding-left:.8em;margin:.8em 0}
.step.failing{border-left-color:#cf222e}
dialog{max-width:min(90vw,70em);max-height:85vh;overflow:auto}
details.anomaly{margin:.5em 0}details.anomaly summary{cursor:pointer;font-weight:600}
code{font-size:.95em}
"#;

const SCRIPT: &str = r#"
(function(){
  var dlg=document.getElementById('evidence-dialog'),body=document.getElementById('evidence-body');
  document.addEventListener('click',function(e){
    var a=e.target.closest?e.target.closest('a[data-detail]'):null;
    if(!a||!dlg||!dlg.showModal)return;
    var s=document.getElementById(a.getAttribute('data-detail'));
    if(!s)return;
    e.preventDefault();
    var c=s.cloneNode(true);c.removeAttribute('id');
    body.replaceChildren(c);dlg.showModal();
  });
  document.getElementById('evidence-close').addEventListener('click',function(){dlg.close();});
  var all=document.getElementById('show-all');
  if(all){all.hidden=false;all.addEventListener('click',function(){
    document.body.classList.toggle('all');
    all.textContent=document.body.classList.contains('all')?'hide all evidence':'show all evidence';
  });}
})();
"#;

/// Renders the page.
pub fn render(matrix: &Matrix) -> String {
    let mut out = String::new();
    out.push_str(&crate::html::head("s3conform vendor comparison", STYLE));
    out.push_str("<h1>s3conform vendor comparison</h1>\n");
    endpoints(&mut out, matrix);
    grid(&mut out, matrix);
    evidence(&mut out, matrix);
    anomalies(&mut out, matrix);
    out.push_str(
        "<dialog id=\"evidence-dialog\"><button id=\"evidence-close\" type=\"button\">close</button>\
         <div id=\"evidence-body\"></div></dialog>\n",
    );
    let _ = writeln!(out, "<script>{SCRIPT}</script>");
    out.push_str(crate::html::FOOT);
    out
}

fn endpoints(out: &mut String, matrix: &Matrix) {
    out.push_str("<h2>Endpoints</h2>\n<table class=\"summary\">\n<thead><tr>");
    for h in [
        "endpoint",
        "profile",
        "url",
        "report",
        "tool",
        "started",
        "passed",
        "failed",
        "errored",
        "skipped",
        "observed",
        "known",
        "not run",
        "fuzz ops",
        "anomalies",
    ] {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (ci, e) in matrix.endpoints.iter().enumerate() {
        let s = &e.summary;
        let _ = write!(
            out,
            "<tr><th>{}</th><td>{}</td><td><code>{}</code></td><td><code>{}</code></td>\
             <td>{}</td><td>{}</td>",
            escape(&e.name),
            e.profile,
            escape(&e.url),
            escape(&e.source.display().to_string()),
            escape(&e.tool_version),
            escape(&e.started_at),
        );
        for n in [
            s.passed, s.failed, s.errored, s.skipped, s.observed, s.known, s.not_run,
        ] {
            let _ = write!(out, "<td class=\"num\">{n}</td>");
        }
        let _ = write!(out, "<td class=\"num\">{}</td>", s.fuzz_ops);
        if s.anomalies > 0 || s.fuzz_failed > 0 {
            let _ = write!(
                out,
                "<td class=\"num\"><a href=\"#anomalies-{ci}\">{}</a></td>",
                s.anomalies_cell()
            );
        } else {
            let _ = write!(out, "<td class=\"num\">{}</td>", s.anomalies_cell());
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

fn kind_class(kind: CellKind) -> &'static str {
    match kind {
        CellKind::NotRun => "not_run",
        CellKind::Pass => "pass",
        CellKind::Observed => "observed",
        CellKind::Fail => "fail",
        CellKind::Error => "error",
        CellKind::Skipped => "skipped",
    }
}

/// Whether a cell gets an evidence section.
fn has_evidence(kind: CellKind) -> bool {
    matches!(kind, CellKind::Fail | CellKind::Error | CellKind::Observed)
}

fn grid(out: &mut String, matrix: &Matrix) {
    out.push_str("<h2>Matrix</h2>\n");
    let _ = writeln!(out, "<p class=\"legend\">{}</p>", escape(LEGEND));
    out.push_str("<table class=\"matrix\">\n<thead><tr><th>case</th>");
    for e in &matrix.endpoints {
        let _ = write!(out, "<th>{}</th>", escape(&e.name));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (ri, row) in matrix.rows.iter().enumerate() {
        let _ = write!(
            out,
            "<tr><th title=\"{}\"><code>{}</code></th>",
            escape(&row.description),
            escape(&row.case)
        );
        for (ci, c) in row.cells.iter().enumerate() {
            let class = if c.known {
                format!("{} known", kind_class(c.kind))
            } else {
                kind_class(c.kind).to_owned()
            };
            if has_evidence(c.kind) && c.case.is_some() {
                let _ = write!(
                    out,
                    "<td class=\"{class}\"><a href=\"#d-{ri}-{ci}\" data-detail=\"d-{ri}-{ci}\">{}</a></td>",
                    escape(&c.text)
                );
            } else {
                let _ = write!(out, "<td class=\"{class}\">{}</td>", escape(&c.text));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

fn evidence(out: &mut String, matrix: &Matrix) {
    let mut any = false;
    for (ri, row) in matrix.rows.iter().enumerate() {
        for (ci, c) in row.cells.iter().enumerate() {
            if !has_evidence(c.kind) {
                continue;
            }
            let Some(case) = matrix.case(ri, ci) else {
                continue;
            };
            if !any {
                out.push_str(
                    "<h2>Evidence</h2>\n<p>Open a cell of the matrix to see what was sent and \
                     answered. <button id=\"show-all\" type=\"button\" hidden>show all \
                     evidence</button></p>\n",
                );
                any = true;
            }
            let _ = writeln!(out, "<section class=\"detail\" id=\"d-{ri}-{ci}\">");
            case_detail(out, case, &matrix.endpoints[ci].name);
            out.push_str("</section>\n");
        }
    }
}

fn case_detail(out: &mut String, case: &CaseReport, endpoint: &str) {
    let _ = writeln!(
        out,
        "<h3><code>{}</code> on {}: {}</h3>\n<p>{}</p>\n<p>Source: {}</p>",
        escape(&case.name),
        escape(endpoint),
        escape(text::outcome_word(case)),
        escape(&case.description),
        escape(&case.source)
    );
    if let Some(crate::report::model::BaselineMark::Known { reason }) = &case.baseline {
        let _ = writeln!(out, "<p>Baseline: {}</p>", escape(reason));
    }
    match &case.verdict {
        Verdict::Fail { mismatches } => crate::html::mismatch_table(out, mismatches),
        Verdict::Error { message } => {
            let _ = writeln!(out, "<p>Error: {}</p>", escape(message));
        }
        Verdict::Pass | Verdict::Observed | Verdict::Skipped { .. } => {}
    }
    if !case.observed.is_empty() {
        out.push_str("<p>Observed, not judged:</p><ul>\n");
        for o in &case.observed {
            let _ = writeln!(
                out,
                "<li>step {} {} = <code>{}</code></li>",
                o.step,
                escape(&o.field),
                escape(&o.value)
            );
        }
        out.push_str("</ul>\n");
    }
    if !case.steps.is_empty() {
        let failing: Vec<usize> = match &case.verdict {
            Verdict::Fail { mismatches } => mismatches.iter().map(|m| m.step).collect(),
            _ => Vec::new(),
        };
        out.push_str("<h4>Steps</h4>\n");
        for step in &case.steps {
            step_detail(out, step, failing.contains(&step.index));
        }
    }
}

/// One step's request and responses; `failing` marks the steps a mismatch points at.
fn step_detail(out: &mut String, step: &StepRecord, failing: bool) {
    let _ = writeln!(
        out,
        "<div class=\"step{}\"><p><b>{}. {}</b>{}</p>",
        if failing { " failing" } else { "" },
        step.index,
        escape(&step.label),
        if failing { " (mismatch)" } else { "" }
    );
    let request = serde_json::to_string_pretty(&step.request).unwrap_or_default();
    let _ = writeln!(
        out,
        "<p>Request:</p><pre class=\"request\">{}</pre>",
        escape(&request)
    );
    for (i, obs) in step.observations.iter().enumerate() {
        let _ = writeln!(
            out,
            "<p>Response{}: <b>{}</b>{}</p><pre class=\"response\">{}</pre>",
            if step.observations.len() > 1 {
                format!(" {}", i + 1)
            } else {
                String::new()
            },
            escape(&obs.summary()),
            timing(obs),
            escape(&serde_json::to_string_pretty(obs).unwrap_or_default())
        );
    }
    out.push_str("</div>\n");
}

fn timing(obs: &Observation) -> String {
    let us = obs.ret_ns.saturating_sub(obs.call_ns) / 1000;
    format!(" in {}.{:03} ms", us / 1000, us % 1000)
}

fn anomalies(out: &mut String, matrix: &Matrix) {
    if matrix.endpoints.iter().all(|e| e.report.fuzz.is_empty()) {
        return;
    }
    out.push_str("<h2>Fuzz campaigns</h2>\n");
    for (ci, e) in matrix.endpoints.iter().enumerate() {
        if e.report.fuzz.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<h3 id=\"anomalies-{ci}\">{}</h3>\n<ul>",
            escape(&e.name)
        );
        for f in &e.report.fuzz {
            let _ = writeln!(
                out,
                "<li>{}seed {}, {} writers, {} ops: {} ({} anomalies){}{}</li>",
                f.campaign
                    .as_deref()
                    .map(|c| format!("{}: ", escape(c)))
                    .unwrap_or_default(),
                f.seed,
                f.writers,
                f.ops,
                escape(&f.verdict),
                f.anomalies.len(),
                f.history_file
                    .as_deref()
                    .map(|h| format!(", history <code>{}</code>", escape(h)))
                    .unwrap_or_default(),
                f.error
                    .as_deref()
                    .map(|e| format!(": <strong>did not run</strong>: {}", escape(e)))
                    .unwrap_or_default()
            );
        }
        out.push_str("</ul>\n");
        for f in &e.report.fuzz {
            for a in &f.anomalies {
                let _ = writeln!(
                    out,
                    "<details class=\"anomaly\"><summary>{} on <code>{}</code> (seed {})</summary>\n\
                     <pre class=\"explanation\">{}</pre>\n<pre class=\"lanes\">{}</pre>\n</details>",
                    escape(&a.kind),
                    escape(&a.key),
                    f.seed,
                    escape(&a.explanation),
                    escape(&a.lanes)
                );
            }
        }
    }
}
