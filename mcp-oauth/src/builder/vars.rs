//! Reading one variable: `NAME` or `NAME_FILE`, blank = unset, and lists. Shared by
//! `env.rs` (the general variables) and `provider.rs` (a preset's own).

use std::collections::HashMap;

use super::ConfigProblem;

/// `NAME` (trimmed) or the contents of the file `NAME_FILE` names (without its trailing line
/// break); both set is a problem, and so is a file that cannot be read. Blank is unset.
pub(super) fn value(
    vars: &HashMap<String, String>,
    name: &'static str,
    problems: &mut Vec<ConfigProblem>,
) -> Option<String> {
    let direct = vars.get(name).filter(|v| !v.trim().is_empty());
    let file_var = format!("{name}_FILE");
    let file = vars.get(&file_var).filter(|v| !v.trim().is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => {
            problems.push(ConfigProblem::new(
                name,
                format!("set either {name} or {file_var}, not both"),
            ));
            None
        }
        (Some(v), None) => Some(v.trim().to_owned()),
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(contents) => Some(contents.trim_end_matches(['\n', '\r']).to_owned()),
            Err(e) => {
                // The path is not secret; the contents would be, and are never shown.
                problems.push(ConfigProblem::new(
                    name,
                    format!("cannot read {file_var} `{path}`: {e}"),
                ));
                None
            }
        },
        (None, None) => None,
    }
}

/// A list separated by spaces and/or commas.
pub(super) fn list(value: &str) -> Vec<String> {
    value
        .split([' ', ',', '\t', '\n'])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
