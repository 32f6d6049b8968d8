//! Vendor profiles: which documented semantics an endpoint is judged against.
//!
//! Vendors disagree where the specs are silent or differ (docs/semantics.md §2.2). A profile names
//! one coherent set of answers. The YAML suite uses it to pick per-profile expectations, and the
//! embedded reference endpoint uses it to decide what to answer.

use std::fmt;
use std::str::FromStr;

/// A documented set of conditional-request semantics.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// CoreWeave AI Object Storage, as its documents say: `If-None-Match: <etag>` on a write is
    /// 400 `InvalidRequest`, and a racing conditional writer gets 409 `ConditionalRequestConflict`.
    Coreweave,
    /// Recorded AWS S3 behaviour: `If-None-Match: <etag>` on a write is 501 `NotImplemented`,
    /// and `If-Match` on a missing key is 404 `NoSuchKey`.
    Aws,
}

impl Profile {
    /// Every profile, in display order.
    pub const ALL: [Profile; 2] = [Profile::Coreweave, Profile::Aws];

    /// The lowercase name used on the command line, in YAML and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Coreweave => "coreweave",
            Profile::Aws => "aws",
        }
    }
}

impl Default for Profile {
    /// s3conform was built to certify CoreWeave-compatible endpoints, so its semantics are the
    /// default.
    fn default() -> Self {
        Profile::Coreweave
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a profile name that is not one of [`Profile::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile `{given}` (known profiles: coreweave, aws)")]
pub struct UnknownProfile {
    /// What the user wrote.
    pub given: String,
}

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownProfile {
                given: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Profile::ALL {
            assert_eq!(p.name().parse::<Profile>(), Ok(p));
        }
        assert!("minio".parse::<Profile>().is_err());
    }
}
