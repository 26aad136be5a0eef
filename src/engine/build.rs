//! Building a new alignment automatically (issue #15): the dataset's polygon units as
//! a [`Graph`], the balance weights from their metrics, [`crate::build::build`], and
//! the result written as a new alignment through the sheet import (one level,
//! `territory`; point units follow the polygon containing them).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::align::RepRecord;
use crate::align::rules::Kind;
use crate::build::{self, Balance, BuildError, Graph, Params, Progress, Quality};
use crate::feature::{UnitKind, is_placeholder_id};
use crate::snapshot::{DatasetModel, Snapshot};
use crate::store::{AlignmentInfo, StoreError};

use super::{AlignError, Engine, check_name};

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// Name of the new alignment (refused when it exists).
    pub alignment: String,
    /// Dataset of units.
    pub dataset: String,
    /// Balance metrics: `population` or `population:0.6,households:0.4`.
    pub balance: String,
    /// k, tolerance, seed and the effort.
    pub params: Params,
    /// Reps to build for (by id, each with a home): each gets one territory, the one
    /// holding its home or nearest it (balance first). Empty: territories get no reps.
    pub seeds: BTreeMap<String, RepRecord>,
    /// Keep every rep's home in its territory: territory `i` grows from the unit holding
    /// the `i`-th rep's home (or the nearest one no other rep took) and keeps it. Balance
    /// then depends on where the reps live.
    pub keep_homes: bool,
    /// Districts to group the territories into (whole territories each, balanced,
    /// contiguous, compact), if any.
    pub districts: Option<usize>,
    /// Regions to group the districts into (needs `districts`), if any.
    pub regions: Option<usize>,
    /// Build inside the groups of another alignment's level, which the new alignment
    /// keeps (with the levels above it), if any.
    pub within: Option<Within>,
}

/// The groups a build stays inside: a level (district or above) of an alignment on the
/// same dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Within {
    /// The alignment whose groups are kept.
    pub alignment: String,
    /// Its level (`district`, `region`, ...: not the leaf level).
    pub level: String,
}

/// An upper level a build made: districts of territories, regions of districts.
struct BuiltLevel {
    /// `district` or `region`.
    name: &'static str,
    /// The letter of its codes.
    letter: char,
    /// Its groups.
    count: usize,
    /// The group of each territory.
    of_territory: Vec<u32>,
    /// The group of each graph unit.
    of_unit: Vec<u32>,
}

/// The groups of a [`Within`] over a unit graph: each unit's group, and each group's
/// codes from its level up.
struct Groups {
    of_unit: Vec<Option<u32>>,
    chains: Vec<Vec<String>>,
    levels: Vec<String>,
}

/// Where a rep's territory was seeded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedPlacement {
    /// Rep id.
    pub rep: String,
    /// The territory built around the rep.
    pub territory: String,
    /// The unit holding the home, or the territory's unit nearest it (with
    /// `keep_homes`: the unit the territory grew from).
    pub unit: String,
    /// Whether the rep's home is inside the territory.
    pub home_inside: bool,
    /// Distance (km) from the home to the nearest unit of the territory (by its
    /// representative point); 0 when the home is inside.
    pub distance_km: f64,
}

/// A finished build.
#[derive(Debug, Clone, Serialize)]
pub struct BuildOutcome {
    /// The alignment created.
    pub alignment: AlignmentInfo,
    /// Its quality.
    pub quality: Quality,
    /// Seconds spent building the graph.
    pub graph_seconds: f64,
    /// Seconds spent partitioning.
    pub build_seconds: f64,
    /// Where each rep's territory was seeded (empty without seeds).
    pub seeds: Vec<SeedPlacement>,
    /// The districts' quality (on the units), when districts were built.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub districts: Option<Quality>,
    /// The regions' quality (on the units), when regions were built.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions: Option<Quality>,
}

/// A dataset's unit graph with the balance metrics of its polygon units, for builds,
/// rebalances and for evaluating other partitions of the same graph. Placeholder
/// units ([`crate::feature::is_placeholder_id`]: parks, airports, water) are left out:
/// no territory should be walled in by them, and they stay unassigned.
#[derive(Debug, Clone)]
pub struct UnitGraph {
    /// The graph.
    pub graph: Graph,
    /// The balance weight of every unit.
    pub weight: Vec<f64>,
    /// Each balance metric's values per unit.
    pub metrics: Vec<(String, Vec<f64>)>,
    /// Unit id of every graph unit.
    pub ids: Vec<String>,
    /// Dataset unit index of every graph unit.
    pub units: Vec<u32>,
}

