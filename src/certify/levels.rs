//! How hard a certificate tests: each level is the whole suite plus a fixed set of fuzz
//! campaigns, and states its strength (writers, keys, ops, time cap) so a certificate says what
//! it rests on.
//!
//! Every level runs each campaign kind a requirement can rest on: safe-create storms, CAS storms
//! and the default mix (deletes, copies and multipart included). Each level also runs one sparse
//! mix of 4 writers: a 409 is provably spurious only when no other write overlaps it, which
//! dense storms rarely leave room for.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::requirements::CampaignKind;
use crate::fuzz::Mix;

/// How hard to test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// 8 writers: safe-create and CAS storms of 400 ops on 1 key, the default mix of 800 ops on
    /// 2 keys, a sparse mix (4 writers) of 400 ops; each capped at 60 s.
    #[default]
    Quick,
    /// 16 writers: storms of 2000 ops on 1 key, the default mix of 4000 ops on 2 keys, a sparse
    /// mix (4 writers) of 2000 ops; each capped at 300 s.
    Standard,
    /// 32 writers: storms of 10000 ops on 1 key, the default mix of 20000 ops on 2 keys, a
    /// sparse mix (4 writers) of 10000 ops; each capped at 1200 s.
    Thorough,
}

/// Safe creates racing deletes on one key: a check-then-write create lets two creators win.
pub const SAFE_CREATE_MIX: &str = "create=90,delete=5,read=5";
/// Read-modify-write loops on one key: an ignored If-Match loses updates.
pub const CAS_MIX: &str = "rmw=80,read=20";
/// The default mix of `s3conform fuzz`, spelled out so a certificate states it.
pub const DEFAULT_MIX: &str =
    "rmw=35,create=10,read=15,cond_read=15,blind=5,delete=4,cond_delete=4,copy=6,multipart=6";

/// One campaign of a level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignPlan {
    /// Stable id within the certificate, e.g. `cas-storm`.
    pub id: String,
    /// The kind of promise it tests.
    pub kind: CampaignKind,
    /// The mix, as `--mix` spells it.
    pub mix: String,
    /// Concurrent writers.
    pub writers: u32,
    /// Keys they share.
    pub keys: u8,
    /// Ops recorded at most.
    pub ops: u64,
    /// Time cap in milliseconds: the drive stops starting actions after it.
    pub cap_ms: u64,
}

impl CampaignPlan {
    /// The parsed mix.
    pub fn mix(&self) -> Mix {
        // Only the constants above are ever planned, and a test parses each.
        self.mix.parse().unwrap_or_default()
    }

    /// The time cap.
    pub fn cap(&self) -> Duration {
        Duration::from_millis(self.cap_ms)
    }

    /// One line: `cas-storm: 16 writers, 1 key, 2000 ops (cap 2m), mix rmw=80,read=20`.
    pub fn describe(&self) -> String {
        format!(
            "{}: {} writers, {} key{}, up to {} ops (cap {} s), mix {}",
            self.id,
            self.writers,
            self.keys,
            if self.keys == 1 { "" } else { "s" },
            self.ops,
            self.cap_ms / 1000,
            self.mix
        )
    }
}

fn plan(
    id: &str,
    kind: CampaignKind,
    mix: &str,
    writers: u32,
    keys: u8,
    ops: u64,
    cap_s: u64,
) -> CampaignPlan {
    CampaignPlan {
        id: id.to_owned(),
        kind,
        mix: mix.to_owned(),
        writers,
        keys,
        ops,
        cap_ms: cap_s * 1000,
    }
}

impl Level {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Quick => "quick",
            Level::Standard => "standard",
            Level::Thorough => "thorough",
        }
    }

    /// The campaigns this level runs after the suite, in order.
    pub fn campaigns(self) -> Vec<CampaignPlan> {
        use CampaignKind::{Cas, Mix, SafeCreate};
        let (writers, storm_ops, mix_ops, cap_s) = match self {
            Level::Quick => (8, 400, 800, 60),
            Level::Standard => (16, 2_000, 4_000, 300),
            Level::Thorough => (32, 10_000, 20_000, 1_200),
        };
        vec![
            plan(
                "safe-create-storm",
                SafeCreate,
                SAFE_CREATE_MIX,
                writers,
                1,
                storm_ops,
                cap_s,
            ),
            plan("cas-storm", Cas, CAS_MIX, writers, 1, storm_ops, cap_s),
            plan("default-mix", Mix, DEFAULT_MIX, writers, 2, mix_ops, cap_s),
            plan("sparse-mix", Mix, DEFAULT_MIX, 4, 2, storm_ops, cap_s),
        ]
    }

    /// The level's strength in one line, for `--help`, the docs and the certificate.
    pub fn strength(self) -> String {
        let c = self.campaigns();
        format!(
            "the suite, then {} campaigns: {}",
            c.len(),
            c.iter()
                .map(CampaignPlan::describe)
                .collect::<Vec<_>>()
                .join("; ")
        )
    }
}

/// The seed of campaign `index` of a certificate whose seed is `seed`: a SplitMix64 step, so
/// campaigns never share a schedule and one printed seed replays them all.
pub fn campaign_seed(seed: u64, index: usize) -> u64 {
    let mut z = seed.wrapping_add((index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_planned_mix_parses_and_every_level_runs_every_kind() {
        for level in [Level::Quick, Level::Standard, Level::Thorough] {
            let plans = level.campaigns();
            for p in &plans {
                p.mix.parse::<Mix>().expect(&p.mix);
            }
            for kind in [
                CampaignKind::SafeCreate,
                CampaignKind::Cas,
                CampaignKind::Mix,
            ] {
                assert!(plans.iter().any(|p| p.kind == kind), "{level:?} {kind:?}");
            }
        }
        assert_eq!(DEFAULT_MIX.parse::<Mix>().unwrap(), Mix::default());
    }

    /// `--help` states each level's strength; it must say what the plan runs.
    #[test]
    fn the_help_states_each_levels_strength() {
        use clap::ValueEnum;
        for level in Level::value_variants() {
            let help = level
                .to_possible_value()
                .and_then(|v| v.get_help().map(ToString::to_string))
                .unwrap_or_default();
            let plans = level.campaigns();
            let storm = &plans[0];
            let mix = &plans[2];
            for said in [
                format!("{} writers", storm.writers),
                format!("{} ops on 1 key", storm.ops),
                format!("{} ops on 2 keys", mix.ops),
                format!("({} writers) of {} ops", plans[3].writers, plans[3].ops),
                format!("capped at {} s", storm.cap_ms / 1000),
            ] {
                assert!(
                    help.contains(&said),
                    "{level:?}: `{help}` does not say `{said}`"
                );
            }
        }
    }

    #[test]
    fn campaign_seeds_differ_and_replay() {
        let a: Vec<u64> = (0..4).map(|i| campaign_seed(42, i)).collect();
        assert_eq!(a, (0..4).map(|i| campaign_seed(42, i)).collect::<Vec<_>>());
        let mut b = a.clone();
        b.dedup();
        assert_eq!(a.len(), b.len());
        assert_ne!(campaign_seed(42, 0), campaign_seed(43, 0));
    }
}
