//! The command line: serve, import, export and demo.

use crate::auth::password;
use crate::config::Config;
use crate::demo::{DemoOptions, write_demo};
use crate::domain::Quarter;
use crate::domain::Role;
use crate::export::{Filters, Format as ExportFormat, Out, write_export};
use crate::store::Actor;
use crate::store::WindowChange;
use crate::submit::{Answer, Format, ImportKind, Options, Upload, submit};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://exemplar.db";

#[derive(Debug, Parser)]
#[command(
    name = "exemplar",
    version,
    about = "Digital maturity of NHS trusts in England: submissions, benchmarks, gaps and exports"
)]
pub struct Cli {
    /// The database: sqlite://FILE or postgres://USER@HOST/DB
    #[arg(long, global = true, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app (the default command)
    Serve(ServeArgs),
    /// Import a submission file as the command-line operator
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write an export as CSV
    Export(ExportArgs),
    /// Write a deterministic demo submission CSV
    Demo(DemoArgs),
    /// Manage user accounts
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// Collection windows: open a quarter for submissions until a date, close it, reopen it for one trust
    #[command(subcommand)]
    Window(WindowCommand),
    /// Sign off a trust's figures for a quarter ("these are our figures")
    Signoff {
        quarter: String,
        #[arg(long)]
        org: String,
    },
    /// Publish QUARTER's figures as they stand as a release that never changes; prints its id last
    Publish {
        quarter: String,
        /// What the release holds, for its readers
        #[arg(long)]
        note: String,
        /// Publish even though some trusts have not signed off their figures (they are named)
        #[arg(long)]
        yes: bool,
    },
    /// List the published releases, newest first; --next sets the next planned publication date
    Releases {
        /// The next planned publication date (YYYY-MM-DD), shown on /releases
        #[arg(long)]
        next: Option<String>,
    },
    /// Write the whole database to FILE (SQLite's online backup; pg_dump's custom format for PostgreSQL)
    Backup { file: PathBuf },
    /// Replace the whole database with a backup FILE (stop the server first)
    Restore { file: PathBuf },
    /// Measure: the full benchmark recompute and the refresh after a submission, timed (see benches/)
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Compute every table of docs/RULES.md §4 from a values CSV; print the times, the peak memory and a
    /// checksum of each table
    Recompute {
        /// A values file: org_code,metric_id,period,value
        values: PathBuf,
        /// The organisations (columns of the organisations export); the reference trusts when absent
        #[arg(long)]
        organisations: Option<PathBuf>,
    },
    /// Apply one trust's submission after another to the figures of a values CSV, as a server
    /// refreshes after each commit; print the time each quarter's refresh takes
    Refresh {
        /// A values file: org_code,metric_id,period,value
        values: PathBuf,
        /// The organisations (columns of the organisations export); the reference trusts when absent
        #[arg(long)]
        organisations: Option<PathBuf>,
        /// Submissions per quarter
        #[arg(long, default_value_t = 9)]
        rounds: usize,
        /// The quarters submitted to, as quarters before the latest
        #[arg(long, value_delimiter = ',', default_value = "0,4,12")]
        back: Vec<i32>,
        /// Round each new value to this many decimal places, as a trust's figures are written
        /// (when absent, a value is any number on the metric's scale)
        #[arg(long)]
        places: Option<u8>,
    },
    /// Compute every benchmark of saved peer groups of several sizes (trusts drawn at random,
    /// the same each run) from the figures of a values CSV, as a page or export first asks for
    /// one; print the times beside the full recompute's
    Groups {
        /// A values file: org_code,metric_id,period,value
        values: PathBuf,
        /// The organisations (columns of the organisations export); the reference trusts when absent
        #[arg(long)]
        organisations: Option<PathBuf>,
        /// Groups computed per size
        #[arg(long, default_value_t = 9)]
        rounds: usize,
        /// The sizes of the groups, in trusts
        #[arg(long, value_delimiter = ',', default_value = "2,10,25,50")]
        sizes: Vec<usize>,
    },
}

