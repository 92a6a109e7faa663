//! Without a config file, or with no relay in it: `status` and `restore`
//! say so and touch nothing (no state folder, no lock), a command is
//! refused; each names the file read or looked for and the example. And
//! the help lists the `N on|off|toggle` form among the commands.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;

/// The default config file and the default state lock.
const DEFAULT_CONFIG: &str = "/etc/han-tools/config.toml";
const DEFAULT_LOCK: &str = "/var/lib/han-tools/state/relay.lock";

/// Runs relay with `args` and no `--config`: `$HAN_TOOLS_CONFIG` is
/// `config` (else unset), and HOME and the XDG folders are in `tmp` (not
/// made), so anything relay made there would show.
fn bare(tmp: &Tmp, config: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).env_remove("HAN_TOOLS_CONFIG").env("HOME", tmp.join("home"));
    for xdg in ["XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"] {
        c.env(xdg, tmp.join(&format!("xdg/{xdg}")));
    }
    if let Some(p) = config {
        c.env("HAN_TOOLS_CONFIG", p);
    }
    c.stdin(Stdio::null()).output().expect("relay runs")
}

/// Every file and folder under `dir`, relative, sorted.
fn walk(dir: &Path) -> Vec<String> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("readable").flatten() {
            let p = e.path();
            out.push(p.strip_prefix(root).expect("under root").display().to_string());
            if p.is_dir() {
                go(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    go(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn without_a_config_file_status_says_so_and_a_command_is_refused_touching_nothing() {
    if Path::new(DEFAULT_CONFIG).exists() {
        han_testkit::skip(&format!("{DEFAULT_CONFIG} exists here: the test needs a machine without it"));
        return;
    }
    let tmp = Tmp::new("relay", "no-config");
    let state = tmp.join("state").display().to_string();
    let lock_before = Path::new(DEFAULT_LOCK).exists();
    let looked_for = format!(
        "no relays configured: there is no config file {DEFAULT_CONFIG} (--config FILE or $HAN_TOOLS_CONFIG names another)"
    );

    let out = bare(&tmp, None, &["--state", &state, "status"]);
    assert_eq!(out.status.code(), Some(0), "status with nothing configured is no error");
    let said = text(&out.stderr);
    assert!(said.starts_with(&format!("relay: {looked_for}{EXAMPLE}")), "{said}");
    assert_eq!(text(&out.stdout), "", "no table: no relays");

    let out = bare(&tmp, None, &["--state", &state, "status", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v, serde_json::json!({ "relays": [] }));
    assert!(text(&out.stderr).contains(&looked_for), "{}", text(&out.stderr));

    for args in [&["1", "on"][..], &["2", "toggle", "--for", "1h"], &["watch"]] {
        let out = bare(&tmp, None, &[&["--state", &state][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let said = text(&out.stderr);
        assert_eq!(said, format!("relay: {looked_for}{EXAMPLE}\n"), "{args:?}");
        assert_eq!(text(&out.stdout), "");
    }

    let out = bare(&tmp, None, &["--state", &state, "restore"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains(&format!("nothing to restore: {looked_for}")), "{}", text(&out.stderr));

    // The default state folder too: no lock where there was none.
    for (args, code) in [(&["status"][..], 0), (&["1", "on"], 2)] {
        let out = bare(&tmp, None, args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out.stderr));
    }
    if !lock_before {
        assert!(!Path::new(DEFAULT_LOCK).exists(), "relay made {DEFAULT_LOCK}");
    }
    assert_eq!(walk(tmp.path()), Vec::<String>::new(), "nothing made: no state folder, no lock, nothing in HOME");
}

#[test]
fn a_named_config_missing_or_without_relays_is_named() {
    let tmp = Tmp::new("relay", "empty-config");
    let state = tmp.join("state").display().to_string();
    let file = tmp.join("etc/config.toml");

    // Named by the environment but not there: an error, whatever the command.
    for args in [&["status"][..], &["1", "on"]] {
        let out = bare(&tmp, Some(&file), &[&["--state", &state][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let said = text(&out.stderr);
        assert!(said.starts_with(&format!("relay: cannot read config file {}: ", file.display())), "{said}");
        assert!(said.ends_with(&format!("{EXAMPLE}\n")), "{said}");
    }
    assert_eq!(walk(tmp.path()), Vec::<String>::new());

    // There, with other tools' settings but no [relay.N]; its state folder is in tmp.
    std::fs::create_dir_all(tmp.join("etc")).expect("etc");
    let text_of = format!("[han-log]\ndir = \"/x\"\n\n[relay]\nbackend = \"sim\"\nstate = \"{state}\"\n");
    std::fs::write(&file, text_of).expect("config written");
    let in_file = format!("no relays configured in {}{EXAMPLE}\n", file.display());
    let out = bare(&tmp, Some(&file), &["status"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stderr), format!("relay: {in_file}"));
    assert_eq!(text(&out.stdout), "");
    // --config names it the same way.
    let out = bare(&tmp, None, &["--config", &file.display().to_string(), "1", "on"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), format!("relay: {in_file}"));
    let out = bare(&tmp, Some(&file), &["schedule", "1", "--cheapest", "4h", "--window", "22:00-07:00"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), format!("relay: {in_file}"));
    assert_eq!(walk(tmp.path()), ["etc", "etc/config.toml"], "no state folder, no lock");
}

#[test]
fn help_lists_the_switch_form_among_the_commands() {
    for flag in ["--help", "-h"] {
        let out = Command::new(BIN).arg(flag).output().expect("relay runs");
        assert!(out.status.success());
        let help = text(&out.stdout);
        let commands = help
            .split_once("\nCommands:\n")
            .and_then(|(_, rest)| rest.split_once("\nOptions:\n"))
            .map(|(c, _)| c)
            .unwrap_or_else(|| panic!("{flag}: no Commands then Options: {help}"));
        let names: Vec<&str> =
            commands.lines().filter(|l| l.starts_with("  ") && !l.starts_with("   ")).map(str::trim_start).collect();
        assert!(names[0].starts_with("N on|off|toggle [--for DURATION]"), "{flag}: {commands}");
        for c in ["status", "restore", "watch", "schedule"] {
            assert!(names.iter().any(|n| n.starts_with(&format!("{c} "))), "{flag}: {c} missing: {commands}");
        }
        assert!(help.contains("Usage: relay [OPTIONS] N on|off|toggle [--for DURATION]"), "{flag}: {help}");
    }
}
