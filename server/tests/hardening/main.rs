//! The server against a hostile classroom network: every defect of the
//! hardening review as the request that showed it, then ten thousand
//! generated hostile requests, then a shutdown with clients that will not
//! let go.

mod access;
mod binary;
mod fuzz;
mod limits;
mod runs;
mod support;
