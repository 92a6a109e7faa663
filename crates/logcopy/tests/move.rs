//! logcopy against a real second filesystem: a tmpfs mounted by the test
//! (needs root; skipped loudly where mounting is impossible, and a failure
//! under CI=true): the stick's mount point checked in the mount table, a
//! day with a plain and a gzip part merged, a day file a running han-log
//! holds left alone.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use han_testkit::mount::Mount;
use han_testkit::{in_ci, sibling, wait_until};
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_logcopy");
const NOW: &str = "2026-01-10T12:00:00+01:00";

/// A temp dir with `log` and `prices`; `usb` and `log` unmounted before it goes.
struct Tmp(han_testkit::Tmp);
impl Tmp {
    fn new(name: &str) -> Tmp {
        Tmp(han_testkit::Tmp::with_dirs("logcopy", name, &["log", "prices"]))
    }
    fn join(&self, s: &str) -> PathBuf {
        self.0.join(s)
    }
    fn arg(&self, s: &str) -> String {
        self.join(s).to_str().expect("path").to_owned()
    }
}
impl Drop for Tmp {
    fn drop(&mut self) {
        for m in ["usb", "log"] {
            Command::new("umount").arg("-l").arg(self.join(m)).stderr(Stdio::null()).status().ok();
        }
    }
}

/// A tmpfs on `tmp/DIR` (`usb`: the stick; `log`: a RAM disk for the logs).
fn tmpfs(tmp: &Tmp, dir: &str, size: &str) -> Option<Mount> {
    let m = Mount::tmpfs(&tmp.join(dir), size);
    assert!(m.is_some() || !in_ci(), "CI must be able to mount a tmpfs (root)");
    m
}

fn usb(tmp: &Tmp, size: &str) -> Option<Mount> {
    tmpfs(tmp, "usb", size)
}

/// A day's log of `lines` readings-like lines.
fn day(tmp: &Tmp, name: &str, lines: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..lines {
        writeln!(
            v,
            r#"{{"v":1,"received":"{name}T00:00:{:02}Z","protocol":"han","power_import_w":{i},"obis":{{}}}}"#,
            i % 60
        )
        .expect("line");
    }
    std::fs::write(tmp.join("log").join(name), &v).expect("written");
    v
}

/// Runs logcopy to `usb/meter`; the host's /etc/fstab left out (`--fstab`
/// names a file of the temp dir, absent unless a test writes it).
fn logcopy(tmp: &Tmp, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["--to", &tmp.arg("usb/meter"), "--logs", &tmp.arg("log"), "--prices", &tmp.arg("prices")])
        .args(["--tz", "Europe/Oslo", "--now", NOW, "--fstab", &tmp.arg("fstab")])
        .args(extra)
        .env_remove("HAN_TOOLS_CONFIG")
        .output()
        .expect("logcopy runs")
}

/// Gzip members, one for each part.
fn gzip(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(p).expect("gzip");
        out.extend(enc.finish().expect("gzip"));
    }
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn gunzip(p: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(std::fs::File::open(p).expect("gz")), &mut out)
        .expect("gunzip");
    out
}

