//! `deepclust eval`
use super::Global;
use clap::Args;

#[derive(Debug, Args)]
pub struct EvalArgs {}

pub fn run(_args: EvalArgs, _g: &Global) -> anyhow::Result<()> {
    anyhow::bail!("`deepclust eval` is not implemented yet")
}
