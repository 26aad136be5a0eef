//! `geoalign token create|list|revoke`: the access tokens of the store (see
//! `geoalign::http::auth`). A token's secret is printed once, by `create`; the store
//! keeps only its SHA-256.

use clap::Subcommand;
use geoalign::config::Config;
use geoalign::store::{NewToken, Role};

use super::output::Stdout;
use super::{CliError, open_store};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown this once; only its hash is stored).
    Create {
        /// viewer (tiles, lookups, exports, reads), editor (change sets, undo, new
        /// alignments), admin (tokens, datasets).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The one alignment an editor token may change (default: all).
        #[arg(long, value_name = "A")]
        alignment: Option<String>,
        /// Name of the token, the author of its change sets (default: the role).
        #[arg(long, value_name = "N")]
        name: Option<String>,
    },
    /// List the tokens (id, name, role, alignment, created, revoked), never their secrets.
    List,
    /// Revoke a token by id: it stops working (within a second in a running server).
    Revoke {
        /// Token id (from `token list`).
        id: i64,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
}

/// Longest token name accepted.
const MAX_NAME_CHARS: usize = 100;

impl TokenCommand {
    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        let store = open_store(config)?;
        match self {
            TokenCommand::Create {
                role,
                alignment,
                name,
            } => {
                if alignment.is_some() && role != Role::Editor {
                    return Err(CliError::Usage(format!(
                        "--alignment limits what an editor token may change; a {role} token takes none"
                    )));
                }
                if let Some(a) = &alignment {
                    store.alignment(a)?;
                }
                let name = name.unwrap_or_else(|| role.name().to_owned());
                if name.trim().is_empty()
                    || name.chars().count() > MAX_NAME_CHARS
                    || name.chars().any(char::is_control)
                {
                    return Err(CliError::Usage(format!(
                        "--name {name:?}: 1 to {MAX_NAME_CHARS} characters, no control characters"
                    )));
                }
                let (info, secret) = store.create_token(&NewToken {
                    name: &name,
                    role,
                    alignment: alignment.as_deref(),
                })?;
                tracing::info!(id = info.id, role = %info.role, "token created");
                out.line(format_args!("{secret}"))?;
                eprintln!(
                    "token {} ({}, {}{}): the line above is its secret, shown only this once; \
                     send it as `Authorization: Bearer <secret>`",
                    info.id,
                    info.name,
                    info.role,
                    info.alignment
                        .map(|a| format!(", alignment '{a}'"))
                        .unwrap_or_default()
                );
                Ok(())
            }
            TokenCommand::List => out.json(&store.tokens()?),
            TokenCommand::Revoke { id } => out.json(&store.revoke_token(id)?),
        }
    }
}
