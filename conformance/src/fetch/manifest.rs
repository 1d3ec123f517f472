//! What to fetch: the pinned fixture sets, and the types that describe any set (tests build
//! their own small manifests from the same types).

use super::FetchError;
use std::collections::HashSet;

/// One fixture set: where its bytes come from, which of them are kept, and the content hash
/// that the kept files must have once installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source<'a> {
    /// Short unique name used in messages and reports, e.g. `ethereum-tests`.
    pub name: &'a str,
    /// Where the bytes come from and which of them to keep.
    pub payload: Payload<'a>,
    /// The [`content_hash`](super::content_hash) (64 lowercase hex digits) of
    /// [`Source::installs`] once installed.
    pub content_sha256: &'a str,
}

/// How a source's bytes are delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// A `.tar.gz` archive, of which some subtrees are kept.
    Archive(Archive<'a>),
    /// Single files, each fetched from `base_url/path`.
    Files(Files<'a>),
}

/// A gzip-compressed tar archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Archive<'a> {
    /// Download URL. With a mirror, its last path segment is the file name on the mirror.
    pub url: &'a str,
    /// sha256 (64 lowercase hex digits) of the archive's bytes, where those bytes are stable.
    /// GitHub's generated `archive/<commit>.tar.gz` files are not, so those carry `None` and
    /// rely on `content_sha256` alone.
    pub sha256: Option<&'a str>,
    /// Subtrees (or single files) of the archive to install.
    pub keep: &'a [Keep<'a>],
    /// Kept entries that are nevertheless left out.
    pub exclude: &'a [Exclude<'a>],
}

/// One kept subtree: archive path `from` (a directory or a file, `/`-separated, no leading
/// `./`) installed at `to`, relative to the fixtures directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keep<'a> {
    pub from: &'a str,
    pub to: &'a str,
}

/// Files left out of a kept subtree. Paths are installed paths, relative to the fixtures
/// directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exclude<'a> {
    /// Exactly this file.
    File(&'a str),
    /// Every file below `under` that lies in a directory whose name contains `text`.
    DirNameContains { under: &'a str, text: &'a str },
}

/// Single files fetched one by one (a few files out of a repository too large to download
/// whole).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Files<'a> {
    /// URL prefix; each file comes from `base_url/path`.
    pub base_url: &'a str,
    /// Install directory, relative to the fixtures directory; each file goes to `to/path`.
    pub to: &'a str,
    /// `/`-separated paths below `base_url` and `to`. With a mirror, each file's last path
    /// segment is its file name on the mirror.
    pub paths: &'a [&'a str],
}

/// One download of a source: its URL and its file name on a mirror.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download<'a> {
    pub url: String,
    pub mirror_name: &'a str,
    /// Where a [`Payload::Files`] file goes, relative to the fixtures directory; `None` for
    /// an archive.
    pub install_path: Option<String>,
}

impl<'a> Source<'a> {
    /// The installed roots, relative to the fixtures directory: what the content hash covers
    /// and what an install replaces.
    pub fn installs(&self) -> Vec<&'a str> {
        match self.payload {
            Payload::Archive(a) => a.keep.iter().map(|k| k.to).collect(),
            Payload::Files(f) => vec![f.to],
        }
    }

    /// The downloads this source needs, in order.
    pub fn downloads(&self) -> Vec<Download<'a>> {
        match self.payload {
            Payload::Archive(a) => {
                vec![Download { url: a.url.to_string(), mirror_name: last_segment(a.url), install_path: None }]
            }
            Payload::Files(f) => f
                .paths
                .iter()
                .map(|p| Download {
                    url: format!("{}/{p}", f.base_url.trim_end_matches('/')),
                    mirror_name: last_segment(p),
                    install_path: Some(format!("{}/{p}", f.to)),
                })
                .collect(),
        }
    }
}

fn last_segment(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// A list of sources. [`PINNED`] is the project's; tests make their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Manifest<'a> {
    pub sources: &'a [Source<'a>],
}

