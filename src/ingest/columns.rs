//! Reading a CSV submission's header and rows: columns in any order, names in any case,
//! a BOM and CRLF line ends accepted, bytes that are not UTF-8 reported by row and column.

use super::{Errors, RowError};
use std::io::Read;

/// The most columns a file may have: the widest format has eleven.
pub const MOST_COLUMNS: usize = 64;
/// The longest cell, in bytes (a comment or evidence of some 600 words).
pub const MOST_CELL_BYTES: usize = 4_000;
/// The longest row, in bytes, line breaks inside quoted cells included.
pub const MOST_ROW_BYTES: usize = 20_000;

/// Where each expected column sits in the file.
pub struct Columns {
    names: Vec<&'static str>,
    positions: Vec<Option<usize>>,
    width: usize,
}

impl Columns {
    /// Maps the header to `required` and `optional` columns, reporting missing, unknown and
    /// repeated ones.
    pub fn from_header(
        header: &csv::ByteRecord,
        required: &[&'static str],
        optional: &[&'static str],
    ) -> Result<Self, Errors> {
        let mut errors = Errors::new();
        if header.len() > MOST_COLUMNS {
            let message = format!(
                "the header row has {} columns; a file has at most {MOST_COLUMNS}: the columns are {}",
                header.len(),
                describe(required, optional)
            );
            return Err(RowError::new(1, "", message).into());
        }
        let names: Vec<&'static str> = required.iter().chain(optional).copied().collect();
        let mut positions = vec![None; names.len()];
        for (i, raw) in header.iter().enumerate() {
            let raw = if i == 0 { raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw) } else { raw };
            let Ok(text) = std::str::from_utf8(raw) else {
                errors.push(RowError::new(1, format!("#{}", i + 1), "the column name is not UTF-8 text"));
                continue;
            };
            let name = text.trim().to_ascii_lowercase();
            match names.iter().position(|n| *n == name) {
                Some(k) if positions[k].is_some() => {
                    errors.push(RowError::new(1, name, "this column appears more than once"));
                }
                Some(k) => positions[k] = Some(i),
                None if name.is_empty() => {
                    errors.push(RowError::new(1, format!("#{}", i + 1), "a column has no name"));
                }
                None => errors.push(RowError::new(
                    1,
                    name,
                    format!("unknown column: the columns are {}", describe(required, optional)),
                )),
            }
        }
        for (k, name) in required.iter().enumerate() {
            if positions[k].is_none() {
                errors.push(RowError::new(1, *name, "this required column is missing"));
            }
        }
        if errors.is_empty() { Ok(Self { names, positions, width: header.len() }) } else { Err(errors) }
    }

    /// The text of column `name` in `record`; `None` when the column is optional and absent.
    pub fn get<'r>(&self, record: &'r csv::ByteRecord, row: usize, name: &str, errors: &mut Errors) -> Option<&'r str> {
        let k = self.names.iter().position(|n| *n == name)?;
        let raw = record.get(self.positions[k]?)?;
        match std::str::from_utf8(raw) {
            Ok(text) => Some(text),
            Err(_) => {
                errors.push(RowError::new(row, name, "the cell is not UTF-8 text"));
                None
            }
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// The expected column at position `i` of the file, if any.
    fn name_at(&self, i: usize) -> Option<&'static str> {
        self.positions.iter().position(|p| *p == Some(i)).map(|k| self.names[k])
    }
}

/// Columns whose cells may hold line breaks (inside quotes); in any other a line break means a
/// quote was opened and not closed.
const FREE_TEXT: [&str; 5] = ["comment", "evidence", "assessor", "name", "description"];

/// The first cell of `record` outside the free-text columns that runs over a line break.
fn runaway_cell(columns: &Columns, record: &csv::ByteRecord) -> Option<&'static str> {
    // Almost every record has no line break at all: one search over its bytes says so.
    memchr::memchr(b'\n', record.as_slice())?;
    record.iter().enumerate().find_map(|(i, cell)| {
        let name = columns.name_at(i)?;
        (cell.contains(&b'\n') && !FREE_TEXT.contains(&name)).then_some(name)
    })
}

const NOT_CLOSED: &str = "a quoted field is not closed: add the closing quote (\") where the cell ends";

fn describe(required: &[&str], optional: &[&str]) -> String {
    let mut text = required.join(", ");
    if !optional.is_empty() {
        text.push_str(" and optionally ");
        text.push_str(&optional.join(", "));
    }
    text
}

