//! `tasklane account add|list|remove|passwd|test`: the servers a user
//! works with. Passwords go to the OS keychain and nowhere else; the
//! replica keeps only the keychain entry's name.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use serde::Serialize;
use serde_json::{Map, Value};
use tasklane_connect::accounts::{self as accounts_admin, AccountError, Keep};
use tasklane_connect::{
    ConnectError, Connector, KEYCHAIN_ENTRY, Keychain, SecretError, SecretStore,
};
use tasklane_core::model::{AccountKind, AccountSettings, NewAccount, inbox_org_unit};
use tasklane_core::remote::RemoteErrorKind;
use tasklane_core::replica::accounts;
use tasklane_dialects::Password;

use crate::home::{Home, UsageError};
use crate::output::{emit, or_dash, plural, print_json, table, table_text};
use crate::password::{NewPassword, PasswordSource, read_password};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: AccountCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Kind {
    /// The embedded engine, in-process (no server, no password).
    Local,
    Omflow,
    Gever,
    Hitachi,
}

impl From<Kind> for AccountKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Local => AccountKind::Local,
            Kind::Omflow => AccountKind::Omflow,
            Kind::Gever => AccountKind::Gever,
            Kind::Hitachi => AccountKind::Hitachi,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum GeverAuth {
    /// HTTP basic authentication on every request.
    Basic,
    /// A token from `@login`, renewed when it expires.
    Jwt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BodyFormat {
    Json,
    Xml,
}

// Parsed once per run; boxing `Add`'s many options would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Add a server (asks for its password, which goes to the OS keychain).
    Add {
        /// A name for the account, used by the other commands.
        name: String,
        #[arg(long, value_enum)]
        kind: Kind,
        /// The server's address, e.g. https://omflow.example.com
        /// (not for local accounts).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// The user to log in as (for local accounts: the engine user to
        /// act as, default `me`).
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        #[command(flatten)]
        password: PasswordSource,
        /// The IANA time zone of the server's times without an offset
        /// (OMFLOW default: Asia/Taipei).
        #[arg(long = "tz", value_name = "ZONE")]
        time_zone: Option<String>,
        /// OMFLOW: a flow's api_path, which the task list does not carry;
        /// repeatable.
        #[arg(long = "api-path", value_name = "FLOW_UUID=PATH")]
        api_paths: Vec<String>,
        /// Hitachi: the participant id to claim work for (default: the user).
        #[arg(long, value_name = "ID")]
        participant: Option<String>,
        /// Hitachi: the filter choosing the lanes to list and claim from,
        /// e.g. "Participant='Lane1'".
        #[arg(long, value_name = "FILTER")]
        lane_filter: Option<String>,
        /// Hitachi: the order to claim in, e.g. "Priority DESC".
        #[arg(long, value_name = "SORT")]
        sort: Option<String>,
        /// Hitachi: send and accept XML instead of JSON.
        #[arg(long, value_enum)]
        body_format: Option<BodyFormat>,
        /// GEVER: how to authenticate.
        #[arg(long, value_enum)]
        auth: Option<GeverAuth>,
        /// GEVER: an org unit whose inbox you work from (its tasks are
        /// listed besides your own); repeat for several.
        #[arg(long = "inbox", value_name = "ORG_UNIT")]
        inboxes: Vec<String>,
        /// A CA certificate (PEM file) to trust for this server, for
        /// on-premise servers with their own certificate authority.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
    },
    /// List the accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove an account, its tasks and its keychain entry.
    Remove {
        name: String,
        /// Remove it even though it has actions not yet sent.
        #[arg(long)]
        force: bool,
    },
    /// Store a new password for an account in the keychain.
    Passwd {
        name: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Log in, fetch the first page of tasks, and say what was found or
    /// exactly why not.
    Test {
        name: String,
        /// Use the password in this environment variable instead of the
        /// keychain (for machines without one).
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(home: &Home, args: Args) -> anyhow::Result<()> {
    let connector = connector(home);
    match args.command {
        AccountCommand::Add {
            name,
            kind,
            url,
            user,
            password,
            time_zone,
            api_paths,
            participant,
            lane_filter,
            sort,
            body_format,
            auth,
            inboxes,
            ca_cert,
        } => {
            let mut settings = AccountSettings {
                time_zone,
                api_paths: parse_api_paths(&api_paths)?,
                participant,
                lane_filter,
                sort,
                ca_cert: ca_cert.map(|path| read_ca_cert(&path)).transpose()?,
                auth: auth.map(|a| match a {
                    GeverAuth::Basic => "basic".to_string(),
                    GeverAuth::Jwt => "jwt".to_string(),
                }),
                inboxes: parse_inboxes(&inboxes)?,
            }
            .to_map();
            if let Some(format) = body_format {
                let value = if format == BodyFormat::Xml {
                    "xml"
                } else {
                    "json"
                };
                settings.insert("body_format".into(), Value::String(value.into()));
            }
            let new = NewAccount {
                name,
                kind: kind.into(),
                base_url: url.unwrap_or_default(),
                user_name: user.unwrap_or_default(),
                settings,
            };
            add(home, &connector, new, &password)
        }
        AccountCommand::List { json } => list(home, json),
        AccountCommand::Remove { name, force } => remove(home, &connector, &name, force),
        AccountCommand::Passwd { name, password } => passwd(home, &connector, &name, &password),
        AccountCommand::Test {
            name,
            password_env,
            json,
        } => test(home, &connector, &name, password_env.as_deref(), json),
    }
}

/// The connector over the OS keychain.
pub fn connector(home: &Home) -> Connector {
    let secrets: Arc<dyn SecretStore> = Arc::new(Keychain);
    Connector::new(home.engine_dir(), secrets)
}

fn parse_api_paths(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for pair in pairs {
        let Some((flow, path)) = pair.split_once('=') else {
            return Err(UsageError(format!("--api-path {pair:?}: expected FLOW_UUID=PATH")).into());
        };
        // The my-mission list gives flow uuids without dashes.
        let flow = flow.trim().replace('-', "").to_ascii_lowercase();
        let path = path.trim().trim_matches('/');
        if flow.is_empty() || !flow.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(
                UsageError(format!("--api-path {pair:?}: {flow:?} is not a flow uuid")).into(),
            );
        }
        if path.is_empty() || path.contains(['/', '?', '#', ' ']) {
            return Err(UsageError(format!(
                "--api-path {pair:?}: the api_path is one path segment"
            ))
            .into());
        }
        map.insert(flow, path.to_string());
    }
    Ok(map)
}

/// Org unit ids are short tokens (`fd`, `afi`); `inbox:fd` is taken too.
fn parse_inboxes(values: &[String]) -> anyhow::Result<Vec<String>> {
    values
        .iter()
        .map(|v| match inbox_org_unit(v) {
            Some(ou) => Ok(ou.to_string()),
            None => {
                Err(UsageError(format!("--inbox {v:?}: expected an org unit id such as fd")).into())
            }
        })
        .collect()
}

fn read_ca_cert(path: &std::path::Path) -> anyhow::Result<String> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the CA certificate {}", path.display()))?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(UsageError(format!(
            "{} is not a PEM certificate (it has no BEGIN CERTIFICATE line)",
            path.display()
        ))
        .into());
    }
    Ok(pem)
}