impl Manifest<'_> {
    /// Checks what [`fetch`](super::fetch) relies on: unique source names and mirror file
    /// names, relative `/`-separated paths without `.`/`..`, install roots that do not nest
    /// in one another, and well-formed hex digests. Errors with [`FetchError::Manifest`].
    pub fn validate(&self) -> Result<(), FetchError> {
        let bad = |m: String| Err(FetchError::Manifest(m));
        let mut names = HashSet::new();
        let mut mirror_names = HashSet::new();
        let mut installs: Vec<&str> = Vec::new();
        for s in self.sources {
            if s.name.is_empty() || !names.insert(s.name) {
                return bad(format!("source name {:?} empty or repeated", s.name));
            }
            if !is_hex_digest(s.content_sha256) {
                return bad(format!("{}: content_sha256 is not 64 lowercase hex digits", s.name));
            }
            if let Payload::Archive(a) = s.payload {
                if a.sha256.is_some_and(|d| !is_hex_digest(d)) {
                    return bad(format!("{}: archive sha256 is not 64 lowercase hex digits", s.name));
                }
                if a.keep.is_empty() {
                    return bad(format!("{}: archive keeps nothing", s.name));
                }
                for p in a.keep.iter().flat_map(|k| [k.from, k.to]) {
                    if !is_plain_relative(p) {
                        return bad(format!("{}: path {p:?} is not a plain relative path", s.name));
                    }
                }
            }
            if let Payload::Files(f) = s.payload {
                if f.paths.is_empty() {
                    return bad(format!("{}: no files listed", s.name));
                }
                for p in f.paths.iter().copied().chain([f.to]) {
                    if !is_plain_relative(p) {
                        return bad(format!("{}: path {p:?} is not a plain relative path", s.name));
                    }
                }
            }
            for d in s.downloads() {
                if !mirror_names.insert(d.mirror_name) {
                    return bad(format!("{}: mirror file name {:?} repeated", s.name, d.mirror_name));
                }
            }
            installs.extend(s.installs());
        }
        for (i, a) in installs.iter().enumerate() {
            for b in &installs[i + 1..] {
                if nests(a, b) || nests(b, a) {
                    return bad(format!("install roots {a:?} and {b:?} overlap"));
                }
            }
        }
        Ok(())
    }
}

/// `inner` is `outer` or lies below it.
pub(crate) fn nests(outer: &str, inner: &str) -> bool {
    inner == outer || inner.strip_prefix(outer).is_some_and(|rest| rest.starts_with('/'))
}

fn is_hex_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_plain_relative(p: &str) -> bool {
    !p.is_empty() && p.split('/').all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\'))
}

