//! CQL2-text (OGC 21-065) for the `filter` parameter of OGC API - Features Part 3: the
//! Basic CQL2 subset on attributes and metrics: comparisons (`=`, `<>`, `<`, `<=`, `>`,
//! `>=`), `LIKE`, `BETWEEN`, `IN`, `IS [NOT] NULL`, `AND`, `OR`, `NOT` and parentheses,
//! over numbers, 'strings' and booleans; property names bare or "double-quoted".
//!
//! Hand-written rather than the `cql2` crate: that crate turns on serde_json's
//! `preserve_order` for the whole build (every JSON map of the server would change
//! order) and brings a second `geo`/`geozero`, `sqlparser` and `jsonschema`, for a
//! grammar of which only this subset applies to these collections (no spatial or
//! temporal properties).

use crate::export::{Column, ColumnKind, Field};

/// A parsed filter, its properties resolved to column positions.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
    /// It does not hold.
    Not(Box<Filter>),
    /// `a op b`.
    Compare(Operand, Op, Operand),
    /// `a LIKE 'pattern'` (`%` any run, `_` one character).
    Like(Operand, String),
    /// `a IS NULL`.
    IsNull(Operand),
    /// `a IN (b, c, ...)`.
    In(Operand, Vec<Operand>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`.
    Eq,
    /// `<>`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// A property (column position) or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// The value of a column.
    Property(usize),
    /// A literal.
    Value(Field),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(f64),
    Sym(&'static str),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("unterminated {c}")),
                    Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                        s.push(c);
                        i += 2;
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&other) => {
                        s.push(other);
                        i += 1;
                    }
                }
            }
            out.push(if c == '\'' { Token::Str(s) } else { Token::Ident(s) });
        } else if c.is_ascii_digit()
            || (c == '-' || c == '.') && chars.get(i + 1).is_some_and(char::is_ascii_digit)
        {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || chars[i] == '.'
                    || chars[i] == 'e'
                    || chars[i] == 'E'
                    || (matches!(chars[i], '+' | '-') && matches!(chars[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
            let n: String = chars[start..i].iter().collect();
            out.push(Token::Num(n.parse().map_err(|_| format!("bad number {n}"))?));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | ':' | '.')) {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = match two.as_str() {
                "<>" => Some("<>"),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(sym) = sym {
                out.push(Token::Sym(sym));
                i += 2;
                continue;
            }
            let sym = match c {
                '=' => "=",
                '<' => "<",
                '>' => ">",
                '(' => "(",
                ')' => ")",
                ',' => ",",
                _ => return Err(format!("unexpected '{c}'")),
            };
            out.push(Token::Sym(sym));
            i += 1;
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    columns: &'a [Column],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn keyword(&mut self, word: &str) -> bool {
        let hit = matches!(self.peek(), Some(Token::Ident(w)) if w.eq_ignore_ascii_case(word));
        if hit {
            self.at += 1;
        }
        hit
    }

    fn symbol(&mut self, sym: &str) -> bool {
        let hit = matches!(self.peek(), Some(Token::Sym(s)) if *s == sym);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn expect(&mut self, sym: &str) -> Result<(), String> {
        if self.symbol(sym) {
            Ok(())
        } else {
            Err(format!("expected '{sym}'"))
        }
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.not()?;
        while self.keyword("AND") {
            left = Filter::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Filter, String> {
        if self.keyword("NOT") {
            return Ok(Filter::Not(Box::new(self.not()?)));
        }
        if matches!(self.peek(), Some(Token::Sym("("))) {
            let back = self.at;
            self.at += 1;
            if let Ok(inner) = self.or()
                && self.symbol(")")
            {
                return Ok(inner);
            }
            self.at = back;
        }
        self.predicate()
    }

    fn operand(&mut self) -> Result<Operand, String> {
        let token = self.peek().cloned().ok_or("unexpected end")?;
        self.at += 1;
        Ok(match token {
            Token::Num(n) => Operand::Value(Field::Real(n)),
            Token::Str(s) => Operand::Value(Field::Text(s)),
            Token::Ident(w) if w.eq_ignore_ascii_case("true") => Operand::Value(Field::Bool(true)),
            Token::Ident(w) if w.eq_ignore_ascii_case("false") => Operand::Value(Field::Bool(false)),
            Token::Ident(name) => Operand::Property(
                self.columns
                    .iter()
                    .position(|c| c.name == name)
                    .ok_or_else(|| format!("'{name}' is not a queryable of this collection"))?,
            ),
            Token::Sym(s) => return Err(format!("unexpected '{s}'")),
        })
    }

    fn predicate(&mut self) -> Result<Filter, String> {
        let left = self.operand()?;
        if self.keyword("IS") {
            let negated = self.keyword("NOT");
            if !self.keyword("NULL") {
                return Err("expected NULL".into());
            }
            let test = Filter::IsNull(left);
            return Ok(if negated {
                Filter::Not(Box::new(test))
            } else {
                test
            });
        }
        let negated = self.keyword("NOT");
        let test = if self.keyword("LIKE") {
            match self.operand()? {
                Operand::Value(Field::Text(p)) => Filter::Like(left, p),
                _ => return Err("LIKE takes a 'pattern'".into()),
            }
        } else if self.keyword("BETWEEN") {
            let low = self.operand()?;
            if !self.keyword("AND") {
                return Err("expected AND in BETWEEN".into());
            }
            let high = self.operand()?;
            Filter::And(
                Box::new(Filter::Compare(left.clone(), Op::Ge, low)),
                Box::new(Filter::Compare(left, Op::Le, high)),
            )
        } else if self.keyword("IN") {
            self.expect("(")?;
            let mut list = vec![self.operand()?];
            while self.symbol(",") {
                list.push(self.operand()?);
            }
            self.expect(")")?;
            Filter::In(left, list)
        } else if negated {
            return Err("expected LIKE, BETWEEN or IN after NOT".into());
        } else {
            let op = match self.peek() {
                Some(Token::Sym("=")) => Op::Eq,
                Some(Token::Sym("<>")) => Op::Ne,
                Some(Token::Sym("<")) => Op::Lt,
                Some(Token::Sym("<=")) => Op::Le,
                Some(Token::Sym(">")) => Op::Gt,
                Some(Token::Sym(">=")) => Op::Ge,
                _ => return Err("expected a comparison operator".into()),
            };
            self.at += 1;
            Filter::Compare(left, op, self.operand()?)
        };
        Ok(if negated {
            Filter::Not(Box::new(test))
        } else {
            test
        })
    }
}

impl Filter {
    /// Parses CQL2-text against the columns of a collection (unknown properties refused).
    pub fn parse(text: &str, columns: &[Column]) -> Result<Filter, String> {
        let mut parser = Parser {
            tokens: tokens(text)?,
            at: 0,
            columns,
        };
        let filter = parser.or()?;
        match parser.peek() {
            None => Ok(filter),
            Some(t) => Err(format!("unexpected {t:?} after the expression")),
        }
    }

    /// Whether a record's fields satisfy the filter (a comparison with null is false).
    pub fn matches(&self, fields: &[Field]) -> bool {
        let value = |o: &Operand| match o {
            Operand::Property(i) => fields.get(*i).cloned().unwrap_or(Field::Null),
            Operand::Value(v) => v.clone(),
        };
        match self {
            Filter::And(a, b) => a.matches(fields) && b.matches(fields),
            Filter::Or(a, b) => a.matches(fields) || b.matches(fields),
            Filter::Not(a) => !a.matches(fields),
            Filter::IsNull(a) => value(a) == Field::Null,
            Filter::Like(a, pattern) => match value(a) {
                Field::Text(s) => like(
                    &s.chars().collect::<Vec<_>>(),
                    &pattern.chars().collect::<Vec<_>>(),
                ),
                _ => false,
            },
            Filter::In(a, list) => {
                let v = value(a);
                list.iter()
                    .any(|b| compare(&v, &value(b)) == Some(std::cmp::Ordering::Equal))
            }
            Filter::Compare(a, op, b) => compare(&value(a), &value(b)).is_some_and(|o| match op {
                Op::Eq => o.is_eq(),
                Op::Ne => o.is_ne(),
                Op::Lt => o.is_lt(),
                Op::Le => o.is_le(),
                Op::Gt => o.is_gt(),
                Op::Ge => o.is_ge(),
            }),
        }
    }
}

fn compare(a: &Field, b: &Field) -> Option<std::cmp::Ordering> {
    let number = |f: &Field| match f {
        Field::Real(v) => Some(*v),
        Field::Integer(v) => Some(*v as f64),
        _ => None,
    };
    match (a, b) {
        (Field::Text(x), Field::Text(y)) => Some(x.cmp(y)),
        (Field::Bool(x), Field::Bool(y)) => Some(x.cmp(y)),
        _ => number(a)?.partial_cmp(&number(b)?),
    }
}

fn like(text: &[char], pattern: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('%', rest)) => (0..=text.len()).any(|i| like(&text[i..], rest)),
        Some(('_', rest)) => !text.is_empty() && like(&text[1..], rest),
        Some((c, rest)) => text.first() == Some(c) && like(&text[1..], rest),
    }
}

/// The JSON Schema type of a column, as `queryables` lists it.
pub fn schema_type(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Text => "string",
        ColumnKind::Real => "number",
        ColumnKind::Integer => "integer",
        ColumnKind::Bool => "boolean",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<Column> {
        [
            ("population", ColumnKind::Integer),
            ("state", ColumnKind::Text),
            ("locked", ColumnKind::Bool),
        ]
        .into_iter()
        .map(|(name, kind)| Column {
            name: name.into(),
            kind,
        })
        .collect()
    }

    fn row(population: i64, state: &str) -> Vec<Field> {
        vec![
            Field::Integer(population),
            Field::Text(state.into()),
            Field::Bool(false),
        ]
    }

    #[test]
    fn comparisons_with_and_or_not() {
        let f = Filter::parse("population > 100000 AND state = 'CO'", &columns()).unwrap();
        assert!(f.matches(&row(200_000, "CO")));
        assert!(!f.matches(&row(200_000, "NY")));
        assert!(!f.matches(&row(100_000, "CO")));
        let f = Filter::parse(
            "(\"population\" <= 10 OR state <> 'CO') and not locked = true",
            &columns(),
        )
        .unwrap();
        assert!(f.matches(&row(5, "CO")) && f.matches(&row(50, "NY")) && !f.matches(&row(50, "CO")));
        let f = Filter::parse(
            "state LIKE 'C_%' AND population BETWEEN 1 AND 9 OR state IN ('NY', 'NJ')",
            &columns(),
        )
        .unwrap();
        assert!(f.matches(&row(3, "CO")) && f.matches(&row(300, "NJ")) && !f.matches(&row(30, "CO")));
        assert!(
            Filter::parse("state IS NOT NULL", &columns())
                .unwrap()
                .matches(&row(1, "x"))
        );
        assert!(
            Filter::parse("population > -1.5e3", &columns())
                .unwrap()
                .matches(&row(-1, "x"))
        );
    }

    #[test]
    fn bad_filters_are_refused() {
        for bad in [
            "income > 3",
            "population >",
            "population > 3 AND",
            "state = 'open",
            "(population > 1",
            "a ! b",
        ] {
            assert!(Filter::parse(bad, &columns()).is_err(), "{bad}");
        }
    }
}
