//! The one table a run prints: each scenario's scrm figure beside its
//! baseline, the ratio, the goal and whether it was met; then the notes
//! that explain the figures, and the failures. A missed goal is
//! information; only a failure (something lost, doubled or refused)
//! makes the run exit non-zero.

use std::fmt::Write as _;

/// A measured value and its unit.
#[derive(Debug, Clone, Copy)]
pub struct Figure {
    pub value: f64,
    pub unit: &'static str,
}

impl Figure {
    pub fn per_second(value: f64) -> Figure {
        Figure { value, unit: "/s" }
    }

    pub fn ms(d: std::time::Duration) -> Figure {
        Figure {
            value: d.as_secs_f64() * 1e3,
            unit: "ms",
        }
    }

    pub fn kib(value: f64) -> Figure {
        Figure { value, unit: "KiB" }
    }

    pub fn mib(value: f64) -> Figure {
        Figure { value, unit: "MiB" }
    }

    pub fn seconds(d: std::time::Duration) -> Figure {
        Figure {
            value: d.as_secs_f64(),
            unit: "s",
        }
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.unit {
            "/s" => write!(f, "{:.0}/s", self.value),
            "s" => write!(f, "{:.2} s", self.value),
            unit => write!(f, "{:.2} {unit}", self.value),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub what: String,
    pub scrm: Figure,
    pub baseline: Figure,
    pub goal: String,
    pub met: bool,
    /// False for a row with no goal: its figures are only to be read.
    pub judged: bool,
}

impl Row {
    pub fn ratio(&self) -> f64 {
        self.scrm.value / self.baseline.value.max(f64::MIN_POSITIVE)
    }

    /// A throughput row: met when scrm reaches `min` times the baseline.
    pub fn at_least(id: &str, what: &str, scrm: Figure, baseline: Figure, min: f64) -> Row {
        let mut row = Row::new(id, what, scrm, baseline, format!("≥ {min}×"));
        row.met = row.ratio() >= min;
        row
    }

    /// A cost row: met when scrm stays within `max` times the baseline.
    pub fn at_most(id: &str, what: &str, scrm: Figure, baseline: Figure, max: f64) -> Row {
        let mut row = Row::new(id, what, scrm, baseline, format!("≤ {max}×"));
        row.met = row.ratio() <= max;
        row
    }

    /// A row whose goal the caller states and judges.
    pub fn new(id: &str, what: &str, scrm: Figure, baseline: Figure, goal: String) -> Row {
        Row {
            id: id.to_owned(),
            what: what.to_owned(),
            scrm,
            baseline,
            goal,
            met: false,
            judged: true,
        }
    }

    /// A row with no goal, printed for its figures.
    pub fn unjudged(id: &str, what: &str, scrm: Figure, baseline: Figure) -> Row {
        Row {
            judged: false,
            ..Row::new(id, what, scrm, baseline, "none".to_owned())
        }
    }

    /// "yes", "no", or "—" when there is no goal.
    fn verdict(&self) -> &'static str {
        match (self.judged, self.met) {
            (false, _) => "—",
            (true, true) => "yes",
            (true, false) => "no",
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub title: String,
    rows: Vec<Row>,
    notes: Vec<String>,
    failures: Vec<String>,
}

impl Report {
    pub fn new(title: String) -> Report {
        Report {
            title,
            ..Report::default()
        }
    }

    pub fn row(&mut self, row: Row) {
        println!(
            "  {} {}: scrm {} | baseline {} | {:.2}× ({}) {}",
            row.id,
            row.what,
            row.scrm,
            row.baseline,
            row.ratio(),
            row.goal,
            match (row.judged, row.met) {
                (false, _) => "",
                (true, true) => "met",
                (true, false) => "missed",
            }
        );
        self.rows.push(row);
    }

    /// A line that explains a figure: latencies, statements per request.
    pub fn note(&mut self, scenario: &str, text: String) {
        println!("  {scenario}: {text}");
        self.notes.push(format!("{scenario}: {text}"));
    }

    pub fn fail(&mut self, scenario: &str, error: &anyhow::Error) {
        println!("  {scenario} FAILED: {error:#}");
        self.failures.push(format!("{scenario}: {error:#}"));
    }

    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// The table as plain text for the terminal.
    pub fn text(&self) -> String {
        let mut lines = vec![[
            "scenario".to_owned(),
            "scrm".to_owned(),
            "baseline".to_owned(),
            "ratio".to_owned(),
            "goal".to_owned(),
            "met?".to_owned(),
        ]];
        lines.extend(self.rows.iter().map(cells));
        let widths: Vec<usize> = (0..6)
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = format!("\n{}\n", self.title);
        for line in &lines {
            for (cell, width) in line.iter().zip(&widths) {
                let _ = write!(out, "{cell:<width$}  ");
            }
            out = out.trim_end().to_owned() + "\n";
        }
        out + &self.tail()
    }

    /// The same table in Markdown, for BENCHMARKS.md.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "### {}\n\n| scenario | scrm | baseline | ratio | goal | met? |\n|---|---|---|---|---|---|\n",
            self.title
        );
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", cells(row).join(" | "));
        }
        out + "\n" + &self.tail()
    }

    fn tail(&self) -> String {
        let mut out = String::new();
        for note in &self.notes {
            let _ = writeln!(out, "- {note}");
        }
        for failure in &self.failures {
            let _ = writeln!(out, "- FAILED {failure}");
        }
        out
    }
}

fn cells(row: &Row) -> [String; 6] {
    [
        format!("{} {}", row.id, row.what),
        row.scrm.to_string(),
        row.baseline.to_string(),
        format!("{:.2}×", row.ratio()),
        row.goal.clone(),
        row.verdict().to_owned(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_judged_by_its_ratio() {
        let fast = Row::at_least(
            "1",
            "x",
            Figure::per_second(30.0),
            Figure::per_second(100.0),
            0.2,
        );
        let slow = Row::at_most("4", "y", Figure::kib(5.0), Figure::kib(2.0), 2.0);
        assert!(fast.met);
        assert!(!slow.met);
        assert!(Report::default().markdown().contains("| scenario |"));
    }
}
