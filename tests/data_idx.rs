//! IDX reader/writer: round trips against hand-built bytes, and one typed error per malformed case.
use deepclust::data::{idx, load, DataError, Split};
use flate2::write::GzEncoder;
use flate2::Compression;
use ndarray::{Array3, Axis};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The bytes of an IDX file, built by hand from the format description (independent of the writer).
fn idx_bytes(type_code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, type_code, dims.len() as u8];
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend_from_slice(data);
    v
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// 2 images of 2×3: pixel (i, r, c) = 10·i + 3·r + c.
fn sample() -> (Array3<u8>, Vec<u8>) {
    let a = Array3::from_shape_fn((2, 2, 3), |(i, r, c)| (10 * i + 3 * r + c) as u8);
    let bytes = vec![0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15];
    (a, bytes)
}

#[test]
fn reads_hand_built_images_raw_and_gz() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, data) = sample();
    let raw = idx_bytes(0x08, &[2, 2, 3], &data);
    let p = put(dir.path(), "im-idx3-ubyte", &raw);
    assert_eq!(idx::read_images(&p).unwrap(), expected);
    let p = put(dir.path(), "im-idx3-ubyte.gz", &gzip(&raw));
    assert_eq!(idx::read_images(&p).unwrap(), expected);
    // Several gzip members, as `cat a.gz b.gz` makes: one stream for gzip, so for us too.
    let mut two = gzip(&raw[..7]);
    two.extend(gzip(&raw[7..]));
    let p = put(dir.path(), "two-members.gz", &two);
    assert_eq!(idx::read_images(&p).unwrap(), expected);
}

#[test]
fn writer_produces_the_format_bytes_raw_and_gz() {
    let dir = tempfile::tempdir().unwrap();
    let (a, data) = sample();
    let expected = idx_bytes(0x08, &[2, 2, 3], &data);

    let raw = dir.path().join("x-idx3-ubyte");
    idx::write_images(&raw, a.view()).unwrap();
    assert_eq!(std::fs::read(&raw).unwrap(), expected);

    let gz = dir.path().join("x-idx3-ubyte.gz");
    idx::write_images(&gz, a.view()).unwrap();
    let bytes = std::fs::read(&gz).unwrap();
    assert_eq!(gunzip(&bytes), expected);
    // Deterministic gzip: magic, deflate, no name flag, mtime 0; rewriting gives identical bytes.
    assert_eq!(&bytes[..8], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    idx::write_images(&gz, a.view()).unwrap();
    assert_eq!(std::fs::read(&gz).unwrap(), bytes);
    // No temporary files left around.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // Labels.
    let lp = dir.path().join("l-idx1-ubyte.gz");
    idx::write_labels(&lp, &[7, 0, 9]).unwrap();
    assert_eq!(
        gunzip(&std::fs::read(&lp).unwrap()),
        idx_bytes(0x08, &[3], &[7, 0, 9])
    );
    assert_eq!(idx::read_labels(&lp).unwrap(), vec![7, 0, 9]);
}

#[test]
fn round_trip_of_a_non_contiguous_view() {
    let dir = tempfile::tempdir().unwrap();
    let a = Array3::from_shape_fn((4, 3, 5), |(i, r, c)| (i * 15 + r * 5 + c) as u8);
    let every_other = a.slice(ndarray::s![..;2, .., ..]);
    for name in ["v-idx3-ubyte", "v-idx3-ubyte.gz"] {
        let p = dir.path().join(name);
        idx::write_images(&p, every_other).unwrap();
        let back = idx::read_images(&p).unwrap();
        assert_eq!(back, every_other);
        assert_eq!(back.index_axis(Axis(0), 1)[[2, 4]], 2 * 15 + 2 * 5 + 4);
    }
}

fn file_name_in(e: &DataError, name: &str) {
    assert!(
        e.to_string().contains(name),
        "message {e} should name {name}"
    );
}

#[test]
fn wrong_magic() {
    let dir = tempfile::tempdir().unwrap();
    // An images file read as labels.
    let (_, data) = sample();
    let p = put(
        dir.path(),
        "images-as-labels",
        &idx_bytes(8, &[2, 2, 3], &data),
    );
    let e = idx::read_labels(&p).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::WrongMagic {
                expected: 0x801,
                found: 0x803,
                ..
            }
        ),
        "{e:?}"
    );
    file_name_in(&e, "images-as-labels");
    assert!(e.to_string().contains("0x00000801"), "{e}");
    // Not an IDX file at all.
    let p = put(dir.path(), "text", b"hello, world, this is text");
    let e = idx::read_images(&p).unwrap_err();
    assert!(matches!(e, DataError::WrongMagic { .. }), "{e:?}");
}

