//! Witness rendering: Elle-style text, an ASCII lane view, JSON, and a self-contained HTML
//! timeline.
//!
//! A witness is only useful if a vendor engineer can check it by hand, so every form names the
//! ops the same way (A, B, C in the anomaly's order) and shows their instants.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use serde_json::json;

use super::anomaly::Anomaly;
use super::report::CheckReport;
use super::witness::Witness;
use crate::history::{History, Op, Out, Req};

fn letter(i: usize) -> String {
    let mut s = String::new();
    let mut n = i;
    loop {
        s.insert(0, (b'A' + (n % 26) as u8) as char);
        if n < 26 {
            return s;
        }
        n = n / 26 - 1;
    }
}

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

/// One line describing an op: client, request with its conditions, outcome.
pub fn describe_op(op: &Op) -> String {
    let mut s = format!("c{} {}", op.client, op.req.verb());
    let (if_match, if_none_match) = op.req.conditions();
    if let Some(v) = if_match {
        let _ = write!(s, " If-Match:{v}");
    }
    if let Some(v) = if_none_match {
        let _ = write!(s, " If-None-Match:{v}");
    }
    if let Req::Put {
        write_id,
        source_key,
        ..
    } = &op.req
    {
        if let Some(w) = write_id {
            let _ = write!(s, " ({w})");
        }
        if let Some(k) = source_key {
            let _ = write!(s, " from {k}");
        }
    }
    s.push_str(" → ");
    match &op.out {
        Out::Ok {
            status,
            etag,
            write_id,
        } => {
            let _ = write!(s, "{status}");
            if let Some(e) = etag {
                let _ = write!(s, " {e}");
            }
            if let Some(w) = write_id {
                let _ = write!(s, " ({w})");
            }
        }
        Out::NotModified { etag } => {
            s.push_str("304");
            if let Some(e) = etag {
                let _ = write!(s, " {e}");
            }
        }
        Out::PreconditionFailed => s.push_str("412"),
        Out::NotFound { code: None } => s.push_str("404"),
        Out::NotFound { code: Some(c) } => {
            let _ = write!(s, "404 {c}");
        }
        Out::Conflict => s.push_str("409 ConditionalRequestConflict"),
        Out::Rejected { status, code } => {
            let _ = write!(s, "{status} {}", code.as_deref().unwrap_or(""));
        }
        Out::Ambiguous { cause, status } => {
            let _ = write!(
                s,
                "ambiguous ({cause}{})",
                status.map(|s| format!(", {s}")).unwrap_or_default()
            );
        }
    }
    s
}

fn by_id(history: &History) -> HashMap<u64, &Op> {
    history.ops.iter().map(|o| (o.id, o)).collect()
}

/// Elle-style text: "Let A = ..., Then: ...".
pub fn text(history: &History, anomaly: &Anomaly) -> String {
    let ops = by_id(history);
    let mut out = format!("{} on key {}\n", anomaly.kind, anomaly.key);
    if !anomaly.ops.is_empty() {
        out.push_str("Let:\n");
        let descs: Vec<String> = anomaly
            .ops
            .iter()
            .map(|id| {
                ops.get(id)
                    .map_or_else(|| format!("op {id} (not in history)"), |o| describe_op(o))
            })
            .collect();
        let width = descs.iter().map(|d| d.chars().count()).max().unwrap_or(0);
        for (i, (id, d)) in anomaly.ops.iter().zip(&descs).enumerate() {
            let span = ops
                .get(id)
                .map(|o| {
                    if o.out.is_ambiguous() {
                        format!("[{} – ∞) ms", ms(o.call_ns))
                    } else {
                        format!("[{} – {}] ms", ms(o.call_ns), ms(o.ret_ns))
                    }
                })
                .unwrap_or_default();
            let _ = writeln!(out, "  {} = op {id}: {d:<width$}  {span}", letter(i));
        }
    }
    out.push_str("Then:\n");
    for line in anomaly.explanation.lines() {
        let _ = writeln!(out, "  - {line}");
    }
    out
}

