// Starts the dashboard: fetches the WebAssembly app through its glue.
// A file of its own, not inline, so the page's Content-Security-Policy can
// forbid inline scripts.
import init from '/pkg/frontend.js';
init();
