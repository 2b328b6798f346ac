//! `deepclust cluster`
use super::Global;
use clap::Args;

#[derive(Debug, Args)]
pub struct ClusterArgs {}

pub fn run(_args: ClusterArgs, _g: &Global) -> anyhow::Result<()> {
    anyhow::bail!("`deepclust cluster` is not implemented yet")
}