/// A settings mistake is a usage error (exit code 2); the rest as they are.
fn account_error(e: AccountError) -> anyhow::Error {
    match e {
        AccountError::Invalid(_) | AccountError::Exists(_) => UsageError(e.to_string()).into(),
        other => other.into(),
    }
}

/// What the options must give, named as options (the shared check says
/// the same in words for the app).
fn check_flags(new: &NewAccount) -> anyhow::Result<()> {
    let kind = new.kind.as_str();
    let missing = if new.kind == AccountKind::Local {
        if !new.base_url.is_empty() {
            return Err(UsageError("a local account has no --url".into()).into());
        }
        None
    } else if new.base_url.is_empty() {
        Some("--url")
    } else if new.user_name.trim().is_empty() {
        Some("--user")
    } else {
        None
    };
    match missing {
        Some(flag) => Err(UsageError(format!("{flag} is needed for {kind} accounts")).into()),
        None => Ok(()),
    }
}

fn add(
    home: &Home,
    connector: &Connector,
    new: NewAccount,
    source: &PasswordSource,
) -> anyhow::Result<()> {
    check_flags(&new)?;
    accounts_admin::check(&new).map_err(account_error)?;
    let mut replica = home.open_replica()?;
    if accounts::find(replica.conn(), &new.name)?.is_some() {
        return Err(UsageError(format!("there is already an account named {:?}", new.name)).into());
    }
    let password = if new.kind == AccountKind::Local {
        None
    } else {
        Some(read_password(
            source,
            &format!("{}@{}", new.user_name, new.base_url),
            NewPassword::Server,
        )?)
    };
    // The keychain first: an account whose password could not be stored
    // is not added, unless the password came from the environment, which
    // is how machines without a keychain work.
    let keep = if source.password_env.is_some() {
        Keep::KeychainIfAvailable
    } else {
        Keep::Keychain
    };
    let (account, stored) =
        match accounts_admin::add(&mut replica, connector, new, password.as_deref(), keep) {
            Ok(added) => added,
            Err(AccountError::Keychain(e @ SecretError::Unavailable(_))) => {
                return Err(anyhow::Error::new(e).context(
                    "cannot store the password; on a machine without a keychain, \
                     add the account with --password-env VAR and pass the same option \
                     to the commands that reach the server",
                ));
            }
            Err(e) => return Err(account_error(e)),
        };
    if account.kind == AccountKind::Local {
        return emit(&format!(
            "added local account {:?} (the embedded engine at {}, as user {})\n",
            account.name,
            connector.engine_dir().display(),
            account.user_name
        ));
    }
    if !stored {
        eprintln!(
            "tasklane: no keychain is available; the password was not stored. \
             Pass --password-env {} to the commands that reach the server.",
            source.password_env.as_deref().unwrap_or_default()
        );
    }
    emit(&format!(
        "added {} account {:?} ({} as {}){}\ncheck it with: tasklane account test {}\n",
        account.kind.as_str(),
        account.name,
        account.base_url,
        account.user_name,
        if stored {
            "; the password is in the keychain"
        } else {
            ""
        },
        shell_word(&account.name),
    ))
}

