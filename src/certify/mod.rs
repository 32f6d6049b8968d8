//! Certifying an endpoint against a vendor's documented promises: the promises themselves, as
//! data a vendor and a buyer can both read, live in [`requirements`].
pub mod requirements;
