//! The command line of CONTRACT §1. Each command loads the config the same way `serve` does.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::auth::{self, NewUser, Role, Username};
use crate::clock::{Clock, SystemClock};
use crate::config::{self, Config};
use crate::customers::{self, CustomerCode, NewCustomer};
use crate::db::Db;

#[derive(Debug, Parser)]
#[command(
    name = "opsdesk",
    version,
    about = "The operations portal of an ISP or hosting provider"
)]
pub struct Cli {
    /// Config file (default: ./opsdesk.toml when it exists, else built-in defaults)
    #[arg(long, global = true, env = "OPSDESK_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web app and every background worker (migrates first)
    Serve,
    /// Apply pending database migrations and exit
    Migrate,
    /// Validate the configuration; print every problem with its key
    CheckConfig,
    /// Local user accounts
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// Customer accounts
    #[command(subcommand)]
    Customer(CustomerCommand),
    /// Write a consistent snapshot of the SQLite database, while the server runs
    Backup { file: PathBuf },
    /// Read ONE message on stdin and post it to Opsdesk (for an MTA pipe or alias); exits
    /// 0 stored, 75 try again later, 65 refused for good, 77 bad token
    Mailgate {
        /// Base URL of Opsdesk, e.g. https://desk.example.net
        #[arg(long)]
        url: String,
        #[arg(long)]
        queue: String,
        #[arg(long, default_value = "correspond", value_parser = ["correspond", "comment"])]
        action: String,
        /// A token of scope mail
        #[arg(long, env = "OPSDESK_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a local user
    Add {
        username: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "agent", "customer"])]
        role: String,
        /// The customer a customer user belongs to
        #[arg(long, value_name = "CODE")]
        customer: Option<String>,
        /// Display name (default: the username)
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (else one is generated and printed)
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; prints only the token
    Create {
        name: String,
        #[arg(long, value_parser = ["api", "alerts", "mail"])]
        scope: String,
        /// Let the token act as this user (default: it acts as itself)
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token by name
    Revoke { name: String },
}

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Create a customer account
    Add {
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_name = "POLICY")]
        sla: Option<String>,
        #[arg(long = "domain", value_name = "D")]
        domains: Vec<String>,
        /// A service the customer buys, as KIND:IDENTIFIER (e.g. transit:192.0.2.0/24)
        #[arg(long = "service", value_name = "KIND:IDENTIFIER")]
        services: Vec<String>,
        /// A host alerts may name, as NAME or NAME=ADDRESS
        #[arg(long = "host", value_name = "NAME[=ADDRESS]")]
        hosts: Vec<String>,
    },
}

/// Runs the command; the exit code follows CONTRACT §1.
pub async fn run(cli: Cli) -> ExitCode {
    let command = cli.command.unwrap_or(Command::Serve);
    // The gate runs on the MTA's host and needs no config or database of its own.
    if let Command::Mailgate {
        url,
        queue,
        action,
        token,
    } = command
    {
        return mailgate(url, queue, &action, token).await;
    }
    let loaded = match config::load(cli.config.as_deref()) {
        Ok(l) => l,
        Err(problems) => {
            eprintln!(
                "opsdesk: the configuration has {} problem(s):",
                problems.len()
            );
            for p in &problems {
                eprintln!("  {p}");
            }
            return ExitCode::FAILURE;
        }
    };
    if let Command::CheckConfig = command {
        for w in &loaded.warnings {
            eprintln!("warning: {w}");
        }
        let from = loaded
            .file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "built-in defaults".into());
        println!("configuration OK ({from})");
        return ExitCode::SUCCESS;
    }
    crate::telemetry::init(&loaded.config.log);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let result = match command {
        Command::Serve => {
            let admin_password = std::env::var("OPSDESK_ADMIN_PASSWORD").ok();
            crate::app::serve(loaded.config, admin_password)
                .await
                .map_err(|e| e.to_string())
        }
        Command::Migrate => migrate(&loaded.config).await,
        Command::User(UserCommand::Add {
            username,
            email,
            role,
            customer,
            name,
            password_stdin,
        }) => {
            user_add(
                &loaded.config,
                username,
                email,
                role,
                customer,
                name,
                password_stdin,
            )
            .await
        }
        Command::Token(cmd) => token(&loaded.config, cmd).await,
        Command::Customer(CustomerCommand::Add {
            code,
            name,
            sla,
            domains,
            services,
            hosts,
        }) => {
            let lists = CustomerLists {
                domains,
                services,
                hosts,
            };
            customer_add(&loaded.config, code, name, sla, lists).await
        }
        Command::Backup { file } => backup(&loaded.config, file).await,
        Command::CheckConfig | Command::Mailgate { .. } => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opsdesk: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn mailgate(url: String, queue: String, action: &str, token: Option<String>) -> ExitCode {
    use crate::mail::gate::{Exit, Gate, deliver};
    let mut raw = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut raw) {
        eprintln!("opsdesk mailgate: reading the message from stdin: {e}");
        return ExitCode::from(Exit::TempFail as u8);
    }
    let gate = Gate {
        url,
        queue,
        action: crate::mail::Action::parse(action).unwrap_or(crate::mail::Action::Correspond),
        token: token.unwrap_or_default(),
    };
    let (code, message) = deliver(&gate, raw).await;
    if code != Exit::Stored {
        eprintln!("opsdesk mailgate: {message}");
    }
    ExitCode::from(code as u8)
}

