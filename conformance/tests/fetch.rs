//! The fixture fetcher against an in-process HTTP server on 127.0.0.1: small synthetic
//! sources with a manifest whose hashes are computed here, and (the slow test) the real
//! pinned manifest served tarballs rebuilt from the shared fixtures in their upstream layout.

use flate2::Compression;
use flate2::write::GzEncoder;
use lockstep_conformance::fetch::{
    self, Archive, Exclude, FetchError, FetchOptions, Files, Keep, LOCK_FILE, Manifest, PINNED, Payload, Source, Status,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Serves `name -> bytes` at `/name`, 404 for anything else, counting requests.
struct Server {
    base: String,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    hits: Arc<AtomicUsize>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(files: HashMap<String, Vec<u8>>) -> Server {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let base = format!("http://{}", server.server_addr().to_ip().unwrap());
        let files = Arc::new(Mutex::new(files));
        let hits = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (server, files, hits) = (server.clone(), files.clone(), hits.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    hits.fetch_add(1, Ordering::SeqCst);
                    let body = files.lock().unwrap().get(request.url().trim_start_matches('/')).cloned();
                    let _ = match body {
                        Some(b) => request.respond(tiny_http::Response::from_data(b)),
                        None => request.respond(tiny_http::Response::empty(404)),
                    };
                }
            })
        };
        Server { base, files, hits, server, thread: Some(thread) }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn put(&self, name: &str, bytes: Vec<u8>) {
        self.files.lock().unwrap().insert(name.to_string(), bytes);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One tar entry of a test archive.
enum Item<'a> {
    File(&'a str, &'a [u8]),
    /// A regular file whose name is written raw, past the `tar` crate's own path checks.
    RawName(&'a [u8], &'a [u8]),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    Dir(&'a str),
    /// What GitHub's archives start with: the commit id in a pax global header.
    GlobalHeader,
}

fn targz(items: &[Item]) -> Vec<u8> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for item in items {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        match item {
            Item::File(path, data) => {
                h.set_size(data.len() as u64);
                tar.append_data(&mut h, path, *data).unwrap();
            }
            Item::RawName(name, data) => {
                h.as_old_mut().name[..name.len()].copy_from_slice(name);
                h.set_size(data.len() as u64);
                h.set_entry_type(tar::EntryType::Regular);
                h.set_cksum();
                tar.append(&h, *data).unwrap();
            }
            Item::Symlink(path, target) | Item::HardLink(path, target) => {
                let kind =
                    if matches!(item, Item::Symlink(..)) { tar::EntryType::Symlink } else { tar::EntryType::Link };
                h.set_entry_type(kind);
                h.set_size(0);
                h.set_link_name(target).unwrap();
                tar.append_data(&mut h, path, std::io::empty()).unwrap();
            }
            Item::Dir(path) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                tar.append_data(&mut h, path, std::io::empty()).unwrap();
            }
            Item::GlobalHeader => {
                let data = b"52 comment=4c87ebbf024a3e9ec842bcce90564f629a3bcd82\n";
                let mut h = tar::Header::new_ustar();
                h.set_entry_type(tar::EntryType::XGlobalHeader);
                h.set_size(data.len() as u64);
                tar.append_data(&mut h, "pax_global_header", &data[..]).unwrap();
            }
        }
    }
    tar.into_inner().unwrap().finish().unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The content hash, computed independently of the library: sha256 of sorted
/// `"<sha256>  <path>\n"` lines.
fn expected_hash(files: &[(&str, &[u8])]) -> String {
    let mut files = files.to_vec();
    files.sort_by_key(|f| f.0);
    let listing: String = files.iter().map(|(p, d)| format!("{}  {p}\n", sha256_hex(d))).collect();
    sha256_hex(listing.as_bytes())
}

/// Entries of `dir` other than the fetch's lock file.
fn leftovers(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> =
        rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n != LOCK_FILE).collect();
    names.sort();
    names
}

// The synthetic sources: one archive (with extra, excluded and unkept entries) and two
// single files.

const ARCHIVE_NAME: &str = "synth.tar.gz";
const ONE: &[u8] = b"{\"one\": 1}\n";
const TWO: &[u8] = b"{\"two\": 2}\n";
const THREE: &[u8] = b"{\"three\": 3}\n";
const FOUR: &[u8] = b"{\"four\": 4}\n";

