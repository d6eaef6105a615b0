use std::io::IsTerminal;

use clap::Parser;
use server::cli::{Cli, Command, LogFormat, UserCommand};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Every cause in words and no backtrace: this is for the person who started it.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Kubeconfig(args)) = cli.command {
        server::serve::print_kubeconfig(args.data_dir)?;
        return Ok(());
    }
    if let Some(Command::User(UserCommand::Remove(who) | UserCommand::Link(who))) = &cli.command {
        let data_dir = server::serve::data_dir(who.data_dir.clone())?;
        let out = match &cli.command {
            Some(Command::User(UserCommand::Remove(_))) => {
                server::accounts::remove_user(&data_dir, &who.name).await?
            }
            _ => server::accounts::new_link(&data_dir, &who.name).await?,
        };
        print!("{out}");
        return Ok(());
    }
    if let Some(Command::User(UserCommand::Add(add))) = &cli.command {
        let data_dir = server::serve::data_dir(add.data_dir.clone())?;
        let out =
            server::accounts::add_user(&data_dir, &add.name, add.role, add.namespace.as_deref())
                .await?;
        print!("{out}");
        return Ok(());
    }
    match &cli.command {
        Some(Command::Updaterun { command, target }) => {
            return server::updates_cli::update_run(command, target).await;
        }
        Some(Command::Updatestrategy { command, target }) => {
            return server::updates_cli::update_strategy(command, target).await;
        }
        Some(Command::Autoupgradeprofile { command, target }) => {
            return server::updates_cli::auto_upgrade_profile(command, target).await;
        }
        Some(Command::Gate { command, target }) => {
            return server::updates_cli::gate(command, target).await;
        }
        Some(Command::Member { command, target }) => {
            return server::updates_cli::member(command, target).await;
        }
        _ => {}
    }
    let args = cli.serve_args().clone();
    init_logging(&args.log, args.log_format)?;
    server::serve::run(args).await?;
    Ok(())
}

fn init_logging(filter: &str, format: LogFormat) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| anyhow::anyhow!("invalid --log value {filter:?}: {e}"))?;
    // Colours only for a person at a terminal; files and CI logs get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}