impl UnitGraph {
    /// The graph of `model`'s polygon units (placeholders left out) with the metrics
    /// of `balance`; a point unit's metrics count in the polygon containing it. With
    /// `accounts` (an alignment on `model`), a metric no unit has may be one of its
    /// accounts' metrics (or `accounts`, their count), summed per unit over the accounts
    /// that follow their unit ([`Snapshot::unit_account_sums`]), as territories sum them.
    pub fn new(
        model: &DatasetModel,
        balance: &str,
        accounts: Option<&Snapshot>,
    ) -> Result<UnitGraph, BuildError> {
        let balance = Balance::parse(balance)?;
        let units = &model.units;
        let mut metrics = Vec::new();
        for (name, _) in &balance.metrics {
            let unit_sums = || accounts.and_then(|s| s.unit_account_sums(name));
            if !units.iter().any(|u| u.metrics.contains_key(name))
                && let Some(sums) = unit_sums()
            {
                let values: Vec<f64> = model.unit_of_topo.iter().map(|&u| sums[u as usize]).collect();
                metrics.push((name.clone(), values));
                continue;
            }
            let mut any = false;
            let mut values: Vec<f64> = model
                .unit_of_topo
                .iter()
                .map(|&u| {
                    let v = units.get(u).metrics.get(name).copied();
                    any |= v.is_some();
                    v.unwrap_or(0.0)
                })
                .collect();
            // A point unit (a PO-box ZIP) follows the polygon containing it, so its
            // metrics count there, as in the territories' sums.
            for unit in units.iter() {
                let (UnitKind::Point, Some(parent)) = (unit.kind, unit.parent) else {
                    continue;
                };
                if let (Some(v), Some(Some(t))) =
                    (unit.metrics.get(name), model.topo_of_unit.get(parent as usize))
                {
                    values[*t as usize] += v;
                    any = true;
                }
            }
            if !any {
                return Err(BuildError::UnknownMetric {
                    name: name.clone(),
                    available: balance_metrics(model, accounts).into_iter().collect(),
                });
            }
            metrics.push((name.clone(), values));
        }
        let columns: Vec<Vec<f64>> = metrics.iter().map(|(_, v)| v.clone()).collect();
        let weight = balance.combine(&columns);
        let ids: Vec<String> = model
            .unit_of_topo
            .iter()
            .map(|&u| units.get(u).id.clone())
            .collect();
        let whole = UnitGraph {
            graph: Graph::from_topology(&model.topology),
            weight,
            metrics,
            units: model.unit_of_topo.clone(),
            ids,
        };
        if !whole.ids.iter().any(|id| is_placeholder_id(id)) {
            return Ok(whole);
        }
        let keep: Vec<bool> = whole.ids.iter().map(|id| !is_placeholder_id(id)).collect();
        Ok(whole.subset(&keep))
    }

    /// The graph of the units `keep` marks (one flag per graph unit), components
    /// joined anew.
    pub fn subset(&self, keep: &[bool]) -> UnitGraph {
        let (graph, kept) = self.graph.subgraph(keep);
        let pick = |values: &[f64]| kept.iter().map(|&u| values[u as usize]).collect::<Vec<f64>>();
        UnitGraph {
            graph,
            weight: pick(&self.weight),
            metrics: self
                .metrics
                .iter()
                .map(|(name, values)| (name.clone(), pick(values)))
                .collect(),
            ids: kept.iter().map(|&u| self.ids[u as usize].clone()).collect(),
            units: kept.iter().map(|&u| self.units[u as usize]).collect(),
        }
    }

    /// The quality of a partition of this graph (territory `0..k` per unit).
    pub fn quality(&self, owner: &[u32], k: usize, tolerance: f64) -> Quality {
        Quality::measure(&self.graph, owner, k, tolerance, &self.weight, &self.metrics)
    }
}

