//! Territories inside groups that stay as they are (`geoalign build --within district
//! --from A`): the k territories are shared out over the groups in proportion to their
//! weight (largest remainders, at least one each, never more than a group has units),
//! and each group's share is built on the group's own units by the same build, so no
//! territory crosses a group's border.

use super::graph::Graph;
use super::{BuildError, Params, Progress, build};

/// Builds `params.territories` territories inside the `groups` groups of `group` (the
/// group of every unit of `graph`, `None`: left out). Returns the territory (0..k) of
/// every unit (`None` for those left out) and the territories of each group; a group's
/// territories are numbered after the previous group's.
pub fn within(
    graph: &Graph,
    weight: &[f64],
    group: &[Option<u32>],
    groups: usize,
    params: &Params,
    progress: &(dyn Fn(Progress) -> bool + Sync),
) -> Result<(Vec<Option<u32>>, Vec<usize>), BuildError> {
    let n = graph.len();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for (u, g) in group.iter().enumerate().take(n) {
        if let Some(g) = *g {
            members[g as usize].push(u);
        }
    }
    let loads: Vec<f64> = members
        .iter()
        .map(|m| m.iter().map(|&u| weight[u]).sum())
        .collect();
    let sizes: Vec<usize> = members.iter().map(Vec::len).collect();
    let shares = apportion(params.territories, &loads, &sizes)?;
    let mut owner = vec![None; n];
    let mut first = 0u32;
    for (g, units) in members.iter().enumerate() {
        if units.is_empty() {
            continue;
        }
        let keep: Vec<bool> = (0..n).map(|u| group[u] == Some(g as u32)).collect();
        let (sub, kept) = graph.subgraph(&keep);
        let sub_weight: Vec<f64> = kept.iter().map(|&u| weight[u as usize]).collect();
        let sub_params = Params {
            territories: shares[g],
            ..params.clone()
        };
        let sub_owner = build(&sub, &sub_weight, &[], &sub_params, progress)?;
        for (&u, &t) in kept.iter().zip(&sub_owner) {
            owner[u as usize] = Some(first + t);
        }
        first += shares[g] as u32;
    }
    Ok((owner, shares))
}

/// Shares `k` territories over groups of these weights and unit counts: at least one
/// per group with units, at most its units, the rest by largest remainder of
/// k × weight / total (of unit counts when no group has weight).
fn apportion(k: usize, loads: &[f64], sizes: &[usize]) -> Result<Vec<usize>, BuildError> {
    let used = sizes.iter().filter(|&&s| s > 0).count();
    let units: usize = sizes.iter().sum();
    let refused = || BuildError::BadShare {
        territories: k,
        groups: used,
        units,
    };
    if k < used || k > units {
        return Err(refused());
    }
    let total: f64 = loads.iter().sum();
    let basis: Vec<f64> = if total > 0.0 {
        loads.to_vec()
    } else {
        sizes.iter().map(|&s| s as f64).collect()
    };
    let sum: f64 = basis.iter().sum();
    let quota: Vec<f64> = basis.iter().map(|b| k as f64 * b / sum).collect();
    let mut share: Vec<usize> = quota
        .iter()
        .zip(sizes)
        .map(|(&q, &s)| {
            if s == 0 {
                0
            } else {
                (q.floor() as usize).clamp(1, s)
            }
        })
        .collect();
    let mut given: usize = share.iter().sum();
    // Too many after the minimum of one each: take back from the most over their quota.
    while given > k {
        let g = (0..share.len())
            .filter(|&g| share[g] > 1)
            .max_by(|&a, &b| {
                (share[a] as f64 - quota[a])
                    .total_cmp(&(share[b] as f64 - quota[b]))
                    .then(b.cmp(&a))
            })
            .ok_or_else(refused)?;
        share[g] -= 1;
        given -= 1;
    }
    // The rest by largest remainder, where units are left.
    while given < k {
        let g = (0..share.len())
            .filter(|&g| share[g] < sizes[g])
            .max_by(|&a, &b| {
                (quota[a] - share[a] as f64)
                    .total_cmp(&(quota[b] - share[b] as f64))
                    .then(b.cmp(&a))
            })
            .ok_or_else(refused)?;
        share[g] += 1;
        given += 1;
    }
    Ok(share)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn territories_are_shared_by_weight_at_least_one_each() {
        assert_eq!(
            apportion(10, &[5.0, 3.0, 2.0], &[50, 50, 50]).unwrap(),
            vec![5, 3, 2]
        );
        // 10 × (0.7, 0.25, 0.05) = 7, 2.5, 0.5: one each, then the largest remainder.
        assert_eq!(
            apportion(10, &[70.0, 25.0, 5.0], &[50, 50, 50]).unwrap(),
            vec![7, 2, 1]
        );
        // A group with two units takes two at most.
        assert_eq!(apportion(6, &[1.0, 9.0], &[10, 2]).unwrap(), vec![4, 2]);
        assert_eq!(apportion(4, &[0.0, 0.0], &[3, 1]).unwrap(), vec![3, 1]);
        assert!(matches!(
            apportion(1, &[1.0, 1.0], &[5, 5]),
            Err(BuildError::BadShare { groups: 2, .. })
        ));
    }

    #[test]
    fn no_territory_crosses_a_group() {
        // A 6 × 4 grid in two groups (left and right halves), 4 territories.
        let graph = Graph::grid(6, 4);
        let group: Vec<Option<u32>> = (0..24).map(|u| Some(u32::from(u % 6 >= 3))).collect();
        let params = Params {
            territories: 4,
            tolerance: 0.0,
            ..Params::default()
        };
        let (owner, shares) = within(&graph, &[1.0; 24], &group, 2, &params, &|_| true).unwrap();
        assert_eq!(shares, vec![2, 2]);
        for u in 0..24 {
            let t = owner[u].unwrap();
            assert_eq!(t / 2, group[u].unwrap(), "unit {u} in territory {t}");
        }
    }
}
