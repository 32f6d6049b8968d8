//! Schedules: what each concurrent writer will do, decided before anything is sent.
//!
//! A schedule is a pure function of a seed (through [`ScheduleRng`], a named generator) or of
//! fuzzer bytes (through [`arbitrary`]), so `--seed S` replays the same programs. The interleaving on the wire
//! is not replayable; the recorded history is what the checker judges.
//!
//! Each action is a realistic client, not a random request: a read-modify-write loop retries on
//! 412/409 as the vendors' guides advise, a safe create retries on 409, and conditional reads use the ETag
//! the client last saw.

use arbitrary::{Arbitrary, Unstructured};
use rand::{Rng, RngExt, SeedableRng};

/// The generator behind `--seed`: ChaCha with 8 rounds, a fixed, published algorithm, so a seed
/// in a report or a bug ticket replays the same schedule in every later version (rand's
/// `StdRng` reserves the right to change algorithm). The range sampling on top comes from
/// `rand`, pinned by `Cargo.lock`; `tests/schedule_digest.rs` fails if either drifts.
pub type ScheduleRng = chacha20::ChaCha8Rng;

/// The generator for `seed`: the seed's little-endian bytes as the ChaCha key, the rest zero
/// (spelled out rather than `seed_from_u64`, whose expansion is another crate's choice).
pub fn schedule_rng(seed: u64) -> ScheduleRng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    ScheduleRng::from_seed(key)
}

/// GET or HEAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum ReadKind {
    /// GetObject: the body names the write whose content was read.
    Get,
    /// HeadObject: the metadata names the write.
    Head,
}

/// The precondition a conditional read carries, from the client's last-seen ETag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum ReadCondition {
    /// `If-None-Match: <last seen>`: a cache revalidation; 304 when unchanged.
    IfNoneMatchLastSeen,
    /// `If-Match: <last seen>`: read only the version we know; 412 when changed.
    IfMatchLastSeen,
    /// `If-None-Match: *`.
    IfNoneMatchAny,
}

/// The precondition a write carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum WriteCondition {
    /// No precondition: a blind write.
    None,
    /// `If-Match: <last seen>`, or a safe create when nothing was seen.
    IfMatchLastSeen,
    /// `If-None-Match: *`.
    IfNoneMatchAny,
}

/// One client behaviour. Keys are indices into the campaign's key set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum Action {
    /// Read (HEAD or GET) then `PUT If-Match: <etag read>` (a create when absent), retrying
    /// from the read on 412/409 up to `retries` times.
    ReadModifyWrite {
        /// Key index.
        key: u8,
        /// How the current ETag is read.
        read: ReadKind,
        /// Retries after a lost race.
        retries: u8,
    },
    /// `PUT If-None-Match: *`, retried on 409 up to `retries` times.
    SafeCreate {
        /// Key index.
        key: u8,
        /// Retries after a 409.
        retries: u8,
    },
    /// A plain read.
    Read {
        /// Key index.
        key: u8,
        /// GET or HEAD.
        kind: ReadKind,
    },
    /// A read with a precondition built from the last-seen ETag.
    ConditionalRead {
        /// Key index.
        key: u8,
        /// GET or HEAD.
        kind: ReadKind,
        /// Which header.
        cond: ReadCondition,
    },
    /// A PUT without a precondition.
    BlindWrite {
        /// Key index.
        key: u8,
    },
    /// DeleteObject, with `If-Match: <last seen>` when `conditional`.
    Delete {
        /// Key index.
        key: u8,
        /// Whether to send If-Match.
        conditional: bool,
    },
    /// CopyObject from one key to another with a destination precondition.
    Copy {
        /// Source key index.
        source: u8,
        /// Destination key index.
        dest: u8,
        /// Destination precondition.
        cond: WriteCondition,
    },
    /// CreateMultipartUpload, one part, CompleteMultipartUpload with a precondition.
    Multipart {
        /// Key index.
        key: u8,
        /// Precondition on completion.
        cond: WriteCondition,
    },
}

