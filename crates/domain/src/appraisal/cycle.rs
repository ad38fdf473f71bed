//! The monthly cycle's approval chain for one unit: the unit head scores and
//! signs, operations reviews, the executive approves, finance pays. Review
//! and approval may send the unit back to scoring with a comment; nothing
//! may be skipped, and nothing changes once approved.

use chrono::{Datelike, NaiveDate};

/// Where a unit stands in a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Scoring,
    Signed,
    Reviewed,
    Approved,
    Paid,
}

/// A step of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Sign,
    Review,
    Approve,
    SendBack,
    Pay,
}

impl State {
    pub fn key(self) -> &'static str {
        match self {
            State::Scoring => "scoring",
            State::Signed => "signed",
            State::Reviewed => "reviewed",
            State::Approved => "approved",
            State::Paid => "paid",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        [State::Scoring, State::Signed, State::Reviewed, State::Approved, State::Paid]
            .into_iter()
            .find(|s| s.key() == text)
    }

    /// Scores and results may change only while scoring.
    pub fn editable(self) -> bool {
        self == State::Scoring
    }

    /// The state a step leads to, if the step may be taken now.
    pub fn after(self, step: Step) -> Option<State> {
        match (self, step) {
            (State::Scoring, Step::Sign) => Some(State::Signed),
            (State::Signed, Step::Review) => Some(State::Reviewed),
            (State::Reviewed, Step::Approve) => Some(State::Approved),
            (State::Signed | State::Reviewed, Step::SendBack) => Some(State::Scoring),
            (State::Approved, Step::Pay) => Some(State::Paid),
            _ => None,
        }
    }
}

/// The deadline of a month's cycle: the 5th of the next month.
pub fn deadline(month: i64) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt((month / 100) as i32, (month % 100) as u32, 1)?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    NaiveDate::from_ymd_opt(next.year(), next.month(), 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_cannot_be_skipped_or_changed_after_approval() {
        use State::*;
        use Step::*;
        assert_eq!(Scoring.after(Sign), Some(Signed));
        assert_eq!(Scoring.after(Review), None);
        assert_eq!(Scoring.after(Approve), None);
        assert_eq!(Signed.after(Approve), None, "review comes first");
        assert_eq!(Signed.after(SendBack), Some(Scoring));
        assert_eq!(Reviewed.after(Approve), Some(Approved));
        assert_eq!(Reviewed.after(SendBack), Some(Scoring));
        assert_eq!(Approved.after(SendBack), None, "approved is locked");
        assert_eq!(Approved.after(Sign), None);
        assert_eq!(Approved.after(Pay), Some(Paid));
        assert_eq!(Paid.after(Pay), None);
        assert!(Scoring.editable() && !Signed.editable() && !Approved.editable());
        assert_eq!(deadline(202610), NaiveDate::from_ymd_opt(2026, 11, 5));
        assert_eq!(deadline(202612), NaiveDate::from_ymd_opt(2027, 1, 5));
    }
}
