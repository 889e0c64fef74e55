//! A classroom session: the presenter drives, students follow on their own
//! screens, fork runs of their own and answer the presenter's questions.
//!
//! A session exists when the server is started with `--classroom` (or bound
//! beyond loopback). Its presenter holds a random token; every browser gets
//! an identity of its own on its first page load. Who may command which run
//! is decided here ([`Classroom::may_command`]); what each viewer sees of the
//! session (the presenter's page, the question, the tally) is its
//! [`ClassView`], sent on the event stream whenever it changes.

pub mod identity;
mod room;

pub use identity::{Credentials, IDENTITY_COOKIE, PRESENTER_COOKIE, Token, new_identity};
pub use room::{Caller, ClassError, Classroom, MAX_SANDBOXES, OWNER_GONE_AFTER, Seen};

use crate::hub::Hub;
use qrcode::QrCode;
use qrcode::render::{svg, unicode};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The addresses students can reach a server listening on `bound` at:
/// the machine's own LAN addresses for an unspecified bind (0.0.0.0),
/// otherwise the bound address itself. Never 0.0.0.0.
pub fn join_addresses(bound: SocketAddr) -> Vec<SocketAddr> {
    if !bound.ip().is_unspecified() {
        return vec![bound];
    }
    let mut lan: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.ip())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        .filter(|ip| match ip {
            IpAddr::V4(v4) => !v4.is_link_local(),
            // Link-local and unique-local v6 addresses need a zone or are
            // rarely what a classroom's Wi-Fi hands out.
            IpAddr::V6(_) => false,
        })
        .collect();
    // The likeliest classroom network first.
    lan.sort_by_key(|ip| match ip {
        IpAddr::V4(v4) if v4.octets()[0] == 192 => 0,
        IpAddr::V4(v4) if v4.is_private() => 1,
        _ => 2,
    });
    lan.dedup();
    if lan.is_empty() {
        return vec![SocketAddr::new(IpAddr::from([127, 0, 0, 1]), bound.port())];
    }
    lan.into_iter()
        .map(|ip| SocketAddr::new(ip, bound.port()))
        .collect()
}

/// `address` as a URL.
pub fn url(address: SocketAddr) -> String {
    format!("http://{address}/")
}

/// The join URL as an SVG QR code, black on white, scaling to its box.
pub fn qr_svg(url: &str) -> String {
    match QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(256, 256)
            .quiet_zone(true)
            .build(),
        Err(_) => String::from("<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
    }
}

/// The join URL as a QR code for a terminal: light modules drawn as
/// blocks, so it reads on the usual dark background.
pub fn qr_text(url: &str) -> String {
    match QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

/// Deletes the runs of students who have been gone for
/// [`OWNER_GONE_AFTER`], so a slot is never lost to a closed laptop.
pub async fn reclaim(class: Arc<Classroom>, hub: Arc<Hub>, shutdown: CancellationToken) {
    let every = OWNER_GONE_AFTER / 8;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let gone = class.gone(tokio::time::Instant::now());
        let owned = hub.sandboxes();
        for student in gone {
            for run in owned.get(&student).into_iter().flatten() {
                if hub.remove(run).await.is_ok() {
                    tracing::info!(run = %run, "reclaimed the run of a student who left");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn students_never_get_an_unspecified_address() {
        let any = SocketAddr::from(([0, 0, 0, 0], 8080));
        let joins = join_addresses(any);
        assert!(!joins.is_empty());
        assert!(
            joins
                .iter()
                .all(|a| !a.ip().is_unspecified() && a.port() == 8080)
        );
        let one = SocketAddr::from(([192, 168, 1, 20], 9000));
        assert_eq!(join_addresses(one), [one]);
        assert_eq!(url(one), "http://192.168.1.20:9000/");
    }

    #[test]
    fn the_qr_codes_encode_the_url() {
        let svg = qr_svg("http://192.168.1.20:8080/");
        assert!(
            svg.starts_with("<?xml") || svg.starts_with("<svg"),
            "{svg:.60}"
        );
        assert!(svg.contains("<path") || svg.contains("<rect"));
        let text = qr_text("http://192.168.1.20:8080/");
        assert!(text.lines().count() > 10);
        assert!(text.contains('█'));
    }
}
