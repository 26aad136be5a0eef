//! Rule territories: a condition over an account's attributes and metrics, written as
//! a SQL `WHERE` expression (`vertical = 'Healthcare' AND employees >= 1000`,
//! `lead_source IN ('tradeshow', 'referral')`), parsed by `sqlparser` and compiled
//! once into a [`Condition`] tree that evaluates without allocating.
//!
//! Supported: `=`, `<>`/`!=`, `<`, `<=`, `>`, `>=`, `[NOT] IN (...)`, `[NOT] BETWEEN`,
//! `[NOT] LIKE` (`%`, `_`), `IS [NOT] NULL`, `AND`, `OR`, `NOT` and parentheses, with a
//! field on the left and a literal on the right. A field compared with a 'text' is an
//! attribute, with a number a metric. Logic is SQL's: a missing field is unknown, so
//! neither `x = 'a'` nor `NOT x = 'a'` holds for an account without `x`.
//!
//! ```
//! use std::collections::BTreeMap;
//! use geoalign::align::rules::{Condition, Fields};
//!
//! struct Lead(BTreeMap<&'static str, &'static str>, f64);
//! impl Fields for Lead {
//!     fn text(&self, name: &str) -> Option<&str> { self.0.get(name).copied() }
//!     fn number(&self, name: &str) -> Option<f64> { (name == "employees").then_some(self.1) }
//! }
//! let rule = Condition::parse("vertical = 'Healthcare' AND employees >= 1000").unwrap();
//! assert!(rule.matches(&Lead(BTreeMap::from([("vertical", "Healthcare")]), 5000.0)));
//! assert!(!rule.matches(&Lead(BTreeMap::from([("vertical", "Finance")]), 5000.0)));
//! assert!(Condition::parse("vertical = ").is_err());
//! ```

use std::collections::BTreeMap;
use std::fmt;

use sqlparser::ast::{BinaryOperator, Expr, InTarget, UnaryOperator, Value};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

/// Longest condition accepted, in bytes.
pub const MAX_CONDITION_BYTES: usize = 4096;

/// What a condition reads of a record: text attributes and numeric metrics by name.
pub trait Fields {
    /// The text attribute `name`, if the record has it.
    fn text(&self, name: &str) -> Option<&str>;
    /// The metric `name`, if the record has it.
    fn number(&self, name: &str) -> Option<f64>;
}

/// The kind of a field: compared with text or with numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An attribute (`vertical`, `channel`).
    Text,
    /// A metric (`employees`, `revenue`).
    Number,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Text => "a text attribute",
            Kind::Number => "a numeric metric",
        })
    }
}

