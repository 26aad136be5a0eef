//! Building a new alignment automatically (issue #15): the dataset's polygon units as
//! a [`Graph`], the balance weights from their metrics, [`crate::build::build`], and
//! the result written as a new alignment through the sheet import (one level,
//! `territory`; point units follow the polygon containing them).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::build::{self, Balance, BuildError, Graph, Params, Progress, Quality};
use crate::feature::is_placeholder_id;
use crate::snapshot::DatasetModel;
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
    /// of `balance`.
    pub fn new(model: &DatasetModel, balance: &str) -> Result<UnitGraph, BuildError> {
        let balance = Balance::parse(balance)?;
        let units = &model.units;
        let mut metrics = Vec::new();
        for (name, _) in &balance.metrics {
            let mut any = false;
            let values: Vec<f64> = model
                .unit_of_topo
                .iter()
                .map(|&u| {
                    let v = units.get(u).metrics.get(name).copied();
                    any |= v.is_some();
                    v.unwrap_or(0.0)
                })
                .collect();
            if !any {
                let available: BTreeSet<&String> = units.iter().flat_map(|u| u.metrics.keys()).collect();
                return Err(BuildError::UnknownMetric {
                    name: name.clone(),
                    available: available.into_iter().cloned().collect(),
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

/// Territory codes `T001`, `T002`, ... wide enough for `k`.
pub fn territory_code(t: usize, k: usize) -> String {
    let width = k.to_string().len().max(3);
    format!("T{:0width$}", t + 1)
}

impl Engine {
    /// The unit graph of a dataset with the balance metrics of `balance`.
    pub fn unit_graph(&self, dataset: &str, balance: &str) -> Result<UnitGraph, AlignError> {
        let model = self.dataset(dataset)?;
        Ok(UnitGraph::new(&model, balance)?)
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
        let unit_graph = UnitGraph::new(&model, &request.balance)?;
        let graph_seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            dataset = %request.dataset,
            units = unit_graph.graph.len(),
            components = unit_graph.graph.components(),
            proxies = unit_graph.graph.proxies().len(),
            ms = (graph_seconds * 1e3) as u64,
            "unit graph built"
        );
        let started = Instant::now();
        let owner = build::build(
            &unit_graph.graph,
            &unit_graph.weight,
            &[],
            &request.params,
            progress,
        )?;
        let build_seconds = started.elapsed().as_secs_f64();
        let k = request.params.territories;
        let quality = unit_graph.quality(&owner, k, request.params.tolerance);
        let mut sheet = csv::Writer::from_writer(Vec::new());
        let write = |sheet: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
            sheet.write_record(["unit_id", "territory"])?;
            for (id, &t) in unit_graph.ids.iter().zip(&owner) {
                sheet.write_record([id.as_str(), territory_code(t as usize, k).as_str()])?;
            }
            sheet.flush()?;
            Ok(())
        };
        write(&mut sheet).map_err(|e| AlignError::Invalid(format!("writing the built sheet: {e}")))?;
        let bytes = sheet
            .into_inner()
            .map_err(|e| AlignError::Invalid(format!("writing the built sheet: {e}")))?;
        let (alignment, _) = self.import_sheet(
            &request.alignment,
            &request.dataset,
            Some(vec!["territory".to_owned()]),
            None,
            bytes.as_slice(),
        )?;
        Ok(BuildOutcome {
            alignment,
            quality,
            graph_seconds,
            build_seconds,
        })
    }
}
