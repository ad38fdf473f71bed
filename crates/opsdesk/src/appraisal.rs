//! `opsdesk appraisal …`: the appraisal rules from the command line.

use clap::Subcommand;
use opsdesk_db::Db;
use opsdesk_domain::appraisal::parse_score;

use crate::{Failure, Ui};

#[derive(Subcommand)]
pub(crate) enum AppraisalCommand {
    /// The grade a total score earns under the current settings (prints only the grade, e.g. A-).
    Grade {
        /// The total score, 0–100, up to two decimals.
        #[arg(long, allow_hyphen_values = true)]
        score: String,
    },
}

pub(crate) async fn run(db: &Db, cmd: AppraisalCommand, ui: &Ui) -> Result<(), Failure> {
    match cmd {
        AppraisalCommand::Grade { score } => {
            let policy = db.appraisal_policy().await.map_err(|e| Failure::db(e, ui.lang))?;
            let score = parse_score(&score).map_err(|e| Failure::BadInput(e.to_string()))?;
            println!("{}", policy.grade(score));
            Ok(())
        }
    }
}
