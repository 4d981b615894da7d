//! CSV as spreadsheets read it: comma separator, dot decimals, a header
//! row, CRLF line ends (RFC 4180), fields quoted when they hold a comma, a
//! quote or a line break. A cell starting with `=`, `+`, `-`, `@`, a tab or
//! a carriage return gets a leading apostrophe, so that a spreadsheet never
//! runs a name typed by a donor as a formula (CSV injection).

/// A table: its header and rows, written with [`Table::render`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: Vec<&'static str>) -> Table {
        Table {
            header,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        line(&mut out, self.header.iter().copied());
        for row in &self.rows {
            line(&mut out, row.iter().map(String::as_str));
        }
        out
    }
}

fn line<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&field(cell));
    }
    out.push_str("\r\n");
}

/// One cell: neutralised, then quoted if needed.
pub fn field(cell: &str) -> String {
    let safe = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+33 6"), "'+33 6");
        assert_eq!(field("-1+1"), "'-1+1");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("\tx"), "'\tx");
        assert_eq!(field("\rx"), "\"'\rx\"");
        assert_eq!(field("Ada Lovelace"), "Ada Lovelace");
        assert_eq!(field("12.50"), "12.50");
    }

    #[test]
    fn fields_are_quoted_when_needed() {
        assert_eq!(field("Dupont, Jean"), "\"Dupont, Jean\"");
        assert_eq!(field("a \"b\""), "\"a \"\"b\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn a_table_has_a_header_row() {
        let mut t = Table::new(vec!["a", "b"]);
        t.push(vec!["1".into(), "x,y".into()]);
        assert_eq!(t.render(), "a,b\r\n1,\"x,y\"\r\n");
    }
}