async fn open(cfg: &Config) -> Result<Db, String> {
    let db = crate::app::connect(cfg).await.map_err(|e| e.to_string())?;
    db.migrate()
        .await
        .map_err(|e| format!("migrating {}: {e}", cfg.database_url))?;
    Ok(db)
}

async fn migrate(cfg: &Config) -> Result<(), String> {
    open(cfg).await?;
    println!("migrations applied to {}", cfg.database_url);
    Ok(())
}

async fn user_add(
    cfg: &Config,
    username: String,
    email: String,
    role: String,
    customer: Option<String>,
    name: Option<String>,
    password_stdin: bool,
) -> Result<(), String> {
    let username = Username::parse(&username).map_err(|m| format!("USERNAME: {m}"))?;
    let role: Role = role.parse().map_err(|m| format!("--role: {m}"))?;
    if !email.contains('@') {
        return Err(format!("--email: \"{email}\" is not an email address"));
    }
    let (password, generated) = if password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("reading the password from stdin: {e}"))?;
        (s.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (auth::sessions::random_token()[..20].to_owned(), true)
    };
    auth::password::validate(&password).map_err(|m| format!("password: {m}"))?;
    let hash = auth::password::hash_blocking(password.clone())
        .await
        .map_err(|e| format!("hashing: {e}"))?;
    let db = open(cfg).await?;
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    let new = NewUser {
        name: name.unwrap_or_else(|| username.as_str().to_owned()),
        username,
        email,
        role,
        customer_code: customer,
        password_hash: Some(hash),
    };
    let id = auth::create_user(&mut tx, new.clone(), SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    println!(
        "created user {} (id {id}, role {})",
        new.username.as_str(),
        role.as_str()
    );
    if generated {
        println!("password: {password}");
    }
    Ok(())
}

async fn token(cfg: &Config, cmd: TokenCommand) -> Result<(), String> {
    let db = open(cfg).await?;
    let now = SystemClock.now();
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    match cmd {
        TokenCommand::Create { name, scope, user } => {
            let scope = scope.parse().map_err(|m| format!("--scope: {m}"))?;
            let user_id = match user {
                Some(u) => Some(
                    auth::find_user(&db, &u)
                        .await
                        .map_err(|e| e.to_string())?
                        .ok_or(format!("--user: no user named {u}"))?
                        .id,
                ),
                None => None,
            };
            let token = auth::tokens::create(&mut tx, &name, scope, user_id, now)
                .await
                .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            println!("{token}");
        }
        TokenCommand::Revoke { name } => {
            if !auth::tokens::revoke(&mut tx, &name, now)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no live token is named {name}"));
            }
            tx.commit().await.map_err(|e| e.to_string())?;
            println!("revoked token {name}");
        }
    }
    Ok(())
}

/// The repeatable flags of `customer add`, as typed.
struct CustomerLists {
    domains: Vec<String>,
    services: Vec<String>,
    hosts: Vec<String>,
}

async fn customer_add(
    cfg: &Config,
    code: String,
    name: String,
    sla: Option<String>,
    lists: CustomerLists,
) -> Result<(), String> {
    let mut services = Vec::new();
    for s in &lists.services {
        let (kind, identifier) = s
            .split_once(':')
            .ok_or_else(|| format!("--service {s}: write KIND:IDENTIFIER"))?;
        services.push(customers::Service {
            kind: kind.to_owned(),
            identifier: identifier.to_owned(),
            description: String::new(),
        });
    }
    let hosts = lists
        .hosts
        .iter()
        .map(|h| {
            let (name, address) = match h.split_once('=') {
                Some((n, a)) => (n, Some(a.to_owned())),
                None => (h.as_str(), None),
            };
            customers::Host {
                name: name.to_owned(),
                address,
            }
        })
        .collect();
    let code = CustomerCode::parse(&code).map_err(|m| format!("CODE: {m}"))?;
    if let Some(p) = &sla
        && !cfg.slas.iter().any(|s| &s.name == p)
    {
        return Err(format!(
            "--sla: no [[sla]] policy is named \"{p}\" in the configuration"
        ));
    }
    let db = open(cfg).await?;
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    let new = NewCustomer {
        code,
        name,
        sla,
        domains: lists.domains,
        services,
        hosts,
    };
    let id = customers::create(&mut tx, &new, SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    println!("created customer {} (id {id})", new.code.as_str());
    Ok(())
}

async fn backup(cfg: &Config, file: PathBuf) -> Result<(), String> {
    let db = crate::app::connect(cfg).await.map_err(|e| e.to_string())?;
    crate::db::backup_sqlite(&db, &file)
        .await
        .map_err(|e| format!("backup to {}: {e}", file.display()))?;
    println!("backup written to {}", file.display());
    Ok(())
}
