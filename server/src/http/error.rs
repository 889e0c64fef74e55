//! The one error type at the HTTP edge: every refusal is a 4xx with a JSON
//! body that names the problem.

use crate::engines::OrderError;
use crate::hub::TooManyRuns;
use crate::run::CommandError;
use crate::tree::TreeError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no run named `{0}`")]
    UnknownRun(String),
    #[error("no pattern named `{0}`")]
    UnknownPattern(String),
    #[error("no API route {0}")]
    NoRoute(String),
    #[error("{0} is not allowed here")]
    Method(String),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    TooManyRuns(#[from] TooManyRuns),
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
            ApiError::Malformed { status, .. } => match *status {
                StatusCode::PAYLOAD_TOO_LARGE => (*status, "body_too_large"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => (*status, "not_json"),
                StatusCode::UNPROCESSABLE_ENTITY => (*status, "invalid_body"),
                _ => (StatusCode::BAD_REQUEST, "bad_request"),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        tracing::info!(status = status.as_u16(), code, error = %self, "request refused");
        (
            status,
            Json(ErrorBody {
                error: code.to_owned(),
                message: self.to_string(),
            }),
        )
            .into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let message = match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                "the request body is too large (16 KiB at most)".to_owned()
            }
            _ => rejection.body_text(),
        };
        ApiError::Malformed { status, message }
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
