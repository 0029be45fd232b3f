//! The `scrm` command: serve (the default), migrate, import a roster.

use clap::{Parser, Subcommand};
use scrm_api::config::Config;
use scrm_api::{app, demo, import};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "scrm", about = "Social CRM backend for schools")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve {
        /// Load the demo school and print its sign-ins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) as the code defines it.
    Schema,
    /// Import a roster file (CSV) into the directory.
    ImportRoster {
        file: std::path::PathBuf,
        #[arg(long)]
        dry_run: bool,
        /// Defaults to the current academic year, e.g. 2026/2027.
        #[arg(long)]
        academic_year: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    init_logs(&cli.config.log_format);
    let command = cli.command.take().unwrap_or(Command::Serve { demo: false });
    if matches!(command, Command::Serve { demo: true }) && cli.config.jwt_secret.is_none() {
        cli.config.jwt_secret = Some(demo_secret());
        cli.config.dev = true;
    }
    if !matches!(command, Command::Serve { .. }) && cli.config.jwt_secret.is_none() {
        cli.config.jwt_secret = Some(demo_secret());
    }
    match command {
        Command::Serve { demo } => serve(cli.config, demo).await,
        Command::Schema => {
            print!("{}", scrm_api::graphql::sdl());
            Ok(())
        }
        Command::Migrate => {
            app::build_state(cli.config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::ImportRoster {
            file,
            dry_run,
            academic_year,
        } => {
            let state = app::build_state(cli.config).await?;
            let bytes = std::fs::read(&file)?;
            let year = academic_year.unwrap_or_else(|| state.academic_year());
            let report =
                import::import_roster(&state.store, &bytes, &year, dry_run, state.now()).await?;
            print_report(&report);
            Ok(())
        }
    }
}

async fn serve(config: Config, with_demo: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&config.bind_addr).await?;
    let addr = listener.local_addr()?;
    let state = app::build_state(config).await?;
    if with_demo {
        demo::load(&state).await?;
        println!(
            "Demo school at http://{addr}/graphql (GraphiQL in a browser). Password for all: {}",
            demo::PASSWORD
        );
        for (who, login) in [
            ("admin", demo::ADMIN),
            ("teacher", demo::TEACHER),
            ("parent of two", demo::PARENT),
            ("student", demo::STUDENT),
        ] {
            println!("  {who:<14} {login}");
        }
    }
    app::serve(listener, state, shutdown_signal()).await
}

fn print_report(report: &import::ImportReport) {
    use scrm_persistence::roster_import::RowStatus;
    let o = &report.outcome;
    println!(
        "{} created, {} updated, {} unchanged, {} refused; {} families and {} guardians created ({}, '{}'){}",
        o.count(RowStatus::Created),
        o.count(RowStatus::Updated),
        o.count(RowStatus::Unchanged),
        o.count(RowStatus::Refused),
        o.families_created,
        o.guardians_created,
        report.encoding,
        report.delimiter,
        if o.dry_run {
            " — dry run, nothing written"
        } else {
            ""
        }
    );
    for row in o.rows.iter().filter(|r| r.status == RowStatus::Refused) {
        println!(
            "  line {}: {} ({})",
            row.line,
            row.messages.join("; "),
            row.field.as_deref().unwrap_or("row")
        );
    }
}

/// Demo mode signs tokens with a per-process secret: nothing outlives it.
fn demo_secret() -> String {
    format!("demo-{}-{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4())
}

fn init_logs(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}
