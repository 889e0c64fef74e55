//! Request bodies: read whole, small, and soon, before any handler sees them.
//!
//! A command is a few hundred bytes, so the API reads each body to the end
//! first, under two bounds: [`BODY_LIMIT`] bytes and [`BODY_DEADLINE`] for
//! the whole of it. A body over the limit is answered `413` at once, but
//! the rest of it is still read (and thrown away) for a while: a client that
//! sends everything before it reads would otherwise see its connection
//! reset, and never the answer that says why.

use super::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::time::Duration;

/// Request bodies are small commands; anything bigger is refused.
pub const BODY_LIMIT: usize = 16 * 1024;
/// Time for a whole body to arrive.
pub const BODY_DEADLINE: Duration = Duration::from_secs(10);
/// How much of a refused body is read and dropped so the answer arrives.
const DRAIN_LIMIT: usize = 64 << 20;
/// How long a refused body is read and dropped.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Reads the body whole, or refuses it.
pub async fn bounded(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // An exported history is the one big body the API takes.
    let limit = if parts.uri.path().ends_with("/replays") {
        crate::replay::MAX_REPLAY_BYTES
    } else {
        BODY_LIMIT
    };
    let mut stream = body.into_data_stream();
    if declared.is_some_and(|n| n > limit as u64) {
        drain(stream);
        return closing(ApiError::TooLarge(limit));
    }
    let read = async {
        let mut whole = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| ApiError::bad_request("the request body broke off"))?;
            if whole.len() + chunk.len() > limit {
                return Err(ApiError::TooLarge(limit));
            }
            whole.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(whole))
    };
    match tokio::time::timeout(BODY_DEADLINE, read).await {
        Ok(Ok(whole)) => {
            next.run(Request::from_parts(parts, Body::from(whole)))
                .await
        }
        Ok(Err(ApiError::TooLarge(limit))) => {
            drain(stream);
            closing(ApiError::TooLarge(limit))
        }
        Ok(Err(refusal)) => closing(refusal),
        Err(_) => closing(ApiError::Malformed {
            status: StatusCode::REQUEST_TIMEOUT,
            message: format!(
                "the request body did not arrive within {} s",
                BODY_DEADLINE.as_secs()
            ),
        }),
    }
}

/// A refusal after which the connection closes: what is left of the
/// request is not worth reading.
fn closing(refusal: ApiError) -> Response {
    let mut response = refusal.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Reads what is left of a refused body off to the side, so the answer is
/// not lost to a reset.
fn drain(mut stream: axum::body::BodyDataStream) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            let mut read = 0;
            while let Some(Ok(chunk)) = stream.next().await {
                read += chunk.len();
                if read > DRAIN_LIMIT {
                    break;
                }
            }
        })
        .await;
    });
}
