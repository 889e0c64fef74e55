//! The room: who is watching, where the presenter is, the open question
//! and its answers.

use super::identity::{Credentials, Token};
use shared::classroom::{
    Answer, Asked, ClassReport, ClassView, Follow, Question, Role, StudentReport,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Runs of their own a student may hold at once.
pub const MAX_SANDBOXES: usize = 2;
/// How long a student may be gone (no stream open, no request) before their
/// runs are reclaimed.
pub const OWNER_GONE_AFTER: Duration = Duration::from_secs(120);

/// Who sent a request, as the session sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Presenter,
    /// A browser with an identity.
    Student(String),
    /// A request with neither token nor identity (an API client).
    Anonymous,
}

/// Why the session refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassError {
    #[error(
        "only the presenter drives the class's runs; press Try it yourself for a run of your own"
    )]
    PresenterOnly,
    #[error("that is not the presenter's token")]
    WrongToken,
    #[error("run `{0}` belongs to another student")]
    NotYours(String),
    #[error("this browser has no identity yet: load the page first")]
    NoIdentity,
    #[error("you already have {MAX_SANDBOXES} runs of your own; delete one first")]
    TooManySandboxes,
    #[error("no question is open")]
    NoQuestion,
    #[error("that question is closed; the open one is {0}")]
    Stale(u64),
    #[error("the answer is out already")]
    Revealed,
    #[error("{0}")]
    Invalid(String),
}

/// A student's browser.
#[derive(Debug)]
struct Student {
    /// Event streams open now.
    streams: u32,
    /// The last request or the last stream closed.
    seen: Instant,
}

/// The question being answered.
#[derive(Debug)]
struct Open {
    id: u64,
    run: String,
    question: Question,
    /// Each student's choice.
    answers: BTreeMap<String, usize>,
    revealed: bool,
}

#[derive(Debug, Default)]
struct Room {
    follow: Option<Follow>,
    students: BTreeMap<String, Student>,
    /// Streams open without an identity.
    anonymous_streams: u32,
    question: Option<Open>,
    asked: u64,
}

/// The session.
#[derive(Debug)]
pub struct Classroom {
    token: Token,
    join_url: String,
    room: Mutex<Room>,
    /// Bumped on every change viewers may see.
    changed: watch::Sender<u64>,
}

impl Classroom {
    /// A session with a fresh presenter token, joined at `join_url`.
    pub fn new(join_url: String) -> Arc<Classroom> {
        Arc::new(Classroom {
            token: Token::random(),
            join_url,
            room: Mutex::default(),
            changed: watch::Sender::new(0),
        })
    }

    pub fn token(&self) -> &Token {
        &self.token
    }

    pub fn join_url(&self) -> &str {
        &self.join_url
    }

    fn room(&self) -> MutexGuard<'_, Room> {
        self.room.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn changed(&self) {
        self.changed.send_modify(|v| *v += 1);
    }

    /// Told of every change a viewer may see.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Who sent a request. A token that is not the presenter's is refused,
    /// not taken for a student: whoever sends one means to be the presenter.
    pub fn caller(&self, credentials: &Credentials) -> Result<Caller, ClassError> {
        if let Some(token) = &credentials.token {
            return if self.token.matches(token) {
                Ok(Caller::Presenter)
            } else {
                Err(ClassError::WrongToken)
            };
        }
        Ok(match &credentials.identity {
            Some(id) => {
                self.seen(id);
                Caller::Student(id.clone())
            }
            None => Caller::Anonymous,
        })
    }

    /// Marks a student as here now.
    fn seen(&self, id: &str) {
        let mut room = self.room();
        let now = Instant::now();
        room.students
            .entry(id.to_owned())
            .and_modify(|s| s.seen = now)
            .or_insert(Student {
                streams: 0,
                seen: now,
            });
    }

    /// Whether `caller` may command a run: the presenter any run, a student
    /// only a run of their own (`owner`); a shared run has none.
    pub fn may_command(
        &self,
        caller: &Caller,
        run: &str,
        owner: Option<&str>,
    ) -> Result<(), ClassError> {
        match (caller, owner) {
            (Caller::Presenter, _) => Ok(()),
            (Caller::Student(id), Some(owner)) if id == owner => Ok(()),
            (_, None) => Err(ClassError::PresenterOnly),
            (_, Some(_)) => Err(ClassError::NotYours(run.to_owned())),
        }
    }

    /// The presenter only.
    pub fn presenter_only(&self, caller: &Caller) -> Result<(), ClassError> {
        match caller {
            Caller::Presenter => Ok(()),
            Caller::Student(_) | Caller::Anonymous => Err(ClassError::PresenterOnly),
        }
    }