/// The pinned official fixture sets (see `shared/fixtures/README.md`), about 80 MB installed.
///
/// The content hashes were computed from the shared copy, which is exactly what a fetch
/// installs. The two execution-spec-tests release tarballs are byte-stable, but their sha256
/// could not be looked up without internet access, so they are `None` as well: the content
/// hash is the check.
pub const PINNED: Manifest<'static> = Manifest {
    sources: &[
        Source {
            name: "ethereum-tests",
            payload: Payload::Archive(Archive {
                url: "https://github.com/ethereum/tests/archive/4c87ebbf024a3e9ec842bcce90564f629a3bcd82.tar.gz",
                sha256: None,
                keep: &[
                    Keep {
                        from: "tests-4c87ebbf024a3e9ec842bcce90564f629a3bcd82/GeneralStateTests",
                        to: "ethereum-tests/GeneralStateTests",
                    },
                    Keep {
                        from: "tests-4c87ebbf024a3e9ec842bcce90564f629a3bcd82/BlockchainTests/ValidBlocks",
                        to: "ethereum-tests/BlockchainTests/ValidBlocks",
                    },
                ],
                // Absent from the shared copy, so absent here too (the hash is of that copy).
                exclude: &[Exclude::File("ethereum-tests/BlockchainTests/ValidBlocks/bcExploitTest/SuicideIssue.json")],
            }),
            content_sha256: "d4642c014206888a3e23bfe4ee1af8eb995d5c0289fdd97a74f3ac6f2ac854b6",
        },
        Source {
            name: "pectra-devnet-5",
            payload: Payload::Archive(Archive {
                url: "https://github.com/ethereum/execution-spec-tests/releases/download/pectra-devnet-5%40v1.1.0/fixtures_pectra-devnet-5.tar.gz",
                sha256: None,
                keep: &[Keep { from: "fixtures/state_tests", to: "eest/pectra-devnet-5/state_tests" }],
                // EOF was removed from Prague; these seven were filled before the final
                // EIP-7623/EIP-7702 rules.
                exclude: &[
                    Exclude::DirNameContains { under: "eest/pectra-devnet-5/state_tests", text: "eof" },
                    Exclude::File(
                        "eest/pectra-devnet-5/state_tests/prague/eip7623_increase_calldata_cost/execution_gas/full_gas_consumption.json",
                    ),
                    Exclude::File(
                        "eest/pectra-devnet-5/state_tests/prague/eip7623_increase_calldata_cost/execution_gas/gas_consumption_below_data_floor.json",
                    ),
                    Exclude::File(
                        "eest/pectra-devnet-5/state_tests/prague/eip7623_increase_calldata_cost/execution_gas/gas_refunds_from_data_floor.json",
                    ),
                    Exclude::File(
                        "eest/pectra-devnet-5/state_tests/prague/eip7702_set_code_tx/set_code_txs/ext_code_on_set_code.json",
                    ),
                    Exclude::File(
                        "eest/pectra-devnet-5/state_tests/prague/eip7702_set_code_tx/set_code_txs/ext_code_on_self_set_code.json",
                    ),
                    Exclude::File(
                        "eest/pectra-devnet-5/state_tests/prague/eip7702_set_code_tx/set_code_txs/ext_code_on_chain_delegating_set_code.json",
                    ),
                    Exclude::File(
                        "eest/pectra-devnet-5/state_tests/prague/eip7702_set_code_tx/set_code_txs/ext_code_on_self_delegating_set_code.json",
                    ),
                ],
            }),
            content_sha256: "c747c9fbe8f8735d4d7edb350ec14cc61097a3340fd977d7139e01d3925f71eb",
        },
        Source {
            name: "fusaka-devnet-5",
            payload: Payload::Archive(Archive {
                url: "https://github.com/ethereum/execution-spec-tests/releases/download/fusaka-devnet-5%40v1.1.0/fixtures_fusaka-devnet-5.tar.gz",
                sha256: None,
                keep: &[Keep { from: "fixtures/state_tests", to: "eest/fusaka-devnet-5/state_tests" }],
                exclude: &[],
            }),
            content_sha256: "c4e0d24fd45d8f5db2043e3516f7580cd29dafefb9b85ee88526bc82a7033705",
        },
        Source {
            name: "legacytests-sample",
            // Seven files out of a repository of thousands: fetched one by one, not as an archive.
            payload: Payload::Files(Files {
                base_url: "https://raw.githubusercontent.com/ethereum/legacytests/71560ecd8d6b9e8b9a4280aba66dbab762608edf",
                to: "legacytests-sample",
                paths: &[
                    "Cancun/GeneralStateTests/stExample/accessListExample.json",
                    "Cancun/GeneralStateTests/stExample/basefeeExample.json",
                    "Cancun/GeneralStateTests/stExample/eip1559.json",
                    "Cancun/GeneralStateTests/stTransactionTest/NoSrcAccount.json",
                    "Cancun/GeneralStateTests/stTransactionTest/NoSrcAccount1559.json",
                    "Cancun/GeneralStateTests/stTransactionTest/NoSrcAccountCreate.json",
                    "Cancun/GeneralStateTests/stTransactionTest/NoSrcAccountCreate1559.json",
                ],
            }),
            content_sha256: "c21c5902c1cbb093b7d4c7211c245ca340dc9a9805a9aa46f3e9c06fda1ae87d",
        },
    ],
};
