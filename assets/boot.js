// Starts the dashboard: loads the WebAssembly app through its glue, under
// the URL the page preloads (the build's version, kept by the browser).
// A file of its own, not inline, so the page's Content-Security-Policy can
// forbid inline scripts.
const glue = document.querySelector('link[rel="modulepreload"]').href;
const { default: init } = await import(glue);
await init();
