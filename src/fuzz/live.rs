//! What a drive has recorded so far, readable while it runs, so a campaign can be checked as it
//! goes (docs/checker.md §10).
//!
//! A snapshot is a *prefix* of the campaign's history: every op that has returned, as it will
//! appear in the final history, and every op still in flight as unanswered (it may land at any
//! time after its call, or never), with a call instant taken just before the real one. No
//! write in a snapshot carries an ETag prediction: whether predictions are trusted is decided
//! from the answered writes, and a prefix has fewer of them than the whole history, so a
//! prediction trusted in a prefix could be one the whole history refuses. Without them, every
//! order of the whole history restricts to an order of the prefix, so an anomaly in a prefix
//! is an anomaly of the whole run.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::history::{Header, History, Op, Out, Req};

/// The ops of a drive: returned ones, and those in flight.
#[derive(Debug, Default)]
pub struct Recording {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    done: Vec<Op>,
    in_flight: HashMap<u64, Op>,
    next_token: u64,
}

/// The outcome a snapshot gives an op still in flight.
pub const IN_FLIGHT: &str = "in flight when the snapshot was taken";

impl Recording {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes that `op` (its request, client, key and a call instant no later than the real
    /// one) has been sent; returns the token [`Recording::finish`] takes, which is also the
    /// op's id in every snapshot.
    pub fn begin(&self, mut op: Op) -> u64 {
        op.ret_ns = op.call_ns;
        op.out = Out::Ambiguous {
            cause: IN_FLIGHT.to_owned(),
            status: None,
        };
        let mut inner = self.lock();
        let token = inner.next_token;
        inner.next_token += 1;
        op.id = token;
        inner.in_flight.insert(token, op);
        token
    }

    /// Records the answered (or ambiguous) op that `token` began.
    pub fn finish(&self, token: u64, mut op: Op) {
        op.id = token;
        let mut inner = self.lock();
        inner.in_flight.remove(&token);
        inner.done.push(op);
    }

    /// Ops returned so far.
    pub fn returned(&self) -> usize {
        self.lock().done.len()
    }

    /// The history so far: returned ops and ops in flight (unanswered), sorted by call, without
    /// ETag predictions. An op keeps its id from one snapshot to the next (the order ops
    /// began in), so what a check of one snapshot says about an op holds in the next.
    pub fn snapshot(&self) -> History {
        let mut ops: Vec<Op> = {
            let inner = self.lock();
            inner
                .done
                .iter()
                .chain(inner.in_flight.values())
                .cloned()
                .collect()
        };
        for op in &mut ops {
            if let Req::Put {
                etag_if_applied, ..
            } = &mut op.req
            {
                *etag_if_applied = None;
            }
        }
        ops.sort_by_key(|o| (o.call_ns, o.client));
        History {
            header: Header::new(),
            ops,
        }
    }

    /// Everything returned, as the final history (ops sorted by call, ids in that order).
    pub fn take(&self, header: Header) -> History {
        let mut ops = std::mem::take(&mut self.lock().done);
        ops.sort_by_key(|o| (o.call_ns, o.client));
        for (i, op) in ops.iter_mut().enumerate() {
            op.id = i as u64;
        }
        History { header, ops }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Via;

    fn put(client: u64, call: u64, ret: u64, out: Out) -> Op {
        Op {
            id: 0,
            client,
            key: "k".into(),
            call_ns: call,
            ret_ns: ret,
            req: Req::Put {
                write_id: Some(format!("w{client}")),
                etag_if_applied: Some("\"p\"".into()),
                if_match: None,
                if_none_match: None,
                via: Via::Put,
                source_key: None,
                initiated_ns: None,
            },
            out,
        }
    }

    #[test]
    fn a_snapshot_holds_ops_in_flight_as_unanswered_and_no_predictions() {
        let r = Recording::default();
        let ok = Out::Ok {
            status: 200,
            etag: Some("\"e\"".into()),
            write_id: None,
        };
        let a = r.begin(put(1, 10, 0, ok.clone()));
        let _b = r.begin(put(2, 5, 0, ok.clone()));
        r.finish(a, put(1, 11, 20, ok.clone()));
        let snap = r.snapshot();
        assert_eq!(snap.ops.len(), 2);
        // Sorted by call; each op keeps the id of its turn to begin.
        assert_eq!((snap.ops[0].client, snap.ops[0].id), (2, 1));
        assert_eq!((snap.ops[1].client, snap.ops[1].id), (1, 0));
        assert!(snap.ops[0].out.is_ambiguous());
        assert_eq!(snap.ops[1].out, ok);
        assert!(snap.ops.iter().all(|o| matches!(
            &o.req,
            Req::Put {
                etag_if_applied: None,
                ..
            }
        )));
        assert_eq!(r.returned(), 1);
        let whole = r.take(Header::new());
        assert_eq!(whole.ops.len(), 1);
        assert!(matches!(
            &whole.ops[0].req,
            Req::Put {
                etag_if_applied: Some(_),
                ..
            }
        ));
    }
}
