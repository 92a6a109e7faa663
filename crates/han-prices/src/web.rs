//! Answers that are web pages: a captive portal, a proxy's error page or a
//! maintenance page, served with HTTP 200 where a price or rate document
//! (XML or JSON) was expected. Told apart by how they start, and named by
//! their first words so the user sees what answered (an XML parser would
//! only say "XML with DTD detected", a JSON one "expected value").

use std::fmt;

/// A web page that came instead of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebPage {
    /// Its `<title>`, else the start of its text: one line, at most
    /// [`WORDS`] characters (and `...` when cut); empty when it has none.
    pub words: String,
}

/// How many characters of a page are shown.
pub const WORDS: usize = 80;

/// How much of a body is looked at: a page's title and first words are
/// near its start, and a huge answer is not scanned whole.
const LOOK: usize = 64 * 1024;

impl fmt::Display for WebPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.words.is_empty() {
            f.write_str("a web page without text")
        } else {
            write!(f, "a web page (\"{}\")", self.words)
        }
    }
}

/// The page, when `body` is HTML: it starts (after a byte-order mark,
/// white space, an XML declaration and comments) with `<!DOCTYPE html`
/// or an `<html>`, `<head>`, `<body>` or `<title>` tag.
pub fn page(body: &str) -> Option<WebPage> {
    let head = prefix(body, LOOK);
    let lower = head.to_ascii_lowercase();
    let start = lower.len() - skip_prolog(&lower).len();
    let rest = lower.get(start..)?;
    let html = rest.starts_with("<!doctype html") || ["html", "head", "body", "title"].iter().any(|t| opens(rest, t));
    if !html {
        return None;
    }
    let words = title(head, &lower).filter(|t| !t.is_empty()).unwrap_or_else(|| one_line(&text(head, &lower)));
    Some(WebPage { words })
}

/// At most `n` bytes of `s`, cut on a character boundary.
fn prefix(s: &str, n: usize) -> &str {
    let mut end = n.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// `s` after what may come before the first element.
fn skip_prolog(mut s: &str) -> &str {
    loop {
        s = s.trim_start_matches(|c: char| c == '\u{feff}' || c.is_whitespace());
        let end = if s.starts_with("<?") {
            s.find("?>").map(|i| i + 2)
        } else if s.starts_with("<!--") {
            s.find("-->").map(|i| i + 3)
        } else {
            return s;
        };
        match end.and_then(|e| s.get(e..)) {
            Some(after) => s = after,
            None => return "",
        }
    }
}

/// Whether `s` (lower case) starts with the opening tag `<name`.
fn opens(s: &str, name: &str) -> bool {
    s.strip_prefix('<')
        .and_then(|r| r.strip_prefix(name))
        .is_some_and(|r| r.starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace()))
}

/// The text of the first `<title>`, on one line. `lower` is `head` in
/// ASCII lower case: the same byte positions.
fn title(head: &str, lower: &str) -> Option<String> {
    let mut from = 0;
    loop {
        let at = from + lower.get(from..)?.find("<title")?;
        let after = lower.get(at..)?;
        if !opens(after, "title") {
            from = at + 1;
            continue;
        }
        let open_end = at + after.find('>')? + 1;
        let close = open_end + lower.get(open_end..)?.find("</title").unwrap_or(lower.len() - open_end);
        return Some(one_line(&decode(head.get(open_end..close)?)));
    }
}

/// The page's text: tags, comments, scripts and styles left out.
fn text(head: &str, lower: &str) -> String {
    let mut out = String::new();
    // Characters of text so far: enough once past what is shown.
    let mut seen = 0;
    let mut i = 0;
    while i < head.len() && seen <= WORDS {
        let Some(rest) = lower.get(i..) else { break };
        let Some(lt) = rest.find('<') else {
            out.push_str(&decode(head.get(i..).unwrap_or_default()));
            break;
        };
        let piece = decode(head.get(i..i + lt).unwrap_or_default());
        seen += piece.chars().filter(|c| !c.is_whitespace()).count();
        out.push_str(&piece);
        out.push(' ');
        let tag = rest.get(lt..).unwrap_or_default();
        // What ends this tag, or the element whose content is no text.
        let end = if tag.starts_with("<!--") {
            tag.find("-->").map(|e| e + 3)
        } else if opens(tag, "script") || opens(tag, "style") {
            let name = if opens(tag, "script") { "</script" } else { "</style" };
            tag.find(name).and_then(|c| tag.get(c..)?.find('>').map(|e| c + e + 1))
        } else {
            tag.find('>').map(|e| e + 1)
        };
        match end {
            Some(e) => i += lt + e,
            None => break,
        }
    }
    out
}