/// Reads a CSV file row by row. Calls `each(row_number, record)` for every data row and returns
/// the file-level problems (empty file, header only, a row of the wrong width, broken quoting).
pub fn read_rows<R: Read>(
    input: R,
    required: &[&'static str],
    optional: &[&'static str],
    mut each: impl FnMut(&Columns, usize, &csv::ByteRecord, &mut Errors),
) -> Errors {
    let mut errors = Errors::new();
    let mut reader = csv::ReaderBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .has_headers(false)
        .flexible(true)
        .from_reader(LineEnds::new(input));
    let mut record = csv::ByteRecord::new();
    let header = match reader.read_byte_record(&mut record) {
        Ok(true) if !(record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace)) => record.clone(),
        Ok(_) => {
            errors.push(RowError::new(1, "", "the file is empty: expected a header row and data rows"));
            return errors;
        }
        Err(e) => {
            errors.push(unreadable(reader.get_ref(), 1, &e));
            return errors;
        }
    };
    let columns = match Columns::from_header(&header, required, optional) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let mut data_rows = 0usize;
    loop {
        let before = reader.position().line() as usize;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                // Every record ends with a consumed `\n` (see `LineEnds`), so it starts on the
                // line before the reader's, less the line feeds inside its quoted cells.
                let inside: usize = record.iter().map(|f| f.iter().filter(|b| **b == b'\n').count()).sum();
                let row = (reader.position().line() as usize).saturating_sub(1 + inside).max(1);
                if record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace) {
                    continue; // a blank line
                }
                data_rows += 1;
                if let Some(name) = runaway_cell(&columns, &record) {
                    // The record started where the reader stood before it.
                    errors.push(RowError::new(before.max(row.min(before)), name, NOT_CLOSED));
                    continue;
                }
                if let Some(error) = oversized(&columns, row, &record) {
                    errors.push(error);
                    continue;
                }
                if record.len() != columns.width() {
                    errors.push(RowError::new(
                        row,
                        "",
                        format!("this row has {} cells but the header has {}", record.len(), columns.width()),
                    ));
                    continue;
                }
                each(&columns, row, &record, &mut errors);
            }
            Err(e) => {
                let row = e.position().map_or(before, |p| p.line() as usize);
                errors.push(unreadable(reader.get_ref(), row, &e));
                break;
            }
        }
    }
    // A quote still open at the end of the file (in a free-text cell: the others are caught above).
    if let Some(line) = reader.get_ref().open_quote()
        && !errors.has_reason(NOT_CLOSED)
    {
        errors.push(RowError::new(line, "", NOT_CLOSED));
    }
    if data_rows == 0 && errors.is_empty() {
        errors.push(RowError::new(2, "", "the file has a header row but no data rows"));
    }
    errors
}

/// A row or cell over the limits (the reader has stopped a longer row before it is whole).
fn oversized(columns: &Columns, row: usize, record: &csv::ByteRecord) -> Option<RowError> {
    if record.as_slice().len() > MOST_ROW_BYTES {
        return Some(RowError::new(row, "", format!("this row is longer than {MOST_ROW_BYTES} bytes")));
    }
    let (i, _) = record.iter().enumerate().find(|(_, cell)| cell.len() > MOST_CELL_BYTES)?;
    let column = columns.name_at(i).map_or_else(|| format!("#{}", i + 1), str::to_string);
    Some(RowError::new(row, column, format!("the cell is longer than {MOST_CELL_BYTES} bytes")))
}

/// The error for a row the reader could not read: too long, or not CSV.
fn unreadable<R>(input: &LineEnds<R>, row: usize, e: &csv::Error) -> RowError {
    match input.too_long() {
        Some(1) => RowError::new(1, "", format!("the header row is longer than {MOST_ROW_BYTES} bytes")),
        Some(line) => RowError::new(
            line,
            "",
            format!("this row is longer than {MOST_ROW_BYTES} bytes; the rest of the file was not read"),
        ),
        None if row == 1 => RowError::new(1, "", format!("the header row cannot be read: {e}")),
        None => RowError::new(row, "", format!("this row cannot be read as CSV: {e}")),
    }
}

/// Reads CRLF as LF and ends the input with a line feed, so that the CSV reader's line count
/// gives every record the line it starts on. Follows the quoting as it goes, so that a quote
/// left open at the end of the file is known with the line it was opened on, and a row longer
/// than `MOST_ROW_BYTES` is refused before it is all in memory.
pub struct LineEnds<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    last: Option<u8>,
    done: bool,
    quotes: Quotes,
}

/// Where the text stands in RFC 4180 quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: closes it, or escapes a second one.
    QuoteInQuoted,
}

#[derive(Debug, Clone, Copy)]
struct Quotes {
    state: Quoting,
    line: usize,
    opened_on: usize,
    /// Bytes read since the last row ended, and the line that row starts on.
    row_bytes: usize,
    row_line: usize,
    /// The line of a row still going on past `MOST_ROW_BYTES`.
    too_long: Option<usize>,
}

impl Quotes {
    fn step(&mut self, b: u8) {
        use Quoting::*;
        self.state = match (self.state, b) {
            (Quoted, b'"') => QuoteInQuoted,
            (Quoted, _) => Quoted,
            (QuoteInQuoted, b'"') => Quoted,
            (FieldStart, b'"') => {
                self.opened_on = self.line;
                Quoted
            }
            (_, b',' | b'\n') => FieldStart,
            _ => Unquoted,
        };
        if b == b'\n' {
            self.line += 1;
            if self.state == FieldStart {
                // A line break outside quotes ends the row.
                self.end_row();
            }
        }
    }

    fn end_row(&mut self) {
        self.row_bytes = 0;
        self.row_line = self.line;
    }

