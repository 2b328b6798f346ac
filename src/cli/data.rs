//! `deepclust data …`
use super::Global;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download (or import with --from) a dataset and verify it.
    Fetch,
}

pub fn run(_cmd: DataCommand, _g: &Global) -> anyhow::Result<()> {
    anyhow::bail!("`deepclust data` is not implemented yet")
}
