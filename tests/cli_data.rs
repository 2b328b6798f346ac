//! `deepclust data …` end to end.
use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    repo().join("fixtures")
}

/// The real MNIST, at `../shared/data` relative to the repository (CI and the dev machine).
fn shared_data() -> Option<PathBuf> {
    let p = repo().join("../shared/data");
    if p.join("mnist").is_dir() {
        Some(p)
    } else {
        println!(
            "note: {} not found: skipping the checks on the real MNIST",
            p.display()
        );
        None
    }
}

fn deepclust() -> Command {
    let mut c = Command::cargo_bin("deepclust").unwrap();
    c.env_remove("DEEPCLUST_DATA").arg("--quiet");
    c
}

#[test]
fn verify_real_mnist() {
    let Some(data) = shared_data() else { return };
    deepclust()
        .args(["data", "verify", "--dataset", "mnist", "--data-dir"])
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::contains("all 4 files verified"));
}

#[test]
fn verify_fixture() {
    deepclust()
        .args(["data", "verify", "--dataset", "mnist-mini", "--data-dir"])
        .arg(fixtures())
        .assert()
        .success()
        .stdout(predicate::str::contains("OK").count(4))
        .stdout(predicate::str::contains("all 4 files verified"));
}

#[test]
fn data_dir_from_the_environment() {
    Command::cargo_bin("deepclust")
        .unwrap()
        .env("DEEPCLUST_DATA", fixtures())
        .args(["data", "verify", "--dataset", "mnist-mini"])
        .assert()
        .success();
}

#[test]
fn missing_dataset_says_which_command_fetches_it() {
    let empty = tempfile::tempdir().unwrap();
    let hint = format!(
        "run `deepclust data fetch --dataset mnist --data-dir {}`",
        empty.path().display()
    );
    for sub in ["verify", "info"] {
        deepclust()
            .args(["data", sub, "--dataset", "mnist", "--data-dir"])
            .arg(empty.path())
            .assert()
            .code(1)
            .stderr(predicate::str::contains(hint.clone()))
            .stderr(predicate::str::contains("dataset `mnist` not found in"));
    }
}

#[test]
fn unknown_dataset_is_a_usage_error_listing_known_ones() {
    deepclust()
        .args(["data", "info", "--dataset", "cifar10"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("mnist, fashion-mnist, mnist-mini"));
}

/// Class rows of `data info`: (class, train count, test count).
fn class_rows(stdout: &str) -> Vec<(usize, usize, usize)> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in stdout.lines() {
        if line.starts_with("class ") && line.contains("train") {
            in_table = true;
            continue;
        }
        if in_table {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() >= 3 {
                let n = f.len();
                rows.push((
                    f[0].parse().unwrap(),
                    f[n - 2].parse().unwrap(),
                    f[n - 1].parse().unwrap(),
                ));
            }
        }
    }
    rows
}

