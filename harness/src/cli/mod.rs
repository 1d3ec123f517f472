//! The command line: one module per subcommand, each an `Args` struct and a `run` that
//! resolves the flags, calls the job in the library and prints its report.

mod args;
mod bench;
mod explore;
mod fixtures;
mod fuzz;
mod hunt;
mod list;
mod minimize;
mod replay;
mod report;
mod run;
mod statetest;
mod stress;

use crate::Result;
use clap::{Parser, Subcommand};
use lockstep_executors::Executor;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// The `lockstep` command line.
#[derive(Parser)]
#[command(
    name = "lockstep",
    version,
    about = "Deterministic differential testing of parallel EVM executors",
    after_help = args::after_help!(
        "  lockstep                  the main job with its defaults (`lockstep run`, 30 s)\n  lockstep statetest -e sequential -e block-stm\n  lockstep explore --workload hot-key --strategy pct\n  lockstep replay lockstep-out/run-1/divergences/000-hot-key-block-stm-t2-state_Balance\n  lockstep list workloads"
    )
)]
pub struct Cli {
    /// External executors (t8n tools) to name with `-e`; default: `./lockstep.toml` when it
    /// exists.
    #[arg(long = "executors", id = "executors_file", global = true, value_name = "FILE")]
    pub executors_file: Option<PathBuf>,
    /// The subcommand; none is the main job with its defaults.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands, one module each.
#[derive(Subcommand)]
pub enum Command {
    /// The main job: generated conflicting blocks on every executor, compared with the reference.
    Run(run::RunArgs),
    /// Official state tests on each executor, checked against the fixtures and each other.
    Statetest(statetest::StatetestArgs),
    /// Official blockchain tests on each executor: every block's header checked, then the head and post-state.
    Blocktest(statetest::BlocktestArgs),
    /// A fixtures folder of both kinds (state and blockchain tests), each test run by its kind.
    Conformance(statetest::ConformanceArgs),
    /// Run a saved block (a bundle directory, or a block.json) on the reference and a candidate.
    Replay(replay::ReplayArgs),
    /// Explore interleavings: the candidate under controlled schedules, one worker at a time.
    Explore(explore::ExploreArgs),
    /// Minimize a divergence bundle in place (ddmin over transactions and pre-state, then fields).
    Minimize(minimize::MinimizeArgs),
    /// Real threads with seeded random delays at hook points; divergence rate per thread count.
    Stress(stress::StressArgs),
    /// Measure executors on generated workloads (median of interleaved rounds).
    Bench(bench::BenchArgs),
    /// Seeded Block-STM bugs against every search strategy: what catches each, how fast, how small.
    Hunt(hunt::HuntArgs),
    /// List what can be named on the command line: executors, workloads, strategies, forks.
    List(list::ListArgs),
    /// Fetch the pinned official fixtures into a cache, or verify a fixtures directory.
    Fixtures(fixtures::FixturesArgs),
    /// Build the fuzz targets' seeds, seed corpora and dictionary.
    Fuzz(fuzz::FuzzArgs),
    /// Merge shard reports, compare runs, or render a JSON report again.
    Report(report::ReportArgs),
    /// Serve one executor to an isolating parent over stdin and stdout (`--isolate`).
    #[command(name = "__worker", hide = true)]
    Worker(WorkerArgs),
}

/// `lockstep __worker`: what `--isolate` starts.
#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// The bundled executor to serve.
    #[arg(long, value_name = "NAME")]
    executor: String,
}

/// The `lockstep` binary: parses the command line, reads the executors file, runs the
/// command, prints its error if any, and stops external executors' servers.
pub fn main() -> ExitCode {
    main_with(Vec::new())
}