#[derive(Debug, Subcommand)]
pub enum WindowCommand {
    /// Open QUARTER for collection until a date (YYYY-MM-DD, the end of that day UTC) or time
    Open {
        quarter: String,
        #[arg(long)]
        closes: String,
    },
    /// Close QUARTER's collection now
    Close { quarter: String },
    /// Let one trust submit for QUARTER again after its window closed
    Reopen {
        quarter: String,
        #[arg(long)]
        org: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input (asked twice on a terminal)
    Add {
        #[arg(long)]
        email: String,
        /// trust, board, analyst or admin
        #[arg(long)]
        role: String,
        /// The ODS code a trust user submits for
        #[arg(long)]
        org: Option<String>,
        /// Create the account without a password (it cannot sign in until one is set)
        #[arg(long)]
        no_password: bool,
    },
    /// List users
    List,
    /// Disable a user (its sessions end; its tokens stop working)
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Let a user publish releases (or, with --revoke, no longer)
    Publisher {
        #[arg(long)]
        email: String,
        #[arg(long)]
        revoke: bool,
    },
    /// Set a user's password, read from standard input (asked twice on a terminal)
    SetPassword {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; printed once, as the last word of the output
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "api")]
        name: String,
        /// What it may do: read, submit, or both (read,submit)
        #[arg(long, default_value = "read,submit")]
        scope: String,
        /// When it stops working: a number of days (90d), or never
        #[arg(long, default_value = "never")]
        expires_in: String,
    },
    /// List tokens (never the tokens themselves)
    List,
    /// Revoke a token by its id
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, env = "EXEMPLAR_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Start with reference data only
    #[arg(long)]
    pub no_demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Metric values: CSV org_code,metric_id,period,value[,comment], or FHIR MeasureReport JSON
    Submissions {
        file: PathBuf,
        /// Validate without storing
        #[arg(long)]
        dry_run: bool,
    },
    /// Targets: CSV org_code,metric_id,period,target
    Targets {
        file: PathBuf,
        /// Validate without storing
        #[arg(long)]
        dry_run: bool,
    },
    /// Conformance results: CSV subject,standard_id,result,assessed_on[,assessor][,evidence], or FHIR TestReport JSON
    Conformance {
        file: PathBuf,
        /// Validate without storing
        #[arg(long)]
        dry_run: bool,
    },
    /// NHS App uptake counts: CSV area_code,month,measure,value[,age_band] (month as 2019-03), or FHIR MeasureReport JSON about areas
    Uptake {
        file: PathBuf,
        /// Validate without storing
        #[arg(long)]
        dry_run: bool,
    },
    /// A published Data Security and Protection Toolkit trust status file
    Dspt {
        file: PathBuf,
        /// Validate without storing
        #[arg(long)]
        dry_run: bool,
    },
    /// Organisations: CSV with the columns of the organisations export (org_code, org_name,
    /// trust_type, region, exemplar[, exemplar_cohort]); new ones are added, known ones updated
    Organisations {
        file: PathBuf,
        /// Validate without storing
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// organisations, metrics, values, benchmarks, trust_benchmarks, indices, trends or gaps
    pub name: String,
    #[arg(long)]
    pub period: Option<String>,
    #[arg(long)]
    pub peer_group: Option<String>,
    #[arg(long)]
    pub metric_id: Option<String>,
    #[arg(long)]
    pub org_code: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    /// Exemplar cohort: gde, fast_follower or none
    #[arg(long)]
    pub exemplar: Option<String>,
    /// Output format
    #[arg(long, default_value = "csv", value_parser = ["csv", "parquet"])]
    pub format: String,
    /// Output file (standard output when absent)
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// A published release's figures (its id, or latest) instead of the provisional ones
    #[arg(long)]
    pub release: Option<String>,
    /// The figures as they stood at a moment, such as 2026-10-01T12:00:00Z
    #[arg(long)]
    pub as_of: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of organisations (the reference trusts when absent); beyond the reference data's,
    /// synthetic organisations are added (see --organisations-output)
    #[arg(long)]
    pub trusts: Option<usize>,
    /// Also write the synthetic organisations the demo uses, to load first with
    /// `exemplar import organisations`
    #[arg(long)]
    pub organisations_output: Option<PathBuf>,
    #[arg(long, default_value_t = 12)]
    pub quarters: usize,
    #[arg(long, default_value_t = 2016)]
    pub seed: u64,
    /// The last quarter (default: the latest that has ended)
    #[arg(long)]
    pub end: Option<String>,
    /// Output file (standard output when absent)
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// Runs a command; returns the process exit code.
pub async fn run(cli: Cli) -> Result<i32> {
    let url = cli.database_url;
    match cli.command.unwrap_or(Command::Serve(ServeArgs { addr: "127.0.0.1:8080".into(), no_demo: false })) {
        Command::Serve(args) => serve(url, args).await,
        Command::Import(command) => import(&url, command).await,
        Command::Export(args) => export(&url, args).await,
        Command::Window(command) => window(&url, command).await,
        Command::Signoff { quarter, org } => sign_off(&url, &quarter, &org).await,
        Command::Publish { quarter, note, yes } => publish(&url, &quarter, &note, yes).await,
        Command::Releases { next } => releases(&url, next).await,
        Command::Backup { file } => backup(&url, &file).await,
        Command::Restore { file } => restore(&url, &file).await,
        Command::User(command) => user_command(&url, command).await,
        Command::Token(command) => token_command(&url, command).await,
        Command::Bench(command) => bench(command).await,
        Command::Demo(args) => demo(args),
    }
}

/// `exemplar serve`: prepares the app (the figures load in the background), says how to sign
/// in, and serves until stopped.
async fn serve(url: String, args: ServeArgs) -> Result<i32> {
    let config = Config::new(url, args.addr.clone(), !args.no_demo);
    let stop = crate::app::stopped();
    // The older quarters' figures wait on disk in files the server keeps open, two a quarter
    // for each version of the figures held (the current one and a few releases'), beside the
    // connections: the soft limit of open files (often 1024) goes up to the hard one.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open files"),
        Err(e) => tracing::warn!(error = %e, "could not raise the limit of open files"),
    }
    let state = crate::app::prepare_in_background(config).await?;
    let listener =
        tokio::net::TcpListener::bind(&args.addr).await.with_context(|| format!("listening on {}", args.addr))?;
    let addr = listener.local_addr()?;
    println!("Exemplar is serving http://{addr}/ (the benchmarks load in the background)");
    if state.store.state("demo_loaded").await?.is_some() {
        println!("{}", crate::export::SYNTHETIC_NOTE);
        println!("Demo accounts (password \"{}\"):", crate::demo::seed::DEMO_PASSWORD);
        for (email, role, org) in crate::demo::seed::DEMO_USERS {
            println!("  {email:<22} {role}{}", org.map(|o| format!(" for {o}")).unwrap_or_default());
        }
    } else {
        println!("Add an account with: exemplar user add --email you@example.org --role admin");
    }
    println!("Press Ctrl+C to stop.");
    crate::app::serve_until(listener, state.clone(), stop).await?;
    // Every connection closed: SQLite then checkpoints its write-ahead log into the database and
    // removes it, so that the next start does not first read back what was written.
    state.store.close().await;
    Ok(0)
}

