//! Synthetic histories for the checker's tests and benchmark (`s3conform bench`).
//!
//! [`generate`] draws a linearization point inside every op's interval and computes outcomes
//! from an exact in-memory model, so a history without an injected [`Bug`] is linearizable by
//! construction; with one, it is wrong in the way the bug's name says.
//!
//! # Measured (docs/checker.md §9)
//!
//! `s3conform bench` built with optimizations, seed 1, on the shared 2-vCPU machine (load
//! average 3–5 from other builds, so times are pessimistic), one key, single thread:
//!
//! | writers | ops/key | ambiguous | blind | median check | check RSS growth | decided by |
//! |---|---|---|---|---|---|---|
//! | 8 | 10^3 | 0 | 0 | 0.7 ms | – | version graph |
//! | 8 | 10^4 | 0 | 0 | 7.5 ms | 1 MB | version graph |
//! | 8 | 10^5 | 0 | 0 | 57 ms | 11 MB | version graph |
//! | 8 | 10^6 | 0 | 0 | 1.17 s | 193 MB | version graph |
//! | 4 / 16 / 32 / 64 | 10^5 | 0 | 0 | 52 / 43 / 42 / 42 ms | – | version graph |
//! | 32 | 10^6 | 0 | 0 | 0.83 s | 143 MB | version graph |
//! | 64 | 10^6 | 0 | 0 | 1.08 s | 180 MB | version graph |
//! | 32 | 10^5 | 1 % / 5 % | 0 | 53 / 53 ms | – | version graph |
//! | 32 | 10^5 | 0 / 1 % | 10 % | 98 / 199 ms | – | graph, search for 1–2 of 3 |
//! | 32 | 10^6 | 1 % | 0 | 0.90 s | 182 MB | version graph |
//! | 32 | 10^6 | 5 % | 10 % | 2.59 s | 184 MB | search |
//!
//! No run came back Unknown and no bug-free history raised an alarm. For comparison, Porcupine
//! on the same machine needs 14.2 s for 8 writers × 10^5 ops and is Unknown after 20–60 s at 24
//! writers or more (docs/checker.md §1.6). "Check RSS growth" excludes the in-memory `History`
//! itself (about 450 bytes per op, 400 MB of strings for 10^6 ops).
//!
//! What a user runs, `s3conform check FILE` as a process (`s3conform bench --only io`,
//! [`user_path`]), reads the file into the compact form instead: for 32 writers × 10^6 ops
//! (249 MB) the process takes 1.6 s wall and 2.0 s CPU, of which reading 1.1 CPU-s (231 MB per
//! CPU-second), the check 0.8 s, with a peak RSS of 341 MB; 8 writers × 10^5 ops take 158 ms
//! wall. The table with every class, before and after, is in docs/checker.md §9.
//!
//! Injected bugs, 10 seeds × 10^4 ops, 8 and 32 writers: lost update, double create, stale
//! read, phantom 304, spurious 409 and garbage read are detected and named right 10/10;
//! resurrection is detected 10/10 and named right 9/10 (the other is named by the search);
//! a lost acknowledged blind write is detected 7/10 and 3/10 — every undetected one is
//! genuinely invisible (another blind write replaced it before anyone looked, and the checker
//! produced a validated linearization), and 5 resp. 2 are named right (the others are reported
//! as `non-linearizable` by the search). Witnesses have 1–3 ops; `shrink` brings a
//! 2,000-op history down to 1–6 ops in 7–32 ms.

pub mod child;
pub mod generate;
pub mod user_path;

pub use generate::{Bug, GenConfig, generate, generate_arbitrary, generate_seeded};
