//! Executors by name: the bundled ones, and external ones named in an executors file
//! (`lockstep.toml` in the working directory, or `--executors FILE`).
//!
//! ```toml
//! [executors.eels]
//! kind = "t8n"                # an `evm t8n` tool (the only external kind so far)
//! preset = "eels"             # eels, geth, besu, evmone, nimbus, ethereumjs
//! command = [".lockstep/spec-venv/bin/ethereum-spec-evm"]
//! transport = "daemon"        # "process" (one process a block, the default) or "daemon"
//! pool = 2                    # daemons at most (default: 1)
//! forks = ["Cancun", "Prague"] # optional: the forks it is given; others are unsupported
//! ```
//!
//! A relative `command[0]` that contains a `/` is relative to the file's directory, and must
//! exist when the file is read; a bare name is looked up on `PATH` when the tool starts. Each
//! external executor is built once per process, so a daemon pool serves the whole run.

use crate::error::{Error, Result};
use lockstep_executors::{Executor, Fork};
use lockstep_t8n::daemon::DaemonPool;
use lockstep_t8n::process::ProcessTransport;
use lockstep_t8n::transport::Transport;
use lockstep_t8n::{Preset, T8nExecutor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The executors file read when no `--executors` is given, in the working directory.
pub const DEFAULT_FILE: &str = "lockstep.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecutorsFile {
    #[serde(default)]
    executors: BTreeMap<String, Entry>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    T8n,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum TransportKind {
    #[default]
    Process,
    Daemon,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    kind: Kind,
    preset: Preset,
    command: Vec<String>,
    #[serde(default)]
    transport: TransportKind,
    #[serde(default)]
    pool: Option<usize>,
    #[serde(default)]
    forks: Option<Vec<Fork>>,
    /// Arguments that start a daemon, instead of the preset's (`daemon` for the execution
    /// spec).
    #[serde(default)]
    daemon_args: Option<Vec<String>>,
}

/// One external executor, as the file names it.
#[derive(Clone)]
pub struct External {
    /// Its name (`-e NAME`).
    pub name: String,
    /// What `lockstep list executors` says of it.
    pub description: String,
    /// The executor.
    pub executor: Arc<T8nExecutor>,
}

static EXTERNAL: OnceLock<Vec<External>> = OnceLock::new();
static LINKED: OnceLock<Vec<Arc<dyn Executor>>> = OnceLock::new();

/// Registers executors linked into this binary ([`crate::cli::main_with`]); the first call
/// counts.
pub fn link(extra: Vec<Arc<dyn Executor>>) {
    let _ = LINKED.set(extra);
}

/// Executors linked into this binary.
pub fn linked() -> &'static [Arc<dyn Executor>] {
    LINKED.get().map(Vec::as_slice).unwrap_or_default()
}

static PROGRAM: OnceLock<String> = OnceLock::new();

/// Records the running binary's name as the one replay commands name; the command line
/// ([`crate::cli::main_with`]) calls it, so a third-party build names itself.
pub fn set_program_from_exe() {
    let name = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.is_empty());
    if let Some(name) = name {
        let _ = PROGRAM.set(name);
    }
}

/// The binary replay commands name: `lockstep`, or a third-party build's own name.
pub fn program() -> String {
    PROGRAM.get().cloned().unwrap_or_else(|| "lockstep".into())
}

/// Reads the executors file: `path`, or [`DEFAULT_FILE`] when it exists. Called once, before
/// any job; later calls keep the first result.
///
/// Errors: [`Error::Io`] for a `path` that cannot be read, [`Error::BadInput`] for a file
/// that is not an executors file (naming the field), or one whose names clash with bundled
/// executors.
pub fn load(path: Option<&Path>) -> Result<()> {
    let path = match path {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.is_file()),
    };
    let external = match path {
        None => Vec::new(),
        Some(p) => parse(&p)?,
    };
    let _ = EXTERNAL.set(external);
    Ok(())
}

fn bad(path: &Path, message: String) -> Error {
    Error::BadInput { path: path.to_path_buf(), message }
}