/// `exemplar import KIND FILE`: one submission through the one pipeline, as the operator.
async fn import(url: &str, command: ImportCommand) -> Result<i32> {
    let (file, dry_run, kind) = match command {
        ImportCommand::Submissions { file, dry_run } => (file, dry_run, ImportKind::Values),
        ImportCommand::Targets { file, dry_run } => (file, dry_run, ImportKind::Targets),
        ImportCommand::Conformance { file, dry_run } => (file, dry_run, ImportKind::Conformance),
        ImportCommand::Organisations { file, dry_run } => (file, dry_run, ImportKind::Organisations),
        ImportCommand::Dspt { file, dry_run } => (file, dry_run, ImportKind::Dspt),
        ImportCommand::Uptake { file, dry_run } => (file, dry_run, ImportKind::Uptake),
    };
    let store = crate::app::open_store(url).await?;
    let reference = store.reference().await?;
    let format = Format::for_import(kind, sniff_file(&file)?).map_err(anyhow::Error::msg)?;
    let options = Options::on(chrono::Utc::now().date_naive()).dry_run(dry_run);
    let started = std::time::Instant::now();
    let submitted = submit(&store, &reference, &Actor::operator(), Upload::file(format, file), options).await?;
    let committed = started.elapsed();
    for note in &submitted.notes {
        println!("{note}");
    }
    let answer = submitted.answer;
    print_answer(&answer);
    if matches!(answer, Answer::Stored(crate::store::Outcome::Accepted { .. })) {
        println!("Validated and committed in {:.2} s.", committed.as_secs_f64());
        // A running server brings its benchmarks up to date when it sees the new data
        // version; one started later does so from its stored snapshot.
        println!("The benchmarks are brought up to date by the server.");
    }
    Ok(if answer.is_rejected() { 1 } else { 0 })
}

