//! Bakes libtorch's library folders into the binary's rpath so that `deepclust` runs without
//! `LD_LIBRARY_PATH`: `$LIBTORCH/lib`, plus the NVIDIA runtime folders that
//! `scripts/setup-libtorch.sh` unpacks beside it (`$LIBTORCH/../nvidia/*/lib`, needed by the PyPI
//! build of libtorch even on CPU). `DEEPCLUST_LIBTORCH_RPATH` (colon-separated) overrides. With the `cuda` feature, libtorch_cuda is linked explicitly
//! (the linker would drop it otherwise: tch-rs issue 980).
fn main() {
    println!("cargo:rerun-if-env-changed=DEEPCLUST_LIBTORCH_RPATH");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if std::env::var_os("CARGO_FEATURE_TORCH").is_none() {
        return;
    }
    let mut dirs: Vec<String> = Vec::new();
    if let Ok(r) = std::env::var("DEEPCLUST_LIBTORCH_RPATH") {
        dirs.extend(r.split(':').filter(|d| !d.is_empty()).map(String::from));
    } else if let Ok(libtorch) = std::env::var("LIBTORCH") {
        let root = std::path::Path::new(&libtorch);
        dirs.push(root.join("lib").display().to_string());
        if let Ok(entries) = std::fs::read_dir(root.join("../nvidia")) {
            let mut extra: Vec<String> = entries
                .flatten()
                .map(|e| e.path().join("lib"))
                .filter(|p| p.is_dir())
                .map(|p| p.display().to_string())
                .collect();
            extra.sort();
            dirs.extend(extra);
        }
    }
    for dir in dirs {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    if std::env::var_os("CARGO_FEATURE_CUDA").is_some() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
