//! `geoalign build`: a new alignment of k balanced, contiguous, compact territories.

use std::io::Write;
use std::path::PathBuf;

use geoalign::build::{Params, Progress};
use geoalign::config::Config;
use geoalign::engine::{BuildRequest, UnitGraph, Within};

use super::output::Stdout;
use super::{CliError, engine, open_input, read_input};

/// Build a new alignment of k territories balanced on metrics, each contiguous and
/// compact (never overwrites: refused when the alignment exists).
#[derive(clap::Args)]
pub struct Build {
    /// Dataset of units.
    #[arg(long)]
    dataset: String,
    /// Name of the new alignment.
    #[arg(long, required_unless_present_any = ["dump_graph", "evaluate"])]
    alignment: Option<String>,
    /// Number of territories (k); with --seeds, the number of reps by default.
    #[arg(long, required_unless_present = "seeds")]
    territories: Option<usize>,
    /// Reps to build for (CSV `id,name,email,lon,lat`, as `geoalign reps import` takes):
    /// each gets one territory, the one holding its home or nearest it.
    #[arg(long, value_name = "FILE")]
    seeds: Option<PathBuf>,
    /// With --seeds: grow each rep's territory from the unit holding its home and keep
    /// it there (balance then depends on where the reps live).
    #[arg(long, requires = "seeds")]
    keep_homes: bool,
    /// Metrics to balance: `population`, or a weighted mix `population:0.6,households:0.4`.
    #[arg(long)]
    balance: String,
    /// Also group the territories into this many districts (whole territories each,
    /// balanced, contiguous, compact).
    #[arg(long)]
    districts: Option<usize>,
    /// Also group the districts into this many regions.
    #[arg(long, requires = "districts")]
    regions: Option<usize>,
    /// Build inside the groups of this level (district, region) of the --from alignment:
    /// the territories are shared out over its groups by weight, none crosses one, and
    /// the new alignment keeps the groups and the levels above.
    #[arg(long, requires = "from", value_name = "LEVEL")]
    within: Option<String>,
    /// The alignment (same dataset) whose groups --within keeps.
    #[arg(long, requires = "within", value_name = "ALIGNMENT")]
    from: Option<String>,
    /// Allowed relative deviation from the mean (0.02 = 2%).
    #[arg(long, default_value_t = 0.02, allow_negative_numbers = true)]
    tolerance: f64,
    /// Seed of the random choices: the same seed gives the same territories.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Independent restarts (run on two threads); the best is kept.
    #[arg(long, default_value_t = 2)]
    restarts: usize,
    /// Most ejection chains (the effort of the balance repair).
    #[arg(long, hide = true)]
    max_chains: Option<usize>,
    /// Print the quality report as JSON.
    #[arg(long)]
    json: bool,
    /// Write the unit graph (JSON: ids, weights, adjacency, border lengths) and stop (for the benchmarks).
    #[arg(long, hide = true, value_name = "FILE")]
    dump_graph: Option<PathBuf>,
    /// Print the quality of a partition of the unit graph (one territory index per line) and stop.
    #[arg(long, hide = true, value_name = "FILE")]
    evaluate: Option<PathBuf>,
}

