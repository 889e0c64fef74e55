//! Entry point of the browser app: report panics to the console, then mount.

fn main() {
    console_error_panic_hook::set_once();
    frontend::mount();
}
