//! Reading a CSV submission's header and rows: columns in any order, names in any case,
//! a BOM and CRLF line ends accepted, bytes that are not UTF-8 reported by row and column.

use super::RowError;
use std::io::Read;

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
    ) -> Result<Self, Vec<RowError>> {
        let mut errors = Vec::new();
        let names: Vec<&'static str> = required.iter().chain(optional).copied().collect();
        let mut positions = vec![None; names.len()];
        for (i, raw) in header.iter().enumerate() {
            let raw = if i == 0 {
                raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
            } else {
                raw
            };
            let Ok(text) = std::str::from_utf8(raw) else {
                errors.push(RowError::new(
                    1,
                    format!("#{}", i + 1),
                    "the column name is not UTF-8 text",
                ));
                continue;
            };
            let name = text.trim().to_ascii_lowercase();
            match names.iter().position(|n| *n == name) {
                Some(k) if positions[k].is_some() => {
                    errors.push(RowError::new(1, name, "this column appears more than once"));
                }
                Some(k) => positions[k] = Some(i),
                None if name.is_empty() => {
                    errors.push(RowError::new(
                        1,
                        format!("#{}", i + 1),
                        "a column has no name",
                    ));
                }
                None => errors.push(RowError::new(
                    1,
                    name,
                    format!(
                        "unknown column: the columns are {}",
                        describe(required, optional)
                    ),
                )),
            }
        }
        for (k, name) in required.iter().enumerate() {
            if positions[k].is_none() {
                errors.push(RowError::new(1, *name, "this required column is missing"));
            }
        }
        if errors.is_empty() {
            Ok(Self {
                names,
                positions,
                width: header.len(),
            })
        } else {
            Err(errors)
        }
    }

    /// The text of column `name` in `record`; `None` when the column is optional and absent.
    pub fn get<'r>(
        &self,
        record: &'r csv::ByteRecord,
        row: usize,
        name: &str,
        errors: &mut Vec<RowError>,
    ) -> Option<&'r str> {
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
}

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
    mut each: impl FnMut(&Columns, usize, &csv::ByteRecord, &mut Vec<RowError>),
) -> Vec<RowError> {
    let mut errors = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let header = match reader.read_byte_record(&mut record) {
        Ok(true) if !(record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace)) => {
            record.clone()
        }
        Ok(_) => {
            errors.push(RowError::new(
                1,
                "",
                "the file is empty: expected a header row and data rows",
            ));
            return errors;
        }
        Err(e) => {
            errors.push(RowError::new(
                1,
                "",
                format!("the header row cannot be read: {e}"),
            ));
            return errors;
        }
    };
    let columns = match Columns::from_header(&header, required, optional) {
        Ok(c) => c,
        Err(mut e) => {
            errors.append(&mut e);
            return errors;
        }
    };
    let mut data_rows = 0usize;
    loop {
        let row = reader.position().line() as usize;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                if record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace) {
                    continue; // a blank line
                }
                data_rows += 1;
                if record.len() != columns.width() {
                    errors.push(RowError::new(
                        row,
                        "",
                        format!(
                            "this row has {} cells but the header has {}",
                            record.len(),
                            columns.width()
                        ),
                    ));
                    continue;
                }
                each(&columns, row, &record, &mut errors);
            }
            Err(e) => {
                errors.push(RowError::new(
                    row,
                    "",
                    format!("this row cannot be read as CSV: {e}"),
                ));
                break;
            }
        }
    }
    if data_rows == 0 && errors.is_empty() {
        errors.push(RowError::new(
            2,
            "",
            "the file has a header row but no data rows",
        ));
    }
    errors
}