    /// Counts an open event stream until the returned guard is dropped.
    pub fn watching(self: &Arc<Self>, caller: &Caller) -> Seen {
        {
            let mut room = self.room();
            match caller {
                Caller::Presenter => {}
                Caller::Student(id) => {
                    let now = Instant::now();
                    room.students
                        .entry(id.clone())
                        .or_insert(Student {
                            streams: 0,
                            seen: now,
                        })
                        .streams += 1;
                }
                Caller::Anonymous => room.anonymous_streams += 1,
            }
        }
        self.changed();
        Seen {
            room: Arc::clone(self),
            caller: caller.clone(),
        }
    }

    /// Browsers watching now, the presenter's not counted.
    fn viewers(room: &Room) -> u32 {
        let students = room.students.values().filter(|s| s.streams > 0).count() as u32;
        students + room.anonymous_streams
    }

    /// The presenter's page moved: students who follow go there too.
    pub fn follow(&self, follow: Follow) {
        let mut room = self.room();
        if room.follow.as_ref() != Some(&follow) {
            room.follow = Some(follow);
            drop(room);
            self.changed();
        }
    }

    /// Opens a question about `run`, closing any other. Returns its number.
    pub fn ask(&self, run: String, question: Question) -> Result<u64, ClassError> {
        if let Some(problem) = question.problem() {
            return Err(ClassError::Invalid(problem));
        }
        let mut room = self.room();
        room.asked += 1;
        let id = room.asked;
        room.question = Some(Open {
            id,
            run,
            question,
            answers: BTreeMap::new(),
            revealed: false,
        });
        drop(room);
        self.changed();
        Ok(id)
    }

    /// A student's answer to the open question; a later one replaces it,
    /// until the reveal.
    pub fn answer(&self, caller: &Caller, answer: Answer) -> Result<(), ClassError> {
        let Caller::Student(id) = caller else {
            return Err(match caller {
                Caller::Presenter => {
                    ClassError::Invalid("the presenter asks; students answer".to_owned())
                }
                Caller::Student(_) | Caller::Anonymous => ClassError::NoIdentity,
            });
        };
        let mut room = self.room();
        let open = room.question.as_mut().ok_or(ClassError::NoQuestion)?;
        if open.id != answer.question {
            return Err(ClassError::Stale(open.id));
        }
        if open.revealed {
            return Err(ClassError::Revealed);
        }
        let n = open.question.choices.len();
        if answer.choice >= n {
            return Err(ClassError::Invalid(format!(
                "`choice` must be 0 to {}, got {}",
                n - 1,
                answer.choice
            )));
        }
        open.answers.insert(id.clone(), answer.choice);
        drop(room);
        self.changed();
        Ok(())
    }

    /// Shows the right answer; returns the run the question was about.
    pub fn reveal(&self) -> Result<String, ClassError> {
        let mut room = self.room();
        let open = room.question.as_mut().ok_or(ClassError::NoQuestion)?;
        if open.revealed {
            return Err(ClassError::Revealed);
        }
        open.revealed = true;
        let run = open.run.clone();
        drop(room);
        self.changed();
        Ok(run)
    }

    /// Closes the question (the presenter moves on).
    pub fn close_question(&self) {
        if self.room().question.take().is_some() {
            self.changed();
        }
    }

    /// The session as `caller` sees it.
    pub fn view(&self, caller: &Caller) -> ClassView {
        let room = self.room();
        let presenter = *caller == Caller::Presenter;
        ClassView {
            role: if presenter {
                Role::Presenter
            } else {
                Role::Student
            },
            follow: room.follow.clone(),
            watching: Self::viewers(&room),
            question: room.question.as_ref().map(|q| asked(q, caller)),
            join_url: presenter.then(|| self.join_url.clone()),
        }
    }

    /// The room, for the presenter; `sandboxes` are every student's runs.
    pub fn report(&self, sandboxes: &BTreeMap<String, Vec<String>>) -> ClassReport {
        let room = self.room();
        let question = room.question.as_ref();
        let students = room
            .students
            .iter()
            .map(|(id, s)| StudentReport {
                name: format!("browser {}", &id[..6.min(id.len())]),
                watching: s.streams,
                sandboxes: sandboxes.get(id).cloned().unwrap_or_default(),
                answered: question.is_some_and(|q| q.answers.contains_key(id)),
            })
            .collect();
        ClassReport {
            viewers: Self::viewers(&room),
            students,
            sandboxes: sandboxes.values().flatten().cloned().collect(),
            question: question.map(|q| asked(q, &Caller::Presenter)),
            join_url: self.join_url.clone(),
        }
    }

