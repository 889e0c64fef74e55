//! The classroom session's HTTP side: who a request comes from, the
//! presenter's page trading its token for a cookie, and the session's own
//! routes under `/api/classroom`.

use super::api::{ApiJson, find};
use super::{ApiError, AppState};
use crate::classroom::{
    Caller, ClassError, Classroom, Credentials, IDENTITY_COOKIE, PRESENTER_COOKIE,
    identity::cookie, new_identity,
};
use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use shared::Command;
use shared::classroom::{Answer, Ask, ClassReport, Follow};
use std::sync::Arc;

impl AppState {
    /// Who sent `headers`, in a session; `None` without one.
    pub(super) fn caller(&self, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
        match &self.classroom {
            None => Ok(None),
            Some(class) => Ok(Some(class.caller(&Credentials::from_headers(headers))?)),
        }
    }

    /// Refuses `caller` a command on run `id` unless the session allows it.
    pub(super) fn may_command(&self, caller: Option<&Caller>, id: &str) -> Result<(), ApiError> {
        let (Some(class), Some(caller)) = (&self.classroom, caller) else {
            return Ok(());
        };
        let owner = self
            .hub
            .owner(id)
            .ok_or_else(|| ApiError::UnknownRun(id.to_owned()))?;
        Ok(class.may_command(caller, id, owner.as_deref())?)
    }

    fn session(&self) -> Result<&Arc<Classroom>, ApiError> {
        self.classroom.as_ref().ok_or(ApiError::NoSession)
    }

    /// The session and its presenter, or a refusal.
    fn presenter(&self, headers: &HeaderMap) -> Result<&Arc<Classroom>, ApiError> {
        let class = self.session()?;
        let caller = class.caller(&Credentials::from_headers(headers))?;
        class.presenter_only(&caller)?;
        Ok(class)
    }
}

/// The app's page in a session. The presenter's URL (`?token=…`) trades
/// the token for a cookie and comes back without it, so the token leaves
/// the address bar and the history; a browser without an identity gets one.
pub(super) fn page(
    state: &AppState,
    uri: &OriginalUri,
    headers: &HeaderMap,
    page: Response,
) -> Response {
    let Some(class) = &state.classroom else {
        return page;
    };
    let offered = uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "token")
            .map(|(_, v)| v.to_owned())
    });
    let mut response = match offered {
        Some(token) => {
            let rest: Vec<&str> = uri
                .query()
                .unwrap_or_default()
                .split('&')
                .filter(|pair| !pair.starts_with("token="))
                .collect();
            let path = uri.path();
            let clean = if rest.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", rest.join("&"))
            };
            let mut redirect = Redirect::to(&clean).into_response();
            if class.token().matches(&token) {
                set_cookie(&mut redirect, &cookie(PRESENTER_COOKIE, &token));
            }
            redirect
        }
        None => page,
    };
    if Credentials::from_headers(headers).identity.is_none() {
        set_cookie(&mut response, &cookie(IDENTITY_COOKIE, &new_identity()));
    }
    response
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// `GET /api/classroom`: the room, for the presenter.
pub async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ClassReport>, ApiError> {
    let class = state.presenter(&headers)?;
    Ok(Json(class.report(&state.hub.sandboxes())))
}

/// `GET /api/classroom/qr.svg`: the join address as a QR code.
pub async fn qr(State(state): State<AppState>) -> Result<Response, ApiError> {
    let class = state.session()?;
    let svg = crate::classroom::qr_svg(class.join_url());
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        svg,
    )
        .into_response())
}

/// `POST /api/classroom/follow`: where the presenter's page is now.
pub async fn follow(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(follow): ApiJson<Follow>,
) -> Result<StatusCode, ApiError> {
    let class = state.presenter(&headers)?;
    let valid = follow.path == "/"
        || follow
            .path
            .strip_prefix("/p/")
            .is_some_and(|p| shared::PatternId::parse(p).is_some());
    if !valid {
        return Err(ClassError::Invalid(format!(
            "`path` must be / or /p/<pattern>, got `{}`",
            super::Untrusted(&follow.path)
        ))
        .into());
    }
    class.follow(follow);
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/classroom/question`: pauses the run and asks the room.
pub async fn ask(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(ask): ApiJson<Ask>,
) -> Result<Json<u64>, ApiError> {
    let class = state.presenter(&headers)?;
    let run = find(&state, &ask.run)?;
    let question = match (ask.prepared, ask.question) {
        (Some(i), None) => {
            let info = crate::engines::info(run.pattern());
            let count = info.questions.len();
            info.questions
                .into_iter()
                .nth(i)
                .map(|p| p.question)
                .ok_or_else(|| {
                    ClassError::Invalid(format!(
                        "`{}` has {count} prepared questions; `prepared` must be below that",
                        run.pattern()
                    ))
                })?
        }
        (None, Some(question)) => question,
        _ => {
            return Err(ClassError::Invalid(
                "give either `prepared` (an index) or `question`".to_owned(),
            )
            .into());
        }
    };
    let id = class.ask(ask.run.clone(), question)?;
    // The room thinks while the run stands still.
    if !run.snapshot().clock.paused {
        run.command(Command::Pause).await?;
    }
    state.hub.flush();
    Ok(Json(id))
}

/// `POST /api/classroom/answer`: a student's answer, until the reveal.
pub async fn answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(answer): ApiJson<Answer>,
) -> Result<StatusCode, ApiError> {
    let class = state.session()?;
    let caller = class.caller(&Credentials::from_headers(&headers))?;
    class.answer(&caller, answer)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/classroom/reveal`: shows the answer and lets the run go on.
pub async fn reveal(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let class = state.presenter(&headers)?;
    let run = class.reveal()?;
    if let Some(run) = state.hub.get(&run)
        && run.snapshot().clock.paused
    {
        run.command(Command::Resume).await?;
        state.hub.flush();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/classroom/question`: closes the question.
pub async fn close(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    state.presenter(&headers)?.close_question();
    Ok(StatusCode::NO_CONTENT)
}