fn good_items() -> Vec<Item<'static>> {
    vec![
        Item::GlobalHeader,
        Item::Dir("synth-1/"),
        Item::File("synth-1/README.md", b"not kept"),
        Item::Dir("synth-1/State/"),
        Item::File("synth-1/State/a/one.json", ONE),
        Item::File("synth-1/State/b/two.json", TWO),
        Item::File("synth-1/State/b/eof_tests/x.json", b"excluded by directory name"),
        Item::File("synth-1/State/skip.json", b"excluded by path"),
        Item::File("synth-1/Chain/Valid/c.json", THREE),
        Item::File("synth-1/Chain/Invalid/d.json", b"not kept"),
        Item::Symlink("synth-1/link", "/etc/passwd"),
    ]
}

/// The files the good archive installs.
const ARCHIVE_INSTALLS: &[(&str, &[u8])] =
    &[("set/State/a/one.json", ONE), ("set/State/b/two.json", TWO), ("set/Chain/Valid/c.json", THREE)];
const LOOSE_INSTALLS: &[(&str, &[u8])] = &[("loose/x/one.json", ONE), ("loose/y/four.json", FOUR)];

const KEEP: &[Keep] =
    &[Keep { from: "synth-1/State", to: "set/State" }, Keep { from: "synth-1/Chain/Valid", to: "set/Chain/Valid" }];
const EXCLUDE: &[Exclude] =
    &[Exclude::DirNameContains { under: "set/State", text: "eof" }, Exclude::File("set/State/skip.json")];

/// Owned hashes that the test manifest borrows.
struct Hashes {
    archive: String,
    loose: String,
}

fn hashes() -> Hashes {
    Hashes { archive: expected_hash(ARCHIVE_INSTALLS), loose: expected_hash(LOOSE_INSTALLS) }
}

fn sources<'a>(h: &'a Hashes, archive_sha256: Option<&'a str>) -> [Source<'a>; 2] {
    [
        Source {
            name: "synthetic",
            payload: Payload::Archive(Archive {
                url: "https://example.invalid/archive/synth.tar.gz",
                sha256: archive_sha256,
                keep: KEEP,
                exclude: EXCLUDE,
            }),
            content_sha256: &h.archive,
        },
        Source {
            name: "loose",
            payload: Payload::Files(Files {
                base_url: "https://example.invalid/raw",
                to: "loose",
                paths: &["x/one.json", "y/four.json"],
            }),
            content_sha256: &h.loose,
        },
    ]
}

fn served(archive: Vec<u8>) -> Server {
    Server::start(HashMap::from([
        (ARCHIVE_NAME.to_string(), archive),
        ("one.json".to_string(), ONE.to_vec()),
        ("four.json".to_string(), FOUR.to_vec()),
    ]))
}

