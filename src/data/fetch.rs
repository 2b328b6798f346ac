//! Verified downloads (and imports from a local folder) of registered datasets, and re-verification.
//!
//! A file is streamed from its source into a hidden temporary file in the target folder while its
//! **uncompressed** bytes are hashed on the fly; only when the SHA-256 matches the registry is the
//! temporary file renamed (atomically) to its real name. A corrupt, truncated or interrupted
//! download therefore never leaves a file that looks valid: the temporary file is deleted on any
//! failure (and a crash leaves at most a `.NAME.*.partial` file that nothing reads). When a mirror
//! fails — unreachable, HTTP error, corrupt gzip, checksum mismatch — the reason is logged and the
//! next mirror is tried; if all fail, the error lists each mirror and why.
use super::atomic::{persist, temp_file_for};
use super::error::{Attempt, DataError};
use super::registry::{find_file, DatasetSpec, FileSpec};
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::NamedTempFile;

/// How to fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchOptions {
    /// Base URLs to use instead of the registered mirrors (tried in order; `<mirror><file>.gz`).
    pub mirrors: Option<Vec<String>>,
    /// Import from this local folder instead of downloading. It may hold the files directly or in
    /// a `<dataset>/` sub-folder, gzipped or raw.
    pub from: Option<PathBuf>,
    /// Fetch again even files that are already present and valid.
    pub force: bool,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// It was present with the right checksum: nothing done.
    AlreadyValid,
    /// Downloaded from `url`.
    Downloaded {
        /// Where from.
        url: String,
        /// Bytes transferred (compressed size for `.gz`).
        bytes: u64,
    },
    /// Copied from a local file.
    Imported {
        /// Where from.
        from: PathBuf,
        /// Bytes copied.
        bytes: u64,
    },
}

/// One file of a [`FetchReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedFile {
    /// The registry entry of the file.
    pub spec: FileSpec,
    /// Where it now is.
    pub path: PathBuf,
    /// What was done.
    pub outcome: FetchOutcome,
    /// Sources that were tried before the one that worked, and why they failed.
    pub failed_attempts: Vec<Attempt>,
}

/// The result of [`fetch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReport {
    /// The dataset.
    pub dataset: String,
    /// The folder the files are in (`<data_dir>/<dataset>`).
    pub dir: PathBuf,
    /// One entry per registered file, in registry order.
    pub files: Vec<FetchedFile>,
}

/// Where files come from.
enum Source {
    Url(String),
    Dir(PathBuf),
}

