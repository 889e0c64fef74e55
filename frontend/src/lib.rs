//! The dashboard's browser app.
//!
//! Layout:
//! - [`state`]: the model the event stream builds (plain Rust, tested natively);
//! - [`net`]: the one `EventSource` for the whole tab, and the HTTP calls;
//! - [`view`]: Leptos components that read the model and draw it.

pub mod net;
pub mod state;
pub mod view;

/// Mounts the app on the page's `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(view::App);
}
