//! Access tokens and the answers of idempotent requests.
//!
//! A token is 256 random bits, shown once when created; the store keeps only its
//! SHA-256 ([`token_hash`]), so a copy of the store file gives no one access.

use std::fmt;
use std::str::FromStr;

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::Store;
use crate::store::StoreError;

/// What a token may do; each role may do what the roles before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Tiles, lookups, exports and every read.
    Viewer,
    /// Change sets, undo and new alignments (of one alignment or all).
    Editor,
    /// Tokens and datasets.
    Admin,
}

impl Role {
    /// The role's name as stored and shown (`viewer`, `editor`, `admin`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role '{other}': expected viewer, editor or admin"
            )),
        }
    }
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    /// Token id (for `geoalign token revoke ID`).
    pub id: i64,
    /// Name, the author of the token's change sets.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The one alignment an editor token may change (none: every alignment).
    pub alignment: Option<String>,
    /// When it was created (UTC, ISO 8601).
    pub created_at: String,
    /// When it was revoked, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// A token to create.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    /// Name (the author of its change sets).
    pub name: &'a str,
    /// What it may do.
    pub role: Role,
    /// The one alignment it may change.
    pub alignment: Option<&'a str>,
}

/// Prefix of every token's secret, so that a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "ga_";

/// The SHA-256 (hex) of a token's secret, as the store keeps it.
pub fn token_hash(secret: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(secret.as_bytes()))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The answer of a state-changing request sent with an `Idempotency-Key`, stored in
/// the transaction of the change it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentAnswer {
    /// Who sent it (the token id, or empty without a token) and its key: keys of two
    /// clients never meet.
    pub scope: String,
    /// The `Idempotency-Key` header.
    pub key: String,
    /// What was asked: the method, path and body, hashed; a retry asking something else is refused.
    pub fingerprint: String,
    /// HTTP status of the answer.
    pub status: u16,
    /// JSON body of the answer.
    pub body: String,
}

impl Store {
    /// Creates a token; returns it as listed and its secret, which nothing keeps.
    pub fn create_token(&self, token: &NewToken) -> Result<(TokenInfo, String), StoreError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
        let secret = format!("{TOKEN_PREFIX}{}", hex(&bytes));
        let conn = self.writer();
        conn.execute(
            "INSERT INTO tokens (name, role, alignment, hash) VALUES (?1, ?2, ?3, ?4)",
            params![
                token.name,
                token.role.name(),
                token.alignment,
                token_hash(&secret)
            ],
        )
        .map_err(|e| self.sqlite_error(e))?;
        let id = conn.last_insert_rowid();
        drop(conn);
        let info = self
            .tokens()?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(StoreError::TokenNotFound(id))?;
        Ok((info, secret))
    }

    /// Every token, revoked ones too, by id.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        Ok(self.token_rows(false)?.into_iter().map(|(_, t)| t).collect())
    }

    /// The tokens in force with the hash of each.
    pub fn active_tokens(&self) -> Result<Vec<(String, TokenInfo)>, StoreError> {
        self.token_rows(true)
    }

    fn token_rows(&self, active: bool) -> Result<Vec<(String, TokenInfo)>, StoreError> {
        let sql = format!(
            "SELECT hash, id, name, role, alignment, created_at, revoked_at FROM tokens {} ORDER BY id",
            if active { "WHERE revoked_at IS NULL" } else { "" }
        );
        self.read(|conn| {
            let mut statement = conn.prepare(&sql).map_err(|e| self.sqlite_error(e))?;
            let rows = statement
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ))
                })
                .map_err(|e| self.sqlite_error(e))?;
            let mut out = Vec::new();
            for row in rows {
                let (hash, id, name, role, alignment, created_at, revoked_at) =
                    row.map_err(|e| self.sqlite_error(e))?;
                let role = role.parse().map_err(|reason| StoreError::Corrupt {
                    path: self.path.clone(),
                    what: format!("token {id}"),
                    reason,
                })?;
                out.push((
                    hash,
                    TokenInfo {
                        id,
                        name,
                        role,
                        alignment,
                        created_at,
                        revoked_at,
                    },
                ));
            }
            Ok(out)
        })
    }

    /// Revokes a token: it stops working at once in this process, within a second in a
    /// server on the same store.
    pub fn revoke_token(&self, id: i64) -> Result<TokenInfo, StoreError> {
        let changed = self
            .writer()
            .execute(
                "UPDATE tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                 WHERE id = ?1 AND revoked_at IS NULL",
                [id],
            )
            .map_err(|e| self.sqlite_error(e))?;
        let token = self
            .tokens()?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(StoreError::TokenNotFound(id))?;
        if changed == 0 {
            tracing::info!(id, "token was revoked already");
        }
        Ok(token)
    }

    /// The stored answer of a request sent with `key` by `scope`: (fingerprint, status, body).
    pub fn idempotent_answer(&self, scope: &str, key: &str) -> Result<Option<IdempotentAnswer>, StoreError> {
        self.read(|conn| {
            conn.query_row(
                &format!(
                    "SELECT fingerprint, status, body FROM idempotency_keys
                     WHERE scope = ?1 AND key = ?2 AND created_at > {FRESH}"
                ),
                params![scope, key],
                |r| {
                    Ok(IdempotentAnswer {
                        scope: scope.to_owned(),
                        key: key.to_owned(),
                        fingerprint: r.get(0)?,
                        status: r.get(1)?,
                        body: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.sqlite_error(e))
        })
    }
}

impl Store {
    /// Stores the answer of an idempotent request that changed nothing (a change set
    /// that left the alignment as it was), so that its retry answers the same.
    pub fn store_idempotent_answer(&self, answer: &IdempotentAnswer) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.sqlite_error(e))?;
        store_answer(&tx, answer).map_err(|e| self.sqlite_error(e))?;
        tx.commit().map_err(|e| self.sqlite_error(e))
    }
}

impl Store {
    /// Whether the store takes writes now: the writer takes SQLite's write lock and
    /// lets it go (a read-only file, a lost directory or a locked database fail).
    pub fn check_writable(&self) -> Result<(), StoreError> {
        self.writer()
            .execute_batch("BEGIN IMMEDIATE; ROLLBACK;")
            .map_err(|e| self.sqlite_error(e))
    }
}

/// SQL of the oldest `created_at` of an answer still kept: answers are kept a day (a
/// retry after that is a new request).
const FRESH: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')";

/// Stores `answer` in `tx` (the transaction of the change it answers), forgetting
/// answers older than a day.
pub(super) fn store_answer(tx: &Transaction, answer: &IdempotentAnswer) -> rusqlite::Result<()> {
    tx.execute(
        &format!("DELETE FROM idempotency_keys WHERE created_at <= {FRESH}"),
        [],
    )?;
    tx.execute(
        "INSERT OR REPLACE INTO idempotency_keys (scope, key, fingerprint, status, body)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            answer.scope,
            answer.key,
            answer.fingerprint,
            answer.status,
            answer.body
        ],
    )?;
    Ok(())
}
