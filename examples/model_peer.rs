//! Speed of the model on synthetic MNIST-sized data, printed as one JSON object; the Rust half of
//! `bench/model_peer.sh`, which runs `bench/torch_peer.py` on the same workload.
//!
//! ```sh
//! cargo run --release --example model_peer -- --threads 2 --train 61440 --extract 60000 --repeat 3
//! ```
use deepclust::model::{self, Arch, Images, ModelConfig, Network};
use ndarray::Array3;
use rand::Rng;
use std::time::Instant;

struct Args {
    threads: usize,
    train: usize,
    extract: usize,
    batch: usize,
    eval_batch: usize,
    repeat: usize,
    arch: Arch,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        threads: 2,
        train: 61_440,
        extract: 60_000,
        batch: 256,
        eval_batch: 2048,
        repeat: 3,
        arch: Arch::Paper,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |s: String| s.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--threads" => a.threads = num(val()?)?,
            "--train" => a.train = num(val()?)?,
            "--extract" => a.extract = num(val()?)?,
            "--batch" => a.batch = num(val()?)?,
            "--eval-batch" => a.eval_batch = num(val()?)?,
            "--repeat" => a.repeat = num(val()?)?.max(1),
            "--arch" => {
                a.arch = match val()?.as_str() {
                    "paper" => Arch::Paper,
                    "wide" => Arch::Wide,
                    other => return Err(format!("--arch: expected paper or wide, found {other}")),
                }
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

/// Peak resident set size of this process in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU seconds used by this process so far, all threads (`/proc/self/stat` utime + stime). Under
/// a loaded machine this is a steadier measure than wall-clock time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0 // USER_HZ is 100 on Linux
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("model_peer: {e}");
            std::process::exit(2);
        }
    };
    model::set_threads(args.threads);
    let n = args.extract.max(1);
    let mut rng = deepclust::seed::rng(0, "bench/images");
    let raw = Array3::from_shape_simple_fn((n, 28, 28), || {
        if rng.random_bool(0.2) {
            rng.random::<u8>()
        } else {
            0
        }
    });
    let images = Images::from_u8(raw.view(), 0.1307, 0.3081).expect("images");
    let k = 10;
    let targets: Vec<usize> = (0..n).map(|_| rng.random_range(0..k)).collect();
    let order: Vec<usize> = (0..args.train).map(|_| rng.random_range(0..n)).collect();
    let cfg = ModelConfig {
        arch: args.arch,
        batch_size: args.batch,
        eval_batch_size: args.eval_batch,
        ..ModelConfig::default()
    };
    let mut net = Network::new(&cfg, k, 0).expect("network");
    // Warm-up: a few batches of training and one extraction batch.
    net.train_epoch(
        &images,
        &targets,
        &order[..(8 * args.batch).min(order.len())],
        0,
        None,
    )
    .expect("warm-up");
    let mut train_best = f64::INFINITY;
    let mut extract_best = f64::INFINITY;
    let (mut train_cpu, mut extract_cpu) = (f64::INFINITY, f64::INFINITY);
    let mut last_loss = 0.0;
    for r in 0..args.repeat {
        let (t, c) = (Instant::now(), cpu_seconds());
        let stats = net
            .train_epoch(&images, &targets, &order, r as u64 + 1, None)
            .expect("train");
        train_best = train_best.min(t.elapsed().as_secs_f64());
        train_cpu = train_cpu.min(cpu_seconds() - c);
        last_loss = stats.loss;
        let (t, c) = (Instant::now(), cpu_seconds());
        let f = net.features(&images, None).expect("features");
        extract_best = extract_best.min(t.elapsed().as_secs_f64());
        extract_cpu = extract_cpu.min(cpu_seconds() - c);
        assert_eq!(f.nrows(), n);
    }
    let json = serde_json::json!({
        "impl": "deepclust",
        "backend": model::backend(),
        "threads": model::threads(),
        "arch": format!("{:?}", args.arch).to_lowercase(),
        "n_params": net.n_params(),
        "train": {
            "images": args.train, "batch": args.batch, "seconds": train_best,
            "img_per_s": args.train as f64 / train_best, "loss": last_loss,
            "cpu_seconds": train_cpu,
        },
        "extract": {
            "images": n, "batch": args.eval_batch, "seconds": extract_best,
            "img_per_s": n as f64 / extract_best, "cpu_seconds": extract_cpu,
        },
        "peak_rss_mib": peak_rss_mib(),
    });
    println!("{json}");
}
