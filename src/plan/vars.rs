//! Values for placeholders, from `--var name=value` and `--vars FILE`.
//!
//! A `--vars` file is a CSV whose header names placeholders. A plain run
//! draws each request's value from a column; in `--sessions`, user k takes
//! row k (wrapping around), so a login's name and password stay together
//! and each user is somebody, not a random pairing.

use std::collections::HashMap;

/// Values for placeholders: each name has one or more values (a `--vars` column, rows in order).
pub type Vars = HashMap<String, Vec<String>>;

/// Reads `--vars`: a CSV whose header names placeholders, one row per user.
/// Errors name the file and row, never a value.
pub fn vars_from_csv(path: &std::path::Path) -> Result<Vars, String> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| format!("--vars {}: {e}", path.display()))?;
    let headers: Vec<String> =
        reader.headers().map_err(|e| format!("--vars {}: the header row: {e}", path.display()))?.iter().map(str::to_owned).collect();
    let mut vars: Vars = HashMap::new();
    for (line, row) in reader.records().enumerate() {
        let row = row.map_err(|_| {
            format!("--vars {}: row {} does not have the header's {} columns, or is not UTF-8", path.display(), line + 2, headers.len())
        })?;
        // Every cell is kept, an empty one too, so that row k of every column is user k's.
        for (name, value) in headers.iter().zip(row.iter()) {
            vars.entry(name.clone()).or_default().push(value.to_owned());
        }
    }
    // A column with no value at all gives none.
    vars.retain(|_, values| values.iter().any(|v| !v.is_empty()));
    Ok(vars)
}
