//! Rule territories: creating, changing, reordering and deleting them. A condition is
//! compiled and checked against the fields the alignment's accounts have when saved.

use super::Op;
use crate::align::MAX_TEXT_CHARS;
use crate::align::refusal::Refusal;
use crate::align::rules::RuleError;
use crate::align::state::{AlignmentState, Rule};

impl AlignmentState {
    /// A rule compiled and checked: a leaf territory, a condition over known fields.
    fn checked_rule(
        &self,
        id: &str,
        territory: &str,
        condition: &str,
        priority: i64,
    ) -> Result<Rule, Refusal> {
        if id.trim().is_empty() || id.chars().count() > MAX_TEXT_CHARS || id.chars().any(char::is_control) {
            return Err(Refusal::BadRule {
                rule: id.to_owned(),
                field: None,
                reason: format!("a rule id has 1 to {MAX_TEXT_CHARS} characters and no control characters"),
            });
        }
        self.territory(0, territory)?;
        let bad = |e: RuleError| Refusal::BadRule {
            rule: id.to_owned(),
            field: e.field,
            reason: e.reason,
        };
        let rule = Rule::new(territory.to_owned(), condition.to_owned(), priority).map_err(bad)?;
        rule.compiled.check(&self.account_fields()).map_err(bad)?;
        Ok(rule)
    }

    fn rule(&self, id: &str) -> Result<&Rule, Refusal> {
        self.rules.get(id).ok_or_else(|| Refusal::UnknownRule {
            rule: id.to_owned(),
            rules: self.rules.keys().take(10).cloned().collect(),
        })
    }

    /// `create_rule`: a new rule, by default after every other.
    pub(super) fn create_rule(
        &mut self,
        id: &str,
        territory: &str,
        condition: &str,
        priority: Option<i64>,
    ) -> Result<Vec<Op>, Refusal> {
        if self.rules.contains_key(id) {
            return Err(Refusal::RuleExists { rule: id.to_owned() });
        }
        let last = self.rules.values().map(|r| r.priority).max().unwrap_or(0);
        let rule = self.checked_rule(
            id,
            territory,
            condition,
            priority.unwrap_or(last.saturating_add(1)),
        )?;
        self.rules.insert(id.to_owned(), rule);
        Ok(vec![Op::DeleteRule { rule: id.to_owned() }])
    }

    /// `update_rule`: what is given replaces what was.
    pub(super) fn update_rule(
        &mut self,
        id: &str,
        territory: Option<&str>,
        condition: Option<&str>,
        priority: Option<i64>,
    ) -> Result<Vec<Op>, Refusal> {
        let old = self.rule(id)?.clone();
        let rule = self.checked_rule(
            id,
            territory.unwrap_or(&old.territory),
            condition.unwrap_or(&old.condition),
            priority.unwrap_or(old.priority),
        )?;
        self.rules.insert(id.to_owned(), rule);
        Ok(vec![Op::UpdateRule {
            rule: id.to_owned(),
            territory: territory.map(|_| old.territory),
            condition: condition.map(|_| old.condition),
            priority: priority.map(|_| old.priority),
        }])
    }

    /// `reorder_rules`: the listed rules get priorities 1, 2, ...; the others keep their
    /// order after them.
    pub(super) fn reorder_rules(&mut self, ids: &[String]) -> Result<Vec<Op>, Refusal> {
        for id in ids {
            self.rule(id)?;
        }
        let mut rest: Vec<(i64, String)> = self
            .rules
            .iter()
            .filter(|(id, _)| !ids.contains(id))
            .map(|(id, r)| (r.priority, id.clone()))
            .collect();
        rest.sort();
        let mut inverse = Vec::new();
        let order = ids.iter().cloned().chain(rest.into_iter().map(|(_, id)| id));
        for (i, id) in order.enumerate() {
            let priority = i as i64 + 1;
            if let Some(rule) = self.rules.get_mut(&id)
                && rule.priority != priority
            {
                inverse.push(Op::UpdateRule {
                    rule: id.clone(),
                    territory: None,
                    condition: None,
                    priority: Some(std::mem::replace(&mut rule.priority, priority)),
                });
            }
        }
        Ok(inverse)
    }

    /// `delete_rule`.
    pub(super) fn delete_rule(&mut self, id: &str) -> Result<Vec<Op>, Refusal> {
        let old = self.rule(id)?.clone();
        self.rules.remove(id);
        Ok(vec![Op::CreateRule {
            rule: id.to_owned(),
            territory: old.territory,
            condition: old.condition,
            priority: Some(old.priority),
        }])
    }

    /// Rules giving accounts to `code` (deleted or merged away) follow to `to`; with
    /// nowhere to go, the deletion is refused naming them.
    pub(super) fn retarget_rules(&mut self, code: &str, to: Option<&str>) -> Result<Vec<Op>, Refusal> {
        let ids: Vec<String> = self
            .rules
            .iter()
            .filter(|(_, r)| r.territory == code)
            .map(|(id, _)| id.clone())
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let Some(to) = to else {
            return Err(Refusal::TerritoryHasRules {
                code: code.to_owned(),
                rules: ids,
            });
        };
        let mut inverse = Vec::new();
        for id in ids {
            if let Some(rule) = self.rules.get_mut(&id) {
                rule.territory = to.to_owned();
            }
            inverse.push(Op::UpdateRule {
                rule: id,
                territory: Some(code.to_owned()),
                condition: None,
                priority: None,
            });
        }
        Ok(inverse)
    }
}
