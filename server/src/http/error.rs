//! The one error type at the HTTP edge: every refusal is a 4xx with a JSON
//! body that names the problem.

use super::guard::Untrusted;
use crate::classroom::ClassError;
use crate::engines::OrderError;
use crate::engines::cancellation::tree::TreeError;
use crate::hub::{RemoveError, TooManyRuns};
use crate::replay::ReplayError;
use crate::run::CommandError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::ErrorBody;

/// The longest message an answer (and the log line beside it) carries.
const MESSAGE_CHARS: usize = 400;

/// Values taken from the request are shown through [`Untrusted`]: escaped,
/// and cut short.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no run named `{}`", Untrusted(.0))]
    UnknownRun(String),
    #[error("no pattern named `{}`", Untrusted(.0))]
    UnknownPattern(String),
    #[error("no API route {}", Untrusted(.0))]
    NoRoute(String),
    #[error("{} is not allowed here", Untrusted(.0))]
    Method(String),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    TooManyRuns(#[from] TooManyRuns),
    #[error(transparent)]
    Class(#[from] ClassError),
    #[error("this server runs no classroom session; start it with --classroom")]
    NoSession,
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error("`{}` is the pattern's own run and stays; stop or reset it instead", Untrusted(.0))]
    KeptRun(String),
    #[error(
        "this server does not answer to the host `{0}`; start it with `--allow-host NAME` to add a name"
    )]
    HostNotAllowed(String),
    #[error("commands are taken from this dashboard's own pages only, not from {0}")]
    CrossOrigin(String),
    #[error("the request body is too large ({} KiB at most)", .0 / 1024)]
    TooLarge(usize),
    /// The request's body, path or query could not be read.
    #[error("{message}")]
    Malformed { status: StatusCode, message: String },
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::UnknownRun(_) => (StatusCode::NOT_FOUND, "unknown_run"),
            ApiError::UnknownPattern(_) => (StatusCode::NOT_FOUND, "unknown_pattern"),
            ApiError::NoRoute(_) => (StatusCode::NOT_FOUND, "no_route"),
            ApiError::Method(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Command(CommandError::NotPaused) => (StatusCode::CONFLICT, "not_paused"),
            ApiError::Command(CommandError::NotRunning) => (StatusCode::CONFLICT, "not_running"),
            ApiError::Command(CommandError::Busy) => (StatusCode::CONFLICT, "busy"),
            ApiError::Command(CommandError::Replay(_)) => (StatusCode::CONFLICT, "replay"),
            ApiError::Command(CommandError::Gone) => (StatusCode::NOT_FOUND, "unknown_run"),
            ApiError::Command(CommandError::Tree(e)) => match e {
                TreeError::UnknownNode(_) => (StatusCode::NOT_FOUND, "unknown_node"),
                TreeError::AlreadyCancelled(_) => (StatusCode::CONFLICT, "already_cancelled"),
                TreeError::Ended(_) => (StatusCode::CONFLICT, "already_ended"),
                TreeError::ShuttingDown => (StatusCode::CONFLICT, "already_shutting_down"),
                TreeError::CannotFail(_) | TreeError::NoShutdown => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "invalid_command")
                }
            },
            ApiError::Command(CommandError::Order(e)) => match e {
                OrderError::Unknown(_) => (StatusCode::NOT_FOUND, "unknown_part"),
                OrderError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
                OrderError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_command"),
            },
            ApiError::Command(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_command"),
            ApiError::TooManyRuns(_) => (StatusCode::CONFLICT, "too_many_runs"),
            ApiError::Class(e) => match e {
                ClassError::PresenterOnly => (StatusCode::FORBIDDEN, "presenter_only"),
                ClassError::WrongToken => (StatusCode::FORBIDDEN, "wrong_token"),
                ClassError::NotYours(_) => (StatusCode::FORBIDDEN, "not_yours"),
                ClassError::NoIdentity => (StatusCode::FORBIDDEN, "no_identity"),
                ClassError::TooManySandboxes => (StatusCode::CONFLICT, "too_many_sandboxes"),
                ClassError::NoQuestion => (StatusCode::CONFLICT, "no_question"),
                ClassError::Stale(_) => (StatusCode::CONFLICT, "stale_question"),
                ClassError::Revealed => (StatusCode::CONFLICT, "already_revealed"),
                ClassError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            },
            ApiError::NoSession => (StatusCode::NOT_FOUND, "no_session"),
            ApiError::Replay(_) => (StatusCode::UNPROCESSABLE_ENTITY, "bad_history"),
            ApiError::KeptRun(_) => (StatusCode::CONFLICT, "pattern_run"),
            ApiError::HostNotAllowed(_) => (StatusCode::FORBIDDEN, "host_not_allowed"),
            ApiError::CrossOrigin(_) => (StatusCode::FORBIDDEN, "cross_origin"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ApiError::Malformed { status, .. } => match *status {
                StatusCode::REQUEST_TIMEOUT => (*status, "body_timeout"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => (*status, "not_json"),
                StatusCode::UNPROCESSABLE_ENTITY => (*status, "invalid_body"),
                _ => (StatusCode::BAD_REQUEST, "bad_request"),
            },
        }
    }
}

impl ApiError {
    pub fn bad_request(message: &str) -> ApiError {
        ApiError::Malformed {
            status: StatusCode::BAD_REQUEST,
            message: message.to_owned(),
        }
    }
}

impl From<RemoveError> for ApiError {
    fn from(e: RemoveError) -> Self {
        match e {
            RemoveError::Unknown(run) => ApiError::UnknownRun(run),
            RemoveError::Kept(run) => ApiError::KeptRun(run),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        // Parsers quote what they could not read, so the whole message is
        // made safe, not only the values named above.
        let message = Untrusted(&self.to_string()).limited(MESSAGE_CHARS);
        tracing::info!(status = status.as_u16(), code, error = %message, "request refused");
        (
            status,
            Json(ErrorBody {
                error: code.to_owned(),
                message,
            }),
        )
            .into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        // Bodies are read whole, under their size limit, before this (see
        // `body`): what is left to reject is the JSON or its content type.
        ApiError::Malformed {
            status: rejection.status(),
            message: rejection.body_text(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::Malformed {
            status: StatusCode::BAD_REQUEST,
            message: rejection.body_text(),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::Malformed {
            status: StatusCode::BAD_REQUEST,
            message: rejection.body_text(),
        }
    }
}
