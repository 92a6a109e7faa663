//! The layering rule of the crate docs, checked: outside tests, a module
//! imports only from the layers below its own (or from its own folder).

use std::path::Path;

/// The layer of a top-level module, lowest first.
fn layer(top: &str) -> Option<u8> {
    Some(match top {
        "error" | "reading" => 1,
        "dlms" => 2,
        "framing" => 3,
        "p1" => 4,
        "template" => 5,
        "stream" => 6,
        "encode" | "anonymise" => 7,
        "lib" | "layers" => 8,
        _ => return None,
    })
}

/// `(file, the module it names)` for every `crate::module` in the code of
/// the files under `dir` (tests and comments left out).
fn uses(dir: &Path, out: &mut Vec<(String, String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            uses(&path, out);
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap();
        if !name.ends_with(".rs") || name == "tests.rs" {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        let code = src.split("#[cfg(test)]").next().unwrap();
        let rel = path.strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/src")).unwrap();
        let top = rel.iter().next().unwrap().to_str().unwrap().trim_end_matches(".rs").to_owned();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let rest = &line[i + 7..];
                // `crate::{a, b::c}` names several.
                let names = match rest.strip_prefix('{') {
                    Some(group) => group.split('}').next().unwrap().split(',').map(str::trim).collect(),
                    None => vec![rest],
                };
                for name in names {
                    let used: String = name
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                        .collect();
                    out.push((rel.display().to_string(), top.clone(), used));
                }
            }
        }
    }
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    let mut all = Vec::new();
    uses(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")), &mut all);
    assert!(all.len() > 100, "the sources were read");
    let upward: Vec<_> = all
        .iter()
        .filter(|(_, top, used)| {
            top != used && matches!((layer(top), layer(used)), (Some(me), Some(it)) if it >= me && me < 8)
        })
        .collect();
    assert!(upward.is_empty(), "imports from a layer not below: {upward:?}");
}
