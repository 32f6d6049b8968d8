pub mod endpoints;
pub mod freeze;