/// Makes sure every file of `spec` is present and valid in `<data_dir>/<spec.name>/`, downloading
/// (or importing, with [`FetchOptions::from`]) what is missing or invalid.
///
/// Without [`FetchOptions::mirrors`] or [`FetchOptions::from`], local copies are used first: the
/// registry's system folders (Debian's `/usr/share/datasets/fashion-mnist`) and, for bundled
/// datasets (`mnist-mini`), the repository's `fixtures/`; then the registered mirrors.
pub fn fetch(
    spec: &DatasetSpec,
    data_dir: &Path,
    opts: &FetchOptions,
) -> Result<FetchReport, DataError> {
    let sources: Vec<Source> = if let Some(from) = &opts.from {
        vec![Source::Dir(from.clone())]
    } else if let Some(mirrors) = &opts.mirrors {
        mirrors.iter().cloned().map(Source::Url).collect()
    } else {
        // Local copies first (a Debian package's folder, the repository's fixtures), then the
        // registered mirrors.
        let mut local: Vec<PathBuf> = spec.system_dirs.iter().map(PathBuf::from).collect();
        if spec.bundled {
            local.push(super::fixture_dir().join(spec.name));
        }
        local
            .into_iter()
            .filter(|d| d.is_dir())
            .map(Source::Dir)
            .chain(spec.mirrors.iter().map(|m| Source::Url(m.to_string())))
            .collect()
    };
    if sources.is_empty() {
        return Err(DataError::NoSource {
            dataset: spec.name.to_string(),
        });
    }

    let dir = spec.dir_in(data_dir);
    let created = !dir.is_dir();
    std::fs::create_dir_all(&dir).map_err(|e| DataError::io("create", &dir, e))?;
    let agent = agent();
    let mut files = Vec::with_capacity(spec.files.len());
    for file in spec.files {
        match fetch_file(spec, file, &dir, &sources, &agent, opts.force) {
            Ok(f) => files.push(f),
            Err(e) => {
                if created {
                    // Leave no empty folder behind either (fails harmlessly if files were fetched).
                    let _ = std::fs::remove_dir(&dir);
                }
                return Err(e);
            }
        }
    }
    Ok(FetchReport {
        dataset: spec.name.to_string(),
        dir,
        files,
    })
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_resolve(Some(Duration::from_secs(15)))
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        // A stalled transfer fails instead of hanging forever.
        .timeout_per_read(Some(Duration::from_secs(60)))
        // We want the `.gz` bytes as stored on the mirror, not a transparently decoded stream.
        .accept_encoding("identity")
        .user_agent(concat!("deepclust/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn fetch_file(
    spec: &DatasetSpec,
    file: &FileSpec,
    dir: &Path,
    sources: &[Source],
    agent: &ureq::Agent,
    force: bool,
) -> Result<FetchedFile, DataError> {
    if let Some(existing) = find_file(dir, file.file_name) {
        if !force {
            match sha256_uncompressed(&existing) {
                Ok(sha) if sha == file.sha256 => {
                    log::info!("{}: already present and valid", existing.display());
                    return Ok(FetchedFile {
                        spec: *file,
                        path: existing,
                        outcome: FetchOutcome::AlreadyValid,
                        failed_attempts: Vec::new(),
                    });
                }
                Ok(sha) => log::warn!(
                    "{}: present but its SHA-256 is {sha}, expected {}; fetching it again",
                    existing.display(),
                    file.sha256
                ),
                Err(e) => log::warn!("{e}; fetching it again"),
            }
        }
    }

    let mut attempts = Vec::new();
    for source in sources {
        let (label, result) = match source {
            Source::Url(mirror) => {
                let url = file_url(mirror, file.file_name);
                let r = download(agent, &url, dir, file)?;
                (url, r)
            }
            Source::Dir(from) => match find_in_dir(from, spec.name, file.file_name) {
                Some(path) => {
                    let r = import(&path, dir, file)?;
                    (path.display().to_string(), r)
                }
                None => (
                    from.display().to_string(),
                    Err(format!(
                        "neither {0} nor {0}.gz is there (nor in its {1}/ sub-folder)",
                        file.file_name, spec.name
                    )),
                ),
            },
        };
        match result {
            Ok(received) => {
                let name = if received.gz {
                    format!("{}.gz", file.file_name)
                } else {
                    file.file_name.to_string()
                };
                let path = dir.join(&name);
                persist(received.tmp, &path)?;
                // Remove a stale copy in the other form, so only the verified file remains.
                let other = if received.gz {
                    dir.join(file.file_name)
                } else {
                    dir.join(format!("{}.gz", file.file_name))
                };
                if other.is_file() {
                    std::fs::remove_file(&other).map_err(|e| DataError::io("remove", &other, e))?;
                }
                let outcome = match source {
                    Source::Url(_) => FetchOutcome::Downloaded {
                        url: label,
                        bytes: received.bytes,
                    },
                    Source::Dir(_) => FetchOutcome::Imported {
                        from: PathBuf::from(label),
                        bytes: received.bytes,
                    },
                };
                log::info!("{}: verified and saved", path.display());
                return Ok(FetchedFile {
                    spec: *file,
                    path,
                    outcome,
                    failed_attempts: attempts,
                });
            }
            Err(reason) => {
                log::warn!("{}: {label}: {reason}", file.file_name);
                attempts.push(Attempt {
                    source: label,
                    reason,
                });
            }
        }
    }
    Err(DataError::AllSourcesFailed {
        dataset: spec.name.to_string(),
        file: file.file_name.to_string(),
        attempts,
    })
}

/// `<mirror>/<file>.gz`, adding the slash if the mirror lacks it.
fn file_url(mirror: &str, file_name: &str) -> String {
    if mirror.ends_with('/') {
        format!("{mirror}{file_name}.gz")
    } else {
        format!("{mirror}/{file_name}.gz")
    }
}

fn find_in_dir(from: &Path, dataset: &str, file_name: &str) -> Option<PathBuf> {
    find_file(from, file_name).or_else(|| find_file(&from.join(dataset), file_name))
}

/// A verified temporary file, ready to be renamed into place.
struct Received {
    tmp: NamedTempFile,
    gz: bool,
    bytes: u64,
}

/// Outer error: cannot even create a temporary file (fatal). Inner error: this source failed.
type AttemptResult = Result<Result<Received, String>, DataError>;

fn download(agent: &ureq::Agent, url: &str, dir: &Path, file: &FileSpec) -> AttemptResult {
    log::info!("downloading {url}");
    let response = match agent.get(url).call() {
        Ok(r) => r,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let len = response.body().content_length();
    let reader = response.into_body().into_reader();
    receive(reader, len, dir, file)
}

fn import(path: &Path, dir: &Path, file: &FileSpec) -> AttemptResult {
    log::info!("importing {}", path.display());
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) => return Ok(Err(format!("cannot open: {e}"))),
    };
    let len = f.metadata().ok().map(|m| m.len());
    receive(BufReader::with_capacity(1 << 16, f), len, dir, file)
}

/// Copies everything read from `inner` to `out`, counting and showing progress; remembers the
/// first error of each side so that messages can say whether the source or the disk failed.
struct Tee<'a, R: Read, W: Write> {
    inner: R,
    out: &'a mut W,
    bar: &'a indicatif::ProgressBar,
    bytes: u64,
    read_error: Option<String>,
    write_error: Option<String>,
}

