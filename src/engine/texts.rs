//! The check that every text a change set carries is short and printable, made while
//! serializing the operations to nowhere: a JSON formatter sees each string value (in
//! fragments and escapes) with the path to it, so no tree of the change set is built
//! (a million accounts would make gigabytes of it).

use std::io;

use serde_json::ser::{CharEscape, Formatter};

use super::AlignError;
use crate::align::{MAX_TEXT_CHARS, Op};

/// A step of the path to a value; the path is spelt out only for a refusal.
enum Step {
    Index(Option<usize>),
    Key(String),
}

/// Follows the serializer through the operations, keeping the path and the string
/// being written, and stops at the first text refused.
#[derive(Default)]
struct TextCheck {
    path: Vec<Step>,
    in_key: bool,
    chars: usize,
    control: Option<char>,
    refusal: Option<String>,
}

impl TextCheck {
    fn spelt(&self) -> String {
        self.path
            .iter()
            .map(|step| match step {
                Step::Index(i) => format!("[{}]", i.unwrap_or(0)),
                Step::Key(k) => format!(".{k}"),
            })
            .collect()
    }

    /// Takes in a piece of the string being written: a key's goes into the path, a
    /// value's is counted and searched for control characters.
    fn text(&mut self, piece: &str) {
        if self.in_key {
            if let Some(Step::Key(k)) = self.path.last_mut() {
                k.push_str(piece);
            }
            return;
        }
        self.chars += piece.chars().count();
        if self.control.is_none() {
            self.control = piece.chars().find(|c| c.is_control());
        }
    }

    fn stop(&mut self, why: String) -> io::Error {
        self.refusal = Some(format!("changes{}: {why}", self.spelt()));
        io::Error::other("text refused")
    }
}

impl Formatter for &mut TextCheck {
    fn begin_array<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.path.push(Step::Index(None));
        Ok(())
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.path.pop();
        Ok(())
    }
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, _: &mut W, _: bool) -> io::Result<()> {
        if let Some(Step::Index(i)) = self.path.last_mut() {
            *i = Some(i.map_or(0, |i| i + 1));
        }
        Ok(())
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.path.push(Step::Key(String::new()));
        Ok(())
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.path.pop();
        Ok(())
    }
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, _: &mut W, _: bool) -> io::Result<()> {
        if let Some(Step::Key(k)) = self.path.last_mut() {
            k.clear();
        }
        self.in_key = true;
        Ok(())
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.in_key = false;
        Ok(())
    }
    fn begin_string<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.chars = 0;
        self.control = None;
        Ok(())
    }
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, _: &mut W, fragment: &str) -> io::Result<()> {
        self.text(fragment);
        Ok(())
    }
    fn write_char_escape<W: ?Sized + io::Write>(&mut self, _: &mut W, escape: CharEscape) -> io::Result<()> {
        let c = match escape {
            CharEscape::Quote => '"',
            CharEscape::ReverseSolidus => '\\',
            CharEscape::Solidus => '/',
            CharEscape::Backspace => '\u{8}',
            CharEscape::FormFeed => '\u{c}',
            CharEscape::LineFeed => '\n',
            CharEscape::CarriageReturn => '\r',
            CharEscape::Tab => '\t',
            CharEscape::AsciiControl(byte) => char::from(byte),
        };
        self.text(c.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn end_string<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        if self.in_key {
            return Ok(());
        }
        if self.chars > MAX_TEXT_CHARS {
            let chars = self.chars;
            return Err(self.stop(format!("{chars} characters; at most {MAX_TEXT_CHARS}")));
        }
        if let Some(c) = self.control {
            return Err(self.stop(format!("holds the control character {c:?}")));
        }
        Ok(())
    }
}

/// Refuses operations carrying a code, unit id or name longer than [`MAX_TEXT_CHARS`]
/// or holding control characters (newlines, NUL, ANSI escapes), naming the field
/// (`changes[0].territory`).
pub(super) fn check_texts(ops: &[Op]) -> Result<(), AlignError> {
    let mut check = TextCheck::default();
    let mut serializer = serde_json::Serializer::with_formatter(io::sink(), &mut check);
    let written = serde::Serialize::serialize(ops, &mut serializer);
    match (check.refusal, written) {
        (Some(refusal), _) => Err(AlignError::Invalid(refusal)),
        (None, Err(e)) => Err(AlignError::Invalid(e.to_string())),
        (None, Ok(())) => Ok(()),
    }
}