#[test]
fn wrong_dtype() {
    let dir = tempfile::tempdir().unwrap();
    // Type code 0x0D = float, 3 dims.
    let p = put(
        dir.path(),
        "floats",
        &idx_bytes(0x0D, &[1, 1, 1], &[0, 0, 0, 0]),
    );
    let e = idx::read_images(&p).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::WrongDtype {
                expected: 0x08,
                found: 0x0D,
                ..
            }
        ),
        "{e:?}"
    );
    file_name_in(&e, "floats");
}

#[test]
fn truncated_data_raw_and_gz() {
    let dir = tempfile::tempdir().unwrap();
    let (_, data) = sample();
    let bytes = idx_bytes(8, &[2, 2, 3], &data[..11]);
    for (name, content) in [("t-raw", bytes.clone()), ("t.gz", gzip(&bytes))] {
        let p = put(dir.path(), name, &content);
        let e = idx::read_images(&p).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::Truncated {
                    expected: 12,
                    found: 11,
                    ..
                }
            ),
            "{name}: {e:?}"
        );
        file_name_in(&e, name);
    }
}

#[test]
fn truncated_header() {
    let dir = tempfile::tempdir().unwrap();
    let p = put(dir.path(), "short", &[0, 0, 8, 3, 0, 0]);
    let e = idx::read_images(&p).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::Truncated {
                expected: 16,
                found: 6,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn trailing_bytes_raw_and_gz() {
    let dir = tempfile::tempdir().unwrap();
    let (_, data) = sample();
    let mut long = data.clone();
    long.extend_from_slice(&[1, 2, 3]);
    let bytes = idx_bytes(8, &[2, 2, 3], &long);
    for (name, content) in [("l-raw", bytes.clone()), ("l.gz", gzip(&bytes))] {
        let p = put(dir.path(), name, &content);
        let e = idx::read_images(&p).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::TrailingBytes {
                    expected: 12,
                    found: 3,
                    ..
                }
            ),
            "{name}: {e:?}"
        );
        file_name_in(&e, name);
    }
}

#[test]
fn dims_not_matching_length() {
    let dir = tempfile::tempdir().unwrap();
    let (_, data) = sample();
    // The header announces 4 images of 2×3 (24 bytes) for the 12 bytes of 2 images.
    let bytes = idx_bytes(8, &[4, 2, 3], &data);
    for (name, content) in [("d-raw", bytes.clone()), ("d.gz", gzip(&bytes))] {
        let p = put(dir.path(), name, &content);
        let e = idx::read_images(&p).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::Truncated {
                    expected: 24,
                    found: 12,
                    ..
                }
            ),
            "{name}: {e:?}"
        );
    }
    // Dimensions whose product overflows are refused before anything is allocated.
    let p = put(dir.path(), "huge", &idx_bytes(8, &[u32::MAX; 3], &data));
    let e = idx::read_images(&p).unwrap_err();
    assert!(matches!(e, DataError::BadDimensions { .. }), "{e:?}");
    // Dimensions that fit but promise ~16 EiB: the raw file is checked against its size, the gzip
    // stream runs dry; neither allocates the announced size.
    let bytes = idx_bytes(8, &[u32::MAX, u32::MAX, 1], &data);
    for (name, content) in [("big-raw", bytes.clone()), ("big.gz", gzip(&bytes))] {
        let p = put(dir.path(), name, &content);
        let e = idx::read_images(&p).unwrap_err();
        assert!(
            matches!(e, DataError::Truncated { found: 12, .. }),
            "{name}: {e:?}"
        );
    }
}

#[test]
fn corrupt_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let (_, data) = sample();
    let raw = idx_bytes(8, &[2, 2, 3], &data);
    // Not gzip at all, though named .gz.
    let p = put(dir.path(), "plain.gz", &raw);
    let e = idx::read_images(&p).unwrap_err();
    assert!(matches!(e, DataError::CorruptGzip { .. }), "{e:?}");
    file_name_in(&e, "plain.gz");
    // A gzip stream cut short.
    let gz = gzip(&raw);
    let p = put(dir.path(), "cut.gz", &gz[..gz.len() - 6]);
    let e = idx::read_images(&p).unwrap_err();
    assert!(matches!(e, DataError::CorruptGzip { .. }), "{e:?}");
    // A flipped bit in the CRC-32 trailer.
    let mut bad = gz.clone();
    let n = bad.len();
    bad[n - 8] ^= 0x01;
    let p = put(dir.path(), "crc.gz", &bad);
    let e = idx::read_images(&p).unwrap_err();
    assert!(matches!(e, DataError::CorruptGzip { .. }), "{e:?}");
    // Garbage in the deflate data.
    let mut bad = gz.clone();
    for b in &mut bad[10..n - 8] {
        *b = 0xff;
    }
    let p = put(dir.path(), "garbage.gz", &bad);
    let e = idx::read_images(&p).unwrap_err();
    assert!(matches!(e, DataError::CorruptGzip { .. }), "{e:?}");
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [
        ("empty", Vec::new()),
        ("empty.gz", Vec::new()),
        ("empty-content.gz", gzip(&[])),
    ] {
        let p = put(dir.path(), name, &content);
        let e = idx::read_labels(&p).unwrap_err();
        assert!(matches!(e, DataError::Empty { .. }), "{name}: {e:?}");
        file_name_in(&e, name);
    }
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let e = idx::read_images(Path::new("/nonexistent/nope-idx3-ubyte")).unwrap_err();
    assert!(matches!(e, DataError::Io { .. }), "{e:?}");
    file_name_in(&e, "nope-idx3-ubyte");
}

