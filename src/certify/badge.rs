//! The badge (`badge.svg`): the overall verdict and the profile, in the flat two-part style
//! READMEs show, self-contained (no fonts or images fetched).

use super::model::{Certificate, Overall};
use crate::html::escape;

/// The colour of a verdict.
pub fn colour(verdict: Overall) -> &'static str {
    match verdict {
        Overall::Conformant => "#2e7d32",
        Overall::NotConformant => "#c62828",
        Overall::Partial => "#b26a00",
        Overall::Inconclusive => "#6a6a6a",
    }
}

/// The badge for `cert`.
pub fn svg(cert: &Certificate) -> String {
    let left = format!("s3conform {}", cert.basis.profile);
    let right = cert.verdict.words();
    // About 7 px per character at 11 px Verdana, plus padding.
    let lw = 10 + 7 * left.chars().count();
    let rw = 10 + 7 * right.chars().count();
    let w = lw + rw;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{label}">
<title>{label}</title>
<rect width="{lw}" height="20" fill="#555"/>
<rect x="{lw}" width="{rw}" height="20" fill="{colour}"/>
<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">
<text x="{lx}" y="14">{left}</text>
<text x="{rx}" y="14">{right}</text>
</g>
</svg>
"##,
        label = escape(&format!("{left}: {right}")),
        colour = colour(cert.verdict),
        lx = lw / 2,
        rx = lw + rw / 2,
        left = escape(&left),
        right = escape(right),
    )
}
