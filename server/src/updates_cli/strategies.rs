//! `fleetdeck updatestrategy create|list|show|delete`: reusable stage templates (`az fleet
//! updatestrategy`), written as UpdateStrategy objects that runs copy at creation.

use anyhow::anyhow;
use app::fleet::upgrade::upgrade_run::UpdateStrategySpec;
use app::fleet::UpdateStrategy;
use clap::{Args, Subcommand};
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use super::render::{print, strategy_table};
use super::{connect, read_stages, NameArg, Target};

#[derive(Debug, Subcommand)]
pub enum UpdateStrategyCommand {
    /// Create or replace a strategy from a stages file (`az fleet updatestrategy create`).
    Create(CreateStrategyArgs),
    List,
    Show(NameArg),
    Delete(NameArg),
}

#[derive(Debug, Clone, Args)]
pub struct CreateStrategyArgs {
    #[arg(short = 'n', long)]
    pub name: String,
    #[arg(long)]
    pub stages: String,
}

pub async fn update_strategy(
    command: &UpdateStrategyCommand,
    target: &Target,
) -> anyhow::Result<()> {
    let hub = connect(target).await?;
    let api: Api<UpdateStrategy> = Api::all(hub.client.clone());
    let out = target.output;
    match command {
        UpdateStrategyCommand::Create(a) => {
            let spec = UpdateStrategySpec {
                strategy: read_stages(&a.stages)?,
            };
            let written = match api.get_opt(&a.name).await? {
                Some(mut existing) => {
                    existing.spec = spec;
                    api.replace(&a.name, &PostParams::default(), &existing)
                        .await?
                }
                None => {
                    api.create(&PostParams::default(), &UpdateStrategy::new(&a.name, spec))
                        .await?
                }
            };
            print(out, &written, || {
                strategy_table(std::slice::from_ref(&written))
            })
        }
        UpdateStrategyCommand::List => {
            let list = api.list(&ListParams::default()).await?.items;
            print(out, &list, || strategy_table(&list))
        }
        UpdateStrategyCommand::Show(n) => {
            let s = api
                .get_opt(&n.name)
                .await?
                .ok_or_else(|| anyhow!("update strategy {} not found", n.name))?;
            print(out, &s, || strategy_table(std::slice::from_ref(&s)))
        }
        UpdateStrategyCommand::Delete(n) => {
            api.delete(&n.name, &DeleteParams::default()).await?;
            Ok(())
        }
    }
}
