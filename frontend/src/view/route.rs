//! The address bar as signals, and moving between pages without loading
//! the app again. The app has two kinds of page, the welcome (`/`) and a
//! pattern's (`/p/<id>`), so a match on the path is the whole router.
//! Links are plain `<a href>`: a click on one that stays in the app is
//! caught here and becomes a `pushState`.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

/// Where the browser is.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// `location.pathname`.
    pub path: RwSignal<String>,
    /// `location.search`, without its `?`.
    pub query: RwSignal<String>,
}

pub fn route() -> Route {
    expect_context::<Route>()
}

/// What the path shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Welcome,
    /// `/p/<id>`, whatever the id (the page says if it is unknown).
    Pattern(String),
    NotFound,
}

impl Page {
    pub fn of(path: &str) -> Page {
        match path.strip_prefix("/p/") {
            _ if path == "/" || path.is_empty() => Page::Welcome,
            Some(id) if !id.is_empty() && !id.contains('/') => Page::Pattern(id.to_owned()),
            _ => Page::NotFound,
        }
    }
}

/// The decoded value of `name` in `query` (`a=1&b=two`), if it is there.
pub fn query_value(query: &str, name: &str) -> Option<String> {
    query_pairs(query)
        .into_iter()
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// Every `name=value` pair of `query`, decoded, in order.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let text = text.replace('+', " ");
    js_sys::decode_uri_component(&text)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or(text)
}

fn pathname() -> String {
    window().location().pathname().unwrap_or_default()
}

fn search() -> String {
    window()
        .location()
        .search()
        .unwrap_or_default()
        .trim_start_matches('?')
        .to_owned()
}

impl Route {
    /// Reads the address, follows Back and Forward, and catches clicks on
    /// the app's own links, for the life of the page.
    pub fn provide() -> Route {
        let route = Route {
            path: RwSignal::new(pathname()),
            query: RwSignal::new(search()),
        };
        let back = window_event_listener(ev::popstate, move |_| route.read());
        let clicks = window_event_listener(ev::click, move |ev| route.follow(&ev));
        on_cleanup(move || {
            back.remove();
            clicks.remove();
        });
        provide_context(route);
        route
    }

    fn read(self) {
        let (path, query) = (pathname(), search());
        if self.path.get_untracked() != path {
            self.path.set(path);
        }
        if self.query.get_untracked() != query {
            self.query.set(query);
        }
    }

    /// Goes to `to` (a path with its query), as a link would.
    pub fn navigate(self, to: &str) {
        if let Ok(history) = window().history() {
            let _ = history.push_state_with_url(&JsValue::NULL, "", Some(to));
        }
        self.read();
        window().scroll_to_with_x_and_y(0.0, 0.0);
    }

    /// A click on a link within the app moves here instead of loading the
    /// page again; anything else (a new tab, a download, the API, another
    /// site) is left to the browser.
    fn follow(self, ev: &web_sys::MouseEvent) {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.ctrl_key()
            || ev.meta_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return;
        }
        let Some(link) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten())
        else {
            return;
        };
        if link.has_attribute("download") || link.get_attribute("target").is_some() {
            return;
        }
        let href = link.get_attribute("href").unwrap_or_default();
        if !href.starts_with('/') || href.starts_with("//") || href.starts_with("/api/") {
            return;
        }
        ev.prevent_default();
        self.navigate(&href);
    }

    /// `aria-current` for a link to `href`: "page" on the page it leads to.
    pub fn current(self, href: &str) -> Option<&'static str> {
        (self.path.get() == href).then_some("page")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_names_the_page() {
        assert_eq!(Page::of("/"), Page::Welcome);
        assert_eq!(
            Page::of("/p/drop-basic"),
            Page::Pattern("drop-basic".into())
        );
        assert_eq!(Page::of("/p/"), Page::NotFound);
        assert_eq!(Page::of("/p/a/b"), Page::NotFound);
        assert_eq!(Page::of("/nowhere"), Page::NotFound);
    }
}