/// Quotes a name for a command line the user may copy.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[derive(Serialize)]
struct AccountView<'a> {
    name: &'a str,
    kind: &'a str,
    url: &'a str,
    user: &'a str,
    /// Whether a keychain entry is recorded (the password itself is never read here).
    keychain: bool,
    settings: Map<String, Value>,
    pending_ops: u64,
}

fn list(home: &Home, json: bool) -> anyhow::Result<()> {
    let replica = home.open_replica()?;
    let all = accounts::list(replica.conn())?;
    let pending = accounts_admin::unsent_ops(replica.conn())?;
    let views: Vec<AccountView<'_>> = all
        .iter()
        .map(|a| {
            let mut settings = a.settings.clone();
            settings.remove(KEYCHAIN_ENTRY);
            if let Some(Value::String(pem)) = settings.get_mut("ca_cert") {
                // The whole PEM is noise in a listing.
                *pem = "(custom CA certificate)".into();
            }
            AccountView {
                name: &a.name,
                kind: a.kind.as_str(),
                url: &a.base_url,
                user: &a.user_name,
                keychain: a.settings.contains_key(KEYCHAIN_ENTRY),
                settings,
                pending_ops: pending.get(&a.id).copied().unwrap_or(0),
            }
        })
        .collect();
    if json {
        return print_json(&views);
    }
    if views.is_empty() {
        return emit("no accounts; add one with `tasklane account add`\n");
    }
    let mut t = table(&["NAME", "KIND", "SERVER", "USER", "PASSWORD", "PENDING"]);
    for v in &views {
        t.add_row(vec![
            v.name.to_string(),
            v.kind.to_string(),
            or_dash(Some(v.url).filter(|u| !u.is_empty())).to_string(),
            or_dash(Some(v.user).filter(|u| !u.is_empty())).to_string(),
            if v.kind == "local" {
                "-".into()
            } else if v.keychain {
                "keychain".into()
            } else {
                "none stored".into()
            },
            v.pending_ops.to_string(),
        ]);
    }
    emit(&table_text(&t))
}

