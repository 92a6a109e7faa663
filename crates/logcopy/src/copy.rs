//! One file to the target, safely: to a temporary name, fsync, read back
//! and compared (size and SHA-256; through gunzip when compressed on the
//! way), renamed, the directory fsynced; only then is the source removed.
//! An interrupted run leaves the source and at most a temporary file, which
//! the next run replaces.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// What became of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Copied and verified (and the source removed when moving).
    Done { bytes: u64 },
    /// The target already held the same content (an earlier run stopped
    /// before removing the source): nothing copied.
    AlreadyThere,
    /// The target holds other content under that name: both kept.
    Clash(PathBuf),
}

/// Size and SHA-256 of what a reader gives.
fn digest(mut r: impl Read) -> io::Result<(u64, [u8; 32])> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(buf.get(..k).unwrap_or_default());
        n += k as u64;
    }
    Ok((n, h.finalize().into()))
}

/// The content of a file, through gunzip when `gunzip`.
fn content(path: &Path, gunzip: bool) -> io::Result<(u64, [u8; 32])> {
    let f = BufReader::new(File::open(path)?);
    if gunzip { digest(flate2::read::MultiGzDecoder::new(f)) } else { digest(f) }
}

/// The name a file has on the target.
pub fn target_name(name: &str, gzip: bool) -> String {
    if gzip && !name.ends_with(".gz") { format!("{name}.gz") } else { name.to_string() }
}

pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Copies `src` into `dir`; removes `src` afterwards when `remove`.
pub fn transfer(src: &Path, dir: &Path, gzip: bool, remove: bool) -> Result<Outcome> {
    let name = src.file_name().and_then(|n| n.to_str()).context("a file name")?;
    let compress = gzip && !name.ends_with(".gz");
    let target = dir.join(target_name(name, gzip));
    let want = content(src, false).with_context(|| format!("cannot read {}", src.display()))?;
    if target.exists() {
        let have = content(&target, compress).with_context(|| format!("cannot read {}", target.display()))?;
        if have != want {
            return Ok(Outcome::Clash(target));
        }
        if remove {
            remove_source(src)?;
        }
        return Ok(Outcome::AlreadyThere);
    }
    let temp = dir.join(format!(".{}.logcopy-partial", target_name(name, gzip)));
    // A temporary file is what an interrupted run left: start it again.
    let _ = std::fs::remove_file(&temp);
    let written = write_temp(src, &temp, compress);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    let got = content(&temp, compress).with_context(|| format!("cannot read back {}", temp.display()))?;
    if got != want {
        let _ = std::fs::remove_file(&temp);
        bail!(
            "{} read back differs from {} ({} bytes, not {}): the target may be failing",
            temp.display(),
            src.display(),
            got.0,
            want.0
        );
    }
    std::fs::rename(&temp, &target)
        .with_context(|| format!("cannot rename {} to {}", temp.display(), target.display()))?;
    sync_dir(dir).with_context(|| format!("cannot sync {}", dir.display()))?;
    if remove {
        remove_source(src)?;
    }
    Ok(Outcome::Done { bytes: want.0 })
}

fn write_temp(src: &Path, temp: &Path, compress: bool) -> Result<()> {
    let mut input = BufReader::new(File::open(src).with_context(|| format!("cannot read {}", src.display()))?);
    let out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .with_context(|| format!("cannot create {}", temp.display()))?;
    let what = || format!("cannot write {}", temp.display());
    let file = if compress {
        let mut gz = flate2::write::GzEncoder::new(BufWriter::new(out), flate2::Compression::default());
        io::copy(&mut input, &mut gz).with_context(what)?;
        gz.finish().with_context(what)?.into_inner().map_err(|e| e.into_error()).with_context(what)?
    } else {
        let mut w = BufWriter::new(out);
        io::copy(&mut input, &mut w).with_context(what)?;
        w.flush().with_context(what)?;
        w.into_inner().map_err(|e| e.into_error()).with_context(what)?
    };
    file.sync_all().with_context(what)
}

fn remove_source(src: &Path) -> Result<()> {
    std::fs::remove_file(src).with_context(|| format!("copied, but cannot remove {}", src.display()))?;
    if let Some(dir) = src.parent() {
        sync_dir(dir).with_context(|| format!("cannot sync {}", dir.display()))?;
    }
    Ok(())
}