impl<R: Read, W: Write> Read for Tee<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf).inspect_err(|e| {
            self.read_error.get_or_insert_with(|| e.to_string());
        })?;
        self.out.write_all(&buf[..n]).inspect_err(|e| {
            self.write_error.get_or_insert_with(|| e.to_string());
        })?;
        self.bytes += n as u64;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// Streams `reader` into a temporary file in `dir` while hashing its uncompressed bytes; returns the
/// file if the hash is the registered one.
fn receive(reader: impl Read, len: Option<u64>, dir: &Path, file: &FileSpec) -> AttemptResult {
    let tmp = temp_file_for(dir, file.file_name)?;
    let bar = crate::progress::bytes_bar(len, file.file_name);
    let mut out = BufWriter::with_capacity(1 << 16, tmp.as_file());
    let mut tee = Tee {
        inner: reader,
        out: &mut out,
        bar: &bar,
        bytes: 0,
        read_error: None,
        write_error: None,
    };
    let mut hasher = Sha256::new();
    let result = hash_stream(&mut tee, &mut hasher);
    bar.finish_and_clear();
    let explain = |tee: &Tee<'_, _, _>, e: io::Error, gz: bool| -> String {
        if let Some(w) = &tee.write_error {
            format!("cannot write {}: {w}", tmp.path().display())
        } else if let Some(r) = &tee.read_error {
            format!("transfer failed after {} bytes: {r}", tee.bytes)
        } else if gz {
            format!("corrupt gzip stream: {e}")
        } else {
            e.to_string()
        }
    };
    let gz = match result {
        Ok(gz) => gz,
        Err((e, gz)) => return Ok(Err(explain(&tee, e, gz))),
    };
    let bytes = tee.bytes;
    if let Err(e) = out.flush() {
        return Ok(Err(format!("cannot write {}: {e}", tmp.path().display())));
    }
    drop(out);
    let found = hex::encode(hasher.finalize());
    if found != file.sha256 {
        return Ok(Err(format!(
            "checksum mismatch: SHA-256 of the uncompressed data is {found}, expected {}",
            file.sha256
        )));
    }
    Ok(Ok(Received { tmp, gz, bytes }))
}

