//! `geoalign rebalance`: propose moves that bring an alignment's territories within
//! the balance tolerance, moving as few units as it can (at most `--max-moved`); shows
//! the quality before and after and the transfers, and commits only with `--apply`.

use geoalign::build::{Progress, RebalanceParams};
use geoalign::config::Config;
use geoalign::engine::{MaxMoved, RebalanceRequest};

use super::output::Stdout;
use super::{CliError, author, engine};

/// Propose a rebalance of an alignment (a change set for review; `--apply` commits it
/// as one change set, undoable).
#[derive(clap::Args)]
pub struct Rebalance {
    /// Alignment to rebalance.
    #[arg(long)]
    alignment: String,
    /// Metrics to balance: `population`, or a weighted mix `population:0.6,households:0.4`;
    /// unit metrics or the alignment's account metrics (`potential`; `accounts`: their count).
    #[arg(long)]
    balance: String,
    /// Allowed relative deviation from the mean (0.02 = 2%).
    #[arg(long, default_value_t = 0.02, allow_negative_numbers = true)]
    tolerance: f64,
    /// Most units moved: a number (250) or a percentage of the units (10%).
    #[arg(long, default_value = "10%")]
    max_moved: String,
    /// Seed of the random order of moves.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Commit the proposal as one change set (else it is only shown).
    #[arg(long)]
    apply: bool,
    /// Print the proposal as JSON (`changes` can be applied with `geoalign align change`).
    #[arg(long)]
    json: bool,
}

impl Rebalance {
    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        let engine = engine(config)?;
        let max_moved = MaxMoved::parse(&self.max_moved).map_err(geoalign::engine::AlignError::from)?;
        let request = RebalanceRequest {
            alignment: self.alignment,
            balance: self.balance,
            max_moved,
            params: RebalanceParams {
                tolerance: self.tolerance,
                seed: self.seed,
                ..RebalanceParams::default()
            },
        };
        engine.check_rebalance(&request)?;
        let bar = indicatif::ProgressBar::new(1000);
        bar.set_style(
            indicatif::ProgressStyle::with_template("rebalance [{bar:40}] {percent:>3}% {elapsed} {prefix}")
                .map_err(|e| CliError::Internal(e.to_string()))?
                .progress_chars("=> "),
        );
        let on_progress = |p: Progress| {
            bar.set_position((p.done * 1000.0) as u64);
            bar.set_prefix(format!("max |dev| {:.2}%", p.max_deviation * 100.0));
            true
        };
        let proposal = engine.rebalance(&request, &on_progress);
        bar.finish_and_clear();
        let proposal = proposal?;
        if self.json && !self.apply {
            return out.json(&proposal);
        }
        out.line(format_args!(
            "alignment '{}' at revision {}: {} unit(s) to move (at most {}), {} locked, {} left out",
            proposal.alignment,
            proposal.expected_revision,
            proposal.moved_units,
            proposal.max_moved,
            proposal.locked_units,
            proposal.left_out_units
        ))?;
        out.line(format_args!("before: {}", proposal.before))?;
        out.line(format_args!("after:  {}", proposal.after))?;
        for t in &proposal.transfers {
            let values: Vec<String> = t.values.iter().map(|(k, v)| format!("{k} {v:.0}")).collect();
            let reps = |r: &[String]| {
                if r.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", r.join(", "))
                }
            };
            out.line(format_args!(
                "  {}{} -> {}{}: {} unit(s), {}",
                t.from,
                reps(&t.from_reps),
                t.to,
                reps(&t.to_reps),
                t.units.len(),
                values.join(", ")
            ))?;
        }
        if !self.apply {
            return out.line("not applied: run again with --apply to commit it as one change set");
        }
        if proposal.changes.is_empty() {
            return out.line("nothing to apply");
        }
        let outcome = engine.apply(
            &proposal.alignment,
            proposal.expected_revision,
            &proposal.changes,
            &author(),
        )?;
        out.line(format_args!(
            "applied as revision {} (undo with `geoalign align undo --alignment {}`)",
            outcome.change.revision, proposal.alignment
        ))
    }
}
