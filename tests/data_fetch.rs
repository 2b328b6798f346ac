//! Verified downloads against a tiny HTTP server on 127.0.0.1 serving the mnist-mini fixture,
//! good, corrupted and truncated; imports with `from`; `verify`.
use deepclust::data::{
    fetch, fixture_dir, load, registry, verify, DataError, FetchOptions, FetchOutcome, FileState,
    Split,
};
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

fn fixture_file(name: &str) -> PathBuf {
    fixture_dir().join("mnist-mini").join(format!("{name}.gz"))
}

/// The fixture's file with one byte of its uncompressed content changed, re-gzipped (a valid gzip
/// stream whose content fails the checksum).
fn corrupted(name: &str) -> Vec<u8> {
    let mut raw = Vec::new();
    MultiGzDecoder::new(std::fs::File::open(fixture_file(name)).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    let i = raw.len() - 1;
    raw[i] ^= 0x5a;
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&raw).unwrap();
    e.finish().unwrap()
}

enum Reply {
    Body(Vec<u8>),
    /// Announces the full length but sends only half, then closes.
    Truncated(Vec<u8>),
}

/// A one-request-per-connection HTTP/1.1 server on 127.0.0.1 in a background thread. It answers at
/// most `max_requests` requests and stops by itself after that or after 60 s, whichever is first.
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

fn serve(routes: HashMap<String, Reply>, max_requests: usize) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut served = 0;
        while served < max_requests && Instant::now() < deadline {
            let mut stream = match listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                Err(_) => break,
            };
            served += 1;
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers.
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_string();
            log.lock().unwrap().push(path.clone());
            let _ = match routes.get(&path) {
                Some(Reply::Body(b)) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            b.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|_| stream.write_all(b)),
                Some(Reply::Truncated(b)) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            b.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|_| stream.write_all(&b[..b.len() / 2])),
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
                ),
            };
            let _ = stream.flush();
        }
    });
    Server { port, requests }
}

impl Server {
    fn url(&self, prefix: &str) -> String {
        format!("http://127.0.0.1:{}/{prefix}/", self.port)
    }
}

/// Routes `/good/`, `/corrupt/` and `/truncated/` for every fixture file.
fn routes() -> HashMap<String, Reply> {
    let mut r = HashMap::new();
    for name in FILES {
        let good = std::fs::read(fixture_file(name)).unwrap();
        r.insert(format!("/good/{name}.gz"), Reply::Body(good.clone()));
        r.insert(format!("/corrupt/{name}.gz"), Reply::Body(corrupted(name)));
        r.insert(format!("/truncated/{name}.gz"), Reply::Truncated(good));
    }
    r
}

/// Every entry (recursively) under `dir`, as paths relative to it.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        if e.file_type().unwrap().is_dir() {
            out.push(format!("{name}/"));
            out.extend(tree(&e.path()).into_iter().map(|n| format!("{name}/{n}")));
        } else {
            out.push(name);
        }
    }
    out.sort();
    out
}

fn mirrors(v: &[String]) -> FetchOptions {
    FetchOptions {
        mirrors: Some(v.to_vec()),
        ..Default::default()
    }
}

#[test]
fn good_mirror_downloads_verified_files() {
    let server = serve(routes(), 20);
    let spec = registry::lookup("mnist-mini").unwrap();
    let data = tempfile::tempdir().unwrap();
    let report = fetch(spec, data.path(), &mirrors(&[server.url("good")])).unwrap();
    assert_eq!(report.files.len(), 4);
    for f in &report.files {
        assert!(
            matches!(&f.outcome, FetchOutcome::Downloaded { url, .. } if url.starts_with(&server.url("good"))),
            "{f:?}"
        );
        assert!(f.failed_attempts.is_empty());
        // Byte-identical to what was served.
        assert_eq!(
            std::fs::read(&f.path).unwrap(),
            std::fs::read(fixture_file(f.spec.file_name)).unwrap()
        );
    }
    let mut expected: Vec<String> = FILES.iter().map(|n| format!("mnist-mini/{n}.gz")).collect();
    expected.push("mnist-mini/".into());
    expected.sort();
    assert_eq!(tree(data.path()), expected);
    assert!(verify(spec, data.path()).unwrap().iter().all(|s| s.is_ok()));
    assert_eq!(
        load("mnist-mini", Split::Test, data.path()).unwrap().len(),
        500
    );
    assert_eq!(server.requests.lock().unwrap().len(), 4);

    // Again: everything is already valid, nothing is requested.
    let again = fetch(spec, data.path(), &mirrors(&[server.url("good")])).unwrap();
    assert!(again
        .files
        .iter()
        .all(|f| f.outcome == FetchOutcome::AlreadyValid));
    assert_eq!(server.requests.lock().unwrap().len(), 4);
}

