//! The command line: serve, import, export and demo.

use crate::config::Config;
use crate::demo::{DemoOptions, write_demo};
use crate::domain::Quarter;
use crate::export::{Filters, write_export};
use crate::figures::Figures;
use crate::submit::{Answer, Submitter, submit_metrics};
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
    /// A metric submission: CSV org_code,metric_id,period,value[,comment]
    Submissions {
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
    /// Output format
    #[arg(long, default_value = "csv", value_parser = ["csv"])]
    pub format: String,
    /// Output file (standard output when absent)
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of trusts (all when absent)
    #[arg(long)]
    pub trusts: Option<usize>,
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
    match cli.command.unwrap_or(Command::Serve(ServeArgs {
        addr: "127.0.0.1:8080".into(),
        no_demo: false,
    })) {
        Command::Serve(args) => {
            let config = Config::new(url, args.addr.clone(), !args.no_demo);
            let state = crate::app::prepare(config).await?;
            let listener = tokio::net::TcpListener::bind(&args.addr)
                .await
                .with_context(|| format!("listening on {}", args.addr))?;
            let addr = listener.local_addr()?;
            let f = state.figures();
            println!(
                "Exemplar is serving http://{addr}/ (data version {}, {} values)",
                f.data_version,
                f.values.len()
            );
            println!("Press Ctrl+C to stop.");
            crate::app::serve(listener, state).await?;
            Ok(0)
        }
        Command::Import(ImportCommand::Submissions { file, dry_run }) => {
            let store = crate::app::open_store(&url).await?;
            let reference = store.reference().await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let who = Submitter {
                name: "cli-operator".into(),
                source: "cli".into(),
                own_org: None,
            };
            let today = chrono::Utc::now().date_naive();
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let answer =
                submit_metrics(&store, &reference, today, bytes, name, &who, dry_run).await?;
            let rejected = answer.is_rejected();
            print_answer(&answer);
            if matches!(
                answer,
                Answer::Stored(crate::store::Outcome::Accepted { .. })
            ) {
                let f = Figures::load(&store).await?;
                println!("Benchmarks recomputed for data version {}.", f.data_version);
            }
            Ok(if rejected { 1 } else { 0 })
        }
        Command::Export(args) => {
            if !crate::export::EXPORTS.iter().any(|(n, _)| *n == args.name) {
                let names: Vec<_> = crate::export::EXPORTS.iter().map(|(n, _)| *n).collect();
                bail!(
                    "there is no export '{}': choose one of {}",
                    args.name,
                    names.join(", ")
                );
            }
            let store = crate::app::open_store(&url).await?;
            let f = Figures::load(&store).await?;
            let filters = Filters {
                period: args.period,
                peer_group: args.peer_group,
                metric_id: args.metric_id,
                org_code: args.org_code,
                region: args.region,
            };
            let filter = filters.parse(&f.reference).map_err(anyhow::Error::msg)?;
            let out: Box<dyn Write> = match &args.output {
                Some(path) => Box::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("creating {}", path.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            write_export(&args.name, &f, &filter, std::io::BufWriter::new(out))?;
            Ok(0)
        }
        Command::Demo(args) => {
            let reference = crate::ingest::reference::bundled()?;
            let end = match args.end {
                Some(e) => Quarter::parse(&e).map_err(anyhow::Error::msg)?,
                None => Quarter::last_ended(chrono::Utc::now().date_naive()),
            };
            let options = DemoOptions {
                trusts: args.trusts,
                quarters: args.quarters,
                seed: args.seed,
                end,
            };
            let rows = match &args.output {
                Some(path) => write_demo(
                    &reference,
                    &options,
                    std::io::BufWriter::new(std::fs::File::create(path)?),
                )?,
                None => write_demo(
                    &reference,
                    &options,
                    std::io::BufWriter::new(std::io::stdout().lock()),
                )?,
            };
            eprintln!("wrote {rows} rows");
            Ok(0)
        }
    }
}

fn print_answer(answer: &Answer) {
    use crate::store::Outcome;
    match answer {
        Answer::Stored(Outcome::Accepted {
            submission_id,
            rows,
            stored,
            unchanged,
        }) => {
            println!(
                "Accepted as submission {submission_id}: {rows} rows, {stored} new revisions, {unchanged} unchanged."
            )
        }
        Answer::Stored(Outcome::Duplicate {
            submission_id,
            original,
            ..
        }) => {
            println!(
                "Duplicate (submission {submission_id}): the same file was accepted as submission {original}; nothing new stored."
            )
        }
        Answer::Stored(Outcome::Rejected {
            submission_id,
            rows,
            errors,
        }) => {
            eprintln!(
                "Rejected (submission {submission_id}): {rows} rows, {} problems; nothing stored.",
                errors.len()
            );
            for e in errors {
                eprintln!("  {e}");
            }
        }
        Answer::DryRun { rows, errors, .. } if errors.is_empty() => {
            println!("Valid: {rows} rows would be stored (dry run).")
        }
        Answer::DryRun { rows, errors, .. } => {
            eprintln!(
                "Invalid: {rows} rows, {} problems (dry run; nothing stored).",
                errors.len()
            );
            for e in errors {
                eprintln!("  {e}");
            }
        }
    }
}
