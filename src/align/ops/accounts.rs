//! Accounts: adding, replacing and removing them, and overriding their territory.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{AccountRecord, Op, check_location};
use crate::align::refusal::Refusal;
use crate::align::state::{Account, AlignmentState};

impl AlignmentState {
    /// `override_account`: an account owned by a leaf territory regardless of its
    /// location (`None` follows the location again).
    pub(super) fn override_account(
        &mut self,
        account: &str,
        territory: Option<&String>,
    ) -> Result<Vec<Op>, Refusal> {
        if let Some(t) = territory {
            self.territory(0, t)?;
        }
        if !self.accounts.contains_key(account) {
            return Err(Refusal::UnknownAccount {
                account: account.to_owned(),
            });
        }
        let entry = Arc::make_mut(&mut self.accounts)
            .get_mut(account)
            .ok_or_else(|| Refusal::UnknownAccount {
                account: account.to_owned(),
            })?;
        let old = std::mem::replace(&mut entry.override_territory, territory.cloned());
        Ok(vec![Op::OverrideAccount {
            account: account.to_owned(),
            territory: old,
        }])
    }

    /// `upsert_accounts`: adds or replaces accounts, keeping their overrides.
    pub(super) fn upsert_accounts(
        &mut self,
        accounts: &BTreeMap<String, Arc<AccountRecord>>,
    ) -> Result<Vec<Op>, Refusal> {
        for (id, a) in accounts {
            if id.trim().is_empty() {
                return Err(Refusal::EmptyAccountId);
            }
            check_location(|| format!("account '{id}'"), Some(a.lon), Some(a.lat))?;
        }
        let mut restore = Vec::new();
        let mut added = Vec::new();
        let all = Arc::make_mut(&mut self.accounts);
        for (id, record) in accounts {
            let override_territory = all.get(id).and_then(|a| a.override_territory.clone());
            let previous = all.insert(
                id.clone(),
                Account {
                    record: record.clone(),
                    override_territory,
                },
            );
            match previous {
                Some(old) => restore.push((id.clone(), old.record)),
                None => added.push(id.clone()),
            }
        }
        let mut inverse = Vec::new();
        if !added.is_empty() {
            inverse.push(Op::DeleteAccounts { accounts: added });
        }
        if !restore.is_empty() {
            inverse.push(Op::UpsertAccounts {
                accounts: restore.into_iter().collect(),
            });
        }
        Ok(inverse)
    }

    /// `delete_accounts`: removes accounts (the inverse restores their overrides).
    pub(super) fn delete_accounts(&mut self, accounts: &[String]) -> Result<Vec<Op>, Refusal> {
        let mut restore = BTreeMap::new();
        let mut overrides = Vec::new();
        for id in accounts {
            let a = self
                .accounts
                .get(id)
                .ok_or_else(|| Refusal::UnknownAccount { account: id.clone() })?;
            restore.insert(id.clone(), a.record.clone());
            if let Some(t) = &a.override_territory {
                overrides.push(Op::OverrideAccount {
                    account: id.clone(),
                    territory: Some(t.clone()),
                });
            }
        }
        for id in accounts {
            Arc::make_mut(&mut self.accounts).remove(id);
        }
        let mut inverse = vec![Op::UpsertAccounts { accounts: restore }];
        inverse.extend(overrides);
        Ok(inverse)
    }
}