#[test]
fn corrupted_mirror_is_rejected_and_the_next_one_tried() {
    let server = serve(routes(), 20);
    let spec = registry::lookup("mnist-mini").unwrap();
    let data = tempfile::tempdir().unwrap();
    let bad = server.url("corrupt");
    let report = fetch(
        spec,
        data.path(),
        &mirrors(&[bad.clone(), server.url("good")]),
    )
    .unwrap();
    for f in &report.files {
        assert_eq!(f.failed_attempts.len(), 1, "{f:?}");
        let a = &f.failed_attempts[0];
        assert_eq!(a.source, format!("{bad}{}.gz", f.spec.file_name));
        assert!(a.reason.contains("checksum mismatch"), "{}", a.reason);
        assert!(a.reason.contains(f.spec.sha256), "{}", a.reason);
    }
    // Only the four good files: nothing of the corrupted downloads remains.
    assert_eq!(tree(data.path()).len(), 5, "{:?}", tree(data.path()));
    assert!(verify(spec, data.path()).unwrap().iter().all(|s| s.is_ok()));
    // Corrupt then good for each file, in order.
    let log = server.requests.lock().unwrap().clone();
    assert_eq!(log.len(), 8);
    assert!(log[0].starts_with("/corrupt/") && log[1].starts_with("/good/"));
}