impl Build {
    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        let engine = engine(config)?;
        let seeds = match &self.seeds {
            Some(path) => {
                geoalign::align::records::rep_records(open_input(path)?).map_err(|e| CliError::Input {
                    path: path.clone(),
                    reason: e.to_string(),
                })?
            }
            None => Default::default(),
        };
        let territories = self.territories.unwrap_or(seeds.len());
        let defaults = Params::default();
        let params = Params {
            territories,
            tolerance: self.tolerance,
            seed: self.seed,
            restarts: self.restarts,
            max_chains: self.max_chains.unwrap_or(defaults.max_chains),
            ..defaults
        };
        if let Some(path) = &self.dump_graph {
            let graph = engine.unit_graph(&self.dataset, &self.balance)?;
            return dump_graph(&graph, path);
        }
        if let Some(path) = &self.evaluate {
            params
                .check(usize::MAX)
                .map_err(geoalign::engine::AlignError::from)?;
            let graph = engine.unit_graph(&self.dataset, &self.balance)?;
            let owner = read_partition(path, graph.graph.len(), territories)?;
            return out.json(&graph.quality(&owner, territories, self.tolerance));
        }
        let Some(alignment) = self.alignment else {
            return Err(CliError::Usage("--alignment is required".into()));
        };
        let bar = indicatif::ProgressBar::new(1000);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg:<8} [{bar:40}] {percent:>3}% {elapsed} {prefix}")
                .map_err(|e| CliError::Internal(e.to_string()))?
                .progress_chars("=> "),
        );
        let on_progress = |p: Progress| {
            bar.set_message(p.phase);
            bar.set_position((p.done * 1000.0) as u64);
            if p.phase != "done" {
                bar.set_prefix(format!("max |dev| {:.2}%", p.max_deviation * 100.0));
            }
            true
        };
        let request = BuildRequest {
            alignment,
            dataset: self.dataset,
            balance: self.balance,
            params,
            seeds,
            keep_homes: self.keep_homes,
            districts: self.districts,
            regions: self.regions,
            within: self
                .within
                .zip(self.from)
                .map(|(level, alignment)| Within { alignment, level }),
        };
        let outcome = engine.build(&request, &on_progress);
        bar.finish_and_clear();
        let outcome = outcome?;
        if self.json {
            return out.json(&outcome);
        }
        out.line(format_args!(
            "alignment '{}' on '{}': built in {:.2} s (unit graph {:.2} s)",
            outcome.alignment.name, outcome.alignment.dataset, outcome.build_seconds, outcome.graph_seconds
        ))?;
        for seed in &outcome.seeds {
            let home = match seed.home_inside {
                true => format!("home in {}", seed.unit),
                false => format!("home {:.1} km from {}", seed.distance_km, seed.unit),
            };
            out.line(format_args!("  {} -> {} ({home})", seed.rep, seed.territory))?;
        }
        out.line(&outcome.quality)?;
        for (level, quality) in [("districts", &outcome.districts), ("regions", &outcome.regions)] {
            if let Some(quality) = quality {
                out.line(format_args!("{level}:"))?;
                out.line(quality)?;
            }
        }
        Ok(())
    }
}

/// The unit graph as JSON: `ids`, `weight`, CSR `xadj`/`adjncy`, `length` (km per
/// adjacency entry, 0 for proxy edges), `proxies`.
fn dump_graph(graph: &UnitGraph, path: &std::path::Path) -> Result<(), CliError> {
    let g = &graph.graph;
    let mut xadj = Vec::with_capacity(g.len() + 1);
    let mut adjncy = Vec::new();
    let mut length = Vec::new();
    xadj.push(0usize);
    for u in 0..g.len() as u32 {
        for (v, l) in g.neighbours(u) {
            adjncy.push(v);
            length.push(l);
        }
        xadj.push(adjncy.len());
    }
    let value = serde_json::json!({
        "ids": graph.ids,
        "weight": graph.weight,
        "xadj": xadj,
        "adjncy": adjncy,
        "length": length,
        "proxies": g.proxies(),
    });
    let file = std::fs::File::create(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut writer = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut writer, &value).map_err(|e| CliError::Internal(e.to_string()))?;
    writer.flush().map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })
}

/// One territory index (0..k) per graph unit, one per line.
fn read_partition(path: &std::path::Path, units: usize, k: usize) -> Result<Vec<u32>, CliError> {
    let text = String::from_utf8_lossy(&read_input(path)?).into_owned();
    let bad = |reason: String| CliError::Input {
        path: path.to_owned(),
        reason,
    };
    let owner: Vec<u32> = text
        .split_whitespace()
        .map(|t| {
            t.parse::<u32>()
                .map_err(|_| bad(format!("'{t}' is not a territory index")))
        })
        .collect::<Result<_, _>>()?;
    if owner.len() != units {
        return Err(bad(format!("{} lines for {units} units", owner.len())));
    }
    if let Some(t) = owner.iter().find(|&&t| t as usize >= k) {
        return Err(bad(format!("territory {t} outside 0..{k}")));
    }
    Ok(owner)
}
