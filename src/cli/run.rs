//! `deepclust run`
use super::Global;
use clap::Args;

#[derive(Debug, Args)]
pub struct RunArgs {}

pub fn run(_args: RunArgs, _g: &Global) -> anyhow::Result<()> {
    anyhow::bail!("`deepclust run` is not implemented yet")
}