/// `exemplar export NAME`: one export of the figures of an edition, to a file or standard output.
async fn export(url: &str, args: ExportArgs) -> Result<i32> {
    if !crate::export::EXPORTS.iter().any(|(n, _)| *n == args.name) {
        let names: Vec<_> = crate::export::EXPORTS.iter().map(|(n, _)| *n).collect();
        bail!("there is no export '{}': choose one of {}", args.name, names.join(", "));
    }
    let store = crate::app::open_store(url).await?;
    let edition = Filters { release: args.release.clone(), as_of: args.as_of.clone(), ..Filters::default() }
        .edition()
        .map_err(anyhow::Error::msg)?;
    let (f, provenance) = crate::export::Provenance::figures(&store, &edition).await?;
    let filters = Filters {
        period: args.period,
        peer_group: args.peer_group,
        metric_id: args.metric_id,
        org_code: args.org_code,
        region: args.region,
        exemplar: args.exemplar,
        ..Filters::default()
    };
    let mut filter = filters.parse(&f.reference, f.latest_period()).map_err(anyhow::Error::msg)?;
    // The command line sees the shared peer groups.
    crate::export::resolve_group(&store, &mut filter, None).await?.map_err(anyhow::Error::msg)?;
    let out: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?),
        None => Box::new(std::io::stdout()),
    };
    let stored = crate::export::Stored::load(&store, &f, &args.name, &filter, None).await?;
    let format = ExportFormat::parse(&args.format).context("the format is csv or parquet")?;
    if provenance.synthetic {
        eprintln!("{}", crate::export::SYNTHETIC_NOTE);
    }
    let out = Out::new(std::io::BufWriter::new(out), format).with_metadata(provenance.metadata(&args.name));
    write_export(&args.name, &f, &stored.records(), &filter, out)?;
    Ok(0)
}

/// `exemplar window open|close|reopen QUARTER`.
async fn window(url: &str, command: WindowCommand) -> Result<i32> {
    let store = crate::app::open_store(url).await?;
    let (quarter, change) = match command {
        WindowCommand::Open { quarter, closes } => (quarter, WindowChange::Open { closes }),
        WindowCommand::Close { quarter } => (quarter, WindowChange::Close),
        WindowCommand::Reopen { quarter, org } => (quarter, WindowChange::Reopen { org }),
    };
    let quarter = Quarter::parse(&quarter).map_err(anyhow::Error::msg)?;
    println!("{}", store.change_window(quarter, change, &Actor::operator()).await?);
    Ok(0)
}

/// `exemplar signoff QUARTER ORG`: signs a trust's figures off for a quarter.
async fn sign_off(url: &str, quarter: &str, org: &str) -> Result<i32> {
    let quarter = Quarter::parse(quarter).map_err(anyhow::Error::msg)?;
    let store = crate::app::open_store(url).await?;
    let org = org.trim().to_ascii_uppercase();
    store.sign_off(&quarter, &org, &Actor::operator().for_org(Some(org.clone()))).await?;
    println!("{org} has signed off {quarter}.");
    Ok(0)
}

/// `exemplar publish QUARTER --note …`: freezes a release.
async fn publish(url: &str, quarter: &str, note: &str, yes: bool) -> Result<i32> {
    let quarter = Quarter::parse(quarter).map_err(anyhow::Error::msg)?;
    let store = crate::app::open_store(url).await?;
    let release = crate::publish::publish(&store, quarter, note, yes, &Actor::operator()).await?;
    let changes = crate::publish::Changes::of(&release);
    println!("Published {quarter} at data version {}: {}.", release.data_version, changes.summary());
    println!("Release {}", release.id);
    Ok(0)
}

/// `exemplar releases [--next DATE]`: lists the releases; plans the next publication.
async fn releases(url: &str, next: Option<String>) -> Result<i32> {
    let store = crate::app::open_store(url).await?;
    if let Some(next) = next {
        let day = chrono::NaiveDate::parse_from_str(next.trim(), "%Y-%m-%d")
            .map_err(|_| anyhow::anyhow!("'{next}' is not a date such as 2027-02-12"))?;
        if day < chrono::Utc::now().date_naive() {
            bail!("{day} is in the past: the next publication is planned for a later date");
        }
        store.set_state("next_release", &day.to_string()).await?;
        println!("The next publication is planned for {day}.");
    }
    for r in store.releases().await? {
        let changes = crate::publish::Changes::of(&r);
        println!("{}\t{}\tv{}\t{}\t{}", r.id, r.published_at, r.data_version, changes.summary(), r.note);
    }
    Ok(0)
}