fn remove(home: &Home, connector: &Connector, name: &str, force: bool) -> anyhow::Result<()> {
    let mut replica = home.open_replica()?;
    match accounts_admin::remove(&mut replica, connector, name, force) {
        Ok((removed, leftover)) => {
            if let Some(e) = leftover {
                eprintln!("tasklane: the keychain entry could not be removed: {e}");
            }
            emit(&format!("removed account {:?}\n", removed.name))
        }
        Err(AccountError::Unsent(_, what)) => Err(UsageError(format!(
            "account {name:?} has {what} not yet on the server; sync first, or pass --force to drop {}",
            if what.starts_with("1 ") { "it" } else { "them" }
        ))
        .into()),
        Err(e) => Err(account_error(e)),
    }
}

fn passwd(
    home: &Home,
    connector: &Connector,
    name: &str,
    source: &PasswordSource,
) -> anyhow::Result<()> {
    let mut replica = home.open_replica()?;
    let account = accounts::get(replica.conn(), name)?;
    if account.kind == AccountKind::Local {
        return Err(UsageError(format!("{name:?} is a local account: it has no password")).into());
    }
    let password = read_password(
        source,
        &format!("{}@{}", account.user_name, account.base_url),
        NewPassword::Server,
    )?;
    let mut settings = account.settings.clone();
    connector
        .store_password(&mut settings, &password)
        .context("cannot store the password")?;
    if settings != account.settings {
        replica.write(|tx| accounts::update_settings(tx, account.id, &settings))?;
    }
    emit(&format!(
        "stored a new password for {name:?} in the keychain\n"
    ))
}

/// The password from `--password-env`, if given.
pub fn env_password(var: Option<&str>) -> anyhow::Result<Option<Password>> {
    match var {
        None => Ok(None),
        Some(var) => match std::env::var(var) {
            Ok(p) if !p.is_empty() => Ok(Some(Password::new(p))),
            _ => Err(UsageError(format!("${var} is not set")).into()),
        },
    }
}

fn test(
    home: &Home,
    connector: &Connector,
    name: &str,
    password_env: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let replica = home.open_replica()?;
    let account = accounts::get(replica.conn(), name)?;
    drop(replica);
    let password = env_password(password_env)?;
    let remote = match connector.remote(&account, password) {
        Ok(r) => r,
        Err(ConnectError::Secret(e)) => {
            return Err(anyhow::Error::new(e).context(format!(
                "cannot read the password of {name:?}; pass --password-env VAR instead"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(tasklane_connect::probe(remote.as_ref()));
    match result {
        Ok(found) => {
            if json {
                return print_json(&found);
            }
            let mut text = format!(
                "{name}: logged in to {} as {}; the first page has {} ({} open)",
                if account.kind == AccountKind::Local {
                    "the embedded engine".to_string()
                } else {
                    account.base_url.clone()
                },
                account.user_name,
                plural(found.tasks as u64, "task", "tasks"),
                found.active,
            );
            match (found.total, found.more) {
                (Some(total), _) => text.push_str(&format!(", {total} in all\n")),
                (None, true) => text.push_str(", more on later pages\n"),
                (None, false) => text.push('\n'),
            }
            for title in &found.sample {
                text.push_str(&format!("  · {title}\n"));
            }
            let caps = &found.capabilities;
            let ops: Vec<&str> = caps.op_kinds.iter().map(|k| k.as_str()).collect();
            text.push_str(&format!("can: {}\n", ops.join(", ")));
            if !caps.exhaustive_listing {
                text.push_str(
                    "note: this server offers no list of your work; only what you claim \
                     through tasklane appears in the inbox\n",
                );
            }
            emit(&text)
        }
        Err(e) => {
            let what = match e.kind {
                RemoteErrorKind::Auth => "the server refused the login",
                RemoteErrorKind::Offline => "the server cannot be reached",
                RemoteErrorKind::Transient { .. } => "the server is not answering properly now",
                RemoteErrorKind::Protocol => "the server's answer could not be understood",
                RemoteErrorKind::Permanent | RemoteErrorKind::Uncertain => {
                    "the server refused the request"
                }
            };
            Err(anyhow::anyhow!("{name}: {what}: {e}"))
        }
    }
}