fn options<'a>(dir: &Path, sources: &'a [Source<'a>], mirror: &str) -> FetchOptions<'a> {
    FetchOptions {
        manifest: Manifest { sources },
        mirror: Some(mirror.to_string()),
        timeout: Duration::from_secs(10),
        progress: false,
        ..FetchOptions::new(dir)
    }
}

#[test]
fn good_fetch_installs_and_verifies_and_a_second_fetch_is_a_no_op() {
    let tarball = targz(&good_items());
    let h = hashes();
    let pin = sha256_hex(&tarball);
    let sources = sources(&h, Some(&pin));
    let server = served(tarball);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fixtures");
    let opts = options(&dir, &sources, &server.base);

    let report = fetch::fetch(&opts).unwrap();
    assert_eq!(report.fetched, ["synthetic", "loose"]);
    assert!(report.already_present.is_empty());
    assert!(report.downloaded_bytes > 0);
    assert_eq!(server.hits(), 3);
    for (path, data) in ARCHIVE_INSTALLS.iter().chain(LOOSE_INSTALLS) {
        assert_eq!(std::fs::read(dir.join(path)).unwrap(), *data, "{path}");
    }
    for absent in ["set/State/b/eof_tests", "set/State/skip.json", "README.md", "set/Chain/Invalid", "link"] {
        assert!(!dir.join(absent).exists(), "{absent} should not be installed");
    }
    assert_eq!(leftovers(&dir), ["loose", "set"], "no staging directory left");
    let verified = fetch::verify_with(&opts.manifest, &dir).unwrap();
    assert!(verified.iter().all(|v| v.status == Status::Ok), "{verified:?}");

    let again = fetch::fetch(&opts).unwrap();
    assert!(again.fetched.is_empty());
    assert_eq!(again.already_present, ["synthetic", "loose"]);
    assert_eq!(again.downloaded_bytes, 0);
    assert_eq!(server.hits(), 3, "a second fetch downloads nothing");
}

#[test]
fn an_archive_with_the_wrong_sha256_is_rejected_and_leaves_nothing() {
    let h = hashes();
    let wrong = "0".repeat(64);
    let sources = sources(&h, Some(&wrong));
    let server = served(targz(&good_items()));
    let tmp = tempfile::tempdir().unwrap();
    let err = fetch::fetch(&options(tmp.path(), &sources, &server.base)).unwrap_err();
    let FetchError::ArchiveMismatch { name, expected, actual, .. } = &err else { panic!("{err}") };
    assert_eq!((name.as_str(), expected.as_str()), ("synthetic", wrong.as_str()));
    assert_eq!(actual.len(), 64);
    assert!(err.to_string().contains("synthetic") && err.to_string().contains(&wrong), "{err}");
    assert!(leftovers(tmp.path()).is_empty(), "{:?}", leftovers(tmp.path()));
}

#[test]
fn wrong_content_is_rejected_and_the_old_tree_is_kept() {
    let h = hashes();
    let sources = sources(&h, None);
    let mut items = good_items();
    items.push(Item::File("synth-1/State/a/extra.json", b"not in the pinned hash"));
    let server = served(targz(&items));
    let tmp = tempfile::tempdir().unwrap();
    let old = tmp.path().join("set/State/old.json");
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    std::fs::write(&old, b"an older copy").unwrap();

    let err = fetch::fetch(&options(tmp.path(), &sources, &server.base)).unwrap_err();
    let FetchError::ContentMismatch { name, expected, actual } = &err else { panic!("{err}") };
    let mut got = ARCHIVE_INSTALLS.to_vec();
    got.push(("set/State/a/extra.json", b"not in the pinned hash"));
    assert_eq!((name.as_str(), expected, actual), ("synthetic", &h.archive, &expected_hash(&got)));
    let msg = err.to_string();
    assert!(msg.contains("synthetic") && msg.contains(&h.archive) && msg.contains(actual.as_str()), "{msg}");
    assert_eq!(std::fs::read(&old).unwrap(), b"an older copy");
    assert!(!tmp.path().join("set/State/a").exists());
    assert_eq!(leftovers(tmp.path()), ["set"]);
}

#[test]
fn unsafe_archive_entries_are_refused() {
    let h = hashes();
    let sources = sources(&h, None);
    let cases: Vec<(&str, Item)> = vec![
        ("leading ..", Item::RawName(b"../escape.json", b"x")),
        ("inner ..", Item::RawName(b"synth-1/State/../../../escape.json", b"x")),
        ("absolute", Item::RawName(b"/tmp/lockstep-escape.json", b"x")),
        ("symlink in a kept subtree", Item::Symlink("synth-1/State/a/evil.json", "/etc/passwd")),
        ("hard link in a kept subtree", Item::HardLink("synth-1/State/a/evil.json", "/etc/passwd")),
    ];
    for (what, item) in cases {
        let mut items = good_items();
        items.insert(2, item);
        let server = served(targz(&items));
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("fixtures");
        let err = fetch::fetch(&options(&dir, &sources, &server.base)).unwrap_err();
        assert!(matches!(err, FetchError::UnsafeEntry { .. }), "{what}: {err}");
        assert!(err.to_string().contains("synthetic"), "{what}: {err}");
        assert!(leftovers(&dir).is_empty(), "{what}: {:?}", leftovers(&dir));
        assert!(!tmp.path().join("escape.json").exists(), "{what}");
    }
    assert!(!Path::new("/tmp/lockstep-escape.json").exists());
}

#[test]
fn a_missing_file_is_a_clear_404() {
    let h = hashes();
    let sources = sources(&h, None);
    let server = Server::start(HashMap::new());
    let tmp = tempfile::tempdir().unwrap();
    let err = fetch::fetch(&options(tmp.path(), &sources, &server.base)).unwrap_err();
    let FetchError::HttpStatus { name, url, status } = &err else { panic!("{err}") };
    assert_eq!((name.as_str(), *status), ("synthetic", 404));
    assert_eq!(url, &format!("{}/{ARCHIVE_NAME}", server.base));
    let msg = err.to_string();
    assert!(msg.contains("404") && msg.contains(url.as_str()), "{msg}");
    assert!(leftovers(tmp.path()).is_empty());
}

#[test]
fn a_stalled_server_times_out() {
    let h = hashes();
    let sources = sources(&h, None);
    // Accepts the connection and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let held = listener.accept();
        std::thread::sleep(Duration::from_secs(10));
        drop(held);
    });
    let tmp = tempfile::tempdir().unwrap();
    let opts = FetchOptions { timeout: Duration::from_millis(500), ..options(tmp.path(), &sources, &base) };
    let start = Instant::now();
    let err = fetch::fetch(&opts).unwrap_err();
    assert!(matches!(err, FetchError::Http { .. }), "{err}");
    assert!(err.to_string().contains("timeout"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(leftovers(tmp.path()).is_empty());
}

#[test]
fn an_oversized_download_is_refused() {
    let h = hashes();
    let sources = sources(&h, None);
    let server = served(targz(&good_items()));
    let tmp = tempfile::tempdir().unwrap();
    let opts = FetchOptions { max_download_bytes: 100, ..options(tmp.path(), &sources, &server.base) };
    let err = fetch::fetch(&opts).unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { limit: 100, .. }), "{err}");
    let opts = FetchOptions { max_unpacked_bytes: 15, ..options(tmp.path(), &sources, &server.base) };
    let err = fetch::fetch(&opts).unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { limit: 15, .. }), "{err}");
    assert!(leftovers(tmp.path()).is_empty());
}

