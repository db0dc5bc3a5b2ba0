//! The layers point one way: each top-level module imports only modules of a lower layer, so
//! there is no cycle and no layer reaches up. A module that is not in `LAYERS` fails the test
//! until it is given a place.

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module and its layer: a module may import only modules of lower layers.
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("config", 0),
    ("ingest", 1),
    ("analytics", 1),
    ("charts", 1),
    ("store", 2),
    ("auth", 3),
    ("conformance", 3),
    ("figures", 3),
    ("submit", 3),
    ("publish", 3),
    ("export", 4),
    ("demo", 4),
    ("web", 5),
    ("app", 6),
    ("bench", 6),
    ("cli", 7),
];

/// The top-level modules named by `crate::…` paths in `code` (test modules left out).
fn imports(code: &str) -> Vec<String> {
    let code = code.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a::b, c};`
            let group = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(group.split(',').filter_map(|p| p.trim().split("::").next()).map(str::to_string));
        } else {
            out.push(rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect());
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layers: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut paths = Vec::new();
    files(&src, &mut paths);
    let mut problems = Vec::new();
    for path in paths {
        let relative = path.strip_prefix(&src).unwrap();
        let top =
            relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let Some(&layer) = layers.get(top.as_str()) else {
            problems.push(format!("{top} has no layer in LAYERS"));
            continue;
        };
        for module in imports(&std::fs::read_to_string(&path).unwrap()) {
            match layers.get(module.as_str()) {
                _ if module == top => {}
                Some(&below) if below < layer => {}
                Some(_) => problems.push(format!("{} imports {module}, which is not below {top}", relative.display())),
                None => problems.push(format!("{} imports {module}, which has no layer", relative.display())),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_import_reader_finds_single_and_grouped_paths() {
    let code = "use crate::domain::Quarter;\nuse crate::{store::Store, figures};\nfn f() { crate::web::x(); }\n#[cfg(test)]\nuse crate::cli;";
    assert_eq!(imports(code), vec!["domain", "store", "figures", "web"]);
}
