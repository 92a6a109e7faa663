//! A scanner over one JSON line: the top-level members one by one, nested
//! values skipped by counting brackets outside strings. It checks only what
//! it reads (the top-level shape, the strings and numbers it returns);
//! [`super::Line::parse`] runs a full JSON check first for input from
//! elsewhere.

use std::borrow::Cow;

use super::LineError;

fn err(msg: &str, at: usize) -> LineError {
    LineError::Json(format!("{msg} at byte {at}"))
}

/// A cursor over a line.
#[derive(Debug)]
pub struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(b: &'a [u8]) -> Cursor<'a> {
        Cursor { b, i: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    pub fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// Skips white space, then expects `c`.
    pub fn eat(&mut self, c: u8) -> Result<(), LineError> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(err(&format!("expected '{}'", c as char), self.i))
        }
    }

    /// Skips white space; whether the next byte is `c` (taken if so).
    pub fn take(&mut self, c: u8) -> bool {
        self.ws();
        let yes = self.peek() == Some(c);
        self.i += usize::from(yes);
        yes
    }

    pub fn at_end(&mut self) -> bool {
        self.ws();
        self.i >= self.b.len()
    }

    /// The end of the string starting at `self.i` (on its opening quote):
    /// the index of its closing quote, and whether it has escapes.
    fn string_end(&self) -> Result<(usize, bool), LineError> {
        let mut j = self.i + 1;
        let mut escaped = false;
        loop {
            let rest = self.b.get(j..).unwrap_or_default();
            match rest.iter().position(|c| matches!(c, b'"' | b'\\')) {
                None => return Err(err("unterminated string", self.i)),
                Some(k) if rest.get(k) == Some(&b'"') => return Ok((j + k, escaped)),
                Some(k) => {
                    escaped = true;
                    j += k + 2;
                }
            }
        }
    }

    /// A string, borrowed when it has no escapes.
    pub fn string(&mut self) -> Result<Cow<'a, str>, LineError> {
        self.ws();
        if self.peek() != Some(b'"') {
            return Err(err("expected a string", self.i));
        }
        let (end, escaped) = self.string_end()?;
        let start = self.i;
        self.i = end + 1;
        if escaped {
            let quoted = self.b.get(start..=end).unwrap_or_default();
            serde_json::from_slice::<String>(quoted).map(Cow::Owned).map_err(|e| err(&e.to_string(), start))
        } else {
            let inner = self.b.get(start + 1..end).unwrap_or_default();
            std::str::from_utf8(inner).map(Cow::Borrowed).map_err(|_| err("a string that is not UTF-8", start))
        }
    }

    /// An object key's bytes, unchecked (compared with known ASCII names
    /// only; a key with escapes matches none of them).
    pub fn key(&mut self) -> Result<&'a [u8], LineError> {
        self.ws();
        if self.peek() != Some(b'"') {
            return Err(err("expected a string", self.i));
        }
        let (end, _) = self.string_end()?;
        let inner = self.b.get(self.i + 1..end).unwrap_or_default();
        self.i = end + 1;
        Ok(inner)
    }

    /// A number's text (checked to look like a JSON number).
    pub fn number(&mut self) -> Result<&'a str, LineError> {
        self.ws();
        let start = self.i;
        let len = self
            .b
            .get(start..)
            .unwrap_or_default()
            .iter()
            .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .unwrap_or(self.b.len() - start);
        let text = self.b.get(start..start + len).unwrap_or_default();
        if !matches!(text.first(), Some(b'-' | b'0'..=b'9')) {
            return Err(err("expected a number", start));
        }
        self.i += len;
        // Only ASCII bytes were taken.
        std::str::from_utf8(text).map_err(|_| err("expected a number", start))
    }

    /// Whether the next value is a number.
    pub fn at_number(&mut self) -> bool {
        self.ws();
        matches!(self.peek(), Some(b'-' | b'0'..=b'9'))
    }

    /// Whether the next value is a string.
    pub fn at_string(&mut self) -> bool {
        self.ws();
        self.peek() == Some(b'"')
    }

    /// Skips one value of any kind.
    pub fn skip(&mut self) -> Result<(), LineError> {
        self.ws();
        match self.peek() {
            Some(b'"') => {
                self.i = self.string_end()?.0 + 1;
                Ok(())
            }
            Some(b'{' | b'[') => self.skip_nested(),
            Some(_) => {
                let start = self.i;
                let rest = self.b.get(start..).unwrap_or_default();
                let len = rest
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n'))
                    .unwrap_or(rest.len());
                if len == 0 {
                    return Err(err("expected a value", start));
                }
                self.i += len;
                Ok(())
            }
            None => Err(err("expected a value", self.i)),
        }
    }

    /// Skips an object or array: brackets counted outside strings. The
    /// strings inside are short: plain loops find their ends sooner than
    /// memchr calls would.
    fn skip_nested(&mut self) -> Result<(), LineError> {
        let start = self.i;
        let mut depth = 0usize;
        let mut i = start;
        loop {
            let rest = self.b.get(i..).unwrap_or_default();
            let Some(k) = rest.iter().position(|c| matches!(c, b'"' | b'{' | b'}' | b'[' | b']')) else {
                return Err(err("unterminated object or array", start));
            };
            i += k;
            match self.b.get(i) {
                Some(b'"') => {
                    i += 1;
                    loop {
                        let rest = self.b.get(i..).unwrap_or_default();
                        let Some(k) = rest.iter().position(|c| matches!(c, b'"' | b'\\')) else {
                            return Err(err("unterminated string", start));
                        };
                        i += k;
                        if self.b.get(i) == Some(&b'"') {
                            i += 1;
                            break;
                        }
                        i += 2;
                    }
                }
                Some(b'{' | b'[') => {
                    depth += 1;
                    i += 1;
                }
                _ => {
                    depth -= 1;
                    i += 1;
                    if depth == 0 {
                        self.i = i;
                        return Ok(());
                    }
                }
            }
        }
    }
}
