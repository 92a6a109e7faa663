use super::*;

#[test]
fn builtin_files_parse() {
    for (name, text) in builtin_files() {
        let p = parse::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!p.is_empty(), "{name}: no profile");
    }
    assert!(builtin().len() >= 10);
}