/// [`main`] with `extra` executors linked in beside the bundled ones, so that a third-party
/// crate builds a `lockstep` binary of its own in which every subcommand (run, replay,
/// minimize, explore, stress, statetest, bench, `--isolate`) can name them with `-e`. Bundles
/// it writes name that binary in their replay command.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     lockstep_harness::cli::main_with(vec![std::sync::Arc::new(lockstep_executors::Sequential)])
/// }
/// ```
pub fn main_with(extra: Vec<Arc<dyn Executor>>) -> ExitCode {
    crate::registry::link(extra);
    crate::registry::set_program_from_exe();
    let cli = Cli::parse();
    let loaded = crate::registry::load(cli.executors_file.as_deref());
    let result = loaded.and_then(|()| dispatch(cli.command));
    crate::registry::shutdown();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs the parsed command line; `None` is the main job with its defaults.
pub fn dispatch(command: Option<Command>) -> Result<ExitCode> {
    // The long jobs stop at SIGINT and write what ran; the others end at once, as by default.
    if matches!(
        command,
        None | Some(
            Command::Run(_)
                | Command::Statetest(_)
                | Command::Blocktest(_)
                | Command::Conformance(_)
                | Command::Explore(_)
                | Command::Stress(_)
                | Command::Hunt(_)
        )
    ) {
        crate::interrupt::install();
    }
    match command {
        Some(Command::Run(a)) => run::run(a),
        Some(Command::Statetest(a)) => statetest::run(a),
        Some(Command::Blocktest(a)) => statetest::run_kind(a.args, statetest::Kind::Blockchain),
        Some(Command::Conformance(a)) => statetest::run_kind(a.args, statetest::Kind::Both),
        Some(Command::Replay(a)) => replay::run(a),
        Some(Command::Explore(a)) => explore::run(a),
        Some(Command::Minimize(a)) => minimize::run(a),
        Some(Command::Stress(a)) => stress::run(a),
        Some(Command::Bench(a)) => bench::run(a),
        Some(Command::Hunt(a)) => hunt::run(a),
        Some(Command::List(a)) => list::run(a),
        Some(Command::Fixtures(a)) => fixtures::run(a),
        Some(Command::Fuzz(a)) => fuzz::run(a),
        Some(Command::Report(a)) => report::run(a),
        Some(Command::Worker(a)) => {
            let executor = crate::jobs::executor(&a.executor)?;
            crate::check::subprocess::serve(executor).map_err(|e| crate::Error::Resource(format!("worker: {e}")))?;
            Ok(ExitCode::SUCCESS)
        }
        None => run::run(run::RunArgs::defaults()),
    }
}

/// The exit code of a job that ran: 130 when SIGINT stopped it, else 1 when it found anything,
/// else 0.
pub fn found(anything: bool) -> ExitCode {
    if crate::interrupt::requested() {
        ExitCode::from(crate::interrupt::EXIT_INTERRUPTED)
    } else if anything {
        ExitCode::from(crate::error::EXIT_FOUND)
    } else {
        ExitCode::SUCCESS
    }
}

/// Captures and minimizes the first bundles a job wrote, printing each result: a divergence
/// found on real threads gets a controlled schedule that replays it, or its bundle says none
/// was found and gives its real-thread rate.
pub fn minimize_first(bundles: impl IntoIterator<Item = PathBuf>) {
    if crate::interrupt::requested() {
        return;
    }
    let first: Vec<PathBuf> = bundles.into_iter().take(crate::defaults::MINIMIZE_FIRST).collect();
    for dir in &first {
        let executors = crate::repro::bundle::read(dir).and_then(|case| {
            Ok((crate::jobs::executor(&case.reference.name)?, crate::jobs::executor(&case.candidate.name)?))
        });
        let captured = executors.and_then(|(reference, candidate)| {
            let (budget, timeout) = (crate::defaults::CAPTURE_BUDGET, crate::defaults::CONTROLLED_TIMEOUT);
            crate::repro::capture_bundle(dir, reference.as_ref(), &candidate, budget, timeout)
        });
        match captured {
            Ok(Some(note)) => println!("{} {}", dir.display(), note.describe()),
            Ok(None) => {}
            Err(e) => println!("not captured: {e}"),
        }
    }
    for (dir, result) in crate::repro::minimize::minimize_each(&first) {
        match result {
            Ok(m) if m.kept_original => {
                println!("not minimized (the smaller block never diverged in its re-check): {}", dir.display())
            }
            Ok(m) => println!(
                "minimized {} -> {} transactions ({} evaluations, {:.1} s, diverges in {} of {} replays): {}",
                m.original_txs,
                m.block.txs.len(),
                m.evaluations,
                m.elapsed.as_secs_f64(),
                m.recheck_hits,
                m.recheck_runs,
                dir.display()
            ),
            Err(e) => println!("not minimized: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn no_arguments_is_the_main_job_with_its_defaults() {
        assert!(Cli::try_parse_from(["lockstep"]).is_ok_and(|c| c.command.is_none()));
        let a = run::RunArgs::defaults();
        assert!(a.workloads.is_empty(), "the built-in mix");
        assert_eq!((a.seed, a.blocks, a.duration), (None, None, None), "clock seed, 30 s");
        assert_eq!(a.threads, vec![2, 4]);
        assert_eq!(a.reference.reference, "sequential");
        assert!(a.executors.is_empty(), "every other bundled executor");
    }

    #[test]
    fn every_flag_has_help_and_every_choice_is_listed() {
        let mut cli = Cli::command();
        cli.build();
        let mut undocumented = Vec::new();
        let mut checked = 0;
        for sub in cli.get_subcommands().filter(|s| !matches!(s.get_name(), "help" | "__worker")) {
            assert!(sub.get_about().is_some(), "`{}` has no about", sub.get_name());
            let after = sub.get_after_help().map(|s| s.to_string()).unwrap_or_default();
            assert!(after.contains("Exit codes"), "`{} --help` does not end with the exit codes", sub.get_name());
            assert!(after.contains("Examples"), "`{} --help` has no examples", sub.get_name());
            let mut stack = vec![(sub.get_name().to_string(), sub)];
            while let Some((path, cmd)) = stack.pop() {
                for arg in cmd.get_arguments() {
                    let id = arg.get_id().as_str();
                    if id == "help" || id == "version" {
                        continue;
                    }
                    checked += 1;
                    if arg.get_help().is_none() {
                        undocumented.push(format!("{path} --{id}"));
                    }
                }
                for nested in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                    assert!(nested.get_about().is_some(), "`{path} {}` has no about", nested.get_name());
                    stack.push((format!("{path} {}", nested.get_name()), nested));
                }
            }
        }
        assert!(undocumented.is_empty(), "flags without help: {undocumented:?}");
        assert!(checked > 50, "only {checked} flags seen");
        // Flags taking a name from a fixed set list the set in --help.
        for (sub, flag, value) in [
            ("run", "workloads", "hot-key"),
            ("explore", "strategy", "pct"),
            ("statetest", "fork", "Cancun"),
            ("list", "what", "executors"),
        ] {
            let sub = cli.find_subcommand(sub).unwrap();
            let arg = sub.get_arguments().find(|a| a.get_id() == flag).unwrap();
            let values: Vec<String> = arg.get_possible_values().iter().map(|v| v.get_name().to_string()).collect();
            assert!(values.iter().any(|v| v == value), "{} --{flag}: {values:?}", sub.get_name());
            let help = sub.clone().render_long_help().to_string();
            assert!(help.contains(value), "`{} --help` does not list {value}:\n{help}", sub.get_name());
        }
    }

    #[test]
    fn one_name_and_one_unit_for_each_idea() {
        let cli = Cli::command();
        let forbidden = ["repeats", "rounds", "runs", "exec-threads", "timeout-ms", "timeout-secs"];
        for sub in cli.get_subcommands() {
            for arg in sub.get_arguments() {
                if let Some(long) = arg.get_long() {
                    assert!(!forbidden.contains(&long), "{} --{long}", sub.get_name());
                }
            }
        }
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        let bad: &[&[&str]] = &[
            &["run", "--threads", "0"],
            &["run", "--threads", "-1"],
            &["run", "--threads", "100000"],
            &["run", "--txs", "0"],
            &["run", "--txs", "100000000"],
            &["run", "--blocks", "0"],
            &["run", "--duration", "-1"],
            &["run", "--duration", "nan"],
            &["run", "--duration", "abc"],
            &["run", "--timeout", "inf"],
            &["run", "--timeout", "-0.5"],
            &["run", "--seed", "-1"],
            &["run", "--seed", "18446744073709551616"],
            &["run", "--workload", ""],
            &["run", "--workload", "erc21"],
            &["run", "--no-such-flag"],
            &["run", "extra-positional"],
            &["statetest", "--jobs", "0"],
            &["statetest", "--jobs", "100000"],
            &["statetest", "--threads", "0"],
            &["statetest", "--fork", "Atlantis"],
            &["statetest", "--fork", ""],
            &["statetest", "--max-file-mb", "0"],
            &["statetest", "--timeout", "x"],
            &["explore", "--strategy", "dfs"],
            &["explore", "--schedules", "0"],
            &["explore", "--blocks", "0"],
            &["explore", "--threads", "0"],
            &["explore", "--threads", "1000"],
            &["explore", "--repeat", "3"],
            &["explore", "--step-budget", "0"],
            &["stress", "--probability", "2"],
            &["stress", "--probability", "-0.1"],
            &["stress", "--repeat", "0"],
            &["bench", "--repeat", "0"],
            &["bench", "--txs", "0"],
            &["minimize"],
            &["minimize", "b", "--repeat", "0"],
            &["minimize", "b", "--budget", "never"],
            &["replay"],
            &["replay", "b", "--repeat", "0"],
            &["list"],
            &["list", "nope"],
            &["fixtures"],
            &["fixtures", "fetch", "--dir"],
            &["nonesuch"],
        ];
        assert!(bad.len() >= 40);
        for args in bad {
            let line = std::iter::once("lockstep").chain(args.iter().copied());
            match Cli::try_parse_from(line) {
                Ok(_) => panic!("{args:?} parsed"),
                Err(e) => assert_eq!(e.exit_code(), 2, "{args:?}: {e}"),
            }
        }
    }

    #[test]
    fn fork_names_and_fixture_names_parse() {
        let p = Cli::try_parse_from(["lockstep", "statetest", "--fork", "Paris"]).unwrap();
        let Some(Command::Statetest(a)) = p.command else { panic!() };
        assert_eq!(a.fork, Some(lockstep_executors::Fork::Merge));
        assert!(Cli::try_parse_from(["lockstep", "statetest", "--fork", "Constantinople"]).is_err());
        assert!(Cli::try_parse_from(["lockstep", "run", "--threads", "0"]).is_err());
        assert!(Cli::try_parse_from(["lockstep", "run", "--threads", "100000"]).is_err());
        assert!(Cli::try_parse_from(["lockstep", "run", "--workload", "nope"]).is_err());
    }
}
