//! Embeds the demo's dialplan and prompts into the binary: writes `$OUT_DIR/demo_assets.rs`,
//! a list of `(relative path, include_bytes!(...))` for `dialplans/*.yaml` and
//! `sounds/**/*.wav`, which `src/config/demo_assets.rs` includes. Hand-written because it is
//! a directory walk of a few lines; no build dependency needed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(root: &Path, dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(root, &path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

fn list(name: &str, root: &Path, ext: &str, code: &mut String) {
    let mut found = Vec::new();
    files(root, root, ext, &mut found);
    writeln!(code, "pub(super) static {name}: &[(&str, &[u8])] = &[").unwrap();
    for rel in found {
        let rel_text = rel.to_string_lossy().replace('\\', "/");
        let abs = root.join(&rel);
        writeln!(
            code,
            "    ({rel_text:?}, include_bytes!({:?})),",
            abs.to_string_lossy()
        )
        .unwrap();
    }
    writeln!(code, "];").unwrap();
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let mut code = String::new();
    list("DIALPLANS", &manifest.join("dialplans"), "yaml", &mut code);
    list("SOUNDS", &manifest.join("sounds"), "wav", &mut code);
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("demo_assets.rs");
    std::fs::write(out, code).unwrap();
    println!("cargo:rerun-if-changed=dialplans");
    println!("cargo:rerun-if-changed=sounds");
    println!("cargo:rerun-if-changed=build.rs");
}
