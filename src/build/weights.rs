//! The balance metrics: `population`, or a weighted mix `population:0.6,households:0.4`.
//! Each metric is divided by its total before mixing, so metrics of different sizes
//! count by their coefficients.

use super::BuildError;

/// Metrics to balance on, with their coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    /// (metric name, coefficient > 0), in the order given.
    pub metrics: Vec<(String, f64)>,
}

impl Balance {
    /// Parses `name[:coefficient],...` (coefficient 1 when omitted).
    ///
    /// ```
    /// use geoalign::build::Balance;
    /// let b = Balance::parse("population:0.6,households:0.4").unwrap();
    /// assert_eq!(b.metrics, vec![("population".into(), 0.6), ("households".into(), 0.4)]);
    /// assert!(Balance::parse("population:-1").is_err());
    /// ```
    pub fn parse(spec: &str) -> Result<Balance, BuildError> {
        let bad = |reason: String| BuildError::BadBalance {
            spec: spec.to_owned(),
            reason,
        };
        let mut metrics: Vec<(String, f64)> = Vec::new();
        for part in spec.split(',').map(str::trim) {
            if part.is_empty() {
                return Err(bad("an empty metric name".into()));
            }
            let (name, coefficient) = match part.split_once(':') {
                Some((name, c)) => {
                    let c: f64 = c
                        .trim()
                        .parse()
                        .map_err(|_| bad(format!("'{}' is not a number", c.trim())))?;
                    (name.trim(), c)
                }
                None => (part, 1.0),
            };
            if name.is_empty() {
                return Err(bad("an empty metric name".into()));
            }
            if !(coefficient.is_finite() && coefficient > 0.0) {
                return Err(bad(format!("the coefficient of '{name}' must be positive")));
            }
            if metrics.iter().any(|(n, _)| n == name) {
                return Err(bad(format!("'{name}' given twice")));
            }
            metrics.push((name.to_owned(), coefficient));
        }
        Ok(Balance { metrics })
    }

    /// The combined weight of every unit from each metric's values (same order as
    /// [`Balance::metrics`]).
    pub fn combine(&self, values: &[Vec<f64>]) -> Vec<f64> {
        let n = values.first().map_or(0, Vec::len);
        let mut out = vec![0.0; n];
        for ((_, c), column) in self.metrics.iter().zip(values) {
            let total: f64 = column.iter().filter(|v| v.is_finite() && **v > 0.0).sum();
            if total <= 0.0 {
                continue;
            }
            for (o, v) in out.iter_mut().zip(column) {
                if v.is_finite() && *v > 0.0 {
                    *o += c * v / total;
                }
            }
        }
        out
    }
}
