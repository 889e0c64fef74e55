//! A headless Chromium driven over the DevTools protocol, with what the
//! browser test needs around it: a throwaway profile, every console error and
//! uncaught exception collected, and polling of the live DOM under a deadline.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chromiumoxide::Page;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::input::{DispatchKeyEventParams, DispatchKeyEventType};
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::ScreenshotParams;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};

use super::{PATIENCE, within};

/// Where Debian installs Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const WIDTH: u32 = 1920;
pub const HEIGHT: u32 = 1080;
/// How long a target must stand still before [`TestBrowser::click_still`]
/// clicks it: longer than the page waits between redraws of the timeline's
/// markers (200 ms).
const STILL: Duration = Duration::from_millis(300);

/// Whether the browser tests can run here. Without Chromium they are skipped
/// on a developer's machine, but on CI (`CI` set) a missing browser is a
/// failure: a skipped test there would hide a broken setup.
pub fn chromium_available() -> bool {
    can_run(Path::new(CHROMIUM), std::env::var_os("CI").is_some())
}

fn can_run(chromium: &Path, on_ci: bool) -> bool {
    if chromium.exists() {
        return true;
    }
    assert!(
        !on_ci,
        "{} is missing, and browser tests may not be skipped on CI",
        chromium.display()
    );
    println!(
        "SKIPPED: {} is missing (install Debian's `chromium` to run the browser tests)",
        chromium.display()
    );
    false
}

/// One headless browser with one page, and what its console reported.
#[derive(Debug)]
pub struct TestBrowser {
    browser: Browser,
    handler: JoinHandle<()>,
    listeners: Vec<JoinHandle<()>>,
    page: Page,
    problems: Arc<Mutex<Vec<String>>>,
    /// Deleted after the browser is gone.
    _profile: TempDir,
}

/// The session speed the suites were written for: real time, so their
/// waits match the engines' seed timings. The dashboard's own default is
/// the slower teaching pace, which [`TestBrowser::launch_fresh`] keeps.
const SUITE_SPEED: &str =
    "if (!localStorage.getItem('dashboard.speed')) localStorage.setItem('dashboard.speed', '1');";

impl TestBrowser {
    /// A browser whose dashboard session runs at 1× unless a page's URL
    /// (`?speed=`) or its keys say otherwise.
    pub async fn launch() -> TestBrowser {
        let browser = TestBrowser::launch_fresh().await;
        browser.on_every_page(SUITE_SPEED).await;
        browser
    }

    /// Runs `js` in every document the tab loads from now on, before the
    /// page's own scripts.
    pub async fn on_every_page(&self, js: &str) {
        let seed = AddScriptToEvaluateOnNewDocumentParams::new(js);
        within("a start-up script", PATIENCE, self.page.execute(seed))
            .await
            .expect("add a start-up script");
    }

