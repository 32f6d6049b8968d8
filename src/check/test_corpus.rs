//! The histories the checker's unit tests compare two paths on: every committed history (each
//! anomaly kind, garbage reads, Tier 1 failures, the search) and generated ones with ambiguous
//! and blind writes, deletes and each injected bug, so a path that diverges anywhere shows.

use crate::bench::{Bug, GenConfig, generate_seeded};
use crate::history::History;

/// Every history under `tests/histories/{good,bad}`, then four generated with `writers` writers,
/// `ops` ops per key on `keys` keys: one without a bug and one per injected bug.
pub fn committed_and_generated(ops: usize, keys: usize) -> Vec<History> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
    let mut all = Vec::new();
    for dir in ["good", "bad"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            all.push(crate::history::read_history(&entry.unwrap().path()).unwrap());
        }
    }
    let bugs = [
        None,
        Some(Bug::LostUpdate),
        Some(Bug::StaleRead),
        Some(Bug::Resurrection),
    ];
    for (seed, bug) in bugs.into_iter().enumerate() {
        let config = GenConfig {
            writers: 8,
            ops,
            keys,
            ambiguous_rate: 0.05,
            blind_rate: 0.1,
            delete_rate: 0.1,
            bug,
            ..GenConfig::default()
        };
        all.push(generate_seeded(&config, seed as u64));
    }
    all
}