#[test]
fn info_on_the_fixture_prints_class_counts() {
    let out = deepclust()
        .args(["data", "info", "--dataset", "mnist-mini", "--data-dir"])
        .arg(fixtures())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    // Balanced by construction: 2000 / 10 and 500 / 10.
    let expected: Vec<_> = (0..10).map(|c| (c, 200, 50)).collect();
    assert_eq!(class_rows(&stdout), expected, "{stdout}");
    // Shapes and pixel statistics (computed with numpy, see fixtures/README.md).
    assert!(stdout.contains("2000  28×28"), "{stdout}");
    assert!(stdout.contains("500  28×28"), "{stdout}");
    assert!(
        stdout.contains("0.1324") && stdout.contains("0.3098"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0.1370") && stdout.contains("0.3152"),
        "{stdout}"
    );
}

#[test]
fn info_on_real_mnist() {
    let Some(data) = shared_data() else { return };
    let out = deepclust()
        .args(["data", "info", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    // MNIST's published class counts.
    let train = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
    let test = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];
    let expected: Vec<_> = (0..10).map(|c| (c, train[c], test[c])).collect();
    assert_eq!(class_rows(&stdout), expected, "{stdout}");
    // The normalisation constants everyone uses for MNIST (train: 0.1307, 0.3081).
    assert!(
        stdout.contains("0.1307") && stdout.contains("0.3081"),
        "{stdout}"
    );
}

#[test]
fn verify_reports_a_corrupted_file() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("mnist-mini");
    std::fs::create_dir(&dir).unwrap();
    for e in std::fs::read_dir(fixtures().join("mnist-mini")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    // Replace the test labels with a valid IDX file of different content.
    std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    deepclust::data::idx::write_labels(&dir.join("t10k-labels-idx1-ubyte"), &[0; 500]).unwrap();
    deepclust()
        .args(["data", "verify", "--dataset", "mnist-mini", "--data-dir"])
        .arg(data.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("MISMATCH"))
        .stdout(predicate::str::contains("t10k-labels-idx1-ubyte"))
        .stderr(predicate::str::contains("1 of 4 files"));
}

#[test]
fn list_shows_every_dataset() {
    deepclust()
        .args(["data", "list", "--data-dir"])
        .arg(fixtures())
        .assert()
        .success()
        .stdout(predicate::str::contains("mnist "))
        .stdout(predicate::str::contains("fashion-mnist"))
        .stdout(predicate::str::contains("mnist-mini"));
}

#[test]
fn fetch_from_a_folder_then_verify() {
    let data = tempfile::tempdir().unwrap();
    deepclust()
        .args(["data", "fetch", "--dataset", "mnist-mini", "--from"])
        .arg(fixtures().join("mnist-mini"))
        .arg("--data-dir")
        .arg(data.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("imported").count(4));
    deepclust()
        .args(["data", "fetch", "--dataset", "mnist-mini", "--data-dir"])
        .arg(data.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("already present and valid").count(4));
    deepclust()
        .args(["data", "verify", "--dataset", "mnist-mini", "--data-dir"])
        .arg(data.path())
        .assert()
        .success();
}

#[test]
fn fetch_from_an_unreachable_mirror_fails_naming_it() {
    let data = tempfile::tempdir().unwrap();
    deepclust()
        .args([
            "data",
            "fetch",
            "--dataset",
            "mnist",
            "--mirror",
            "http://127.0.0.1:1/mnist/",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "http://127.0.0.1:1/mnist/train-images-idx3-ubyte.gz",
        ));
    assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0);
}

#[test]
fn subset_is_balanced_and_reproducible() {
    let out = tempfile::tempdir().unwrap();
    let run = |dir: &Path| {
        deepclust()
            .args(["--seed", "7", "data", "subset", "--dataset", "mnist-mini"])
            .args(["--train", "95", "--test", "30", "--data-dir"])
            .arg(fixtures())
            .arg("--out")
            .arg(dir)
            .assert()
            .success()
            .stdout(predicate::str::contains("train: 95 images"));
    };
    let (a, b) = (out.path().join("a"), out.path().join("b"));
    run(&a);
    run(&b);
    for name in [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "SHA256SUMS.uncompressed",
    ] {
        assert_eq!(
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap(),
            "{name}"
        );
    }
    let labels = deepclust::data::idx::read_labels(&a.join("train-labels-idx1-ubyte.gz")).unwrap();
    let mut counts = [0; 10];
    for l in labels {
        counts[usize::from(l)] += 1;
    }
    // 95 = 9 × 10 + 5: five classes get 10, five get 9.
    let mut sorted = counts;
    sorted.sort();
    assert_eq!(sorted, [9, 9, 9, 9, 9, 10, 10, 10, 10, 10]);

    // Asking for more than there is is a usage error.
    deepclust()
        .args([
            "data",
            "subset",
            "--dataset",
            "mnist-mini",
            "--train",
            "2001",
            "--test",
            "1",
        ])
        .arg("--data-dir")
        .arg(fixtures())
        .arg("--out")
        .arg(out.path().join("c"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has only 2000 images"));
}

/// `deepclust … | head` must not panic when the reader goes away (Rust ignores SIGPIPE by default,
/// so without the binary's handling `println!` panics with "Broken pipe").
#[cfg(unix)]
#[test]
fn printing_into_a_closed_pipe_does_not_panic() {
    use std::process::{Command as Std, Stdio};
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("deepclust"))
        .args(["data", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before the child prints
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
