//! Line charts as inline SVG, for `report.html`: no script, no network, a
//! file that opens from disk and prints.

use super::junit::xml_escape;
use std::fmt::Write;

/// One line of a chart: its name, colour and points `(x, y)`.
pub struct Series<'a> {
    pub name: &'a str,
    pub color: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// A shaded stretch of the x axis (a profile segment): `(from, to, label)`.
pub type Band = (f64, f64, String);

const W: f64 = 860.0;
const H: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 40.0;

/// A round step for about `ticks` ticks up to `max`.
fn nice_step(max: f64, ticks: f64) -> f64 {
    let raw = (max / ticks).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

fn number(v: f64) -> String {
    if v >= 100.0 || v == v.trunc() { format!("{v:.0}") } else { format!("{v:.1}") }
}

/// A chart of `series` over `x_max` seconds of the run, y in `y_unit`.
pub fn line_chart(title: &str, y_unit: &str, x_max: f64, series: &[Series<'_>], bands: &[Band]) -> String {
    let x_max = x_max.max(1e-9);
    let y_top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0f64, f64::max);
    let y_step = nice_step(if y_top > 0.0 { y_top } else { 1.0 }, 4.0);
    let y_max = (y_top / y_step).ceil().max(1.0) * y_step;
    let (plot_w, plot_h) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let x = |v: f64| LEFT + v / x_max * plot_w;
    let y = |v: f64| TOP + plot_h - v / y_max * plot_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-label="{title}" class="chart"><title>{title}</title>"#,
        title = xml_escape(title)
    );
    let _ = write!(svg, r#"<text x="{LEFT}" y="16" class="chart-title">{}</text>"#, xml_escape(title));
    for (from, to, label) in bands {
        let (x0, x1) = (x(from.max(0.0)), x(to.min(x_max)));
        let _ = write!(
            svg,
            r#"<rect x="{x0:.1}" y="{TOP}" width="{:.1}" height="{plot_h}" class="band band-{label}"><title>{label}</title></rect><text x="{:.1}" y="{:.1}" class="band-label">{label}</text>"#,
            (x1 - x0).max(0.5),
            x0 + 3.0,
            TOP + 12.0,
            label = xml_escape(label)
        );
    }
    let mut v = 0.0;
    while v <= y_max + y_step / 2.0 {
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" class="grid"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0,
            number(v),
            yy = y(v)
        );
        v += y_step;
    }
    let x_step = nice_step(x_max, 6.0);
    let mut t = 0.0;
    while t <= x_max + 1e-9 {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"#,
            x(t),
            TOP + plot_h + 16.0,
            xml_escape(&crate::units::human_duration(t))
        );
        t += x_step;
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
        W - RIGHT,
        TOP + plot_h + 32.0,
        xml_escape(&format!("time into the run; y: {y_unit}"))
    );
    for (i, s) in series.iter().enumerate() {
        if s.points.is_empty() {
            continue;
        }
        let path: Vec<String> = s.points.iter().map(|(px, py)| format!("{:.1},{:.1}", x(*px), y(*py))).collect();
        // The first series is the reference (intended, p50): dashed, so a line on top of it still shows it.
        let dash = if i == 0 && series.len() > 1 { r#" stroke-dasharray="6 4""# } else { "" };
        let _ = write!(svg, r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#, path.join(" "), s.color);
        let lx = LEFT + 8.0 + i as f64 * 150.0;
        let _ = write!(
            svg,
            r#"<rect x="{lx:.1}" y="{:.1}" width="12" height="3" fill="{}"/><text x="{:.1}" y="{:.1}" class="legend">{}</text>"#,
            H - 9.0,
            s.color,
            lx + 16.0,
            H - 5.0,
            xml_escape(s.name)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_scale_to_their_data_and_escape_text() {
        assert_eq!(nice_step(1000.0, 4.0), 500.0);
        assert_eq!(nice_step(7.0, 4.0), 2.0);
        let series = [Series { name: "p99 <ms>", color: "#c33", points: vec![(0.0, 1.0), (10.0, 9.0)] }];
        let svg = line_chart("latency & lag", "ms", 10.0, &series, &[(2.0, 4.0, "bursty".into())]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("latency &amp; lag") && svg.contains("p99 &lt;ms&gt;") && svg.contains("band-bursty"));
        assert!(svg.contains("<polyline"));
    }
}