fn parse(path: &Path) -> Result<Vec<External>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let file: ExecutorsFile = toml::from_str(&text).map_err(|e| bad(path, e.to_string()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    file.executors
        .into_iter()
        .map(|(name, entry)| {
            if lockstep_executors::bundled_names().contains(&name.as_str()) || linked().iter().any(|l| l.name() == name)
            {
                return Err(bad(path, format!("executors.{name}: the name of a bundled executor")));
            }
            build(base, &name, entry).map_err(|m| bad(path, format!("executors.{name}: {m}")))
        })
        .collect()
}

fn build(base: &Path, name: &str, entry: Entry) -> std::result::Result<External, String> {
    let Kind::T8n = entry.kind;
    let (program, rest) = entry.command.split_first().ok_or("`command` is empty")?;
    // Absolute, since tools run in scratch directories of their own.
    let program = if program.contains('/') {
        let path = if Path::new(program).is_relative() { base.join(program) } else { PathBuf::from(program) };
        let path = std::path::absolute(&path).map_err(|e| format!("`command`: {}: {e}", path.display()))?;
        if !path.is_file() {
            return Err(format!("`command`: {} does not exist (for the execution spec: `just spec`)", path.display()));
        }
        path
    } else {
        PathBuf::from(program)
    };
    let transport: Box<dyn Transport> = match entry.transport {
        TransportKind::Process => {
            let mut args = rest.to_vec();
            args.extend(entry.preset.subcommand().iter().map(|s| s.to_string()));
            Box::new(ProcessTransport { program: program.clone(), args })
        }
        TransportKind::Daemon => {
            let mut args = rest.to_vec();
            match (&entry.daemon_args, entry.preset) {
                (Some(a), _) => args.extend(a.iter().cloned()),
                (None, Preset::Eels) => args.push("daemon".into()),
                (None, p) => return Err(format!("`transport = \"daemon\"` needs `daemon_args` for {p}")),
            }
            Box::new(DaemonPool::new(program.clone(), args, entry.pool.unwrap_or(1)))
        }
    };
    let how = match entry.transport {
        TransportKind::Process => "a process a block".to_string(),
        TransportKind::Daemon => format!("{} daemon(s)", entry.pool.unwrap_or(1).max(1)),
    };
    let description = format!("{} t8n tool `{}`, {how}", entry.preset, program.display());
    let executor = T8nExecutor::new(name, entry.preset, transport, entry.forks).with_version(format!(
        "{} t8n: {}",
        entry.preset,
        program.display()
    ));
    Ok(External { name: name.to_string(), description, executor: Arc::new(executor) })
}

/// Stops every external executor's servers (daemon pools); the binary calls it before it
/// exits, since statics are never dropped.
pub fn shutdown() {
    for e in external() {
        e.executor.shutdown();
    }
}

/// The external executors the executors file names (none before [`load`]).
pub fn external() -> &'static [External] {
    EXTERNAL.get().map(Vec::as_slice).unwrap_or_default()
}

/// Every executor name: the bundled ones, then the external ones.
pub fn names() -> Vec<String> {
    lockstep_executors::bundled_names()
        .iter()
        .map(|n| n.to_string())
        .chain(linked().iter().map(|e| e.name().to_string()))
        .chain(external().iter().map(|e| e.name.clone()))
        .collect()
}

/// The executor called `name`, bundled or external.
pub fn find(name: &str) -> Option<Arc<dyn Executor>> {
    lockstep_executors::bundled(name)
        .or_else(|| linked().iter().find(|e| e.name() == name).cloned())
        .or_else(|| external().iter().find(|e| e.name == name).map(|e| e.executor.clone() as Arc<dyn Executor>))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, toml: &str) -> PathBuf {
        let path = dir.join("lockstep.toml");
        std::fs::write(&path, toml).unwrap();
        path
    }

    #[test]
    fn a_relative_command_is_the_files_and_absolute() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        std::fs::write(dir.path().join("bin/evm"), "").unwrap();
        let file = write(dir.path(), "[executors.x]\nkind = \"t8n\"\npreset = \"geth\"\ncommand = [\"bin/evm\"]\n");
        let external = parse(&file).unwrap();
        assert_eq!(external.len(), 1);
        assert!(
            external[0].description.contains(&dir.path().join("bin/evm").display().to_string()),
            "{}",
            external[0].description
        );
    }

    #[test]
    fn bad_entries_are_errors_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "[executors.x]\nkind = \"t8n\"\npreset = \"eels\"\ncommand = [\"./nope/evm\"]\n",
                "executors.x: `command`",
            ),
            ("[executors.x]\nkind = \"t8n\"\npreset = \"eels\"\ncommand = []\n", "`command` is empty"),
            ("[executors.sequential]\nkind = \"t8n\"\npreset = \"eels\"\ncommand = [\"evm\"]\n", "bundled executor"),
            ("[executors.x]\nkind = \"t8n\"\npreset = \"nethermind\"\ncommand = [\"evm\"]\n", "preset"),
            (
                "[executors.x]\nkind = \"t8n\"\npreset = \"geth\"\ncommand = [\"evm\"]\ntransport = \"daemon\"\n",
                "daemon_args",
            ),
            ("[executors.x]\nkind = \"t8n\"\npreset = \"eels\"\ncommand = [\"evm\"]\ncolour = 1\n", "colour"),
        ];
        for (toml, says) in cases {
            let e = parse(&write(dir.path(), toml)).err().unwrap_or_else(|| panic!("accepted: {toml}"));
            assert!(e.to_string().contains(says), "{toml}: {e}");
        }
    }
}