#[test]
fn closed_days_move_verified_today_stays() {
    let tmp = Tmp::new("move");
    let Some(_m) = usb(&tmp, "64m") else { return };
    let d8 = day(&tmp, "2026-01-08.jsonl", 2000);
    let d9 = day(&tmp, "2026-01-09.jsonl", 3000);
    day(&tmp, "2026-01-10.jsonl", 10);
    std::fs::write(tmp.join("log/2026-01-09.csv"), "a,b\n1,2\n").expect("csv");
    std::fs::write(tmp.join("prices/2026-01-09.json"), "{}\n").expect("price");
    std::fs::write(tmp.join("prices/2026-01-11.json"), "{}\n").expect("tomorrow's price");
    // A dry run does nothing.
    let out = logcopy(&tmp, &["--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("(dry run, nothing done): 4 moved"), "{}", text(&out.stdout));
    assert_eq!(files(&tmp.join("log")).len(), 4);
    assert!(!tmp.join("usb/meter").exists());

    let out = logcopy(&tmp, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    assert_eq!(line.lines().count(), 1, "one line for cron: {line}");
    assert!(
        line.starts_with("logcopy: 4 moved, 0 copied and kept, 0 already there, 2 waiting, 0 clashes, 0 failed"),
        "{line}"
    );
    assert_eq!(files(&tmp.join("log")), ["2026-01-10.jsonl"], "today's file stays");
    assert_eq!(files(&tmp.join("prices")), ["2026-01-11.json"]);
    assert_eq!(files(&tmp.join("usb/meter/log")), ["2026-01-08.jsonl", "2026-01-09.csv", "2026-01-09.jsonl"]);
    assert_eq!(std::fs::read(tmp.join("usb/meter/log/2026-01-08.jsonl")).expect("copy"), d8);
    assert_eq!(
        Sha256::digest(std::fs::read(tmp.join("usb/meter/log/2026-01-09.jsonl")).expect("copy")),
        Sha256::digest(&d9)
    );
    assert_eq!(files(&tmp.join("usb/meter/prices")), ["2026-01-09.json"]);

    // --gzip and --keep-days: the next day, the 10th is copied, compressed, and kept.
    let out = Command::new(BIN)
        .args([
            "--to",
            tmp.join("usb/meter").to_str().expect("path"),
            "--logs",
            tmp.join("log").to_str().expect("path"),
        ])
        .args(["--prices", tmp.join("prices").to_str().expect("path"), "--tz", "Europe/Oslo"])
        .args(["--now", "2026-01-11T00:30:00+01:00", "--gzip", "--keep-days", "1"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("0 moved, 1 copied and kept"), "{}", text(&out.stdout));
    assert_eq!(files(&tmp.join("log")), ["2026-01-10.jsonl"]);
    let d10 = std::fs::read(tmp.join("log/2026-01-10.jsonl")).expect("kept");
    assert_eq!(gunzip(&tmp.join("usb/meter/log/2026-01-10.jsonl.gz")), d10);
}

#[test]
fn an_interrupted_copy_is_finished_by_the_next_run() {
    let tmp = Tmp::new("kill");
    let Some(_m) = usb(&tmp, "120m") else { return };
    // Big enough that compressing takes a while.
    let mut big = Vec::with_capacity(40 << 20);
    let mut x: u64 = 1;
    while big.len() < 40 << 20 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        writeln!(big, "{{\"v\":1,\"power_import_w\":{},\"n\":{x}}}", x >> 50).expect("line");
    }
    std::fs::write(tmp.join("log/2026-01-09.jsonl"), &big).expect("written");
    let mut child = Command::new(BIN)
        .args([
            "--to",
            tmp.join("usb/meter").to_str().expect("path"),
            "--logs",
            tmp.join("log").to_str().expect("path"),
        ])
        .args(["--tz", "Europe/Oslo", "--now", NOW, "--gzip"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("runs");
    let partial = tmp.join("usb/meter/log/.2026-01-09.jsonl.gz.logcopy-partial");
    let until = Instant::now() + Duration::from_secs(30);
    while !partial.exists() {
        assert!(Instant::now() < until, "no temporary file appeared");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(50));
    child.kill().expect("killed");
    child.wait().expect("reaped");
    // Killed mid-file: the source whole, no final file, the partial left.
    assert_eq!(std::fs::read(tmp.join("log/2026-01-09.jsonl")).expect("source"), big);
    assert!(!tmp.join("usb/meter/log/2026-01-09.jsonl.gz").exists(), "killed before the rename");
    assert!(partial.exists());
    let out = logcopy(&tmp, &["--gzip"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("logcopy: 1 moved"), "{}", text(&out.stdout));
    assert_eq!(gunzip(&tmp.join("usb/meter/log/2026-01-09.jsonl.gz")), big);
    assert_eq!(files(&tmp.join("usb/meter/log")), ["2026-01-09.jsonl.gz"], "no temporary file left");
    assert!(files(&tmp.join("log")).is_empty());
}

#[test]
fn a_name_clash_keeps_both_and_a_copy_already_there_finishes_the_move() {
    let tmp = Tmp::new("clash");
    let Some(_m) = usb(&tmp, "16m") else { return };
    let d8 = day(&tmp, "2026-01-08.jsonl", 100);
    let d9 = day(&tmp, "2026-01-09.jsonl", 100);
    std::fs::create_dir_all(tmp.join("usb/meter/log")).expect("target");
    std::fs::write(tmp.join("usb/meter/log/2026-01-08.jsonl"), b"other content\n").expect("clash");
    // The 9th is already there, identical: a run that stopped before removing.
    std::fs::write(tmp.join("usb/meter/log/2026-01-09.jsonl"), &d9).expect("same");
    let out = logcopy(&tmp, &[]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("2026-01-08.jsonl holds other content than"), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 moved, 0 copied and kept, 1 already there, 0 waiting, 1 clashes"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(std::fs::read(tmp.join("log/2026-01-08.jsonl")).expect("kept"), d8, "both kept");
    assert_eq!(std::fs::read(tmp.join("usb/meter/log/2026-01-08.jsonl")).expect("kept"), b"other content\n");
    assert!(!tmp.join("log/2026-01-09.jsonl").exists(), "the identical copy finished the move");
}

#[test]
fn a_target_too_small_or_not_mounted_is_refused() {
    let tmp = Tmp::new("refuse");
    // Not mounted, with the logs on the same filesystem: the mount point is a folder here.
    std::fs::create_dir_all(tmp.join("usb")).expect("mount point");
    day(&tmp, "2026-01-09.jsonl", 100);
    let out = logcopy(&tmp, &["--mount-point", &tmp.arg("usb")]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not on a stick of its own"), "{}", text(&out.stderr));
    assert!(files(&tmp.join("usb")).is_empty(), "nothing written to the empty mount point");
    assert!(tmp.join("log/2026-01-09.jsonl").exists());
    // Mounted but 2 MB, for 3 MB of logs.
    let Some(_m) = usb(&tmp, "2m") else { return };
    day(&tmp, "2026-01-07.jsonl", 20000);
    day(&tmp, "2026-01-08.jsonl", 20000);
    let out = logcopy(&tmp, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("are needed; nothing copied"), "{}", text(&out.stderr));
    assert_eq!(files(&tmp.join("log")).len(), 3, "every source kept");
    assert!(files(&tmp.join("usb")).is_empty());
}

#[test]
fn a_stick_not_mounted_is_refused_with_the_logs_on_a_ram_disk() {
    let tmp = Tmp::new("unmounted");
    let Some(_log) = tmpfs(&tmp, "log", "16m") else { return };
    let d8 = day(&tmp, "2026-01-08.jsonl", 100);
    // The stick's mount point: an empty folder of the temp dir, nothing mounted on it.
    std::fs::create_dir_all(tmp.join("usb")).expect("mount point");
    let usb = tmp.arg("usb");
    let untouched = |out: &Output| {
        assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("not on a stick of its own: is the stick plugged in and mounted?"));
        assert!(files(&tmp.join("usb")).is_empty(), "nothing made on the empty mount point");
        assert_eq!(std::fs::read(tmp.join("log/2026-01-08.jsonl")).expect("kept"), d8);
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    };
    // Nothing says where the stick goes: refused when the folder is on /
    // (the SD card), and its deepest folder named as the likely mount point.
    let temp_on_root =
        std::fs::metadata(tmp.join("usb")).expect("usb").dev() == std::fs::metadata("/").expect("/").dev();
    if temp_on_root {
        let out = logcopy(&tmp, &[]);
        untouched(&out);
        let err = text(&out.stderr);
        assert!(err.contains(&format!("{usb}/meter is on / (the root filesystem)")), "{err}");
        assert!(err.contains(&format!("its mount point is likely {usb}: say which with --mount-point {usb}")), "{err}");
        untouched(&logcopy(&tmp, &["--dry-run"]));
    } else {
        han_testkit::loud("the temp dir is not on /: the check without a known mount point is not tried here");
    }
    // --mount-point, mount_point in the config file, the fstab entry: each named.
    let out = logcopy(&tmp, &["--mount-point", &usb]);
    untouched(&out);
    assert!(text(&out.stderr).contains(&format!("expected a filesystem mounted at {usb} (--mount-point)")));
    std::fs::write(tmp.join("config.toml"), format!("[logcopy]\nmount_point = {usb:?}\n")).expect("config");
    let out = logcopy(&tmp, &["--config", &tmp.arg("config.toml")]);
    untouched(&out);
    assert!(text(&out.stderr).contains(&format!("expected a filesystem mounted at {usb} (mount_point in [logcopy])")));
    std::fs::write(
        tmp.join("fstab"),
        format!("# the Pi's\n/dev/mmcblk0p2 / ext4 defaults 0 1\n/dev/sda1 {usb} vfat nofail 0 0\n"),
    )
    .expect("fstab");
    let out = logcopy(&tmp, &[]);
    untouched(&out);
    let fstab = tmp.arg("fstab");
    assert!(text(&out.stderr).contains(&format!("expected a filesystem mounted at {usb} (its entry in {fstab})")));
    // A target that is not under the mount point given is bad usage.
    let out = logcopy(&tmp, &["--mount-point", &tmp.arg("elsewhere")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is not under the stick's mount point"), "{}", text(&out.stderr));

    // The stick mounted: taken with the fstab entry and with --mount-point.
    let Some(_m) = usb_mounted(&tmp) else { return };
    let out = logcopy(&tmp, &["--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // An fstab entry above the stick's mount (a data partition holding the
    // mount point): a filesystem mounted below it is still not the SD card.
    std::fs::write(tmp.join("fstab"), format!("/dev/sdz1 {} ext4 nofail 0 0\n", tmp.arg(""))).expect("fstab");
    let out = logcopy(&tmp, &["--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = logcopy(&tmp, &["--mount-point", &usb]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("logcopy: 1 moved"), "{}", text(&out.stdout));
    assert_eq!(std::fs::read(tmp.join("usb/meter/log/2026-01-08.jsonl")).expect("moved"), d8);
    assert!(files(&tmp.join("log")).is_empty());

    // A target on the logs' own RAM disk: refused as before.
    day(&tmp, "2026-01-09.jsonl", 10);
    let out = Command::new(BIN)
        .args(["--to", &tmp.arg("log/stick"), "--logs", &tmp.arg("log"), "--prices", &tmp.arg("prices")])
        .args(["--tz", "Europe/Oslo", "--now", NOW, "--fstab", &tmp.arg("none")])
        .env_remove("HAN_TOOLS_CONFIG")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is on the same filesystem as"), "{}", text(&out.stderr));
    assert_eq!(files(&tmp.join("log")), ["2026-01-09.jsonl"]);
}

fn usb_mounted(tmp: &Tmp) -> Option<Mount> {
    usb(tmp, "16m")
}

#[test]
fn a_day_with_a_plain_and_a_gzip_part_goes_as_one_gzip_file_in_order() {
    let tmp = Tmp::new("merge");
    let Some(_m) = usb(&tmp, "16m") else { return };
    let part = |hour: u32, n: u32| -> Vec<u8> {
        (0..n)
            .map(|i| reading(&format!("2026-01-08T{hour:02}:{:02}:{:02}Z", i / 60, i % 60), i) + "\n")
            .collect::<String>()
            .into_bytes()
    };
    // The 8th: compressed by han-log, then late readings in a new plain file.
    let (first, late) = (part(10, 300), part(22, 7));
    std::fs::write(tmp.join("log/2026-01-08.jsonl.gz"), gzip(&[&first])).expect("gz");
    std::fs::write(tmp.join("log/2026-01-08.jsonl"), &late).expect("plain");
    // The 9th: a merge stopped after writing the gzip file, before removing the plain one.
    let (a, b) = (part(11, 200), part(23, 20));
    std::fs::write(tmp.join("log/2026-01-09.jsonl.gz"), gzip(&[&a, &b])).expect("gz");
    std::fs::write(tmp.join("log/2026-01-09.jsonl"), &b).expect("plain");

    let out = logcopy(&tmp, &["--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plan = text(&out.stdout);
    let log = tmp.arg("log");
    assert!(plan.contains(&format!("merge {log}/2026-01-08.jsonl into {log}/2026-01-08.jsonl.gz")), "{plan}");
    assert!(plan.contains(&format!("move  {log}/2026-01-08.jsonl.gz -> ")), "{plan}");
    assert!(plan.contains("2 moved, 0 copied and kept, 0 already there, 0 waiting"), "{plan}");
    assert_eq!(files(&tmp.join("log")).len(), 4, "a dry run merges nothing");

    let out = logcopy(&tmp, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("logcopy: 2 moved, 0 copied and kept, 0 already there, 0 waiting"));
    assert!(
        text(&out.stderr).contains(&format!("{log}/2026-01-09.jsonl.gz already ended with {log}/2026-01-09.jsonl")),
        "{}",
        text(&out.stderr)
    );
    assert!(files(&tmp.join("log")).is_empty(), "{:?}", files(&tmp.join("log")));
    assert_eq!(files(&tmp.join("usb/meter/log")), ["2026-01-08.jsonl.gz", "2026-01-09.jsonl.gz"]);
    assert_eq!(gunzip(&tmp.join("usb/meter/log/2026-01-08.jsonl.gz")), [first, late].concat(), "both parts, in order");
    assert_eq!(gunzip(&tmp.join("usb/meter/log/2026-01-09.jsonl.gz")), [a, b].concat(), "no reading twice");
}

/// A stream line han-log stores by its meter clock.
fn reading(meter_time: &str, watts: u32) -> String {
    format!(
        r#"{{"v":1,"received":"{meter_time}","meter_time":"{meter_time}","protocol":"p1","framing":"dsmr","meter_id":"E0001","power_import_w":{watts}.0,"power_export_w":0.0,"obis":{{}}}}"#
    )
}

#[test]
fn a_day_file_a_running_han_log_holds_waits() {
    let tmp = Tmp::new("held");
    let Some(_m) = usb(&tmp, "16m") else { return };
    let log = tmp.join("log");
    // The 9th was compressed; a late reading for it comes to the running han-log.
    let early = reading("2026-01-09T08:00:00Z", 100) + "\n";
    std::fs::write(log.join("2026-01-09.jsonl.gz"), gzip(&[early.as_bytes()])).expect("gz");
    let mut han_log = Command::new(sibling("han-log"))
        .args(["--dir", &tmp.arg("log"), "--tz", "Europe/Oslo", "--sync-every", "1s"])
        .env_remove("HAN_TOOLS_CONFIG")
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("han-log starts");
    let mut input = han_log.stdin.take().expect("stdin");
    let late = [reading("2026-01-09T20:00:00Z", 200), reading("2026-01-09T20:00:10Z", 300)];
    writeln!(input, "{}", late[0]).expect("line");
    input.flush().expect("flushed");
    let plain = log.join("2026-01-09.jsonl");
    wait_until("han-log's line", Duration::from_secs(60), || {
        std::fs::read_to_string(&plain).ok().filter(|t| t.ends_with('\n')).map(drop)
    });

    let out = logcopy(&tmp, &["--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plan = text(&out.stdout);
    let dir = tmp.arg("log");
    assert!(plan.contains(&format!("wait  {dir}/2026-01-09.jsonl (han-log has it open)")), "{plan}");
    assert!(plan.contains(&format!("wait  {dir}/2026-01-09.jsonl.gz (its plain file is still open)")), "{plan}");
    let out = logcopy(&tmp, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("logcopy: 0 moved, 0 copied and kept, 0 already there, 2 waiting"));
    assert!(!tmp.join("usb/meter/log/2026-01-09.jsonl.gz").exists());

    // han-log goes on with the day, then ends (its files closed): the day goes, whole.
    writeln!(input, "{}", late[1]).expect("line");
    drop(input);
    assert!(han_log.wait().expect("han-log ends").success());
    let out = logcopy(&tmp, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("logcopy: 1 moved"), "{}", text(&out.stdout));
    let want = format!("{early}{}\n{}\n", late[0], late[1]);
    assert_eq!(text(&gunzip(&tmp.join("usb/meter/log/2026-01-09.jsonl.gz"))), want);
    assert_eq!(files(&log), [".han-log.lock"]);
}