#[test]
fn a_local_directory_mirror_works_and_verify_reports_damage() {
    let h = hashes();
    let sources = sources(&h, None);
    let mirror = tempfile::tempdir().unwrap();
    std::fs::write(mirror.path().join(ARCHIVE_NAME), targz(&good_items())).unwrap();
    std::fs::write(mirror.path().join("one.json"), ONE).unwrap();
    std::fs::write(mirror.path().join("four.json"), FOUR).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(tmp.path(), &sources, mirror.path().to_str().unwrap());
    assert_eq!(fetch::fetch(&opts).unwrap().fetched, ["synthetic", "loose"]);

    std::fs::write(tmp.path().join("set/State/a/one.json"), b"damaged").unwrap();
    std::fs::remove_dir_all(tmp.path().join("loose")).unwrap();
    let v = fetch::verify_with(&opts.manifest, tmp.path()).unwrap();
    let mut damaged = ARCHIVE_INSTALLS.to_vec();
    damaged[0].1 = b"damaged";
    assert_eq!(v[0].status, Status::Mismatch { actual: expected_hash(&damaged) });
    assert_eq!(v[1].status, Status::Missing);

    // A fetch repairs exactly what verify flagged.
    assert_eq!(fetch::fetch(&opts).unwrap().fetched, ["synthetic", "loose"]);
    assert!(fetch::verify_with(&opts.manifest, tmp.path()).unwrap().iter().all(|v| v.status == Status::Ok));
}

