//! Human output: aligned tables that measure Chinese and Japanese text by
//! its display width (two columns per character), and stable JSON.

use std::io::Write;

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

/// A borderless table with upper-case headers, like `ls -l` or `kubectl get`.
pub fn table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.to_vec());
    t
}

/// A table as text, without the padding at line ends.
pub fn table_text(t: &Table) -> String {
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Writes finished output to standard output in one go. A reader that
/// went away (`tasklane list | head`) is not an error.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Pretty JSON on standard output.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    emit(&text)
}

/// Cuts text to at most `width` display columns, marking the cut with `…`.
pub fn clip(text: &str, width: usize) -> String {
    let text = text.replace(['\n', '\r', '\t'], " ");
    if text.width() <= width {
        return text;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// A stored time for people: instants in the local time zone to the
/// minute, plain dates as they are.
pub fn when(stored: Option<&str>) -> String {
    match stored {
        None => "-".into(),
        Some(text) => match tasklane_core::time::parse_ts(text) {
            Some(ts) if text.contains('T') => ts
                .to_zoned(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M")
                .to_string(),
            _ => text.to_string(),
        },
    }
}

/// "1 task", "2 tasks".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Text for an optional field.
pub fn or_dash(v: Option<&str>) -> &str {
    v.filter(|s| !s.is_empty()).unwrap_or("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_counts_wide_characters_twice() {
        assert_eq!(clip("審核通過的請款單", 9), "審核通過…");
        assert_eq!(clip("審核通過的請款單", 9).width(), 9);
        assert_eq!(clip("short", 9), "short");
        assert_eq!(clip("line\nbreak", 20), "line break");
    }
}
