//! A t8n tool as an [`Executor`]: the block written as t8n input (transactions signed by
//! lockstep), run through a [`Transport`], the answer read back as a [`BlockOutput`].

use crate::format;
use crate::output::{OutputError, block_output};
use crate::sign;
use crate::tool::Preset;
use crate::transport::{Request, Transport, fault};
use lockstep_executors::{BlockInput, BlockOutput, Capabilities, ExecError, Executor, Fork, RunControl};
use std::collections::BTreeMap;

/// An external t8n tool.
pub struct T8nExecutor {
    name: String,
    preset: Preset,
    transport: Box<dyn Transport>,
    forks: Option<Vec<Fork>>,
    version: String,
}

impl T8nExecutor {
    /// The tool `name` (as `-e NAME` calls it) of family `preset`, reached through
    /// `transport`; `forks` limits the forks it is given (others are
    /// [`ExecError::Unsupported`]), `None` gives it every fork.
    pub fn new(name: &str, preset: Preset, transport: Box<dyn Transport>, forks: Option<Vec<Fork>>) -> T8nExecutor {
        T8nExecutor { name: name.to_string(), preset, transport, forks, version: format!("t8n ({preset})") }
    }

    /// The same with a version string for reports and bundles.
    pub fn with_version(mut self, version: String) -> T8nExecutor {
        self.version = version;
        self
    }

    /// Stops what the transport keeps running (daemons); later blocks start it again.
    pub fn shutdown(&self) {
        self.transport.shutdown();
    }

    /// The tool family.
    pub fn preset(&self) -> Preset {
        self.preset
    }

    /// The request for `block`: every transaction signed.
    ///
    /// # Errors
    ///
    /// [`ExecError::Unsupported`] for a fork the tool is not given, or a transaction lockstep
    /// cannot sign (no key, or a type-3/4 creation).
    pub fn request(&self, block: &BlockInput) -> Result<Request, ExecError> {
        if self.forks.as_ref().is_some_and(|f| !f.contains(&block.fork)) {
            return Err(ExecError::Unsupported(format!("{} is not configured for {}", self.name, block.fork)));
        }
        if let Some(why) = self.preset.declines(block) {
            return Err(ExecError::Unsupported(why));
        }
        let none = BTreeMap::new();
        let txs = block
            .txs
            .iter()
            .enumerate()
            .map(|(i, t)| {
                sign::signed(t, block.fork, format::tx(t, &none))
                    .map_err(|e| ExecError::Unsupported(format!("tx {i}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Request {
            alloc: format::alloc(&block.pre_state),
            env: format::env(block),
            txs,
            fork: self.preset.fork_name(block.fork).to_string(),
            chain_id: block.chain_id,
            reward: self.preset.reward(block),
        })
    }
}

impl Executor for T8nExecutor {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> String {
        self.version.clone()
    }

    fn capabilities(&self) -> Capabilities {
        self.preset.capabilities()
    }

    fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
        let request = self.request(block)?;
        let answer = self.transport.run(&request, run.deadline)?;
        block_output(self.preset, block, &answer.result, &answer.alloc).map_err(|e| {
            let kind = match e {
                OutputError::InvalidBlock(why) => return ExecError::InvalidBlock(why),
                OutputError::WrongTxCount { .. } | OutputError::BadRejection(_) => "wrong-tx-count",
                OutputError::GasFalls(_) => "malformed",
                OutputError::StateRoot { .. } => "state-root",
            };
            fault(kind, e.to_string(), "")
        })
    }
}