    /// Students gone for [`OWNER_GONE_AFTER`] with no stream open, whose
    /// runs may go.
    pub fn gone(&self, now: Instant) -> Vec<String> {
        self.room()
            .students
            .iter()
            .filter(|(_, s)| s.streams == 0 && now.duration_since(s.seen) >= OWNER_GONE_AFTER)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// The open question as `caller` sees it.
fn asked(open: &Open, caller: &Caller) -> Asked {
    let n = open.question.choices.len();
    let mut tally = vec![0; n];
    for choice in open.answers.values() {
        if let Some(t) = tally.get_mut(*choice) {
            *t += 1;
        }
    }
    let shows_tally = open.revealed || *caller == Caller::Presenter;
    let mine = match caller {
        Caller::Student(id) => open.answers.get(id).copied(),
        Caller::Presenter | Caller::Anonymous => None,
    };
    Asked {
        id: open.id,
        run: open.run.clone(),
        text: open.question.text.clone(),
        choices: open.question.choices.clone(),
        answered: open.answers.len() as u32,
        tally: shows_tally.then_some(tally),
        mine,
        answer: open.revealed.then_some(open.question.answer),
    }
}

/// An open stream, counted while it lasts.
#[derive(Debug)]
pub struct Seen {
    room: Arc<Classroom>,
    caller: Caller,
}

impl Drop for Seen {
    fn drop(&mut self) {
        {
            let mut room = self.room.room();
            match &self.caller {
                Caller::Presenter => {}
                Caller::Student(id) => {
                    if let Some(s) = room.students.get_mut(id) {
                        s.streams = s.streams.saturating_sub(1);
                        s.seen = Instant::now();
                    }
                }
                Caller::Anonymous => {
                    room.anonymous_streams = room.anonymous_streams.saturating_sub(1)
                }
            }
        }
        self.room.changed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn student(id: &str) -> Caller {
        Caller::Student(id.to_owned())
    }

    fn question() -> Question {
        Question {
            text: "Which stops?".to_owned(),
            choices: vec!["a".into(), "b".into(), "c".into()],
            answer: 2,
        }
    }

    #[test]
    fn runs_are_commanded_by_the_presenter_and_their_owner() {
        let class = Classroom::new("http://x/".into());
        let p = Caller::Presenter;
        assert_eq!(class.may_command(&p, "r", None), Ok(()));
        assert_eq!(class.may_command(&p, "r", Some("a")), Ok(()));
        assert_eq!(class.may_command(&student("a"), "r", Some("a")), Ok(()));
        assert_eq!(
            class.may_command(&student("b"), "r", Some("a")),
            Err(ClassError::NotYours("r".into()))
        );
        assert_eq!(
            class.may_command(&student("a"), "r", None),
            Err(ClassError::PresenterOnly)
        );
        assert_eq!(
            class.may_command(&Caller::Anonymous, "r", None),
            Err(ClassError::PresenterOnly)
        );
    }

    #[test]
    fn a_wrong_token_is_refused_rather_than_taken_for_a_student() {
        let class = Classroom::new("http://x/".into());
        let offer = |token: &str| Credentials {
            token: Some(token.to_owned()),
            identity: Some("0".repeat(32)),
        };
        assert_eq!(
            class.caller(&offer(class.token().reveal())),
            Ok(Caller::Presenter)
        );
        assert_eq!(class.caller(&offer("nope")), Err(ClassError::WrongToken));
        assert_eq!(class.caller(&Credentials::default()), Ok(Caller::Anonymous));
    }

    #[test]
    fn answers_count_once_each_change_until_the_reveal_and_show_only_to_the_presenter() {
        let class = Classroom::new("http://x/".into());
        let id = class.ask("cancel-tree".into(), question()).unwrap();
        let answer = |who: &str, choice| {
            class.answer(
                &student(who),
                Answer {
                    question: id,
                    choice,
                },
            )
        };
        answer("a", 0).unwrap();
        answer("b", 2).unwrap();
        answer("a", 2).unwrap();
        assert_eq!(
            answer("c", 3),
            Err(ClassError::Invalid("`choice` must be 0 to 2, got 3".into()))
        );
        assert_eq!(
            class.answer(
                &student("c"),
                Answer {
                    question: id + 1,
                    choice: 0
                }
            ),
            Err(ClassError::Stale(id))
        );
        let seen = class.view(&Caller::Presenter).question.unwrap();
        assert_eq!((seen.answered, seen.tally), (2, Some(vec![0, 0, 2])));
        let theirs = class.view(&student("a")).question.unwrap();
        assert_eq!(
            (theirs.tally, theirs.mine, theirs.answer),
            (None, Some(2), None)
        );
        assert_eq!(class.reveal(), Ok("cancel-tree".into()));
        assert_eq!(answer("b", 0), Err(ClassError::Revealed));
        let after = class.view(&student("b")).question.unwrap();
        assert_eq!((after.tally, after.answer), (Some(vec![0, 0, 2]), Some(2)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_student_counts_as_watching_while_a_stream_is_open_and_is_gone_later() {
        let class = Classroom::new("http://x/".into());
        let seen = class.watching(&student("a"));
        let twice = class.watching(&student("a"));
        let _presenter = class.watching(&Caller::Presenter);
        assert_eq!(class.view(&Caller::Presenter).watching, 1);
        drop((seen, twice));
        assert_eq!(class.view(&Caller::Presenter).watching, 0);
        assert!(class.gone(Instant::now()).is_empty(), "just left");
        tokio::time::sleep(OWNER_GONE_AFTER).await;
        assert_eq!(class.gone(Instant::now()), ["a"]);
    }
}