/// Hashes the uncompressed content of `r` (gunzipping it if it starts with the gzip magic) and reads
/// `r` to its end. Returns whether it was gzipped; on error, the error and that flag.
fn hash_stream(r: &mut impl Read, hasher: &mut Sha256) -> Result<bool, (io::Error, bool)> {
    let mut head = [0u8; 2];
    let mut k = 0;
    while k < 2 {
        match r.read(&mut head[k..]) {
            Ok(0) => break,
            Ok(n) => k += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((e, false)),
        }
    }
    let gz = k == 2 && head == [0x1f, 0x8b];
    let mut chained = io::Cursor::new(&head[..k]).chain(&mut *r);
    if gz {
        let mut decoder = MultiGzDecoder::new(&mut chained);
        io::copy(&mut decoder, hasher).map_err(|e| (e, true))?;
    } else {
        io::copy(&mut chained, hasher).map_err(|e| (e, false))?;
    }
    // The decoder may stop before the end of its input: copy whatever is left to the file too.
    io::copy(r, &mut io::sink()).map_err(|e| (e, gz))?;
    Ok(gz)
}

/// SHA-256 (lowercase hex) of a file's uncompressed bytes (`.gz` files are gunzipped).
pub fn sha256_uncompressed(path: &Path) -> Result<String, DataError> {
    let file = File::open(path).map_err(|e| DataError::io("open", path, e))?;
    let mut hasher = Sha256::new();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    if super::idx::is_gz(path) {
        io::copy(&mut MultiGzDecoder::new(reader), &mut hasher).map_err(|e| {
            DataError::CorruptGzip {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
    } else {
        io::copy(&mut reader, &mut hasher).map_err(|e| DataError::io("read", path, e))?;
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The state of one file found by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Present, checksum as registered.
    Ok,
    /// Not present (neither raw nor `.gz`).
    Missing,
    /// Present, but its uncompressed bytes hash to `found`.
    Mismatch {
        /// The SHA-256 found.
        found: String,
    },
    /// Present but unreadable (corrupt gzip, I/O error).
    Unreadable {
        /// What went wrong.
        reason: String,
    },
}

/// One file checked by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStatus {
    /// The registry entry.
    pub spec: FileSpec,
    /// The file checked (`None` when missing).
    pub path: Option<PathBuf>,
    /// The verdict.
    pub state: FileState,
}

impl FileStatus {
    /// True when the file is present and valid.
    pub fn is_ok(&self) -> bool {
        self.state == FileState::Ok
    }
}

/// Re-checks the SHA-256 of every file of `spec` in `<data_dir>/<name>/`, or, when that folder holds
/// none of them, in the first other folder [`super::load`] searches that holds all of them (the
/// Debian package's folder for `fashion-mnist`, `fixtures/` for `mnist-mini`; see
/// [`DatasetSpec::search_dirs`]).
///
/// Returns [`DataError::Missing`] when the dataset is nowhere; otherwise one status per file, which
/// may be missing, mismatched or unreadable.
pub fn verify(spec: &DatasetSpec, data_dir: &Path) -> Result<Vec<FileStatus>, DataError> {
    // The data folder if it holds any file of the dataset; else the first other folder searched
    // by `load` (system folder, fixtures) that holds them all.
    let primary = spec.dir_in(data_dir);
    let has_any = spec
        .files
        .iter()
        .any(|f| find_file(&primary, f.file_name).is_some());
    let best = if has_any {
        primary
    } else {
        spec.search_dirs(data_dir)
            .into_iter()
            .skip(1)
            .find(|d| {
                spec.files
                    .iter()
                    .all(|f| find_file(d, f.file_name).is_some())
            })
            .ok_or_else(|| super::registry::missing_error(spec, data_dir, spec.files))?
    };
    Ok(spec
        .files
        .iter()
        .map(|f| {
            let path = find_file(&best, f.file_name);
            let state = match &path {
                None => FileState::Missing,
                Some(p) => match sha256_uncompressed(p) {
                    Ok(sha) if sha == f.sha256 => FileState::Ok,
                    Ok(found) => FileState::Mismatch { found },
                    Err(e) => FileState::Unreadable {
                        reason: e.to_string(),
                    },
                },
            };
            FileStatus {
                spec: *f,
                path,
                state,
            }
        })
        .collect())
}
