//! `lockstep fixtures`: the pinned official fixtures, fetched into a cache and checked.

use super::args::after_help;
use crate::{Error, Result};
use clap::{Args, Subcommand};
use lockstep_conformance::fetch::{self, FetchOptions, Status};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep fixtures fetch                        into the cache ($LOCKSTEP_CACHE, else ~/.cache/lockstep/fixtures)\n  lockstep fixtures fetch --dir fixtures --mirror http://mirror.local/lockstep\n  lockstep fixtures verify --dir ../shared/fixtures\n  lockstep fixtures list"
))]
pub struct FixturesArgs {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Subcommand, Debug)]
pub enum Action {
    /// Download the pinned sets not yet present and verified, check each one's content hash
    /// (and a release tarball's sha256 where pinned), and install them atomically.
    Fetch {
        /// Destination fixtures directory (default: the cache directory).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Fetch `<MIRROR>/<file name>` instead of each source's URL: an http(s) base URL or a
        /// local directory (default: $LOCKSTEP_FIXTURES_MIRROR).
        #[arg(long, value_name = "URL")]
        mirror: Option<String>,
    },
    /// Check a fixtures directory against the pinned content hashes, without the network.
    Verify {
        /// The fixtures directory (default: the cache directory).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// The pinned sources: name, where each comes from, and its content hash.
    List,
}

fn dir_or_cache(dir: Option<PathBuf>) -> Result<PathBuf> {
    dir.or_else(fetch::default_cache_dir)
        .ok_or_else(|| Error::Usage("no --dir and no cache directory (set LOCKSTEP_CACHE or HOME)".into()))
}

pub fn run(a: FixturesArgs) -> Result<ExitCode> {
    match a.action {
        Action::Fetch { dir, mirror } => {
            let dir = dir_or_cache(dir)?;
            let mut opts = FetchOptions::new(&dir);
            if mirror.is_some() {
                opts.mirror = mirror;
            }
            let report =
                fetch::fetch(&opts).map_err(|e| Error::Usage(format!("fetching into {}: {e}", dir.display())))?;
            for name in &report.already_present {
                println!("{name}: present and verified");
            }
            for name in &report.fetched {
                println!("{name}: fetched and verified");
            }
            println!("fixtures in {} ({} bytes downloaded)", report.dir.display(), report.downloaded_bytes);
            Ok(ExitCode::SUCCESS)
        }
        Action::Verify { dir } => {
            let dir = dir_or_cache(dir)?;
            let results = fetch::verify(&dir).map_err(|e| Error::bad_input(&dir, e))?;
            let mut bad = 0;
            for v in &results {
                match &v.status {
                    Status::Ok => println!("{}: ok", v.source.name),
                    Status::Missing => {
                        bad += 1;
                        println!("{}: missing", v.source.name);
                    }
                    Status::Mismatch { actual } => {
                        bad += 1;
                        println!("{}: content hash {actual}, pinned {}", v.source.name, v.source.content_sha256);
                    }
                }
            }
            Ok(super::found(bad > 0))
        }
        Action::List => {
            for s in fetch::PINNED.sources {
                let from: Vec<String> = s.downloads().into_iter().map(|d| d.url.to_string()).take(1).collect();
                println!("{}  {}  content sha256 {}", s.name, from.join(" "), s.content_sha256);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
