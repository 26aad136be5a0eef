//! `geoalign lookup` (who owns points), `geoalign geocode` (addresses) and `geoalign route`
//! (leads), offline.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use geoalign::config::Config;
use geoalign::engine::Engine;
use geoalign::lookup::geocode::Country;
use geoalign::lookup::route;

use super::output::Stdout;
use super::{CliError, engine, open_store, read_input};

#[derive(Args)]
pub struct Lookup {
    /// Alignment name.
    #[arg(long)]
    alignment: String,
    /// CSV of points (id,lon,lat).
    file: Option<PathBuf>,
    /// Longitude of a single point.
    #[arg(long, requires = "lat", conflicts_with = "file", allow_hyphen_values = true)]
    lon: Option<f64>,
    /// Latitude of a single point.
    #[arg(long, requires = "lon", allow_hyphen_values = true)]
    lat: Option<f64>,
    /// Snap a point outside every unit to the nearest within this many km.
    #[arg(long)]
    snap_km: Option<f64>,
}

#[derive(Args)]
pub struct Geocode {
    /// Alignment name.
    #[arg(long)]
    alignment: String,
    /// CSV of addresses (id,address).
    file: PathBuf,
    /// Postal code format: us, uk, ca, de.
    #[arg(long, default_value = "us")]
    country: Country,
}

#[derive(Args)]
pub struct Route {
    /// Alignment name (or give --team).
    #[arg(long, required_unless_present = "team", conflicts_with = "team")]
    alignment: Option<String>,
    /// Route by this team's active alignment, or by every team's with `all`.
    #[arg(long)]
    team: Option<String>,
    /// CSV of leads (id,lon,lat or id,address, then any fields) or a JSON array of leads.
    file: PathBuf,
    /// Postal code format of addresses: us, uk, ca, de.
    #[arg(long, default_value = "us")]
    country: Country,
}

/// A batch that failed: writing the result, or else the file (with its path).
fn failed(out: &Stdout, file: &std::path::Path, e: geoalign::lookup::batch::BatchError) -> CliError {
    out.failure().unwrap_or_else(|| CliError::Input {
        path: file.to_owned(),
        reason: e.to_string(),
    })
}

impl Lookup {
    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        let engine = engine(config)?;
        let snapshot = engine.snapshot(&self.alignment)?;
        match (self.file, self.lon, self.lat) {
            (Some(file), _, _) => {
                let input = read_input(&file)?;
                let rows = geoalign::lookup::batch::lookup_csv_with_progress(&snapshot, &input, &mut *out)
                    .map_err(|e| failed(out, &file, e))?;
                eprintln!("{rows} points looked up on revision {}", snapshot.revision);
                Ok(())
            }
            (None, Some(lon), Some(lat)) => {
                let owner = snapshot.lookup(lon, lat, self.snap_km)?;
                out.json(&serde_json::json!({ "revision": snapshot.revision, "owner": owner }))
            }
            _ => Err(CliError::Usage(
                "give a CSV file of points, or --lon and --lat".into(),
            )),
        }
    }
}

impl Geocode {
    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        let store = Arc::new(open_store(config)?);
        let engine = Engine::new(store.clone());
        let snapshot = engine.snapshot(&self.alignment)?;
        let input = read_input(&self.file)?;
        let (rows, matched) = geoalign::lookup::geocode_batch::geocode_csv_with_progress(
            &snapshot,
            &store,
            &input,
            self.country,
            &mut *out,
        )
        .map_err(|e| failed(out, &self.file, e))?;
        eprintln!(
            "{rows} addresses, {matched} geocoded, {} not, on revision {}",
            rows - matched,
            snapshot.revision
        );
        Ok(())
    }
}

impl Route {
    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        let store = Arc::new(open_store(config)?);
        let engine = Engine::new(store.clone());
        let plans = plans(&engine, self.alignment.as_deref(), self.team.as_deref())?;
        let input = read_input(&self.file)?;
        let leads = route::parse_batch(&input).map_err(|e| failed(out, &self.file, e))?;
        let rows = route::route_batch(&store, &plans, &leads, self.country)?;
        let routed = rows
            .iter()
            .filter(|r| r.routed.as_ref().is_ok_and(|r| r.decided_by.is_some()))
            .count();
        let csv =
            route::write_csv(&rows).map_err(|e| CliError::Internal(format!("writing the answer: {e}")))?;
        out.write_all(&csv)
            .map_err(|e| out.failure().unwrap_or(CliError::Stdout(e)))?;
        eprintln!(
            "{} leads, {} answers, {routed} with an owner",
            leads.len(),
            rows.len()
        );
        Ok(())
    }
}

/// The plans `--alignment` or `--team` (a team's active alignment, or every team's with
/// `all`) name, each with its team.
pub(super) fn plans(
    engine: &Engine,
    alignment: Option<&str>,
    team: Option<&str>,
) -> Result<geoalign::engine::PlanSnapshots, CliError> {
    match (alignment, team) {
        (Some(a), _) => Ok(vec![(None, engine.snapshot(a)?)]),
        (None, Some(team)) => Ok((engine.team_snapshots(team)?.into_iter())
            .map(|(t, s)| (Some(t), s))
            .collect()),
        (None, None) => Err(CliError::Usage("give --alignment or --team".into())),
    }
}