/// The usual character references (the named ones of error and portal
/// pages, and numbers); others are left as they are.
fn decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp + 1..).unwrap_or_default();
        let entity = after.find(';').filter(|&n| n <= 10).and_then(|n| Some((after.get(..n)?, n)));
        let ch = entity.and_then(|(name, _)| match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            "ndash" => Some('\u{2013}'),
            "mdash" => Some('\u{2014}'),
            "hellip" => Some('\u{2026}'),
            "lsquo" => Some('\u{2018}'),
            "rsquo" => Some('\u{2019}'),
            "ldquo" => Some('\u{201c}'),
            "rdquo" => Some('\u{201d}'),
            "laquo" => Some('\u{ab}'),
            "raquo" => Some('\u{bb}'),
            "copy" => Some('\u{a9}'),
            _ => {
                let num = name.strip_prefix('#')?;
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => num.parse().ok()?,
                };
                char::from_u32(code)
            }
        });
        match (ch, entity) {
            (Some(c), Some((_, n))) => {
                out.push(c);
                rest = after.get(n + 1..).unwrap_or_default();
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One line of at most [`WORDS`] characters: controls (line ends too) and
/// the marks that reorder a terminal's text become spaces, runs of space
/// one, and a longer text is cut with `...`.
fn one_line(s: &str) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() || is_bidi(c) { ' ' } else { c }).collect();
    let words = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.chars().count() <= WORDS {
        return words;
    }
    let mut cut: String = words.chars().take(WORDS).collect();
    cut.truncate(cut.trim_end().len());
    cut.push_str("...");
    cut
}

/// Unicode's bidirectional formatting characters.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(body: &str) -> Option<String> {
        page(body).map(|p| p.words)
    }

    #[test]
    fn a_page_is_named_by_its_title() {
        let portal = "\u{feff}<!DOCTYPE html>\n<html lang=\"no\"><head><meta charset=\"utf-8\">\n<title>\n  Hotel Fjordgl\u{f8}tt &ndash;\r\n WiFi &amp; login\t</title></head><body><p>Log in</p></body></html>";
        assert_eq!(words(portal).as_deref(), Some("Hotel Fjordgl\u{f8}tt \u{2013} WiFi & login"));
        assert_eq!(
            page(portal).map(|p| p.to_string()).as_deref(),
            Some("a web page (\"Hotel Fjordgl\u{f8}tt \u{2013} WiFi & login\")")
        );
        // XHTML: an XML declaration and a comment before it; a title with attributes.
        let xhtml = "<?xml version=\"1.0\"?>\n<!-- proxy -->\n<HTML xmlns=\"http://www.w3.org/1999/xhtml\"><HEAD><TITLE id=\"t\">502 &#x2013; Bad&#32;Gateway</TITLE></HEAD></HTML>";
        assert_eq!(words(xhtml).as_deref(), Some("502 \u{2013} Bad Gateway"));
    }

    #[test]
    fn without_a_title_the_first_words_of_its_text_on_one_line() {
        let body = format!(
            "<html><head><style>p {{ color: red }}</style><script>var x = '<b>';</script></head><body><!-- nothing -->\n<h1>Maintenance</h1>\n<p>We are upgrading our systems.\r\nBack soon &mdash; {}</p></body></html>",
            "really ".repeat(30)
        );
        let w = words(&body).expect("a page");
        assert!(w.starts_with("Maintenance We are upgrading our systems. Back soon \u{2014} really really"), "{w}");
        assert!(w.ends_with("...") && w.chars().count() <= WORDS + 3, "{w}");
        assert!(!w.contains('\n') && !w.contains('\r') && !w.contains("color") && !w.contains("var"), "{w}");
        assert_eq!(words("<title></title><body>\u{202e}evil\u{7}\n</body>").as_deref(), Some("evil"));
        assert_eq!(
            page("<!doctype html><html></html>").map(|p| p.to_string()).as_deref(),
            Some("a web page without text")
        );
        // One word longer than the line is cut too.
        assert_eq!(words(&format!("<body>{}</body>", "x".repeat(200))), Some(format!("{}...", "x".repeat(WORDS))));
    }

    #[test]
    fn documents_are_not_pages() {
        for body in [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Publication_MarketDocument xmlns=\"urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3\"></Publication_MarketDocument>",
            "<gesmes:Envelope><Cube/></gesmes:Envelope>",
            "<htmlish/>",
            "[{\"EUR_per_kWh\": 0.1}]",
            "{\"records\": []}",
            "not xml",
            "",
            "<!-- unterminated",
        ] {
            assert_eq!(page(body), None, "{body}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_page_gives_one_short_line(text in "(?s).{0,300}", title in proptest::bool::ANY) {
            let body = if title { format!("<html><title>{text}</title>") } else { format!("<html><body>{text}") };
            let w = words(&body).expect("a page");
            proptest::prop_assert!(w.chars().count() <= WORDS + 3, "{w}");
            proptest::prop_assert!(!w.chars().any(|c| c.is_control() || is_bidi(c)), "{w:?}");
        }
    }

    #[test]
    fn any_cut_is_safe() {
        let body = "<html><title>Å &#xD800; &#99999999; &amp</title><body>ø<b>æ</b>";
        for n in 0..=body.len() {
            if let Some(s) = body.get(..n) {
                let _ = page(s);
            }
        }
        assert_eq!(words(body).as_deref(), Some("Å &#xD800; &#99999999; &amp"));
    }
}