/// The ops shown around a witness: the witness plus the ops on its key that overlap its time
/// span, at most `cap` of them (nearest first).
fn context<'a>(history: &'a History, anomaly: &Anomaly, cap: usize) -> Vec<&'a Op> {
    let ops = by_id(history);
    let wit: Vec<&Op> = anomaly
        .ops
        .iter()
        .filter_map(|id| ops.get(id).copied())
        .collect();
    let Some(lo) = wit.iter().map(|o| o.call_ns).min() else {
        return Vec::new();
    };
    let hi = wit
        .iter()
        .map(|o| {
            if o.out.is_ambiguous() {
                o.call_ns
            } else {
                o.ret_ns
            }
        })
        .max()
        .unwrap_or(lo);
    let mut others: Vec<&Op> = history
        .ops
        .iter()
        .filter(|o| {
            o.key == anomaly.key
                && !anomaly.ops.contains(&o.id)
                && o.call_ns <= hi
                && (o.out.is_ambiguous() || o.ret_ns >= lo)
        })
        .collect();
    let mid = lo / 2 + hi / 2;
    others.sort_by_key(|o| o.call_ns.abs_diff(mid));
    others.truncate(cap.saturating_sub(wit.len()));
    let mut all = wit;
    all.extend(others);
    all.sort_by_key(|o| (o.client, o.call_ns));
    all
}