#[test]
fn the_library_content_hash_is_the_documented_one() {
    let tmp = tempfile::tempdir().unwrap();
    for (path, data) in ARCHIVE_INSTALLS {
        let p = tmp.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    std::fs::create_dir_all(tmp.path().join("set/State/empty")).unwrap();
    let got = fetch::content_hash(tmp.path(), &["set/State", "set/Chain/Valid"]).unwrap();
    assert_eq!(got, hashes().archive);
}

#[test]
fn the_pinned_manifest_is_valid() {
    PINNED.validate().unwrap();
    let names: Vec<&str> = PINNED.sources.iter().map(|s| s.name).collect();
    assert_eq!(names, ["ethereum-tests", "pectra-devnet-5", "fusaka-devnet-5", "legacytests-sample"]);
    let mirror: Vec<&str> = PINNED.sources.iter().flat_map(|s| s.downloads()).map(|d| d.mirror_name).collect();
    assert_eq!(mirror.len(), 10);
    assert_eq!(
        mirror[..3],
        [
            "4c87ebbf024a3e9ec842bcce90564f629a3bcd82.tar.gz",
            "fixtures_pectra-devnet-5.tar.gz",
            "fixtures_fusaka-devnet-5.tar.gz"
        ]
    );
}

fn shared_fixtures() -> PathBuf {
    lockstep_conformance::fixtures_for_tests().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_pinned_hashes_match_the_shared_copy() {
    let v = fetch::verify(&shared_fixtures()).unwrap();
    assert!(v.iter().all(|v| v.status == Status::Ok), "{v:?}");
}

/// Every regular file under `dir/rel`, as (path relative to `dir/rel`, bytes).
fn tree(dir: &Path, rel: &str) -> Vec<(String, Vec<u8>)> {
    let top = dir.join(rel);
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(&top)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let sub = e.path().strip_prefix(&top).unwrap().to_str().unwrap().replace('\\', "/");
            (sub, std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// `installed` (a path under some `keep.to`) mapped back to its archive path.
fn archive_path(keep: &[Keep], installed: &str) -> String {
    let k = keep.iter().find(|k| installed.starts_with(&format!("{}/", k.to))).unwrap();
    format!("{}{}", k.from, &installed[k.to.len()..])
}

/// Rebuilds each pinned source from the shared copy in the layout upstream ships (with
/// decoys for every exclusion and an unkept sibling), serves it, fetches the real manifest
/// from that mirror and verifies: the pinned hashes, keeps and exclusions agree with the
/// shared copy.
#[test]
fn fixtures_fetch_pinned_manifest_matches_shared() {
    let start = Instant::now();
    let shared = shared_fixtures();
    let server = Server::start(HashMap::new());
    for source in PINNED.sources {
        match source.payload {
            Payload::Archive(a) => {
                let mut owned: Vec<(String, Vec<u8>)> = Vec::new();
                for k in a.keep {
                    owned.extend(tree(&shared, k.to).into_iter().map(|(p, d)| (format!("{}/{p}", k.from), d)));
                }
                for x in a.exclude {
                    let installed = match *x {
                        Exclude::File(p) => p.to_string(),
                        Exclude::DirNameContains { under, text } => format!("{under}/x/v1_{text}_tests/decoy.json"),
                    };
                    owned.push((archive_path(a.keep, &installed), b"decoy: excluded".to_vec()));
                }
                let top = a.keep[0].from.split('/').next().unwrap();
                owned.push((format!("{top}/not-kept/README.md"), b"decoy: not kept".to_vec()));
                let mut items = vec![Item::GlobalHeader];
                items.extend(owned.iter().map(|(p, d)| Item::File(p, d)));
                server.put(source.downloads()[0].mirror_name, targz(&items));
            }
            Payload::Files(_) => {
                for d in source.downloads() {
                    server.put(d.mirror_name, std::fs::read(shared.join(d.install_path.unwrap())).unwrap());
                }
            }
        }
    }
    let built = start.elapsed();
    let tmp = tempfile::tempdir().unwrap();
    let opts = FetchOptions { mirror: Some(server.base.clone()), progress: false, ..FetchOptions::new(tmp.path()) };
    let report = fetch::fetch(&opts).unwrap();
    assert_eq!(report.fetched.len(), PINNED.sources.len(), "{report:?}");
    let v = fetch::verify(tmp.path()).unwrap();
    assert!(v.iter().all(|v| v.status == Status::Ok), "{v:?}");
    assert!(!tmp.path().join("ethereum-tests/BlockchainTests/ValidBlocks/bcExploitTest/SuicideIssue.json").exists());
    eprintln!(
        "built tarballs in {:.1} s, fetched {} bytes and verified in {:.1} s",
        built.as_secs_f64(),
        report.downloaded_bytes,
        (start.elapsed() - built).as_secs_f64()
    );
}
