//! Experiments end to end on the committed MNIST fixture: the `smoke` preset runs, a rerun after
//! an interrupted experiment finishes only what is missing, and the report's tables, figures and
//! CSV come from the runs.
#![cfg(feature = "torch")]
use assert_cmd::Command;
use deepclust::experiment::{
    plan, report, run_experiment, run_status, ExperimentOptions, ExperimentSpec, ReportOptions,
    RunStatus,
};
use deepclust::pipeline::{run, RunOptions, Summary};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn summary(p: &Path) -> Summary {
    serde_json::from_str(&std::fs::read_to_string(p.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn smoke_experiment_resumes_only_missing_runs_and_reports_its_numbers() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("smoke");
    let spec = ExperimentSpec::preset("smoke").unwrap();
    let runs = plan(&spec).unwrap();
    assert_eq!(runs.len(), 4);
    let opts = ExperimentOptions {
        out: out.clone(),
        data_dir: fixture_dir(),
        jobs: 1,
        threads: Some(2),
        max_runs: Some(2),
    };

    // "Killed" after two runs, and a third run interrupted after its first epoch.
    let o = run_experiment(&spec, &runs, &opts).unwrap();
    assert_eq!((o.finished, o.skipped, o.left), (2, 0, 2));
    assert!(o.failed.is_empty(), "{:?}", o.failed);
    let partial = run(
        &runs[2].config,
        &RunOptions {
            out: out.join(&runs[2].rel_dir),
            data_dir: fixture_dir(),
            resume: false,
            force: false,
            stop_after: Some(1),
            progress: None,
        },
    )
    .unwrap();
    assert!(partial.is_none());
    assert_eq!(run_status(&out, &runs[2]), RunStatus::Partial(1));
    let first: Vec<Summary> = runs[..2]
        .iter()
        .map(|r| summary(&out.join(&r.rel_dir)))
        .collect();

    // The rerun skips the finished runs (their summaries stay as they were) and finishes the rest.
    let o = run_experiment(
        &spec,
        &runs,
        &ExperimentOptions {
            max_runs: None,
            ..opts.clone()
        },
    )
    .unwrap();
    assert_eq!((o.finished, o.skipped, o.left), (2, 2, 0));
    for (r, s) in runs[..2].iter().zip(&first) {
        assert_eq!(&summary(&out.join(&r.rel_dir)), s);
    }
    assert!(runs
        .iter()
        .all(|r| run_status(&out, r) == RunStatus::Finished));

    // The report: tables with our numbers, the figures, the CSV.
    let rep = report(
        &out,
        &ReportOptions {
            tsne: true,
            tsne_points: 600,
        },
    )
    .unwrap();
    assert_eq!((rep.finished, rep.unfinished), (4, 0));
    let md = std::fs::read_to_string(&rep.report).unwrap();
    let nmis: Vec<f64> = runs[..2]
        .iter()
        .map(|r| summary(&out.join(&r.rel_dir)).final_record.nmi)
        .collect();
    let mean = (nmis[0] + nmis[1]) / 2.0;
    let std = ((nmis[0] - mean).powi(2) + (nmis[1] - mean).powi(2)).sqrt();
    let cell = format!("| 0 % | 2/2 | {mean:.3} ± {std:.3} | 0.397 |");
    assert!(md.contains(&cell), "missing `{cell}` in\n{md}");
    let s5 = summary(&out.join(&runs[3].rel_dir)).final_record;
    assert!(
        md.contains(&format!("| 5% | 1/1 | {:.3} |", s5.nmi)),
        "{md}"
    );
    // The overview table of every condition carries the same numbers.
    assert!(
        md.contains("\n| study | condition | runs | NMI | ARI | ACC |"),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "| sparsity | 5% | 1/1 | {:.3} | {:.3} | {:.3} |",
            s5.nmi, s5.ari, s5.acc
        )),
        "{md}"
    );
    // Test-split NMI, ARI and ACC (nearest final centroid) sit beside the training numbers.
    let t = s5
        .test
        .as_ref()
        .expect("the smoke runs evaluate the test split");
    assert!(md.contains("| test NMI | test ARI | test ACC |"), "{md}");
    assert!(
        md.contains(&format!("| {:.3} | {:.3} | {:.3} |", t.nmi, t.ari, t.acc)),
        "{md}"
    );
    assert!(md.contains("Comparison with the literature"), "{md}");
    for f in [
        "baseline-nmi",
        "sparsity-nmi",
        "tsne-baseline",
        "tsne-sparsity-5pct",
    ] {
        for ext in ["png", "svg"] {
            let p = out.join("figures").join(format!("{f}.{ext}"));
            assert!(
                p.is_file() && std::fs::metadata(&p).unwrap().len() > 1000,
                "{}",
                p.display()
            );
        }
        assert!(md.contains(&format!("figures/{f}.png")), "{md}");
    }
    let csv = std::fs::read_to_string(&rep.csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines.len(),
        1 + 4 * 3,
        "header + 4 runs × (2 epochs + final)"
    );
    assert!(lines[0].starts_with("study,condition,seed,run_dir"));
    let final_5 = lines
        .iter()
        .find(|l| l.starts_with("sparsity,5%,1,") && l.contains(",true,"))
        .unwrap();
    let nmi: f64 = final_5.split(',').nth(8).unwrap().parse().unwrap();
    assert_eq!(nmi, s5.nmi);

    // An exported folder (no arrays) keeps the t-SNE maps drawn before; without them, it is an
    // error naming the missing array.
    let png = out.join("figures/tsne-baseline.png");
    let drawn = std::fs::read(&png).unwrap();
    let emb = out.join(&runs[0].rel_dir).join("embedding-final.npy");
    let arrays = std::fs::read(&emb).unwrap();
    std::fs::remove_file(&emb).unwrap();
    let again = report(
        &out,
        &ReportOptions {
            tsne: true,
            tsne_points: 600,
        },
    )
    .unwrap();
    assert!(again.figures.contains(&png));
    assert_eq!(std::fs::read(&png).unwrap(), drawn);
    let md = std::fs::read_to_string(&again.report).unwrap();
    assert!(md.contains("figures/tsne-baseline.png"), "{md}");
    std::fs::remove_file(&png).unwrap();
    let e = report(
        &out,
        &ReportOptions {
            tsne: true,
            tsne_points: 600,
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("embedding-final.npy"), "{e}");
    std::fs::write(&emb, arrays).unwrap();

    // A finished run whose saved config no longer matches the plan is kept, and named.
    let cfg = out.join(&runs[0].rel_dir).join("config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let changed = runs[0].config.with_override("model.lr", "0.5").unwrap();
    std::fs::write(&cfg, changed.to_saved_toml("b")).unwrap();
    let dry = deepclust()
        .args(["experiment", "run", "smoke", "--dry-run", "--out"])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let dry = String::from_utf8(dry).unwrap();
    let line = dry
        .lines()
        .find(|l| l.contains(runs[0].rel_dir.to_str().unwrap()))
        .unwrap();
    assert!(
        line.contains("finished (saved config differs: model.lr)"),
        "{dry}"
    );
    assert_eq!(dry.matches("saved config differs").count(), 1, "{dry}");
    std::fs::write(&cfg, text).unwrap();
}

fn deepclust() -> Command {
    let mut c = Command::cargo_bin("deepclust").unwrap();
    c.env("DEEPCLUST_DATA", fixture_dir());
    c
}

#[test]
fn experiment_cli_lists_shows_and_rejects_bad_grids() {
    let out = deepclust()
        .args(["experiment", "show", "paper"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        ExperimentSpec::from_toml(&text, "shown").unwrap(),
        ExperimentSpec::preset("paper").unwrap()
    );
    deepclust()
        .args(["experiment", "list"])
        .assert()
        .success()
        .stdout(predicates::str::contains("paper").and(predicates::str::contains("28 runs")));

    let d = tempfile::tempdir().unwrap();
    let dry = deepclust()
        .args(["experiment", "run", "smoke", "--dry-run", "--out"])
        .arg(d.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let dry = String::from_utf8(dry).unwrap();
    assert!(
        dry.contains("4 runs") && dry.contains("sparsity/5pct/seed-1"),
        "{dry}"
    );
    assert!(dry.contains("pending"), "{dry}");

    let bad = d.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\n[[study]]\nname = \"s\"\ngrid = { \"labels.nosie\" = [0.1] }\n",
    )
    .unwrap();
    deepclust()
        .args(["experiment", "run", "--dry-run"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("did you mean `noise`"));
    std::fs::write(
        &bad,
        "name = \"bad\"\n[[study]]\nname = \"s\"\ngrid = { \"labels.noise\" = [1.5] }\n",
    )
    .unwrap();
    deepclust()
        .args(["experiment", "run", "--dry-run"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("noise"));
    deepclust()
        .args(["report"])
        .arg(d.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("experiment.toml is missing"));
}
