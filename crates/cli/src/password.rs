//! How a password reaches tasklane: a prompt, standard input, or an
//! environment variable. Never a command-line argument: those show up in
//! the process list and the shell history.

use std::io::BufRead;

use anyhow::Context;

use crate::home::UsageError;

#[derive(Debug, clap::Args)]
pub struct PasswordSource {
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "password_stdin")]
    pub password_env: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Whose password is being read, which decides the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewPassword {
    /// A password for the embedded engine's user, chosen here: asked twice
    /// and at least 4 characters.
    Engine,
    /// A server account's existing password: asked once (`account test`
    /// tells whether it was right) and taken as it is.
    Server,
}

pub fn read_password(
    source: &PasswordSource,
    whose: &str,
    rules: NewPassword,
) -> anyhow::Result<String> {
    let password = if let Some(var) = &source.password_env {
        std::env::var(var).map_err(|_| UsageError(format!("${var} is not set")))?
    } else if source.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else {
        let first = rpassword::prompt_password(format!("Password for {whose}: "))
            .context("cannot read the password (use --password-stdin without a terminal)")?;
        if rules == NewPassword::Engine {
            let again = rpassword::prompt_password("Again: ")?;
            if first != again {
                return Err(UsageError("the passwords differ".into()).into());
            }
        }
        first
    };
    let min = if rules == NewPassword::Engine { 4 } else { 1 };
    if password.chars().count() < min {
        return Err(UsageError(if min == 1 {
            "the password is empty".into()
        } else {
            format!("a password needs at least {min} characters")
        })
        .into());
    }
    Ok(password)
}