async fn backup(url: &str, file: &std::path::Path) -> Result<i32> {
    let store = crate::store::Store::open(url).await?;
    store.backup(file).await?;
    let bytes = std::fs::metadata(file).map_or(0, |m| m.len());
    println!("Backed up {} to {} ({bytes} bytes).", crate::config::redact(url), file.display());
    Ok(0)
}

async fn restore(url: &str, file: &std::path::Path) -> Result<i32> {
    let store = crate::store::Store::open(url).await?;
    store.restore(file).await?;
    println!("Restored {} from {}.", crate::config::redact(url), file.display());
    Ok(0)
}

async fn bench(command: BenchCommand) -> Result<i32> {
    match command {
        BenchCommand::Recompute { values, organisations } => {
            tokio::task::spawn_blocking(move || crate::bench::recompute(&values, organisations.as_deref())).await??
        }
        BenchCommand::Refresh { values, organisations, rounds, back, places } => {
            tokio::task::spawn_blocking(move || {
                crate::bench::refresh(&values, organisations.as_deref(), rounds.max(1), &back, places)
            })
            .await??
        }
        BenchCommand::Groups { values, organisations, rounds, sizes } => {
            tokio::task::spawn_blocking(move || {
                crate::bench::groups(&values, organisations.as_deref(), rounds.max(1), &sizes)
            })
            .await??
        }
    }
    Ok(0)
}

/// `exemplar demo`: writes the deterministic demo values (and any synthetic trusts) as CSV.
fn demo(args: DemoArgs) -> Result<i32> {
    let bundled = crate::ingest::reference::bundled()?;
    let reference = crate::demo::with_synthetic(&bundled, args.trusts.unwrap_or(0));
    if let Some(path) = &args.organisations_output {
        let synthetic = &reference.organisations[bundled.organisations.len()..];
        let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        crate::demo::write_organisations(synthetic, std::io::BufWriter::new(file))?;
        eprintln!("wrote {} synthetic organisations to {}", synthetic.len(), path.display());
    }
    let end = match args.end {
        Some(e) => Quarter::parse(&e).map_err(anyhow::Error::msg)?,
        None => Quarter::last_ended(chrono::Utc::now().date_naive()),
    };
    let options = DemoOptions { trusts: args.trusts, quarters: args.quarters, seed: args.seed, end };
    let rows = match &args.output {
        Some(path) => write_demo(&reference, &options, std::io::BufWriter::new(std::fs::File::create(path)?))?,
        None => write_demo(&reference, &options, std::io::BufWriter::new(std::io::stdout().lock()))?,
    };
    eprintln!("wrote {rows} rows");
    Ok(0)
}

async fn user_command(url: &str, command: UserCommand) -> Result<i32> {
    let store = crate::app::open_store(url).await?;
    let by = Actor::new("cli-operator", None);
    match command {
        UserCommand::Add { email, role, org, no_password } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let org = org.map(|o| crate::domain::OdsCode::parse(&o).map_err(anyhow::Error::msg)).transpose()?;
            if let Some(o) = &org
                && store.reference().await?.organisation(o.as_str()).is_none()
            {
                bail!("there is no trust {o}");
            }
            let email = email.trim().to_lowercase();
            let hash = if no_password { None } else { Some(password::hash(read_password()?, &email).await?) };
            let id = store.add_user(&email, role, org.as_ref().map(|o| o.as_str()), hash.as_deref(), &by).await?;
            println!("Added user {id}: {email} ({role})");
        }
        UserCommand::List => {
            for u in store.users().await? {
                let org = u.org_code.as_deref().unwrap_or("-");
                let state = if u.disabled { "disabled" } else { "active" };
                println!("{}\t{}\t{}\t{org}\t{state}", u.id, u.email, u.role);
            }
        }
        UserCommand::Disable { email } => {
            store.set_user_disabled(&email.trim().to_lowercase(), true, &by).await?;
            println!("Disabled {email}");
        }
        UserCommand::Publisher { email, revoke } => {
            store.set_publisher(&email.trim().to_lowercase(), !revoke, &by).await?;
            println!("{email} {} publish releases", if revoke { "may no longer" } else { "may now" });
        }
        UserCommand::SetPassword { email } => {
            let hash = password::hash(read_password()?, &email).await?;
            store.set_password_hash(&email.trim().to_lowercase(), &hash, &by).await?;
            println!("Password set for {email}");
        }
    }
    Ok(0)
}