/// The metrics a balance may name: the units' metrics and, with `accounts`, the
/// account metrics of that alignment and `accounts` (their count).
pub fn balance_metrics(model: &DatasetModel, accounts: Option<&Snapshot>) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = model
        .units
        .iter()
        .flat_map(|u| u.metrics.keys())
        .cloned()
        .collect();
    if let Some(s) = accounts.filter(|s| !s.state.accounts.is_empty()) {
        names.insert("accounts".into());
        let fields = s.state.account_fields();
        names.extend(
            fields
                .into_iter()
                .filter(|(_, kind)| *kind == Kind::Number)
                .map(|(name, _)| name),
        );
    }
    names
}

/// A seed's home (checked to be there before the build).
fn home_of(record: &RepRecord) -> (f64, f64) {
    (record.lon.unwrap_or(0.0), record.lat.unwrap_or(0.0))
}

/// The graph unit holding a lon/lat point, if any.
fn home_unit(model: &DatasetModel, index: &HashMap<u32, u32>, lon: f64, lat: f64) -> Option<u32> {
    model.unit_at(lon, lat).and_then(|u| index.get(&u).copied())
}

/// With `keep_homes`: the locks that seed territory `i` at the `i`-th rep's home unit
/// (or the nearest unit no other rep took), and each rep's territory and unit.
fn lock_homes(
    model: &DatasetModel,
    graph: &UnitGraph,
    index: &HashMap<u32, u32>,
    seeds: &BTreeMap<String, RepRecord>,
) -> (Vec<Option<u32>>, Vec<(u32, SeedPlacement)>) {
    let mut locks = vec![None; graph.graph.len()];
    let mut placed = Vec::with_capacity(seeds.len());
    for (t, (rep, record)) in seeds.iter().enumerate() {
        let (lon, lat) = home_of(record);
        let free = |g: &u32| locks[*g as usize].is_none();
        let unit = home_unit(model, index, lon, lat)
            .filter(free)
            .or_else(|| graph.graph.units_by_distance(lon, lat).into_iter().find(free));
        let Some(unit) = unit else { continue };
        locks[unit as usize] = Some(t as u32);
        placed.push((t as u32, placement(rep, unit, graph, lon, lat)));
    }
    (locks, placed)
}

