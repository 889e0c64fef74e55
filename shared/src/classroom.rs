//! A classroom session: who is who, where the presenter is, and the question
//! the room is answering.
//!
//! In a session the event stream also carries `class` messages: a
//! [`ClassView`] as this viewer may see it, sent when it changes.

use serde::{Deserialize, Serialize};

/// What a viewer is in the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The teacher: may command every run, asks the questions.
    Presenter,
    /// Anyone else: watches, answers, and drives runs of their own.
    Student,
}

/// Where the presenter is, for students who follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Follow {
    /// The page's path: `/` or `/p/<pattern>`.
    pub path: String,
    /// Whether presenter mode is on.
    pub present: bool,
}

/// A question the room answers before the run goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub text: String,
    /// Two to six choices.
    pub choices: Vec<String>,
    /// The index of the right choice.
    pub answer: usize,
}

/// The most choices a question may have, and the fewest.
pub const MAX_CHOICES: usize = 6;
pub const MIN_CHOICES: usize = 2;
/// The longest question or choice, in characters.
pub const MAX_TEXT: usize = 200;

/// A question prepared for a pattern's seed scenario: asked at `at_ms` of
/// virtual time, about what happens next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepared {
    /// The moment of the scenario it is about.
    pub at_ms: u64,
    #[serde(flatten)]
    pub question: Question,
}

/// The question as one viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asked {
    /// Numbers the questions of a session, so an answer names the one it is for.
    pub id: u64,
    /// The run the question is about, paused until the reveal.
    pub run: String,
    pub text: String,
    pub choices: Vec<String>,
    /// How many have answered.
    pub answered: u32,
    /// Answers per choice: live for the presenter, for everyone after the reveal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tally: Option<Vec<u32>>,
    /// This viewer's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mine: Option<usize>,
    /// The right choice, once revealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<usize>,
}

/// The session as one viewer sees it: the stream's `class` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassView {
    pub role: Role,
    /// Where the presenter is, once the presenter's page has said.
    pub follow: Option<Follow>,
    /// Browsers watching, the presenter's not counted.
    pub watching: u32,
    pub question: Option<Asked>,
    /// The address students join at (for the presenter's Join panel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_url: Option<String>,
}

/// A student, as the presenter's report lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentReport {
    /// A short name for the student's browser.
    pub name: String,
    /// Streams open now.
    pub watching: u32,
    /// The student's own runs.
    pub sandboxes: Vec<String>,
    /// Whether the student answered the open question.
    pub answered: bool,
}

/// `GET /api/classroom`: the room, for the presenter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassReport {
    /// Browsers watching, the presenter's not counted.
    pub viewers: u32,
    pub students: Vec<StudentReport>,
    /// Every student's run.
    pub sandboxes: Vec<String>,
    pub question: Option<Asked>,
    pub join_url: String,
}

/// `POST /api/classroom/question`: a prepared question of the run's
/// pattern, by its index, or one written on the spot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    pub run: String,
    #[serde(default)]
    pub prepared: Option<usize>,
    #[serde(default)]
    pub question: Option<Question>,
}

/// `POST /api/classroom/answer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub question: u64,
    pub choice: usize,
}

impl Question {
    /// What is wrong with a question written on the spot, if anything.
    pub fn problem(&self) -> Option<String> {
        let n = self.choices.len();
        if !(MIN_CHOICES..=MAX_CHOICES).contains(&n) {
            return Some(format!(
                "a question needs {MIN_CHOICES} to {MAX_CHOICES} choices, got {n}"
            ));
        }
        if self.answer >= n {
            return Some(format!(
                "`answer` must be a choice's index, 0 to {}, got {}",
                n - 1,
                self.answer
            ));
        }
        let texts = std::iter::once(&self.text).chain(&self.choices);
        for text in texts {
            if text.trim().is_empty() {
                return Some("the question and every choice need some text".to_owned());
            }
            if text.chars().count() > MAX_TEXT {
                return Some(format!(
                    "the question and each choice are {MAX_TEXT} characters at most"
                ));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(choices: &[&str], answer: usize) -> Question {
        Question {
            text: "Which stops?".to_owned(),
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            answer,
        }
    }

    #[test]
    fn a_question_needs_two_to_six_choices_with_text_and_a_right_one() {
        assert_eq!(question(&["a", "b"], 1).problem(), None);
        assert!(question(&["a"], 0).problem().is_some());
        assert!(question(&["a"; 7], 0).problem().is_some());
        assert!(question(&["a", "b"], 2).problem().is_some());
        assert!(question(&["a", " "], 0).problem().is_some());
        assert!(question(&["a", &"x".repeat(201)], 0).problem().is_some());
    }

    #[test]
    fn a_prepared_question_reads_flat() {
        let p = Prepared {
            at_ms: 1900,
            question: question(&["a", "b"], 0),
        };
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["at_ms"], 1900);
        assert_eq!(json["choices"][1], "b");
        assert_eq!(serde_json::from_value::<Prepared>(json).unwrap(), p);
    }
}
