//! Builds the browser app so the server binary can embed it: compiles the
//! `frontend` crate to WASM, then generates its JS glue with wasm-bindgen.
//! Every text file it serves is also brotli-compressed here, once.
//!
//! Set `DASHBOARD_SKIP_WASM=1` to skip this (for `cargo check`/`clippy`
//! loops); the server then serves a page that says the app was not built.

use std::collections::HashMap;
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
    // Module names follow the split: a file of an earlier build must not linger.
    if pkg.exists() {
        std::fs::remove_dir_all(&pkg).expect("cannot clear the package directory");
    }
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
        write_manifest(&out, &HashMap::new());
        println!("cargo:rustc-cfg=frontend_skipped");
        return;
    }
    let wasm = build_frontend(&root);
    let main = split(&wasm, &pkg, &out);
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&main)
        .out_name("frontend")
        .web(true)
        .expect("wasm-bindgen accepts the web target")
        .omit_default_module_path(false)
        // The split modules link against the main module's own exports.
        .keep_lld_exports(true)
        // Function names only help a debugger; every browser tab downloads them.
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&pkg)
        .unwrap_or_else(|e| panic!("wasm-bindgen failed on {}: {e:#}", main.display()));
    let entries =
        std::fs::read_dir(&pkg).unwrap_or_else(|e| panic!("cannot list {}: {e}", pkg.display()));
    for entry in entries {
        let path = entry.expect("a readable directory entry").path();
        if path
            .extension()
            .is_some_and(|ext| ext == "wasm" || ext == "js")
        {
            compress(&path);
        }
    }
}

/// Cuts the app into the main module and one module per family's views
/// (the `#[lazy]` functions), which the page fetches when first shown.
/// Writes the family modules and their loader into `pkg`, and returns the
/// main module, still to be bound by wasm-bindgen.
fn split(wasm: &Path, pkg: &Path, out: &Path) -> PathBuf {
    let input =
        std::fs::read(wasm).unwrap_or_else(|e| panic!("cannot read {}: {e}", wasm.display()));
    let main = wasm.with_file_name("frontend_main.wasm");
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = pkg;
    options.main_out_path = &main;
    options.main_module = "./frontend.js";
    let split = wasm_split_cli_support::transform(options)
        .unwrap_or_else(|e| panic!("splitting {} failed: {e:#}", wasm.display()));
    // wasm-bindgen compacts the main module; the others are compacted here.
    for module in &split.split_modules {
        compact(module);
    }
    write_manifest(out, &split.prefetch_map);
    main
}

/// Writes `split_modules.rs`: for each split point (`page_views`,
/// `flow_views`, ...), the files a browser fetches to run it, so the page
/// can ask for them beside the main module.
fn write_manifest(out: &Path, modules: &HashMap<String, Vec<String>>) {
    let mut splits: Vec<_> = modules.iter().collect();
    splits.sort();
    let mut rust = String::from(
        "/// Each split point's module files under `/pkg/`, without `.wasm`.\n\
         pub const SPLIT_MODULES: &[(&str, &[&str])] = &[\n",
    );
    for (split, files) in splits {
        rust.push_str(&format!("    ({split:?}, &{files:?}),\n"));
    }
    rust.push_str("];\n");
    std::fs::write(out.join("split_modules.rs"), rust)
        .expect("cannot write the split modules' manifest");
}

/// Rewrites the module at `path` compactly (the splitter keeps the linker's
/// padded indices) and without custom sections (function names): a browser
/// runs it the same, and downloads less.
fn compact(path: &Path) {
    let mut module = walrus::ModuleConfig::new()
        .generate_name_section(false)
        .generate_producers_section(false)
        .parse_file(path)
        .unwrap_or_else(|e| panic!("{} is not valid wasm: {e:#}", path.display()));
    let customs: Vec<_> = module.customs.iter().map(|(id, _)| id).collect();
    for id in customs {
        module.customs.delete(id);
    }
    std::fs::write(path, module.emit_wasm())
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
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
    // Relocations tell the splitter which code and data each function uses.
    build.env("CARGO_ENCODED_RUSTFLAGS", "-Clink-arg=--emit-relocs");
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
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
