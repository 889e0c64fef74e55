//! End-to-end tests: a real server on a free port, its event stream read
//! back, and a real (headless) Chromium using the dashboard.
//!
//! One test binary, as in ripgrep and tokio-console: the modules below are the
//! suites, `support` what they share.

mod browser;
mod classroom;
mod code;
mod flow;
mod present;
mod resilience;
mod stream;
mod support;
mod tabs;
mod timeline;
mod tree;