impl Action {
    /// The same action with every key index reduced modulo `keys`.
    fn with_keys(self, keys: u8) -> Action {
        let k = |i: u8| i % keys.max(1);
        match self {
            Action::ReadModifyWrite { key, read, retries } => Action::ReadModifyWrite {
                key: k(key),
                read,
                retries: retries % 8,
            },
            Action::SafeCreate { key, retries } => Action::SafeCreate {
                key: k(key),
                retries: retries % 8,
            },
            Action::Read { key, kind } => Action::Read { key: k(key), kind },
            Action::ConditionalRead { key, kind, cond } => Action::ConditionalRead {
                key: k(key),
                kind,
                cond,
            },
            Action::BlindWrite { key } => Action::BlindWrite { key: k(key) },
            Action::Delete { key, conditional } => Action::Delete {
                key: k(key),
                conditional,
            },
            Action::Copy { source, dest, cond } => {
                let (s, d) = (k(source), k(dest));
                // A copy onto itself is legal S3 but produces a duplicate ETag by design;
                // steer to a different key when there is one.
                let d = if s == d && keys > 1 {
                    (d + 1) % keys
                } else {
                    d
                };
                Action::Copy {
                    source: s,
                    dest: d,
                    cond,
                }
            }
            Action::Multipart { key, cond } => Action::Multipart { key: k(key), cond },
        }
    }
}

/// Relative weights of the action kinds (`--mix rmw=40,create=10,...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    /// Read-modify-write loops.
    pub rmw: u32,
    /// Safe creates.
    pub create: u32,
    /// Plain reads.
    pub read: u32,
    /// Conditional reads.
    pub cond_read: u32,
    /// Blind writes.
    pub blind: u32,
    /// Blind deletes.
    pub delete: u32,
    /// Deletes with `If-Match: <last seen>`.
    pub cond_delete: u32,
    /// Copies with destination conditions.
    pub copy: u32,
    /// Multipart completes with conditions.
    pub multipart: u32,
}

impl Default for Mix {
    /// Mostly compare-and-swap traffic, as applications write it, with every other kind
    /// present so every anomaly has a chance to show.
    fn default() -> Self {
        Mix {
            rmw: 35,
            create: 10,
            read: 15,
            cond_read: 15,
            blind: 5,
            delete: 4,
            cond_delete: 4,
            copy: 6,
            multipart: 6,
        }
    }
}

/// The error for a malformed `--mix`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid --mix `{given}`: {reason} (expected e.g. rmw=35,create=10,read=15,cond_read=15,blind=5,delete=4,cond_delete=4,copy=6,multipart=6)"
)]
pub struct MixError {
    /// What was given.
    pub given: String,
    /// What is wrong.
    pub reason: String,
}

impl std::str::FromStr for Mix {
    type Err = MixError;

    /// Names not mentioned get weight 0.
    fn from_str(s: &str) -> Result<Mix, MixError> {
        let err = |reason: String| MixError {
            given: s.to_owned(),
            reason,
        };
        let mut mix = Mix {
            rmw: 0,
            create: 0,
            read: 0,
            cond_read: 0,
            blind: 0,
            delete: 0,
            cond_delete: 0,
            copy: 0,
            multipart: 0,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| err(format!("`{part}` is not NAME=WEIGHT")))?;
            let w: u32 = weight
                .trim()
                .parse()
                .map_err(|_| err(format!("`{weight}` is not a whole number")))?;
            let slot = match name.trim() {
                "rmw" => &mut mix.rmw,
                "create" => &mut mix.create,
                "read" => &mut mix.read,
                "cond_read" => &mut mix.cond_read,
                "blind" => &mut mix.blind,
                "delete" => &mut mix.delete,
                "cond_delete" => &mut mix.cond_delete,
                "copy" => &mut mix.copy,
                "multipart" => &mut mix.multipart,
                other => return Err(err(format!("unknown kind `{other}`"))),
            };
            *slot = w;
        }
        if mix.total() == 0 {
            return Err(err("all weights are zero".to_owned()));
        }
        Ok(mix)
    }
}

impl Mix {
    fn total(&self) -> u32 {
        self.rmw
            + self.create
            + self.read
            + self.cond_read
            + self.blind
            + self.delete
            + self.cond_delete
            + self.copy
            + self.multipart
    }
}

/// One writer's program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The actions, in order.
    pub actions: Vec<Action>,
}

/// Every writer's program, plus what it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The seed, when generated from one.
    pub seed: Option<u64>,
    /// Number of distinct keys.
    pub keys: u8,
    /// One program per writer.
    pub programs: Vec<Program>,
}

impl Schedule {
    /// A schedule from a seed: `writers` programs of `actions_per_writer` actions over `keys`
    /// keys, drawn with `mix`'s weights.
    pub fn from_seed(
        seed: u64,
        writers: usize,
        actions_per_writer: usize,
        keys: u8,
        mix: &Mix,
    ) -> Schedule {
        let mut rng = schedule_rng(seed);
        let programs = (0..writers)
            .map(|_| Program {
                actions: (0..actions_per_writer)
                    .map(|_| random_action(&mut rng, keys, mix))
                    .collect(),
            })
            .collect();
        Schedule {
            seed: Some(seed),
            keys: keys.max(1),
            programs,
        }
    }