async fn token_command(url: &str, command: TokenCommand) -> Result<i32> {
    let store = crate::app::open_store(url).await?;
    let by = Actor::new("cli-operator", None);
    match command {
        TokenCommand::Create { email, name, scope, expires_in } => {
            let scopes = crate::domain::TokenScopes::parse(&scope).map_err(anyhow::Error::msg)?;
            let expires_at = match expires_in.trim() {
                "never" | "" => None,
                text => {
                    let days: i64 = text
                        .strip_suffix('d')
                        .and_then(|d| d.parse().ok())
                        .filter(|d| (1..=3650).contains(d))
                        .ok_or_else(|| {
                            anyhow::anyhow!(
                                "--expires-in: '{text}' is not a number of days such as 90d (1d to 3650d), or never"
                            )
                        })?;
                    Some((chrono::Utc::now() + chrono::Duration::days(days)).format("%Y-%m-%dT%H:%M:%SZ").to_string())
                }
            };
            let token = crate::auth::random_token();
            let hash = crate::auth::hash_secret(&token);
            let email = email.trim().to_lowercase();
            let id = store.create_scoped_token(&email, &name, &hash, &scopes, expires_at.as_deref(), &by).await?;
            let until = expires_at.map_or("never expires".to_string(), |e| format!("expires {e}"));
            println!("Token {id} for {email} ({}; {until}); it is shown only now: {token}", scopes.text());
        }
        TokenCommand::List => {
            for t in store.tokens().await? {
                let state = t.revoked_at.as_deref().map_or("active".to_string(), |r| format!("revoked {r}"));
                let used = t.last_used_at.as_deref().map_or("never used".to_string(), |u| format!("last used {u}"));
                let expires = t.expires_at.as_deref().map_or("no expiry".to_string(), |e| format!("expires {e}"));
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{expires}\t{state}\t{used}",
                    t.id, t.email, t.name, t.scopes, t.created_at
                );
            }
        }
        TokenCommand::Revoke { id } => {
            store.revoke_token(id, &by).await?;
            println!("Revoked token {id}");
        }
    }
    Ok(0)
}

/// A password from standard input: asked twice on a terminal, one line otherwise.
fn read_password() -> Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        if first != again {
            bail!("the passwords do not match");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

fn print_answer(answer: &Answer) {
    use crate::store::Outcome;
    match answer {
        Answer::Stored(Outcome::Accepted { submission_id, rows, stored, unchanged }) => {
            println!(
                "Accepted as submission {submission_id}: {rows} rows, {stored} new revisions, {unchanged} unchanged."
            )
        }
        Answer::Stored(Outcome::Duplicate { submission_id, original, .. }) => {
            println!(
                "Duplicate (submission {submission_id}): the same file was accepted as submission {original}; nothing new stored."
            )
        }
        Answer::Stored(Outcome::Rejected { submission_id, rows, errors }) => {
            eprintln!(
                "Rejected (submission {submission_id}): {rows} rows, {} problems; nothing stored.",
                errors.total()
            );
            print_errors(errors);
        }
        Answer::Closed { message, .. } => eprintln!("Refused: {message}"),
        Answer::DryRun { rows, errors, .. } if errors.is_empty() => {
            println!("Valid: {rows} rows would be stored (dry run).")
        }
        Answer::DryRun { rows, errors, .. } => {
            eprintln!("Invalid: {rows} rows, {} problems (dry run; nothing stored).", errors.total());
            print_errors(errors);
        }
    }
}

/// A closing date (`2026-11-15`: the end of that day, UTC) or time (RFC 3339), as the store writes times.
/// The problems listed, then (when there were more than are listed) how many of each kind.
fn print_errors(errors: &crate::domain::Errors) {
    for e in errors {
        eprintln!("  {e}");
    }
    if errors.unlisted() > 0 {
        eprintln!("  … and {} more. Every problem, by column and kind:", errors.unlisted());
        for k in errors.summary() {
            eprintln!("  {:>9}  {}: {}", k.count, if k.column.is_empty() { "(row)" } else { &k.column }, k.reason);
        }
    }
}

/// The format of a file, from its first 64 KiB; a JSON resource is read whole to find its type.
fn sniff_file(path: &std::path::Path) -> Result<Format> {
    use std::io::Read;
    let mut start = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut start))
        .with_context(|| format!("reading {}", path.display()))?;
    let bom = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&start);
    if bom.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let whole = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        return Ok(Format::sniff(&whole));
    }
    Ok(Format::sniff(&start))
}
