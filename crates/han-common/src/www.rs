//! The www folder: text made safe for HTML, and files written into the
//! folder atomically (a page never shows half a file).

use std::io;
use std::path::Path;

/// Text for HTML, in elements and in quoted attributes.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Writes `www/relative` atomically, making its folders first.
pub fn write(www: &Path, relative: &str, bytes: &[u8]) -> io::Result<()> {
    let path = www.join(relative);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::atomic::write_atomic(&path, bytes)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(super::esc(r#"<a href="x">&</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
    }
}