    /// A schedule from fuzzer bytes, for a coverage-guided fuzzer driving the same executor.
    pub fn from_bytes(
        u: &mut Unstructured<'_>,
        max_writers: usize,
        keys: u8,
    ) -> arbitrary::Result<Schedule> {
        let writers = u.int_in_range(1..=max_writers.max(1))?;
        let mut programs = Vec::with_capacity(writers);
        for _ in 0..writers {
            let n = u.int_in_range(0..=16usize)?;
            let mut actions = Vec::with_capacity(n);
            for _ in 0..n {
                actions.push(Action::arbitrary(u)?.with_keys(keys));
            }
            programs.push(Program { actions });
        }
        Ok(Schedule {
            seed: None,
            keys: keys.max(1),
            programs,
        })
    }

    /// Total actions over all writers.
    pub fn actions(&self) -> usize {
        self.programs.iter().map(|p| p.actions.len()).sum()
    }
}

fn random_action<R: Rng>(rng: &mut R, keys: u8, mix: &Mix) -> Action {
    let keys = keys.max(1);
    let key = rng.random_range(0..keys);
    let kind = if rng.random_bool(0.5) {
        ReadKind::Get
    } else {
        ReadKind::Head
    };
    let wcond = match rng.random_range(0..3) {
        0 => WriteCondition::IfMatchLastSeen,
        1 => WriteCondition::IfNoneMatchAny,
        _ => WriteCondition::IfMatchLastSeen,
    };
    let mut pick = rng.random_range(0..mix.total());
    let weights = [
        mix.rmw,
        mix.create,
        mix.read,
        mix.cond_read,
        mix.blind,
        mix.delete,
        mix.cond_delete,
        mix.copy,
        mix.multipart,
    ];
    let mut slot = 0;
    for (i, w) in weights.iter().enumerate() {
        if pick < *w {
            slot = i;
            break;
        }
        pick -= w;
    }
    match slot {
        0 => Action::ReadModifyWrite {
            key,
            read: kind,
            retries: 3,
        },
        1 => Action::SafeCreate { key, retries: 2 },
        2 => Action::Read { key, kind },
        3 => {
            let cond = match rng.random_range(0..5) {
                0 | 1 => ReadCondition::IfNoneMatchLastSeen,
                2 | 3 => ReadCondition::IfMatchLastSeen,
                _ => ReadCondition::IfNoneMatchAny,
            };
            Action::ConditionalRead { key, kind, cond }
        }
        4 => Action::BlindWrite { key },
        5 => Action::Delete {
            key,
            conditional: false,
        },
        6 => Action::Delete {
            key,
            conditional: true,
        },
        7 => Action::Copy {
            source: rng.random_range(0..keys),
            dest: key,
            cond: wcond,
        }
        .with_keys(keys),
        _ => Action::Multipart { key, cond: wcond },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_schedule() {
        let m = Mix::default();
        assert_eq!(
            Schedule::from_seed(7, 4, 20, 3, &m),
            Schedule::from_seed(7, 4, 20, 3, &m)
        );
        assert_ne!(
            Schedule::from_seed(7, 4, 20, 3, &m),
            Schedule::from_seed(8, 4, 20, 3, &m)
        );
    }

    #[test]
    fn keys_stay_in_range() {
        let s = Schedule::from_seed(1, 8, 200, 2, &Mix::default());
        for a in s.programs.iter().flat_map(|p| &p.actions) {
            let keys: Vec<u8> = match *a {
                Action::Copy { source, dest, .. } => vec![source, dest],
                Action::ReadModifyWrite { key, .. }
                | Action::SafeCreate { key, .. }
                | Action::Read { key, .. }
                | Action::ConditionalRead { key, .. }
                | Action::BlindWrite { key }
                | Action::Delete { key, .. }
                | Action::Multipart { key, .. } => vec![key],
            };
            assert!(keys.iter().all(|k| *k < 2), "{a:?}");
        }
    }

    #[test]
    fn mix_parses_and_rejects() {
        let m: Mix = "rmw=1,create=2".parse().unwrap();
        assert_eq!((m.rmw, m.create, m.read), (1, 2, 0));
        assert!("rmw=x".parse::<Mix>().is_err());
        assert!("bogus=1".parse::<Mix>().is_err());
        assert!("rmw=0".parse::<Mix>().is_err());
        assert!("rmw".parse::<Mix>().is_err());
    }

    #[test]
    fn bytes_make_a_schedule() {
        let data: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        let mut u = Unstructured::new(&data);
        let s = Schedule::from_bytes(&mut u, 8, 3).unwrap();
        assert!(!s.programs.is_empty());
    }
}