/// An ASCII lane view: one lane per client, time rank-compressed, witness ops drawn with `=`
/// and their letter, other ops on the key during the witness drawn with `-`.
pub fn lanes(history: &History, anomaly: &Anomaly) -> String {
    let ops = context(history, anomaly, 24);
    if ops.is_empty() {
        return String::new();
    }
    let end = |o: &Op| {
        if o.out.is_ambiguous() {
            u64::MAX
        } else {
            o.ret_ns
        }
    };
    let points: BTreeSet<u64> = ops.iter().flat_map(|o| [o.call_ns, end(o)]).collect();
    let rank: HashMap<u64, usize> = points.iter().enumerate().map(|(i, &t)| (t, i)).collect();
    let cols = points.len() * 3 + 2;
    let mut lanes: Vec<(u64, Vec<char>)> = Vec::new();
    let mut out = String::new();
    for o in &ops {
        let lane = match lanes.iter().position(|(c, _)| *c == o.client) {
            Some(i) => i,
            None => {
                lanes.push((o.client, vec![' '; cols]));
                lanes.len() - 1
            }
        };
        let (a, b) = (rank[&o.call_ns] * 3, rank[&end(o)] * 3);
        let row = &mut lanes[lane].1;
        let wit = anomaly.ops.iter().position(|id| *id == o.id);
        let fill = if wit.is_some() { '=' } else { '-' };
        for c in row.iter_mut().take(b + 1).skip(a) {
            *c = fill;
        }
        row[a] = '[';
        row[b] = if o.out.is_ambiguous() { '>' } else { ']' };
        if let Some(w) = wit {
            for (k, ch) in letter(w).chars().enumerate() {
                if a + 1 + k < b {
                    row[a + 1 + k] = ch;
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "time → (rank-compressed; `=` witness, `-` other ops on {}, `>` ambiguous)",
        anomaly.key
    );
    for (client, row) in lanes {
        let _ = writeln!(
            out,
            "c{client:<4}|{}",
            row.iter().collect::<String>().trim_end()
        );
    }
    out
}

fn op_json(o: &Op) -> serde_json::Value {
    json!({
        "id": o.id, "client": o.client, "key": o.key, "call_ns": o.call_ns,
        "ret_ns": if o.out.is_ambiguous() { None } else { Some(o.ret_ns) },
        "desc": describe_op(o),
    })
}

/// The conformance notes, as `check` and `fuzz` print them after the summary line; empty when
/// there are none. They are questions for the suite, never anomalies, and say so.
pub fn notes(report: &CheckReport) -> String {
    let notes: Vec<_> = report.notes().collect();
    if notes.is_empty() {
        return String::new();
    }
    let mut out = format!("{} conformance notes (not anomalies):\n", notes.len());
    for n in notes {
        let _ = writeln!(out, "  key {}: {}", n.key, n.message);
    }
    out
}

/// The explanation of a witness: the shrunk one when there is, saying from how many ops.
pub fn witness_explanation(original: &History, witness: &Witness) -> String {
    let (history, anomaly) = witness.shown(original);
    match &witness.shrunk {
        Some(s) if s.history.ops.len() < original.ops.len() => format!(
            "(shrunk from {} to {} ops{})\n{}",
            original.ops.len(),
            s.history.ops.len(),
            if s.minimal {
                ""
            } else {
                "; the shrinker's budget ran out, so fewer may show it too"
            },
            text(history, anomaly)
        ),
        Some(s) if !s.minimal => format!(
            "({} ops: the shrinker's budget ran out before it removed any)\n{}",
            s.history.ops.len(),
            text(history, anomaly)
        ),
        Some(s) => format!(
            "({} ops, already minimal)\n{}",
            s.history.ops.len(),
            text(history, anomaly)
        ),
        None => text(history, anomaly),
    }
}

/// A witness as the terminal shows it: its name, the whole shrunk history when it is small
/// enough to read at once (in call order), the explanation and the lanes.
pub fn witness(original: &History, witness: &Witness) -> String {
    let mut out = format!("== {} ==\n", witness.name());
    let (history, anomaly) = witness.shown(original);
    let explanation = witness_explanation(original, witness);
    match (&witness.shrunk, explanation.split_once('\n')) {
        (Some(s), Some((first, rest))) if s.history.ops.len() <= 20 => {
            let _ = writeln!(out, "{first}");
            let mut ops: Vec<&Op> = s.history.ops.iter().collect();
            ops.sort_by_key(|o| (o.call_ns, o.id));
            for o in ops {
                let ret = if o.out.is_ambiguous() {
                    "∞".to_string()
                } else {
                    ms(o.ret_ns)
                };
                let _ = writeln!(
                    out,
                    "  op {:<6} [{} – {ret}] ms  {}",
                    o.id,
                    ms(o.call_ns),
                    describe_op(o)
                );
            }
            out.push_str(rest);
        }
        _ => out.push_str(&explanation),
    }
    out.push_str(&lanes(history, anomaly));
    out
}

/// The whole report as JSON for tools: verdict, per-key results, and every anomaly with its
/// witness ops spelled out.
pub fn json(history: &History, report: &CheckReport) -> String {
    let ops = by_id(history);
    let anomalies: Vec<serde_json::Value> = report
        .anomalies()
        .map(|a| {
            json!({
                "kind": a.kind, "key": a.key, "ops": a.ops, "explanation": a.explanation,
                "witness": a.ops.iter().filter_map(|id| ops.get(id)).map(|o| op_json(o)).collect::<Vec<_>>(),
                "text": text(history, a),
            })
        })
        .collect();
    let keys: Vec<serde_json::Value> = report
        .keys
        .iter()
        .map(|k| json!({"key": k.key, "ops": k.ops, "verdict": k.verdict, "decided_by": k.decided_by, "tier1_note": k.tier1_note, "states": k.states, "elapsed_ms": k.elapsed_ms}))
        .collect();
    let v = json!({
        "format": "s3conform-check", "version": 1,
        "verdict": report.verdict(),
        "ops": report.ops, "elapsed_ms": report.elapsed_ms,
        "keys": keys, "anomalies": anomalies,
        "conformance_notes": report.notes().collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// The witness page's own rules, after [`crate::html::BASE_STYLE`].
const WITNESS_STYLE: &str = r#"pre{background:#f6f8fa;padding:.5em;white-space:pre-wrap}
.tl{position:relative;border-top:1px solid #ddd;margin-top:8px}
.lane{position:relative;height:26px;border-bottom:1px solid #eee}
.lbl{position:absolute;left:0;width:60px;top:5px;color:#666}
.op{position:absolute;height:18px;top:3px;border-radius:3px;background:#ccc;opacity:.55;font-size:11px;overflow:hidden;white-space:nowrap;box-sizing:border-box;padding:1px 3px;cursor:default}
.op.w{background:#e4572e;opacity:1;color:#fff;font-weight:bold}
.op.amb{background-image:linear-gradient(90deg,transparent 70%,#fff)}
select{margin:6px 0}
"#;

const HTML_SCRIPT: &str = r#"<script>
const D=JSON.parse(document.getElementById('data').textContent);
const sel=document.getElementById('pick');
D.anomalies.forEach((a,i)=>{const o=document.createElement('option');o.value=i;o.textContent=a.kind+' on '+a.key+' (ops '+a.ops.join(', ')+')';sel.appendChild(o);});
function draw(){
  const a=D.anomalies[sel.value||0]||null;
  document.getElementById('text').textContent=a?a.text:'No anomaly: the history is linearizable.';
  const key=a?a.key:(D.ops[0]||{}).key;
  const ops=D.ops.filter(o=>o.key===key);
  const wit=a?a.ops:[];
  const pts=[...new Set(ops.flatMap(o=>[o.call_ns,o.ret_ns===null?Infinity:o.ret_ns]))].sort((x,y)=>x-y);
  const rank=new Map(pts.map((t,i)=>[t,i]));
  const W=Math.max(800,pts.length*14), X=t=>70+rank.get(t)*(W/pts.length);
  const clients=[...new Set(ops.map(o=>o.client))].sort((x,y)=>x-y);
  const tl=document.getElementById('tl');tl.innerHTML='';tl.style.width=(W+120)+'px';
  clients.forEach(c=>{
    const lane=document.createElement('div');lane.className='lane';
    lane.innerHTML='<span class="lbl">c'+c+'</span>';
    ops.filter(o=>o.client===c).forEach(o=>{
      const e=document.createElement('div');const wi=wit.indexOf(o.id);
      e.className='op'+(wi>=0?' w':'')+(o.ret_ns===null?' amb':'');
      const x0=X(o.call_ns),x1=X(o.ret_ns===null?Infinity:o.ret_ns);
      e.style.left=x0+'px';e.style.width=Math.max(6,x1-x0)+'px';
      e.textContent=(wi>=0?String.fromCharCode(65+wi)+': ':'')+o.desc;
      e.title='op '+o.id+': '+o.desc+'\ncall '+(o.call_ns/1e6).toFixed(3)+' ms, return '+(o.ret_ns===null?'never (ambiguous)':(o.ret_ns/1e6).toFixed(3)+' ms');
      lane.appendChild(e);});
    tl.appendChild(lane);});
}
sel.onchange=draw;draw();
</script>
"#;

/// A self-contained HTML page (inline CSS and JS, no network): pick an anomaly, see one lane
/// per client on its key with the witness highlighted and the other ops greyed.
pub fn html(history: &History, report: &CheckReport) -> String {
    let anomalies: Vec<&Anomaly> = report.anomalies().collect();
    let mut shown: Vec<&Op> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in &anomalies {
        for o in context(history, a, 300) {
            if seen.insert(o.id) {
                shown.push(o);
            }
        }
    }
    if anomalies.is_empty() {
        shown = history.ops.iter().take(400).collect();
    }
    let data = json!({
        "anomalies": anomalies.iter().map(|a| json!({"kind": a.kind, "key": a.key, "ops": a.ops, "text": text(history, a)})).collect::<Vec<_>>(),
        "ops": shown.iter().map(|o| op_json(o)).collect::<Vec<_>>(),
    });
    let data = data.to_string().replace("</", "<\\/");
    let verdict = match report.verdict() {
        super::report::Verdict::Linearizable => "linearizable".to_string(),
        super::report::Verdict::Anomalous(a) => format!("{} anomalies", a.len()),
        super::report::Verdict::Unknown { reason } => {
            format!("unknown: {}", crate::html::escape(&reason))
        }
    };
    format!(
        "{}<h1>s3conform check: {verdict}</h1><p>{} ops, {} keys, checked in {:.1} ms. Lanes are clients; time is rank-compressed; hover an op for details.</p>\
         <select id=\"pick\"></select><pre id=\"text\"></pre><div class=\"tl\" id=\"tl\"></div>\
         <script type=\"application/json\" id=\"data\">{data}</script>{HTML_SCRIPT}{}",
        crate::html::head("s3conform check", WITNESS_STYLE),
        report.ops,
        report.keys.len(),
        report.elapsed_ms,
        crate::html::FOOT
    )
}