/// Why a condition was refused, with the field at fault when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    /// The field the problem is about.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl RuleError {
    fn new(reason: impl Into<String>) -> RuleError {
        RuleError {
            field: None,
            reason: reason.into(),
        }
    }

    fn at(field: &str, reason: impl Into<String>) -> RuleError {
        RuleError {
            field: Some(field.to_owned()),
            reason: reason.into(),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd + ?Sized>(self, a: &T, b: &T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

/// A test of one field's value.
#[derive(Debug, Clone, PartialEq)]
enum Test {
    Text(Cmp, String),
    Number(Cmp, f64),
    TextIn(Vec<String>),
    NumberIn(Vec<f64>),
    Between(f64, f64),
    Like(Vec<LikePart>),
}

/// A piece of a `LIKE` pattern.
#[derive(Debug, Clone, PartialEq)]
enum LikePart {
    Literal(char),
    One,
    Any,
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition(Node);

#[derive(Debug, Clone, PartialEq)]
enum Node {
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    /// A test of a field (unknown when the record lacks it).
    Field {
        name: String,
        kind: Kind,
        test: Test,
    },
    /// `field IS NULL`: the record has no such field.
    IsNull {
        name: String,
    },
}

impl Condition {
    /// Parses and compiles a condition; a field's kind follows the literal it is
    /// compared with.
    pub fn parse(text: &str) -> Result<Condition, RuleError> {
        if text.len() > MAX_CONDITION_BYTES {
            return Err(RuleError::new(format!(
                "the condition has {} bytes: at most {MAX_CONDITION_BYTES}",
                text.len()
            )));
        }
        if text.trim().is_empty() {
            return Err(RuleError::new("the condition is empty"));
        }
        let expr = Parser::new(&GenericDialect {})
            .with_recursion_limit(32)
            .try_with_sql(text)
            .and_then(|mut p| {
                let e = p.parse_expr()?;
                p.expect_token(&Token::EOF)?;
                Ok(e)
            })
            .map_err(|e| RuleError::new(format!("cannot read the condition: {e}")))?;
        compile(&expr).map(Condition)
    }

    /// Checks every field against the fields records have (`kinds`): known, and of the
    /// kind the condition compares it as.
    pub fn check(&self, kinds: &BTreeMap<String, Kind>) -> Result<(), RuleError> {
        self.0.check(kinds)
    }

    /// Whether the condition holds for `record` (unknown counts as not).
    pub fn matches(&self, record: &dyn Fields) -> bool {
        self.0.eval(record) == Some(true)
    }

    /// The field names the condition reads.
    pub fn fields(&self) -> Vec<&str> {
        self.0.fields()
    }
}

impl Node {
    fn check(&self, kinds: &BTreeMap<String, Kind>) -> Result<(), RuleError> {
        match self {
            Node::And(a, b) | Node::Or(a, b) => {
                a.check(kinds)?;
                b.check(kinds)
            }
            Node::Not(a) => a.check(kinds),
            Node::IsNull { name } => known(name, kinds).map(|_| ()),
            Node::Field { name, kind, .. } => {
                let actual = known(name, kinds)?;
                if actual != *kind {
                    let literal = match actual {
                        Kind::Text => "a 'quoted' text",
                        Kind::Number => "a number",
                    };
                    return Err(RuleError::at(
                        name,
                        format!("'{name}' is {actual}, compared here as {kind}: compare it with {literal}"),
                    ));
                }
                Ok(())
            }
        }
    }

    /// SQL's three-valued logic: `None` is unknown.
    fn eval(&self, record: &dyn Fields) -> Option<bool> {
        match self {
            Node::And(a, b) => match (a.eval(record), b.eval(record)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Node::Or(a, b) => match (a.eval(record), b.eval(record)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Node::Not(a) => a.eval(record).map(|v| !v),
            Node::IsNull { name } => Some(record.text(name).is_none() && record.number(name).is_none()),
            Node::Field { name, test, .. } => match test {
                Test::Text(cmp, v) => record.text(name).map(|x| cmp.holds(x, v.as_str())),
                Test::TextIn(list) => record.text(name).map(|x| list.iter().any(|v| v == x)),
                Test::Like(pattern) => record.text(name).map(|x| like(pattern, x)),
                Test::Number(cmp, v) => record.number(name).map(|x| cmp.holds(&x, v)),
                Test::NumberIn(list) => record.number(name).map(|x| list.contains(&x)),
                Test::Between(lo, hi) => record.number(name).map(|x| *lo <= x && x <= *hi),
            },
        }
    }

    fn fields(&self) -> Vec<&str> {
        match self {
            Node::And(a, b) | Node::Or(a, b) => {
                let mut all = a.fields();
                all.extend(b.fields());
                all
            }
            Node::Not(a) => a.fields(),
            Node::Field { name, .. } | Node::IsNull { name } => vec![name.as_str()],
        }
    }
}

fn known(name: &str, kinds: &BTreeMap<String, Kind>) -> Result<Kind, RuleError> {
    kinds.get(name).copied().ok_or_else(|| {
        let list: Vec<&str> = kinds.keys().map(String::as_str).collect();
        RuleError::at(
            name,
            format!(
                "no account has a field '{name}' (fields: {})",
                if list.is_empty() {
                    "none yet: import accounts first".to_owned()
                } else {
                    list.join(", ")
                }
            ),
        )
    })
}

fn compile(expr: &Expr) -> Result<Node, RuleError> {
    let not = |c: Node, negated: bool| if negated { Node::Not(Box::new(c)) } else { c };
    match expr {
        Expr::Nested(e) => compile(e),
        Expr::BinaryOp { left, op, right } => {
            let cmp = match op {
                BinaryOperator::And => {
                    return Ok(Node::And(Box::new(compile(left)?), Box::new(compile(right)?)));
                }
                BinaryOperator::Or => {
                    return Ok(Node::Or(Box::new(compile(left)?), Box::new(compile(right)?)));
                }
                BinaryOperator::Eq => Cmp::Eq,
                BinaryOperator::NotEq => Cmp::Ne,
                BinaryOperator::Lt => Cmp::Lt,
                BinaryOperator::LtEq => Cmp::Le,
                BinaryOperator::Gt => Cmp::Gt,
                BinaryOperator::GtEq => Cmp::Ge,
                other => return Err(RuleError::new(format!("the operator {other} is not supported"))),
            };
            let name = field(left)?;
            Ok(match literal(right, name)? {
                Literal::Text(v) => Node::Field {
                    name: name.to_owned(),
                    kind: Kind::Text,
                    test: Test::Text(cmp, v),
                },
                Literal::Number(v) => Node::Field {
                    name: name.to_owned(),
                    kind: Kind::Number,
                    test: Test::Number(cmp, v),
                },
            })
        }
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => Ok(Node::Not(Box::new(compile(expr)?))),
        Expr::IsNull(e) => Ok(Node::IsNull {
            name: field(e)?.to_owned(),
        }),
        Expr::IsNotNull(e) => Ok(Node::Not(Box::new(Node::IsNull {
            name: field(e)?.to_owned(),
        }))),
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated,
            ..
        } => {
            let name = field(expr)?;
            let values = list
                .iter()
                .map(|v| literal(v, name))
                .collect::<Result<Vec<_>, _>>()?;
            let (kind, test) = if values.iter().all(|v| matches!(v, Literal::Text(_))) {
                let texts = values.into_iter().filter_map(|v| match v {
                    Literal::Text(t) => Some(t),
                    Literal::Number(_) => None,
                });
                (Kind::Text, Test::TextIn(texts.collect()))
            } else if values.iter().all(|v| matches!(v, Literal::Number(_))) {
                let numbers = values.into_iter().filter_map(|v| match v {
                    Literal::Number(n) => Some(n),
                    Literal::Text(_) => None,
                });
                (Kind::Number, Test::NumberIn(numbers.collect()))
            } else {
                return Err(RuleError::at(
                    name,
                    format!("the list for '{name}' mixes texts and numbers"),
                ));
            };
            Ok(not(
                Node::Field {
                    name: name.to_owned(),
                    kind,
                    test,
                },
                *negated,
            ))
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let name = field(expr)?;
            let (Literal::Number(lo), Literal::Number(hi)) = (literal(low, name)?, literal(high, name)?)
            else {
                return Err(RuleError::at(
                    name,
                    format!("BETWEEN on '{name}' needs two numbers"),
                ));
            };
            let test = Test::Between(lo, hi);
            Ok(not(
                Node::Field {
                    name: name.to_owned(),
                    kind: Kind::Number,
                    test,
                },
                *negated,
            ))
        }
        Expr::Like {
            negated,
            any: false,
            expr,
            pattern,
            escape_char: None,
        } => {
            let name = field(expr)?;
            let Literal::Text(p) = literal(pattern, name)? else {
                return Err(RuleError::at(
                    name,
                    format!("LIKE on '{name}' needs a 'quoted' pattern"),
                ));
            };
            let parts = p
                .chars()
                .map(|c| match c {
                    '%' => LikePart::Any,
                    '_' => LikePart::One,
                    c => LikePart::Literal(c),
                })
                .collect();
            Ok(not(
                Node::Field {
                    name: name.to_owned(),
                    kind: Kind::Text,
                    test: Test::Like(parts),
                },
                *negated,
            ))
        }
        other => Err(RuleError::new(format!(
            "'{other}' is not supported: use comparisons, IN, BETWEEN, LIKE, IS NULL, AND, OR and NOT"
        ))),
    }
}

fn field(expr: &Expr) -> Result<&str, RuleError> {
    match expr {
        Expr::Identifier(ident) => Ok(ident.value.as_str()),
        Expr::Nested(e) => field(e),
        other => Err(RuleError::new(format!(
            "expected a field name on the left, found '{other}'"
        ))),
    }
}

enum Literal {
    Text(String),
    Number(f64),
}

fn literal(expr: &Expr, name: &str) -> Result<Literal, RuleError> {
    let number = |s: &str, negative: bool| {
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(|v| Literal::Number(if negative { -v } else { v }))
            .ok_or_else(|| RuleError::at(name, format!("'{s}' is not a number")))
    };
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Ok(Literal::Text(s.clone())),
            Value::Number(s, _) => number(s, false),
            _ => Err(RuleError::at(
                name,
                format!("compare '{name}' with a 'quoted' text or a number, not {v}"),
            )),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            Expr::Value(v) => match &v.value {
                Value::Number(s, _) => number(s, true),
                _ => Err(RuleError::at(name, format!("'-{v}' is not a number"))),
            },
            other => Err(RuleError::at(name, format!("'-{other}' is not a number"))),
        },
        Expr::Identifier(ident) if ident.quote_style == Some('"') => Err(RuleError::at(
            name,
            format!(
                "\"{}\" is a field name in SQL: write texts in single quotes ('{}')",
                ident.value, ident.value
            ),
        )),
        other => Err(RuleError::at(
            name,
            format!("compare '{name}' with a 'quoted' text or a number, not '{other}'"),
        )),
    }
}

/// `LIKE` matching: greedy, going back to the last `%` on a mismatch (no allocation;
/// an earlier `%` never needs revisiting once a later one is reached).
fn like(pattern: &[LikePart], text: &str) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None; // pattern after the last `%`, text there
    loop {
        match (pattern.get(p), text[t..].chars().next()) {
            (Some(LikePart::Any), _) => {
                p += 1;
                star = Some((p, t));
            }
            (Some(LikePart::One), Some(c)) => (p, t) = (p + 1, t + c.len_utf8()),
            (Some(LikePart::Literal(l)), Some(c)) if *l == c => (p, t) = (p + 1, t + c.len_utf8()),
            (None, None) => return true,
            _ => {
                // The last `%` takes one more character, or the match fails.
                let Some((after, from)) = star else { return false };
                let Some(c) = text[from..].chars().next() else {
                    return false;
                };
                (p, t) = (after, from + c.len_utf8());
                star = Some((after, t));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Record(BTreeMap<&'static str, &'static str>, BTreeMap<&'static str, f64>);

    impl Fields for Record {
        fn text(&self, name: &str) -> Option<&str> {
            self.0.get(name).copied()
        }
        fn number(&self, name: &str) -> Option<f64> {
            self.1.get(name).copied()
        }
    }

    fn record(texts: &[(&'static str, &'static str)], numbers: &[(&'static str, f64)]) -> Record {
        Record(texts.iter().copied().collect(), numbers.iter().copied().collect())
    }

    #[test]
    fn the_issue_examples_hold_where_they_should() {
        let hc = Condition::parse("vertical = 'Healthcare' AND employees >= 1000").unwrap();
        assert!(hc.matches(&record(&[("vertical", "Healthcare")], &[("employees", 1000.0)])));
        assert!(!hc.matches(&record(&[("vertical", "Healthcare")], &[("employees", 999.0)])));
        let partner = Condition::parse("channel = 'partner' AND partner_id = 'P17'").unwrap();
        assert!(partner.matches(&record(&[("channel", "partner"), ("partner_id", "P17")], &[])));
        assert!(!partner.matches(&record(&[("channel", "partner"), ("partner_id", "P18")], &[])));
        let inside = Condition::parse("lead_source IN ('tradeshow','referral')").unwrap();
        assert!(inside.matches(&record(&[("lead_source", "referral")], &[])));
        assert!(!inside.matches(&record(&[("lead_source", "web")], &[])));
    }

    #[test]
    fn missing_fields_are_unknown_and_operators_behave_as_in_sql() {
        let none = record(&[], &[]);
        for c in [
            "x = 'a'",
            "NOT x = 'a'",
            "x <> 'a'",
            "x NOT IN ('a')",
            "n NOT BETWEEN 1 AND 2",
        ] {
            assert!(!Condition::parse(c).unwrap().matches(&none), "{c}");
        }
        assert!(Condition::parse("x IS NULL").unwrap().matches(&none));
        assert!(Condition::parse("x = 'a' OR x IS NULL").unwrap().matches(&none));
        let r = record(&[("name", "Mercy Hospital")], &[("n", -2.5)]);
        assert!(Condition::parse("name LIKE '%Hosp_tal'").unwrap().matches(&r));
        assert!(!Condition::parse("name NOT LIKE 'Mercy%'").unwrap().matches(&r));
        for (pattern, holds) in [
            ("%", true),
            ("M%y%l", true),
            ("%y H%", true),
            ("%%tal", true),
            ("_ercy%", true),
            ("Mercy", false),
            ("%x%", false),
            ("Mercy Hospital_", false),
        ] {
            let c = Condition::parse(&format!("name LIKE '{pattern}'")).unwrap();
            assert_eq!(c.matches(&r), holds, "{pattern}");
        }
        assert!(
            Condition::parse("n BETWEEN -3 AND 0 AND n IN (-2.5, 7)")
                .unwrap()
                .matches(&r)
        );
        assert!(
            Condition::parse("(n < 0) AND NOT (n >= 0) AND n != 1")
                .unwrap()
                .matches(&r)
        );
    }

    #[test]
    fn bad_conditions_are_refused_naming_the_field() {
        for (text, field, says) in [
            ("vertical = ", None, "cannot read"),
            ("vertical = \"Healthcare\"", Some("vertical"), "single quotes"),
            ("x IN ('a', 1)", Some("x"), "mixes"),
            ("x = y", Some("x"), "not 'y'"),
            ("1 = x", None, "field name on the left"),
            ("x + 1 > 2", None, "field name on the left"),
            ("x LIKE y ESCAPE z", None, "not supported"),
            ("x BETWEEN 'a' AND 'b'", Some("x"), "two numbers"),
            ("", None, "empty"),
            ("x = 1; DROP TABLE accounts", None, "cannot read"),
        ] {
            let e = Condition::parse(text).unwrap_err();
            assert_eq!(e.field.as_deref(), field, "{text}: {e:?}");
            assert!(e.reason.contains(says), "{text}: {}", e.reason);
        }
        let deep = format!("{}x = 1{}", "(".repeat(200), ")".repeat(200));
        assert!(Condition::parse(&deep).is_err());
        let kinds = BTreeMap::from([
            ("employees".to_owned(), Kind::Number),
            ("vertical".to_owned(), Kind::Text),
        ]);
        let e = Condition::parse("vertcal = 'x'")
            .unwrap()
            .check(&kinds)
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("vertcal"));
        assert!(e.reason.contains("fields: employees, vertical"), "{}", e.reason);
        let e = Condition::parse("employees = 'many'")
            .unwrap()
            .check(&kinds)
            .unwrap_err();
        assert!(e.reason.contains("compare it with a number"), "{}", e.reason);
        Condition::parse("vertical = 'x' AND employees > 3")
            .unwrap()
            .check(&kinds)
            .unwrap();
    }
}