#[test]
fn all_mirrors_bad_is_an_error_listing_each_and_leaves_nothing() {
    let server = serve(routes(), 20);
    let spec = registry::lookup("mnist-mini").unwrap();
    let data = tempfile::tempdir().unwrap();
    // Port 1 on localhost: connection refused (nobody listens there).
    let unreachable = "http://127.0.0.1:1/".to_string();
    let list = [
        server.url("corrupt"),
        server.url("missing"),
        server.url("truncated"),
        unreachable.clone(),
    ];
    let e = fetch(spec, data.path(), &mirrors(&list)).unwrap_err();
    let DataError::AllSourcesFailed { attempts, file, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(file, "train-images-idx3-ubyte");
    assert_eq!(attempts.len(), 4, "{attempts:?}");
    assert!(attempts[0].reason.contains("checksum mismatch"), "{e}");
    assert!(attempts[1].reason.contains("404"), "{e}");
    assert!(attempts[2].reason.contains("transfer failed"), "{e}");
    assert!(attempts[3].source.starts_with(&unreachable), "{e}");
    let msg = e.to_string();
    for m in &list {
        assert!(msg.contains(m.as_str()), "{msg}");
    }
    assert_eq!(tree(data.path()), Vec::<String>::new());
}

#[test]
fn invalid_existing_file_is_replaced() {
    let server = serve(routes(), 20);
    let spec = registry::lookup("mnist-mini").unwrap();
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("mnist-mini");
    std::fs::create_dir(&dir).unwrap();
    // A stale raw copy with wrong content, and a corrupted gzip one.
    std::fs::write(dir.join("train-labels-idx1-ubyte"), b"stale").unwrap();
    std::fs::write(
        dir.join("t10k-labels-idx1-ubyte.gz"),
        corrupted("t10k-labels-idx1-ubyte"),
    )
    .unwrap();
    let statuses = verify(spec, data.path()).unwrap();
    assert!(statuses
        .iter()
        .any(|s| matches!(s.state, FileState::Mismatch { .. })));
    assert!(statuses.iter().any(|s| s.state == FileState::Missing));
    fetch(spec, data.path(), &mirrors(&[server.url("good")])).unwrap();
    let mut expected: Vec<String> = FILES.iter().map(|n| format!("mnist-mini/{n}.gz")).collect();
    expected.push("mnist-mini/".into());
    expected.sort();
    assert_eq!(tree(data.path()), expected);
    assert!(verify(spec, data.path()).unwrap().iter().all(|s| s.is_ok()));
}

#[test]
fn import_from_a_folder_gz_or_raw() {
    let spec = registry::lookup("mnist-mini").unwrap();
    // Raw copies in a folder of their own.
    let src = tempfile::tempdir().unwrap();
    for name in FILES {
        let mut raw = Vec::new();
        MultiGzDecoder::new(std::fs::File::open(fixture_file(name)).unwrap())
            .read_to_end(&mut raw)
            .unwrap();
        std::fs::write(src.path().join(name), raw).unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let opts = FetchOptions {
        from: Some(src.path().to_path_buf()),
        ..Default::default()
    };
    let report = fetch(spec, data.path(), &opts).unwrap();
    for f in &report.files {
        assert!(matches!(f.outcome, FetchOutcome::Imported { .. }), "{f:?}");
        assert_eq!(f.path.file_name().unwrap(), f.spec.file_name);
    }
    assert!(verify(spec, data.path()).unwrap().iter().all(|s| s.is_ok()));

    // From the fixtures folder (files in its mnist-mini/ sub-folder, gzipped), forced.
    let opts = FetchOptions {
        from: Some(fixture_dir()),
        force: true,
        ..Default::default()
    };
    let report = fetch(spec, data.path(), &opts).unwrap();
    for f in &report.files {
        assert!(f.path.to_string_lossy().ends_with(".gz"), "{f:?}");
    }
    // The raw copies were replaced by the gzipped ones.
    assert_eq!(tree(data.path()).len(), 5, "{:?}", tree(data.path()));
}

#[test]
fn import_of_a_bad_copy_fails_and_leaves_nothing() {
    let spec = registry::lookup("mnist-mini").unwrap();
    let src = tempfile::tempdir().unwrap();
    std::fs::write(
        src.path().join("train-images-idx3-ubyte.gz"),
        corrupted("train-images-idx3-ubyte"),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let opts = FetchOptions {
        from: Some(src.path().to_path_buf()),
        ..Default::default()
    };
    let e = fetch(spec, data.path(), &opts).unwrap_err();
    assert!(e.to_string().contains("checksum mismatch"), "{e}");
    assert_eq!(tree(data.path()), Vec::<String>::new());

    // A folder without the files.
    let empty = tempfile::tempdir().unwrap();
    let opts = FetchOptions {
        from: Some(empty.path().to_path_buf()),
        ..Default::default()
    };
    let e = fetch(spec, data.path(), &opts).unwrap_err();
    assert!(
        e.to_string()
            .contains("neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz"),
        "{e}"
    );
    assert_eq!(tree(data.path()), Vec::<String>::new());
}

#[test]
fn verify_of_nothing_is_missing_with_the_fetch_command() {
    let spec = registry::lookup("mnist").unwrap();
    let data = tempfile::tempdir().unwrap();
    let e = verify(spec, data.path()).unwrap_err();
    assert!(matches!(e, DataError::Missing { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("run `deepclust data fetch --dataset mnist --data-dir"),
        "{e}"
    );
}

#[test]
fn fashion_mnist_is_imported_from_the_debian_package_without_network() {
    let debian = Path::new("/usr/share/datasets/fashion-mnist");
    if !debian.is_dir() {
        println!("note: Debian's dataset-fashion-mnist is not installed: skipping");
        return;
    }
    let spec = registry::lookup("fashion-mnist").unwrap();
    let data = tempfile::tempdir().unwrap();
    let report = fetch(spec, data.path(), &FetchOptions::default()).unwrap();
    for f in &report.files {
        assert!(
            matches!(&f.outcome, FetchOutcome::Imported { from, .. } if from.starts_with(debian)),
            "{f:?}"
        );
    }
    let statuses = verify(spec, data.path()).unwrap();
    assert!(statuses
        .iter()
        .all(|s| s.is_ok() && s.path.as_ref().unwrap().starts_with(data.path())));
}
