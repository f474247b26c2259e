//! The checklist's marks, in colour only on a terminal and never with `NO_COLOR` set
//! (<https://no-color.org>).

use std::io::IsTerminal;

use mcp_oauth::explain::Outcome;

/// Writes checklist lines to stdout.
#[derive(Debug)]
pub(crate) struct Checklist {
    colour: bool,
    failures: usize,
    warnings: usize,
}

impl Checklist {
    pub(crate) fn new() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            colour: std::io::stdout().is_terminal() && !no_color,
            failures: 0,
            warnings: 0,
        }
    }

    /// A section heading.
    pub(crate) fn heading(&self, title: &str) {
        if self.colour {
            println!("\n\x1b[1m{title}\x1b[0m");
        } else {
            println!("\n{title}");
        }
    }

    /// One check: `✓`, `!`, `✗` or `-`, its name and what was found; a fix on the next
    /// line when there is one.
    pub(crate) fn line(&mut self, outcome: Outcome, check: &str, detail: &str, fix: Option<&str>) {
        let (mark, code) = match outcome {
            Outcome::Pass => ("✓", "32"),
            Outcome::Warn => ("!", "33"),
            Outcome::Fail => ("✗", "31"),
            Outcome::Skip => ("-", "2"),
        };
        match outcome {
            Outcome::Fail => self.failures += 1,
            Outcome::Warn => self.warnings += 1,
            Outcome::Pass | Outcome::Skip => {}
        }
        if self.colour {
            println!("  \x1b[{code}m{mark}\x1b[0m {check}: {detail}");
        } else {
            println!("  {mark} {check}: {detail}");
        }
        if let Some(fix) = fix {
            println!("      fix: {fix}");
        }
    }

    pub(crate) fn failures(&self) -> usize {
        self.failures
    }

    pub(crate) fn warnings(&self) -> usize {
        self.warnings
    }
}