/// Without `keep_homes`: each rep gets one territory of the built `owner`, the pairs
/// taken nearest first (distance from the home to the territory's nearest unit; 0 when
/// the home is inside it).
fn match_reps(
    model: &DatasetModel,
    graph: &UnitGraph,
    index: &HashMap<u32, u32>,
    seeds: &BTreeMap<String, RepRecord>,
    owner: &[u32],
    k: usize,
) -> Vec<(u32, SeedPlacement)> {
    // (distance², rep, territory, nearest unit) for every pair.
    let mut pairs: Vec<(f64, usize, u32, u32)> = Vec::with_capacity(seeds.len() * k);
    for (r, record) in seeds.values().enumerate() {
        let (lon, lat) = home_of(record);
        let home = home_unit(model, index, lon, lat);
        let mut nearest: Vec<Option<(f64, u32)>> = vec![None; k];
        for (g, d) in graph.graph.distances_from(lon, lat).into_iter().enumerate() {
            let d = if home == Some(g as u32) { -1.0 } else { d };
            let slot = &mut nearest[owner[g] as usize];
            if slot.is_none_or(|(best, _)| d < best) {
                *slot = Some((d, g as u32));
            }
        }
        for (t, n) in nearest.into_iter().enumerate() {
            if let Some((d, g)) = n {
                pairs.push((d, r, t as u32, g));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let reps: Vec<(&String, &RepRecord)> = seeds.iter().collect();
    let (mut rep_done, mut territory_done) = (vec![false; reps.len()], vec![false; k]);
    let mut placed = Vec::with_capacity(reps.len());
    for (_, r, t, g) in pairs {
        if rep_done[r] || territory_done[t as usize] {
            continue;
        }
        rep_done[r] = true;
        territory_done[t as usize] = true;
        let (rep, record) = reps[r];
        let (lon, lat) = home_of(record);
        placed.push((t, placement(rep, g, graph, lon, lat)));
    }
    placed.sort_by(|a, b| a.1.rep.cmp(&b.1.rep));
    placed
}

fn placement(rep: &str, unit: u32, graph: &UnitGraph, lon: f64, lat: f64) -> SeedPlacement {
    let distance = graph.graph.distance_to(unit, lon, lat);
    SeedPlacement {
        rep: rep.to_owned(),
        territory: String::new(),
        unit: graph.ids[unit as usize].clone(),
        home_inside: false,
        distance_km: distance,
    }
}

/// Territory codes `T001`, `T002`, ... wide enough for `k`.
pub fn territory_code(t: usize, k: usize) -> String {
    level_code('T', t, k, 3)
}

/// The code of built item `t` of `k` at a level: its letter and a number of at least
/// `digits` digits from 1 (`D01`, `R1`).
fn level_code(letter: char, t: usize, k: usize, digits: usize) -> String {
    let width = k.to_string().len().max(digits);
    format!("{letter}{:0width$}", t + 1)
}

/// Checks a build's upper levels: districts between 1 and the territories, regions
/// only with districts and at most as many.
fn check_levels(request: &BuildRequest) -> Result<(), AlignError> {
    if request.within.is_some() {
        if request.districts.is_some() || request.regions.is_some() {
            return Err(AlignError::Invalid(
                "--within keeps the levels above the territories from --from: \
                 --districts and --regions do not go with it"
                    .into(),
            ));
        }
        if !request.seeds.is_empty() {
            return Err(AlignError::Invalid("--seeds does not go with --within".into()));
        }
    }
    let k = request.params.territories;
    if let Some(d) = request.districts
        && !(1..=k).contains(&d)
    {
        return Err(BuildError::BadLevel {
            level: "districts",
            count: d,
            below: "territories",
            available: k,
        }
        .into());
    }
    match (request.districts, request.regions) {
        (None, Some(_)) => Err(BuildError::RegionsWithoutDistricts.into()),
        (Some(d), Some(r)) if !(1..=d).contains(&r) => Err(BuildError::BadLevel {
            level: "regions",
            count: r,
            below: "districts",
            available: d,
        }
        .into()),
        _ => Ok(()),
    }
}

impl Engine {
    /// The alignment and level index of `within`, checked: on `dataset`, and a level
    /// above the leaf.
    fn within_level(
        &self,
        within: &Within,
        dataset: &str,
    ) -> Result<(Arc<crate::snapshot::Snapshot>, usize), AlignError> {
        let from = self.snapshot(&within.alignment)?;
        if from.dataset.name != dataset {
            return Err(AlignError::Invalid(format!(
                "--from {}: it is on dataset '{}', not '{dataset}'",
                within.alignment, from.dataset.name
            )));
        }
        let state = &from.state;
        let level = match state.levels.iter().position(|l| *l == within.level) {
            Some(l) if l > 0 => l,
            _ => {
                return Err(AlignError::Invalid(format!(
                    "--within {}: {} has no such level above its territories (levels: {})",
                    within.level,
                    within.alignment,
                    state.levels.join(", ")
                )));
            }
        };
        Ok((from, level))
    }

    /// The groups of `within` over `graph`'s units: refused when the alignment is on
    /// another dataset or has no such level above its leaf.
    fn groups(&self, within: &Within, dataset: &str, graph: &UnitGraph) -> Result<Groups, AlignError> {
        let (from, level) = self.within_level(within, dataset)?;
        let state = &from.state;
        let mut index: BTreeMap<String, u32> = BTreeMap::new();
        let mut chains: Vec<Vec<String>> = Vec::new();
        let mut of_unit = Vec::with_capacity(graph.units.len());
        for &u in &graph.units {
            // The unit's chain of codes from the level up, if it is owned there.
            let chain: Option<Vec<String>> = state.owner(&from.dataset.units, u).map(|leaf| {
                state
                    .ancestry(leaf)
                    .into_iter()
                    .skip(level)
                    .map_while(|c| c)
                    .collect()
            });
            of_unit.push(chain.filter(|c| !c.is_empty()).map(|chain| {
                *index.entry(chain[0].clone()).or_insert_with(|| {
                    chains.push(chain);
                    chains.len() as u32 - 1
                })
            }));
        }
        Ok(Groups {
            of_unit,
            chains,
            levels: state.levels[level..].to_vec(),
        })
    }

    /// The unit graph of a dataset with the balance metrics of `balance`.
    pub fn unit_graph(&self, dataset: &str, balance: &str) -> Result<UnitGraph, AlignError> {
        let model = self.dataset(dataset)?;
        Ok(UnitGraph::new(&model, balance, None)?)
    }

    /// Checks what a build can check without building: the name is free and valid, the
    /// dataset exists, the balance parses and k fits its units. Its dataset.
    pub fn check_build(&self, request: &BuildRequest) -> Result<Arc<DatasetModel>, AlignError> {
        check_name(&request.alignment)?;
        match self.store.alignment(&request.alignment) {
            Ok(_) => return Err(StoreError::AlignmentExists(request.alignment.clone()).into()),
            Err(StoreError::AlignmentNotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let model = self.dataset(&request.dataset)?;
        Balance::parse(&request.balance)?;
        request.params.check(model.unit_of_topo.len())?;
        check_levels(request)?;
        if let Some(within) = &request.within {
            self.within_level(within, &request.dataset)?;
        }
        if request.seeds.len() > request.params.territories {
            return Err(BuildError::TooManySeeds {
                seeds: request.seeds.len(),
                territories: request.params.territories,
            }
            .into());
        }
        if let Some((id, _)) = request
            .seeds
            .iter()
            .find(|(_, r)| r.lon.is_none() || r.lat.is_none())
        {
            return Err(BuildError::SeedWithoutHome(id.clone()).into());
        }
        Ok(model)
    }

    /// Builds a new alignment of `request.params.territories` balanced, contiguous,
    /// compact territories. Refused before any work when the alignment exists or the
    /// parameters are wrong; `progress` hears from the build and cancels it by
    /// answering `false`.
    pub fn build(
        &self,
        request: &BuildRequest,
        progress: &(dyn Fn(Progress) -> bool + Sync),
    ) -> Result<BuildOutcome, AlignError> {
        let model = self.check_build(request)?;
        let started = Instant::now();
        let mut unit_graph = UnitGraph::new(&model, &request.balance, None)?;
        // Inside another alignment's groups: only their units, each group's group index.
        let groups = match &request.within {
            Some(within) => {
                let groups = self.groups(within, &request.dataset, &unit_graph)?;
                let keep: Vec<bool> = groups.of_unit.iter().map(Option::is_some).collect();
                let of_unit: Vec<Option<u32>> =
                    groups.of_unit.iter().copied().filter(Option::is_some).collect();
                if keep.contains(&false) {
                    unit_graph = unit_graph.subset(&keep);
                }
                Some((groups, of_unit))
            }
            None => None,
        };
        let graph_seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            dataset = %request.dataset,
            units = unit_graph.graph.len(),
            components = unit_graph.graph.components(),
            proxies = unit_graph.graph.proxies().len(),
            ms = (graph_seconds * 1e3) as u64,
            "unit graph built"
        );
        let k = request.params.territories;
        // Dataset unit index -> graph unit index.
        let index: HashMap<u32, u32> = unit_graph
            .units
            .iter()
            .enumerate()
            .map(|(g, &u)| (u, g as u32))
            .collect();
        let (locks, mut seeds) = match request.keep_homes {
            true => lock_homes(&model, &unit_graph, &index, &request.seeds),
            false => (Vec::new(), Vec::new()),
        };
        let started = Instant::now();
        // The group of each territory, in a build inside groups.
        let mut group_of_territory: Vec<usize> = Vec::new();
        let owner = match &groups {
            None => build::build(
                &unit_graph.graph,
                &unit_graph.weight,
                &locks,
                &request.params,
                progress,
            )?,
            Some((groups, of_unit)) => {
                let (owner, shares) = build::within(
                    &unit_graph.graph,
                    &unit_graph.weight,
                    of_unit,
                    groups.chains.len(),
                    &request.params,
                    progress,
                )?;
                for (g, &share) in shares.iter().enumerate() {
                    group_of_territory.extend(std::iter::repeat_n(g, share));
                }
                owner.into_iter().map(|t| t.unwrap_or(0)).collect()
            }
        };
        let build_seconds = started.elapsed().as_secs_f64();
        if !request.keep_homes && !request.seeds.is_empty() {
            seeds = match_reps(&model, &unit_graph, &index, &request.seeds, &owner, k);
        }
        let mut rep_of: Vec<String> = vec![String::new(); k];
        for (t, placed) in &mut seeds {
            rep_of[*t as usize] = placed.rep.clone();
            placed.territory = territory_code(*t as usize, k);
            let (lon, lat) = home_of(&request.seeds[&placed.rep]);
            let home = home_unit(&model, &index, lon, lat);
            placed.home_inside = home.is_some_and(|g| owner[g as usize] == *t);
            if placed.home_inside {
                placed.distance_km = 0.0;
            }
        }
        let seeds: Vec<SeedPlacement> = seeds.into_iter().map(|(_, p)| p).collect();
        let tolerance = request.params.tolerance;
        let quality = unit_graph.quality(&owner, k, tolerance);
        // Upper levels: districts of whole territories, regions of whole districts.
        let mut levels: Vec<BuiltLevel> = Vec::new();
        let (mut below, mut below_k) = (owner.clone(), k);
        for (name, letter, count) in [
            ("district", 'D', request.districts),
            ("region", 'R', request.regions),
        ] {
            let Some(count) = count else { break };
            let params = Params {
                territories: count,
                ..request.params.clone()
            };
            let phase = if letter == 'D' { "districts" } else { "regions" };
            let on_progress = |p: Progress| progress(Progress { phase, ..p });
            let group = build::group(
                &unit_graph.graph,
                &unit_graph.weight,
                &below,
                below_k,
                &params,
                &on_progress,
            )?;
            let of_unit: Vec<u32> = below.iter().map(|&t| group[t as usize]).collect();
            let of_territory: Vec<u32> = match levels.last() {
                Some(upper) => upper.of_territory.iter().map(|&d| group[d as usize]).collect(),
                None => group,
            };
            levels.push(BuiltLevel {
                name,
                letter,
                count,
                of_territory,
                of_unit: of_unit.clone(),
            });
            (below, below_k) = (of_unit, count);
        }
        let level_quality = |i: usize| {
            levels
                .get(i)
                .map(|l| unit_graph.quality(&l.of_unit, l.count, tolerance))
        };
        let (districts, regions) = (level_quality(0), level_quality(1));
        // The sheet's columns above the territories: built levels, or the groups kept.
        let columns: Vec<(String, Vec<String>)> = match &groups {
            None => levels
                .iter()
                .map(|l| {
                    let codes = l
                        .of_territory
                        .iter()
                        .map(|&g| level_code(l.letter, g as usize, l.count, 2));
                    (l.name.to_owned(), codes.collect())
                })
                .collect(),
            Some((groups, _)) => (0..groups.levels.len())
                .map(|l| {
                    let codes = group_of_territory
                        .iter()
                        .map(|&g| groups.chains[g].get(l).cloned().unwrap_or_default());
                    (groups.levels[l].clone(), codes.collect())
                })
                .collect(),
        };
        let mut sheet = csv::Writer::from_writer(Vec::new());
        let write = |sheet: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
            let mut header = vec!["unit_id", "territory"];
            header.extend(columns.iter().map(|c| c.0.as_str()));
            header.push("rep");
            sheet.write_record(&header)?;
            for (id, &t) in unit_graph.ids.iter().zip(&owner) {
                let mut row = vec![id.clone(), territory_code(t as usize, k)];
                for (_, codes) in &columns {
                    row.push(codes[t as usize].clone());
                }
                row.push(rep_of[t as usize].clone());
                sheet.write_record(&row)?;
            }
            sheet.flush()?;
            Ok(())
        };
        write(&mut sheet).map_err(|e| AlignError::Invalid(format!("writing the built sheet: {e}")))?;
        let bytes = sheet
            .into_inner()
            .map_err(|e| AlignError::Invalid(format!("writing the built sheet: {e}")))?;
        let (alignment, _) = self.import_sheet_with_reps(
            &request.alignment,
            &request.dataset,
            Some(
                std::iter::once("territory".to_owned())
                    .chain(columns.iter().map(|c| c.0.clone()))
                    .collect(),
            ),
            None,
            bytes.as_slice(),
            request.seeds.clone(),
        )?;
        Ok(BuildOutcome {
            alignment,
            quality,
            graph_seconds,
            build_seconds,
            seeds,
            districts,
            regions,
        })
    }
}