    /// `step` over every byte of `bytes`, jumping over the runs of bytes that change nothing.
    fn read(&mut self, mut bytes: &[u8]) {
        let lines = |run: &[u8]| memchr::memchr_iter(b'\n', run).count();
        while !bytes.is_empty() {
            if self.state == Quoting::Quoted {
                // Inside quotes only a quote matters; line feeds are counted.
                let Some(i) = memchr::memchr(b'"', bytes) else {
                    self.line += lines(bytes);
                    self.row_bytes += bytes.len();
                    return;
                };
                self.line += lines(&bytes[..i]);
                self.row_bytes += i + 1;
                self.state = Quoting::QuoteInQuoted;
                bytes = &bytes[i + 1..];
            } else {
                let i = memchr::memchr3(b'"', b',', b'\n', bytes).unwrap_or(bytes.len());
                if i > 0 {
                    self.state = Quoting::Unquoted;
                }
                self.row_bytes += (i + 1).min(bytes.len());
                let Some(&b) = bytes.get(i) else { return };
                self.step(b);
                bytes = &bytes[i + 1..];
            }
        }
    }
}

impl<R> LineEnds<R> {
    /// The line of a row longer than `MOST_ROW_BYTES`, once the reader has stopped at it.
    pub fn too_long(&self) -> Option<usize> {
        self.quotes.too_long
    }
}

impl<R: Read> LineEnds<R> {
    pub fn new(inner: R) -> Self {
        let quotes =
            Quotes { state: Quoting::FieldStart, line: 1, opened_on: 1, row_bytes: 0, row_line: 1, too_long: None };
        Self { inner, buf: Vec::with_capacity(64 * 1024), pos: 0, last: None, done: false, quotes }
    }

    /// The line of a quote that the whole input left open, once it has all been read.
    pub fn open_quote(&self) -> Option<usize> {
        (self.done && self.quotes.state == Quoting::Quoted).then_some(self.quotes.opened_on)
    }

    fn fill(&mut self) -> std::io::Result<()> {
        if self.quotes.too_long.is_some() {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "a row is too long"));
        }
        let mut raw = [0u8; 64 * 1024];
        self.buf.clear();
        self.pos = 0;
        while self.buf.is_empty() && !self.done {
            let n = self.inner.read(&mut raw)?;
            if n == 0 {
                self.done = true;
                match self.last {
                    Some(b'\r') => self.buf.push(b'\n'),
                    Some(b'\n') | None => {}
                    Some(_) => self.buf.push(b'\n'),
                }
                break;
            }
            for &b in &raw[..n] {
                if self.last == Some(b'\r') && b != b'\n' {
                    self.buf.push(b'\n');
                }
                if b != b'\r' {
                    self.buf.push(b);
                }
                self.last = Some(b);
            }
        }
        self.quotes.read(&self.buf);
        if self.quotes.row_bytes > MOST_ROW_BYTES && !self.done {
            // A row still going on past the limit: the rows before it are served, and the next
            // read stops, so that no more than the limit and one chunk of it is ever in memory.
            // (A row that ends within what has been read is refused whole by `read_rows`.)
            self.quotes.too_long = Some(self.quotes.row_line);
        }
        Ok(())
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.buf.len() {
            self.fill()?;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalise(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        LineEnds::new(input).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn line_ends_become_line_feeds_and_the_input_ends_with_one() {
        assert_eq!(normalise(b"a\r\nb\r\n"), b"a\nb\n");
        assert_eq!(normalise(b"a\nb"), b"a\nb\n");
        assert_eq!(normalise(b"a\rb\r"), b"a\nb\n");
        assert_eq!(normalise(b""), b"");
    }

    fn problems(input: &str) -> Vec<String> {
        read_rows(input.as_bytes(), &["org_code", "value"], &["comment"], |_, _, _, _| {})
            .iter()
            .map(|e| format!("{} {} {}", e.row, e.column, e.message))
            .collect()
    }

    #[test]
    fn a_quote_left_open_at_the_end_of_the_file_is_an_error_on_its_row() {
        let errors = problems("org_code,value\nRGT,1\nRGT,\"12");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("3 value a quoted field is not closed"), "{errors:?}");
    }

    #[test]
    fn a_quote_left_open_earlier_is_an_error_on_its_row_not_a_bad_number() {
        let errors = problems("org_code,value\nRGT,\"12\nRJ1,4\nRJ2,\"5\"\n");
        assert!(errors.iter().any(|e| e.starts_with("2 value a quoted field is not closed")), "{errors:?}");
    }

    #[test]
    fn a_quote_left_open_in_a_comment_at_the_end_is_an_error_too() {
        let errors = problems("org_code,value,comment\nRGT,1,\"all fine\n");
        assert_eq!(errors, vec!["2  a quoted field is not closed: add the closing quote (\") where the cell ends"]);
    }

    #[test]
    fn quoted_cells_with_escaped_quotes_and_line_breaks_in_comments_are_fine() {
        assert!(problems("org_code,value,comment\n\"RGT\",1,\"said \"\"fine\"\"\nand more\"\n").is_empty());
    }
}