/// Writes an `mnist`-layout data folder with `n_images` 28×28 images and the given labels.
fn mnist_dir(n_images: usize, labels: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("mnist");
    std::fs::create_dir(&d).unwrap();
    for prefix in ["train", "t10k"] {
        let images = vec![0u8; n_images * 28 * 28];
        put(
            &d,
            &format!("{prefix}-images-idx3-ubyte.gz"),
            &gzip(&idx_bytes(8, &[n_images as u32, 28, 28], &images)),
        );
        put(
            &d,
            &format!("{prefix}-labels-idx1-ubyte"),
            &idx_bytes(8, &[labels.len() as u32], labels),
        );
    }
    dir
}

#[test]
fn load_checks_counts_ranges_and_shapes() {
    // Well-formed: loads.
    let dir = mnist_dir(3, &[1, 9, 0]);
    let ds = load("mnist", Split::Test, dir.path()).unwrap();
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.labels, Some(vec![1, 9, 0]));
    assert_eq!(ds.split, Split::Test);

    // Image/label count mismatch.
    let dir = mnist_dir(3, &[1, 2]);
    let e = load("mnist", Split::Train, dir.path()).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::CountMismatch {
                n_images: 3,
                n_labels: 2,
                ..
            }
        ),
        "{e:?}"
    );
    file_name_in(&e, "train-images-idx3-ubyte.gz");
    file_name_in(&e, "train-labels-idx1-ubyte");

    // Label out of range (MNIST has 10 classes).
    let dir = mnist_dir(3, &[1, 10, 2]);
    let e = load("mnist", Split::Train, dir.path()).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::LabelOutOfRange {
                index: 1,
                label: 10,
                n_classes: 10,
                ..
            }
        ),
        "{e:?}"
    );
    file_name_in(&e, "train-labels-idx1-ubyte");

    // Images that are not 28×28.
    let dir = mnist_dir(1, &[0]);
    let d = dir.path().join("mnist");
    std::fs::remove_file(d.join("train-images-idx3-ubyte.gz")).unwrap();
    put(
        &d,
        "train-images-idx3-ubyte",
        &idx_bytes(8, &[1, 2, 3], &[0; 6]),
    );
    let e = load("mnist", Split::Train, dir.path()).unwrap_err();
    assert!(matches!(e, DataError::WrongShape { .. }), "{e:?}");
    assert!(
        e.to_string().contains("2×3") && e.to_string().contains("28×28"),
        "{e}"
    );
}

#[test]
fn missing_dataset_says_how_to_fetch_it() {
    let dir = tempfile::tempdir().unwrap();
    let e = load("mnist", Split::Train, dir.path()).unwrap_err();
    assert!(matches!(e, DataError::Missing { .. }), "{e:?}");
    let expected = format!(
        "dataset `mnist` not found in {0} (missing train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]); run `deepclust data fetch --dataset mnist --data-dir {0}`",
        dir.path().display()
    );
    assert_eq!(e.to_string(), expected);

    // Only the labels present: only the images are reported missing.
    let d = dir.path().join("mnist");
    std::fs::create_dir(&d).unwrap();
    put(
        &d,
        "t10k-labels-idx1-ubyte.gz",
        &gzip(&idx_bytes(8, &[1], &[0])),
    );
    let e = load("mnist", Split::Test, dir.path()).unwrap_err();
    assert!(
        e.to_string()
            .contains("(missing t10k-images-idx3-ubyte[.gz]);"),
        "{e}"
    );
}

#[test]
fn unknown_dataset_lists_known_ones() {
    let e = load("mnsit", Split::Train, Path::new("/tmp")).unwrap_err();
    assert!(matches!(e, DataError::UnknownDataset { .. }), "{e:?}");
    let msg = e.to_string();
    for name in ["mnist", "fashion-mnist", "mnist-mini"] {
        assert!(msg.contains(name), "{msg}");
    }
    assert!(msg.contains("did you mean `mnist`"), "{msg}");
}