    /// A browser as a new visitor's: no stored session settings.
    pub async fn launch_fresh() -> TestBrowser {
        let profile = tempfile::tempdir().expect("a temporary browser profile");
        let viewport = Viewport {
            width: WIDTH,
            height: HEIGHT,
            device_scale_factor: Some(1.0),
            ..Viewport::default()
        };
        let config = BrowserConfig::builder()
            .chrome_executable(CHROMIUM)
            .new_headless_mode()
            .no_sandbox() // the tests may run as root, where the sandbox refuses to start
            .window_size(WIDTH, HEIGHT)
            .viewport(viewport)
            .user_data_dir(profile.path())
            .launch_timeout(Duration::from_secs(20))
            .request_timeout(PATIENCE)
            .args([
                "disable-gpu",
                "disable-background-networking",
                "disable-component-update",
                "disable-sync",
                "no-first-run",
                "no-default-browser-check",
            ])
            .build()
            .expect("a browser configuration");
        let (browser, mut handler) = within(
            "Chromium to start",
            Duration::from_secs(30),
            Browser::launch(config),
        )
        .await
        .expect("launch Chromium");
        // The handler drives the DevTools connection; it must be polled for
        // anything to happen.
        let handler = tokio::spawn(async move {
            while let Some(result) = handler.next().await {
                if let Err(e) = result {
                    eprintln!("devtools connection: {e}");
                }
            }
        });
        let page = within("a new tab", PATIENCE, browser.new_page("about:blank"))
            .await
            .expect("a new tab");

        let problems = Arc::new(Mutex::new(Vec::new()));
        let mut listeners = Vec::new();
        let mut console = within(
            "listen",
            PATIENCE,
            page.event_listener::<EventConsoleApiCalled>(),
        )
        .await
        .expect("listen to the console");
        let sink = Arc::clone(&problems);
        listeners.push(tokio::spawn(async move {
            while let Some(call) = console.next().await {
                if matches!(
                    call.r#type,
                    ConsoleApiCalledType::Error | ConsoleApiCalledType::Assert
                ) {
                    let text: Vec<String> = call
                        .args
                        .iter()
                        .map(|a| match (&a.value, &a.description) {
                            (Some(serde_json::Value::String(s)), _) => s.clone(),
                            (Some(v), _) => v.to_string(),
                            (None, Some(d)) => d.clone(),
                            (None, None) => format!("{:?}", a.r#type),
                        })
                        .collect();
                    record(
                        &sink,
                        format!("console.{:?}: {}", call.r#type, text.join(" ")),
                    );
                }
            }
        }));
        let mut exceptions = within(
            "listen",
            PATIENCE,
            page.event_listener::<EventExceptionThrown>(),
        )
        .await
        .expect("listen to exceptions");
        let sink = Arc::clone(&problems);
        listeners.push(tokio::spawn(async move {
            while let Some(thrown) = exceptions.next().await {
                let details = &thrown.exception_details;
                let what = details
                    .exception
                    .as_ref()
                    .and_then(|e| e.description.clone())
                    .unwrap_or_default();
                record(
                    &sink,
                    format!("uncaught exception: {} {what}", details.text),
                );
            }
        }));
        let mut log = within("listen", PATIENCE, page.event_listener::<EventEntryAdded>())
            .await
            .expect("listen to the log");
        let sink = Arc::clone(&problems);
        listeners.push(tokio::spawn(async move {
            while let Some(added) = log.next().await {
                let entry = &added.entry;
                if entry.level == LogEntryLevel::Error {
                    let url = entry.url.as_deref().unwrap_or_default();
                    record(
                        &sink,
                        format!("log ({:?}): {} {url}", entry.source, entry.text),
                    );
                }
            }
        }));

        TestBrowser {
            browser,
            handler,
            listeners,
            page,
            problems,
            _profile: profile,
        }
    }

    /// Opens another tab of the same browser at `url`, once it has loaded.
    pub async fn open_tab(&self, url: &str) -> Page {
        within(
            &format!("a tab at {url}"),
            PATIENCE,
            self.browser.new_page(url),
        )
        .await
        .unwrap_or_else(|e| panic!("open a tab at {url}: {e}"))
    }

    pub async fn goto(&self, url: &str) {
        within(
            &format!("load {url}"),
            Duration::from_secs(15),
            self.page.goto(url),
        )
        .await
        .unwrap_or_else(|e| panic!("load {url}: {e}"));
    }

    /// Evaluates a JavaScript expression and returns its value.
    pub async fn eval<T: DeserializeOwned>(&self, js: &str) -> T {
        let result = within(js, PATIENCE, self.page.evaluate_expression(js))
            .await
            .unwrap_or_else(|e| panic!("evaluating `{js}`: {e}"));
        result
            .into_value()
            .unwrap_or_else(|e| panic!("the value of `{js}`: {e}"))
    }

    /// Like [`TestBrowser::eval`], for a slow expression (a promise that
    /// takes a while), with its own limit.
    pub async fn eval_within<T: DeserializeOwned>(&self, js: &str, limit: Duration) -> T {
        let shown: String = js.chars().take(80).collect();
        let result = within(&shown, limit, self.page.evaluate_expression(js))
            .await
            .unwrap_or_else(|e| panic!("evaluating `{shown}`: {e}"));
        result
            .into_value()
            .unwrap_or_else(|e| panic!("the value of `{shown}`: {e}"))
    }

    /// Waits until the expression `js` is truthy; on timeout fails the test
    /// with `what`, the console's complaints and the page's text.
    pub async fn wait_for(&self, what: &str, js: &str, limit: Duration) {
        if let Err(last) = wait_for(&self.page, js, limit).await {
            let text: String = self
                .eval::<String>("document.body ? document.body.innerText : ''")
                .await
                .chars()
                .take(1500)
                .collect();
            panic!(
                "timed out after {limit:?} waiting for {what} (`{js}`: {last})\nconsole: {:#?}\npage text:\n{text}",
                self.problems()
            );
        }
    }

    /// Shows the page at `width` × `height` CSS pixels, as a smaller
    /// screen or projector would.
    pub async fn resize(&self, width: u32, height: u32) {
        let metrics = SetDeviceMetricsOverrideParams::new(width, height, 1.0, false);
        within("a new window size", PATIENCE, self.page.execute(metrics))
            .await
            .unwrap_or_else(|e| panic!("resize to {width}x{height}: {e}"));
    }

    /// Clicks the element `selector` with the mouse, as a user would.
    pub async fn click(&self, selector: &str) {
        let element = within(selector, PATIENCE, self.page.find_element(selector))
            .await
            .unwrap_or_else(|e| panic!("no element {selector}: {e}"));
        within(&format!("click {selector}"), PATIENCE, element.click())
            .await
            .unwrap_or_else(|e| panic!("click {selector}: {e}"));
    }

    /// Clicks `selector` once it has stood still: the same element at the
    /// same place for longer than the page takes to redraw its timeline
    /// markers. A click aimed at a target that is being redrawn or moved
    /// lands on whatever is there by the time the mouse arrives.
    pub async fn click_still(&self, selector: &str) {
        let quoted = serde_json::to_string(selector).expect("a selector as JSON");
        let probe = format!(
            "(() => {{ const el = document.querySelector({quoted}); if (!el) return false; \
             const r = el.getBoundingClientRect(); const now = [r.left, r.top, r.width, r.height].join(); \
             const was = window.__still; window.__still = {{ el, now }}; \
             return !!was && was.el === el && was.now === now; }})()"
        );
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.eval::<bool>(&probe).await {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{selector} never stood still for {STILL:?}"
            );
            sleep(STILL).await;
        }
        self.click(selector).await;
    }

    /// Presses and releases one key, as a keyboard would: `key` is the
    /// `KeyboardEvent.key` value (" " for Space, "?" with Shift, "Escape").
    pub async fn press(&self, key: &str) {
        let (code, shift) = match key {
            " " => ("Space", false),
            "?" => ("Slash", true),
            "/" => ("Slash", false),
            "[" => ("BracketLeft", false),
            "]" => ("BracketRight", false),
            "." => ("Period", false),
            "Escape" => ("Escape", false),
            k if k.len() == 1 => (k, k.chars().all(char::is_uppercase)),
            k => (k, false),
        };
        // The browser's own actions (Tab moves the focus, Enter follows a
        // link) need the key's Windows code as well as its name.
        let virtual_code = match key {
            "Tab" => 9,
            "Enter" => 13,
            "Escape" => 27,
            " " => 32,
            "[" => 219,
            "]" => 221,
            "." => 190,
            "/" | "?" => 191,
            k if k.len() == 1 && k.as_bytes()[0].is_ascii_alphanumeric() => {
                i64::from(k.to_ascii_uppercase().as_bytes()[0])
            }
            _ => 0,
        };
        let text = match key {
            "Enter" => Some("\r".to_owned()),
            k if k.chars().count() == 1 => Some(k.to_owned()),
            _ => None,
        };
        for kind in [DispatchKeyEventType::KeyDown, DispatchKeyEventType::KeyUp] {
            let mut event = DispatchKeyEventParams::builder()
                .r#type(kind.clone())
                .key(key)
                .code(code)
                .windows_virtual_key_code(virtual_code)
                .native_virtual_key_code(virtual_code)
                .modifiers(if shift { 8 } else { 0 });
            if let (DispatchKeyEventType::KeyDown, Some(text)) = (&kind, &text) {
                event = event.text(text.clone());
            }
            let event = event.build().expect("a key event");
            within(
                &format!("press {key:?}"),
                PATIENCE,
                self.page.execute(event),
            )
            .await
            .unwrap_or_else(|e| panic!("press {key:?}: {e}"));
        }
    }

    /// Saves a PNG of what the window shows and returns its bytes.
    pub async fn screenshot(&self, path: &Path) -> Vec<u8> {
        let params = ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .build();
        let png = within("a screenshot", PATIENCE, self.page.screenshot(params))
            .await
            .expect("a screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        }
        std::fs::write(path, &png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        png
    }

    /// Console errors, uncaught exceptions and error log entries so far.
    pub fn problems(&self) -> Vec<String> {
        self.problems
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Closes the browser and waits for its process to exit.
    pub async fn close(mut self) {
        if within("Chromium to close", PATIENCE, self.browser.close())
            .await
            .is_err()
        {
            let _ = within("Chromium to die", PATIENCE, self.browser.kill()).await;
        }
        let _ = within("Chromium to exit", PATIENCE, self.browser.wait()).await;
        for task in self.listeners.drain(..) {
            task.abort();
        }
        self.handler.abort();
    }
}

fn record(problems: &Mutex<Vec<String>>, problem: String) {
    problems
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(problem);
}

/// Polls the page until the JavaScript expression `js_predicate` is truthy.
/// The page is a live animation, so there is no event to wait on: it is
/// checked every 50 ms. Returns what was last seen when `timeout` runs out.
pub async fn wait_for(page: &Page, js_predicate: &str, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let js = format!("!!({js_predicate})");
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let last = match tokio::time::timeout(left, page.evaluate_expression(js.as_str())).await {
            Ok(Ok(result)) => match result.into_value::<bool>() {
                Ok(true) => return Ok(()),
                Ok(false) => "still false".to_owned(),
                Err(e) => format!("not a boolean: {e}"),
            },
            Ok(Err(e)) => format!("failed: {e}"),
            Err(_) => "no answer in time".to_owned(),
        };
        if Instant::now() >= deadline {
            return Err(last);
        }
        sleep(Duration::from_millis(50)).await;
    }
}

/// The width and height written in a PNG's header.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes(png[16..20].try_into().ok()?);
    let height = u32::from_be_bytes(png[20..24].try_into().ok()?);
    Some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_chromium_the_browser_tests_skip_off_ci() {
        assert!(!can_run(Path::new("/nonexistent/chromium"), false));
    }

    #[test]
    #[should_panic(expected = "may not be skipped on CI")]
    fn without_chromium_the_browser_tests_fail_on_ci() {
        can_run(Path::new("/nonexistent/chromium"), true);
    }
}
