//! The embedded reference endpoint over real TCP, driven by aws-sdk-s3: every semantic row of
//! its rustdoc table under both profiles, the races, and one test per injected fault.

mod faults;
mod layer;
mod races;
mod reads;
mod writes;
