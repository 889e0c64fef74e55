//! Builds the browser app so the server binary can embed it: compiles the
//! `frontend` crate to WASM, then generates its JS glue with wasm-bindgen.
//! Every text file it serves is also brotli-compressed here, once.
//!
//! Set `DASHBOARD_SKIP_WASM=1` to skip this (for `cargo check`/`clippy`
//! loops); the server then serves a page that says the app was not built.

use std::env;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "build/source.rs"]
mod source;

fn main() {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest
        .parent()
        .expect("the server crate sits in the workspace")
        .to_path_buf();
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let pkg = out.join("pkg");
    std::fs::create_dir_all(&pkg).expect("cannot create the package directory");

    // `assets` is embedded by rust-embed, which cannot see files added later:
    // a change there must recompile the server.
    for watched in [
        "assets",
        "frontend/src",
        "frontend/Cargo.toml",
        "shared/src",
        "shared/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=DASHBOARD_SKIP_WASM");
    println!("cargo:rustc-check-cfg=cfg(frontend_skipped)");

    compress_assets(&root.join("assets"), &out.join("assets-br"));
    // The engines' source for the code pane, whether or not the app is built.
    println!(
        "cargo:rerun-if-changed={}",
        root.join("server/src/engines").display()
    );
    source::write(&root, &out);

    if env::var_os("DASHBOARD_SKIP_WASM").is_some() {
        write_placeholder(&pkg);
        println!("cargo:rustc-cfg=frontend_skipped");
        return;
    }
    let wasm = build_frontend(&root);
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)
        .expect("wasm-bindgen accepts the web target")
        .omit_default_module_path(false)
        // Function names only help a debugger; every browser tab downloads them.
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&pkg)
        .unwrap_or_else(|e| panic!("wasm-bindgen failed on {}: {e:#}", wasm.display()));
    for file in ["frontend_bg.wasm", "frontend.js"] {
        compress(&pkg.join(file));
    }
}

/// Writes `<file>.br` beside `file`, at brotli's best quality: too slow to do
/// per request, cheap to do once per build.
fn compress(file: &Path) {
    let mut name = file.as_os_str().to_owned();
    name.push(".br");
    compress_into(file, Path::new(&name));
}

/// Writes `<name>.br` into `out` for every text file in `assets`, which the
/// server embeds beside the originals.
fn compress_assets(assets: &Path, out: &Path) {
    std::fs::create_dir_all(out).expect("cannot create the compressed assets directory");
    let entries = std::fs::read_dir(assets)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", assets.display()));
    for entry in entries {
        let path = entry.expect("a readable directory entry").path();
        let text = path
            .extension()
            .is_some_and(|ext| ["css", "html", "js", "svg"].iter().any(|t| ext == *t));
        if text && let Some(name) = path.file_name() {
            let mut br = name.to_owned();
            br.push(".br");
            compress_into(&path, &out.join(br));
        }
    }
}

fn compress_into(file: &Path, to: &Path) {
    let input =
        std::fs::read(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let mut output = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut output, 64 * 1024, 11, 22);
        writer
            .write_all(&input)
            .expect("compressing into memory cannot fail");
    }
    std::fs::write(to, output).unwrap_or_else(|e| panic!("cannot write {}: {e}", to.display()));
}

/// Compiles the frontend for the browser and returns the `.wasm` path.
fn build_frontend(root: &Path) -> PathBuf {
    // Its own target directory: the outer build holds a lock on the shared one.
    let target_dir = root.join("target").join("frontend");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(cargo);
    build
        .current_dir(root)
        .args([
            "build",
            "-p",
            "frontend",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's settings are for the host, not for the browser build.
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        build.env_remove(var);
    }
    let status = build.status().expect("cannot run cargo for the frontend");
    assert!(
        status.success(),
        "building the frontend failed (is the target installed? `rustup target add wasm32-unknown-unknown`)"
    );
    target_dir
        .join("wasm32-unknown-unknown")
        .join("wasm-release")
        .join("frontend.wasm")
}

fn write_placeholder(pkg: &Path) {
    let js = "document.body.textContent = 'This server was built with DASHBOARD_SKIP_WASM: the browser app is not included.';\nexport default function init() {}\n";
    std::fs::write(pkg.join("frontend.js"), js).expect("cannot write the placeholder");
}
