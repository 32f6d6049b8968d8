//! One fuzz campaign from its parameters: seed → schedule → drive → history. `fuzz`, the tests
//! and the driver benchmark all go through [`Campaign::run`], so the same seed and parameters
//! draw the same schedule everywhere and a seed from a report replays in any of them.

use std::sync::Arc;
use std::time::Duration;

use crate::fuzz::{Counters, DriveError, DriveLimits, Mix, Recording, Schedule, drive_recorded};
use crate::history::History;
use crate::s3::Session;

/// What a campaign races: how many writers over how many keys, for how long, with what mix.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// The schedule's seed (printed, so a run can be replayed).
    pub seed: u64,
    /// Concurrent writers, one program each.
    pub writers: usize,
    /// Keys the writers share.
    pub keys: u8,
    /// Stop after this many recorded ops in total.
    pub ops: u64,
    /// Stop starting new actions after this long, if set.
    pub duration: Option<Duration>,
    /// The weights of the action kinds.
    pub mix: Mix,
}

impl Campaign {
    /// The schedule: each writer gets just enough actions for the whole campaign to reach
    /// `ops` (no more program than the op limit can use; a writer that runs out simply stops,
    /// and the drive still ends at `ops` or `duration`).
    pub fn schedule(&self) -> Schedule {
        let writers = self.writers.max(1);
        let per_writer =
            usize::try_from(self.ops.div_ceil(writers as u64).max(1)).unwrap_or(usize::MAX);
        Schedule::from_seed(self.seed, writers, per_writer, self.keys, &self.mix)
    }

    /// Draws the schedule and drives it on `session`, counting progress in `counters`.
    pub async fn run(
        &self,
        session: &Session,
        counters: Arc<Counters>,
    ) -> Result<History, DriveError> {
        self.run_recorded(session, counters, Arc::default()).await
    }

    /// [`Campaign::run`], recording into `recording`, which a checker may snapshot while the
    /// campaign runs (`fuzz` checks as it goes).
    pub async fn run_recorded(
        &self,
        session: &Session,
        counters: Arc<Counters>,
        recording: Arc<Recording>,
    ) -> Result<History, DriveError> {
        let limits = DriveLimits {
            max_ops: self.ops,
            max_duration: self.duration,
        };
        drive_recorded(session, &self.schedule(), limits, counters, recording).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(writers: usize, ops: u64) -> Campaign {
        Campaign {
            seed: 7,
            writers,
            keys: 2,
            ops,
            duration: None,
            mix: Mix::default(),
        }
    }

    #[test]
    fn each_writer_gets_enough_actions_for_the_op_limit_and_no_more() {
        let s = campaign(16, 2000).schedule();
        assert_eq!(s.programs.len(), 16);
        assert!(s.programs.iter().all(|p| p.actions.len() == 125));
        let s = campaign(3, 10).schedule();
        assert!(s.programs.iter().all(|p| p.actions.len() == 4));
        let s = campaign(8, 1).schedule();
        assert!(s.programs.iter().all(|p| p.actions.len() == 1));
    }

    #[test]
    fn the_same_parameters_draw_the_same_schedule() {
        assert_eq!(campaign(4, 100).schedule(), campaign(4, 100).schedule());
        assert_eq!(
            campaign(4, 100).schedule(),
            Schedule::from_seed(7, 4, 25, 2, &Mix::default())
        );
    }
}
