//! `--plot`: renders runs of every shape through `npoa_cli::plot::write`, reads the SVG back
//! and checks what a reader would: every drawn point inside the frame and where the axes'
//! tick labels say it belongs (x by epoch number, y by value on the stated scale), the legend
//! inside the frame and naming exactly the series drawn, the axes labelled. A PNG is decoded
//! and checked for its size and the series' colours.

use npoa::control::{Event, EventKind, RateCause, RollbackCause, Stop};
use npoa::train::Epoch;
use npoa_cli::plot::{PlotInfo, write};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The series colours of `plot.rs` (the test reads them back from the SVG).
const TRAIN: &str = "#1F77B4";
const VALID: &str = "#D62728";
const RATE: &str = "#2CA02C";

fn ep(epoch: u32, train_loss: f32, metric: f32, learning_rate: f32) -> Epoch {
    Epoch {
        epoch,
        train_loss,
        metric,
        learning_rate,
        steps: u64::from(epoch),
        zeros: 0,
        certificate: f32::NAN,
    }
}

fn event(epoch: u32, kind: EventKind) -> Event {
    Event { epoch, kind }
}

fn out(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("plot-{name}"))
}

#[derive(Debug, Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn holds(&self, (x, y): (f64, f64)) -> bool {
        // Half a pixel of rounding either way.
        x >= self.x - 0.5
            && x <= self.x + self.w + 0.5
            && y >= self.y - 0.5
            && y <= self.y + self.h + 0.5
    }
}

#[derive(Debug, Clone)]
struct Label {
    x: f64,
    y: f64,
    anchor: String,
    rotated: Option<String>,
    text: String,
}

/// What the test reads from a plot.
#[derive(Debug)]
struct Svg {
    width: f64,
    height: f64,
    frame: Rect,
    legend: Option<Rect>,
    /// Legend entries: (name, colour of its sample).
    entries: Vec<(String, String)>,
    /// Drawn points by colour, in drawing order, with how many pieces (polylines, dots).
    series: BTreeMap<String, (Vec<(f64, f64)>, usize)>,
    labels: Vec<Label>,
}

fn num(n: roxmltree::Node, a: &str) -> f64 {
    n.attribute(a)
        .unwrap_or_else(|| panic!("<{}> without {a}", n.tag_name().name()))
        .parse()
        .unwrap_or_else(|e| panic!("<{}> {a}: {e}", n.tag_name().name()))
}

fn points(n: roxmltree::Node) -> Vec<(f64, f64)> {
    n.attribute("points")
        .unwrap_or("")
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').expect("x,y");
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

fn parse(svg: &str) -> Svg {
    let doc = roxmltree::Document::parse(svg).expect("the plot is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let (width, height) = (num(root, "width"), num(root, "height"));
    let mut frame: Option<Rect> = None;
    let mut legend: Option<Rect> = None;
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut series: BTreeMap<String, (Vec<(f64, f64)>, usize)> = BTreeMap::new();
    let mut labels = Vec::new();
    // Legend samples after the legend's box: (colour, y); texts inside the box.
    let mut samples: Vec<(String, f64)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for n in root.descendants().filter(|n| n.is_element()) {
        let stroke = n.attribute("stroke").unwrap_or("none").to_string();
        match n.tag_name().name() {
            "rect" => {
                let r = Rect {
                    x: num(n, "x"),
                    y: num(n, "y"),
                    w: num(n, "width"),
                    h: num(n, "height"),
                };
                if n.attribute("fill") == Some("none") && stroke == "#000000" {
                    assert!(frame.is_none(), "one frame");
                    frame = Some(r);
                } else if n.attribute("fill") == Some("#FFFFFF") && (r.w < width || r.h < height) {
                    legend.get_or_insert(r);
                }
            }
            "polyline" | "circle" => {
                let pts = if n.tag_name().name() == "circle" {
                    vec![(num(n, "cx"), num(n, "cy"))]
                } else {
                    points(n)
                };
                let color = if n.tag_name().name() == "circle" {
                    n.attribute("fill").unwrap_or("none").to_string()
                } else {
                    stroke
                };
                if legend.is_some() {
                    // A dashed sample is several pieces on one line: one entry.
                    let y = pts[0].1;
                    if samples.last() != Some(&(color.clone(), y)) {
                        samples.push((color, y));
                    }
                } else if color != "#000000" {
                    let s = series.entry(color).or_default();
                    s.0.extend(pts);
                    s.1 += 1;
                }
            }
            "text" => {
                let text = n.text().unwrap_or("").trim().to_string();
                let (x, y) = (num(n, "x"), num(n, "y"));
                if legend.is_some_and(|l| l.holds((x, y))) {
                    names.push(text.clone());
                }
                labels.push(Label {
                    x,
                    y,
                    anchor: n.attribute("text-anchor").unwrap_or("start").to_string(),
                    rotated: n.attribute("transform").map(str::to_string),
                    text,
                });
            }
            _ => {}
        }
    }
    assert_eq!(
        names.len(),
        samples.len(),
        "one sample per legend entry: {names:?} {samples:?}"
    );
    entries.extend(names.into_iter().zip(samples.into_iter().map(|(c, _)| c)));
    Svg {
        width,
        height,
        frame: frame.expect("the plot has a frame"),
        legend,
        entries,
        series,
        labels,
    }
}

/// A linear map from axis values (or their log10) to pixels, fitted from the tick labels.
#[derive(Debug, Clone, Copy)]
struct Map {
    a: f64,
    b: f64,
    log: bool,
}

impl Map {
    /// From (value, pixel) pairs: the extreme ticks, then every tick checked against it.
    fn fit(ticks: &[(f64, f64)], log: bool) -> Map {
        assert!(ticks.len() >= 2, "at least two tick labels: {ticks:?}");
        let t = |v: f64| if log { v.log10() } else { v };
        let (lo, hi) = (ticks[0], ticks[ticks.len() - 1]);
        let b = (hi.1 - lo.1) / (t(hi.0) - t(lo.0));
        let m = Map {
            a: lo.1 - b * t(lo.0),
            b,
            log,
        };
        for &(v, p) in ticks {
            assert!(
                (m.px(v) - p).abs() <= 1.0,
                "tick {v} at {p}, not on one {} scale: {ticks:?}",
                if log { "log" } else { "linear" }
            );
        }
        m
    }

    fn px(&self, v: f64) -> f64 {
        self.a + self.b * if self.log { v.log10() } else { v }
    }
}

impl Svg {
    fn colors(&self) -> BTreeSet<String> {
        self.series.keys().cloned().collect()
    }

    fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Numeric tick labels, sorted by value: `side` "left", "right" or "bottom".
    fn ticks(&self, side: &str) -> Vec<(f64, f64)> {
        let f = self.frame;
        let mut t: Vec<(f64, f64)> = self
            .labels
            .iter()
            .filter(|l| l.rotated.is_none())
            .filter(|l| match side {
                "left" => l.x < f.x && l.anchor == "end",
                "right" => l.x > f.x + f.w && l.y <= f.y + f.h + 1.0,
                _ => l.y > f.y + f.h && l.anchor == "middle",
            })
            .filter_map(|l| {
                let v: f64 = l.text.parse().ok()?;
                Some((v, if side == "bottom" { l.x } else { l.y }))
            })
            .collect();
        t.sort_by(|a, b| a.0.total_cmp(&b.0));
        t
    }

    fn axis_title(&self, rotation: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| {
                l.rotated
                    .as_deref()
                    .is_some_and(|r| r.starts_with(rotation))
            })
            .map(|l| l.text.as_str())
    }

    fn has_text(&self, s: &str) -> bool {
        self.labels.iter().any(|l| l.text.contains(s))
    }

    /// The checks every plot must pass.
    fn check_common(&self) {
        assert_eq!((self.width, self.height), (960.0, 540.0));
        for (color, (pts, _)) in &self.series {
            for p in pts {
                assert!(
                    self.frame.holds(*p),
                    "{color} point {p:?} outside the frame {:?}",
                    self.frame
                );
            }
        }
        if let Some(l) = self.legend {
            assert!(
                self.frame.holds((l.x, l.y)) && self.frame.holds((l.x + l.w, l.y + l.h)),
                "legend {l:?} outside the frame {:?}",
                self.frame
            );
        }
        let legend: BTreeSet<String> = self.entries.iter().map(|(_, c)| c.clone()).collect();
        assert_eq!(
            legend.len(),
            self.entries.len(),
            "one colour per legend entry: {:?}",
            self.entries
        );
        assert_eq!(
            legend,
            self.colors(),
            "the legend names exactly the drawn series: {:?}",
            self.entries
        );
        assert!(self.has_text("Training curves"), "a title");
        assert!(
            self.labels.iter().any(|l| l.text == "epoch"),
            "the x axis says epoch"
        );
    }

    /// The points of `color` are exactly `expected` (epoch, value), in order, where the tick
    /// labels put them.
    fn check_points(&self, color: &str, expected: &[(u32, f32)], x: Map, y: Map) {
        // Dots (points alone between gaps) come after the lines: compare in epoch order.
        let mut pts = self.series[color].0.clone();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(pts.len(), expected.len(), "{color}: points drawn");
        for (p, &(e, v)) in pts.iter().zip(expected) {
            let want = (x.px(f64::from(e)), y.px(f64::from(v)));
            assert!(
                (p.0 - want.0).abs() <= 1.5 && (p.1 - want.1).abs() <= 1.5,
                "{color}: epoch {e}, value {v} drawn at {p:?}, the axes say {want:?}"
            );
        }
    }
}

/// Renders an SVG and reads it back; renders the PNG too (to look at: target/tmp/plot-*.png)
/// and checks that it decodes.
fn render(name: &str, epochs: &[Epoch], events: &[Event], loss: &str, validation: bool) -> Svg {
    let info = PlotInfo { loss, validation };
    let png = out(&format!("{name}.png"));
    write(&png, epochs, events, &info).expect("the PNG is written");
    assert_eq!(read_png(&png).0, (960, 540));
    let path = out(&format!("{name}.svg"));
    write(&path, epochs, events, &info).expect("the plot is written");
    parse(&std::fs::read_to_string(&path).unwrap())
}

/// A smooth run: loss falling from `start` towards `floor`, validation a little above.
fn run(n: u32, start: f32, floor: f32) -> Vec<Epoch> {
    (1..=n)
        .map(|e| {
            let t = (-(e as f32) / 8.0).exp();
            let train = floor + (start - floor) * t;
            let lr = if e <= 20 {
                0.1
            } else if e <= 35 {
                0.05
            } else {
                0.025
            };
            ep(e, train, train * 1.15, lr)
        })
        .collect()
}

fn finite_positive(epochs: &[Epoch], f: fn(&Epoch) -> f32) -> Vec<(u32, f32)> {
    epochs
        .iter()
        .map(|e| (e.epoch, f(e)))
        .filter(|(_, v)| v.is_finite() && *v > 0.0)
        .collect()
}

/// Checks every series' points against the axes (log loss axis unless `linear`).
fn check_positions(svg: &Svg, epochs: &[Epoch], validation: bool, linear: bool) {
    let x = Map::fit(&svg.ticks("bottom"), false);
    let y = Map::fit(&svg.ticks("left"), !linear);
    let keep = |f: fn(&Epoch) -> f32| -> Vec<(u32, f32)> {
        if linear {
            epochs
                .iter()
                .map(|e| (e.epoch, f(e)))
                .filter(|(_, v)| v.is_finite())
                .collect()
        } else {
            finite_positive(epochs, f)
        }
    };
    svg.check_points(TRAIN, &keep(|e| e.train_loss), x, y);
    if validation {
        svg.check_points(VALID, &keep(|e| e.metric), x, y);
    }
    let rates = finite_positive(epochs, |e| e.learning_rate);
    if !rates.is_empty() {
        let y2 = svg.ticks("right");
        if y2.len() >= 2 {
            svg.check_points(RATE, &rates, x, Map::fit(&y2, true));
        }
    }
}

fn stop(epoch: u32) -> Event {
    event(epoch, EventKind::Stopped(Stop::EarlyStop))
}

fn rate_change(epoch: u32, from: f32, to: f32) -> Event {
    event(
        epoch,
        EventKind::RateChanged {
            from,
            to,
            cause: RateCause::Plateau,
        },
    )
}

#[test]
fn regression_with_validation() {
    let epochs = run(50, 3000.0, 800.0);
    let events = [
        event(3, EventKind::Improved { metric: 2000.0 }),
        rate_change(20, 0.1, 0.05),
        rate_change(35, 0.05, 0.025),
        stop(50),
    ];
    let svg = render("regression", &epochs, &events, "squared", true);
    svg.check_common();
    assert_eq!(
        svg.names(),
        [
            "training loss",
            "validation loss",
            "learning rate (right axis)",
            "rate change (2×)",
            "stop (early_stop)"
        ]
    );
    assert_eq!(svg.colors().len(), 5);
    assert!(
        svg.axis_title("rotate(270")
            .unwrap()
            .contains("squared error (log scale)")
    );
    assert!(
        svg.axis_title("rotate(90")
            .unwrap()
            .contains("learning rate")
    );
    check_positions(&svg, &epochs, true, false);
    // The marks stand at their epochs: rate changes at 20 and 35, the stop at 50.
    let x = Map::fit(&svg.ticks("bottom"), false);
    let (marks, _) = &svg.series["#FF7F0E"];
    let xs: BTreeSet<i64> = marks.iter().map(|p| p.0.round() as i64).collect();
    assert_eq!(xs.len(), 2, "{xs:?}");
    for (got, epoch) in xs.iter().zip([20.0, 35.0]) {
        assert!(
            (*got as f64 - x.px(epoch)).abs() <= 1.0,
            "mark at {got}, epoch {epoch} at {}",
            x.px(epoch)
        );
    }
    // The dashes of a mark run the frame's height.
    let ys = marks.iter().map(|p| p.1);
    let (lo, hi) = ys.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
    assert!(
        lo - svg.frame.y < 10.0 && svg.frame.y + svg.frame.h - hi < 10.0,
        "{lo}..{hi}"
    );
}

#[test]
fn without_validation_no_validation_curve_is_drawn_or_named() {
    // The metric is set (the training loss after the steps) but there is no validation split.
    let epochs = run(40, 2.0, 0.5);
    let svg = render("no-validation", &epochs, &[], "huber", false);
    svg.check_common();
    assert_eq!(svg.names(), ["training loss", "learning rate (right axis)"]);
    assert!(!svg.series.contains_key(VALID));
    assert!(!svg.has_text("validation"));
    check_positions(&svg, &epochs, false, false);
}

#[test]
fn a_softmax_run_has_loss_axis_labels() {
    // Within one decade (1.1 … 0.35): the hand-written plot had no label on this axis.
    let epochs: Vec<Epoch> = (1..=60)
        .map(|e| {
            let v = 0.35 + 0.75 * (-(e as f32) / 10.0).exp();
            ep(e, v, v + 0.05, 0.5)
        })
        .collect();
    let svg = render("softmax", &epochs, &[], "softmax", true);
    svg.check_common();
    assert!(svg.ticks("left").len() >= 3, "{:?}", svg.ticks("left"));
    let title = svg.axis_title("rotate(270").unwrap();
    assert!(title.contains("softmax cross-entropy"), "{title}");
    assert!(svg.has_text("Training curves: softmax cross-entropy"));
    check_positions(&svg, &epochs, true, false);
}

#[test]
fn after_rollbacks_the_x_axis_follows_the_epoch_numbers() {
    // 30 records whose epochs run to 33: three rolled-back epochs left no record.
    let epochs: Vec<Epoch> = (1..=33)
        .filter(|e| ![11, 21, 22].contains(e))
        .map(|e| {
            ep(
                e,
                10.0 / e as f32,
                12.0 / e as f32,
                if e < 11 { 0.1 } else { 0.05 },
            )
        })
        .collect();
    assert_eq!(epochs.len(), 30);
    let rollback = |epoch, retry| {
        event(
            epoch,
            EventKind::RolledBack {
                cause: RollbackCause::Spike,
                retry,
            },
        )
    };
    let events = [
        rollback(11, 1),
        event(
            11,
            EventKind::RateChanged {
                from: 0.1,
                to: 0.05,
                cause: RateCause::Rollback,
            },
        ),
        rollback(21, 2),
        rollback(22, 3),
        stop(33),
    ];
    let svg = render("rollbacks", &epochs, &events, "squared", true);
    svg.check_common();
    assert_eq!(
        svg.names(),
        [
            "training loss",
            "validation loss",
            "learning rate (right axis)",
            "rollback (3×)",
            "rate change",
            "stop (early_stop)"
        ]
    );
    check_positions(&svg, &epochs, true, false);
    // The last point is near the frame's right edge (epoch 33 ends the axis), not past it
    // (the axis has 1 % of room at each end).
    let last = svg.series[TRAIN].0.last().unwrap().0;
    let right = svg.frame.x + svg.frame.w;
    assert!(
        last <= right && right - last <= 0.02 * svg.frame.w,
        "{last} vs {:?}",
        svg.frame
    );
}

#[test]
fn a_decimated_run_is_placed_by_epoch() {
    // Every 25th epoch of 2000, and the last: the records' count is not the x axis.
    let epochs: Vec<Epoch> = (1..=2000)
        .filter(|e| e % 25 == 1 || *e == 2000)
        .map(|e| {
            ep(
                e,
                1.0 + 100.0 / e as f32,
                f32::NAN,
                1e-3 / (1.0 + e as f32 / 500.0),
            )
        })
        .collect();
    let svg = render("decimated", &epochs, &[], "logistic", false);
    svg.check_common();
    check_positions(&svg, &epochs, false, false);
    assert!(
        svg.axis_title("rotate(270")
            .unwrap()
            .contains("logistic cross-entropy")
    );
}

#[test]
fn nan_zero_and_infinite_losses_are_left_out_and_counted() {
    let mut epochs = run(30, 5.0, 1.0);
    epochs[4].train_loss = f32::NAN; // epoch 5
    epochs[6].train_loss = 0.0; // epoch 7: epoch 6 stands alone
    epochs[11].train_loss = f32::INFINITY;
    epochs[20].metric = f32::NAN;
    epochs[25].learning_rate = 0.0;
    let svg = render("nan", &epochs, &[], "absolute", true);
    svg.check_common();
    check_positions(&svg, &epochs, true, false);
    // The training curve breaks at each gap: 1–4, 6 (a dot), 8–11, 13–30.
    assert_eq!(svg.series[TRAIN].1, 4, "{:?}", svg.series[TRAIN]);
    assert!(svg.has_text("3 training loss"), "{:?}", svg.labels);
    assert!(svg.has_text("1 validation loss") && svg.has_text("1 learning rate"));
}

#[test]
fn a_loss_with_negative_values_gets_a_linear_axis() {
    // The Poisson loss e^z − y·z is negative where y·z > e^z.
    let epochs: Vec<Epoch> = (1..=20)
        .map(|e| ep(e, 1.0 - e as f32 * 0.1, f32::NAN, 0.01))
        .collect();
    let svg = render("negative", &epochs, &[], "poisson", false);
    svg.check_common();
    assert!(
        svg.axis_title("rotate(270")
            .unwrap()
            .contains("Poisson loss (linear scale)")
    );
    check_positions(&svg, &epochs, false, true);
}

#[test]
fn a_single_epoch_is_a_dot() {
    let epochs = [ep(1, 0.7, 0.8, 0.01)];
    let svg = render("single", &epochs, &[], "logistic", true);
    svg.check_common();
    assert_eq!(
        svg.names(),
        [
            "training loss",
            "validation loss",
            "learning rate (right axis)"
        ]
    );
    for c in [TRAIN, VALID, RATE] {
        assert_eq!(svg.series[c].0.len(), 1, "{c}");
    }
    check_positions(&svg, &epochs, true, false);
}

#[test]
fn zero_epochs_give_an_empty_frame_that_says_so() {
    let svg = render("empty", &[], &[], "squared", true);
    svg.check_common();
    assert!(svg.series.is_empty() && svg.entries.is_empty());
    assert!(svg.has_text("no epochs recorded"));
    for side in ["left", "right", "bottom"] {
        assert!(svg.ticks(side).is_empty(), "no numbers on the {side} axis");
    }
}

#[test]
fn an_unknown_extension_is_an_error_and_writes_nothing() {
    let epochs = run(5, 2.0, 1.0);
    for name in ["plot.pdf", "plot"] {
        let path = out(name);
        let _ = std::fs::remove_file(&path);
        let info = PlotInfo {
            loss: "squared",
            validation: false,
        };
        let err = write(&path, &epochs, &[], &info).unwrap_err().to_string();
        assert!(err.contains(".svg or .png") && err.contains(name), "{err}");
        assert!(!path.exists());
    }
    // Upper case is fine.
    let path = out("upper.SVG");
    write(
        &path,
        &epochs,
        &[],
        &PlotInfo {
            loss: "squared",
            validation: false,
        },
    )
    .unwrap();
    parse(&std::fs::read_to_string(path).unwrap()).check_common();
}

/// Decodes a PNG: its size and the set of its pixel colours.
fn read_png(path: &std::path::Path) -> ((u32, u32), BTreeSet<[u8; 3]>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let colors = buf[..info.buffer_size()]
        .chunks(3)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    ((info.width, info.height), colors)
}

#[test]
fn png_is_a_valid_image_with_the_curves() {
    let epochs = run(50, 3000.0, 800.0);
    let events = [rate_change(20, 0.1, 0.05), stop(50)];
    let path = out("regression.png");
    write(
        &path,
        &epochs,
        &events,
        &PlotInfo {
            loss: "squared",
            validation: true,
        },
    )
    .unwrap();
    let (size, colors) = read_png(&path);
    assert_eq!(size, (960, 540));
    for c in [[31, 119, 180], [214, 39, 40], [44, 160, 44], [255, 127, 14]] {
        assert!(colors.contains(&c), "colour {c:?} drawn");
    }
    assert!(colors.contains(&[0, 0, 0]), "text and axes drawn");
    // Without validation, no validation colour.
    let path = out("no-validation.png");
    write(
        &path,
        &epochs,
        &[],
        &PlotInfo {
            loss: "squared",
            validation: false,
        },
    )
    .unwrap();
    let (_, colors) = read_png(&path);
    assert!(!colors.contains(&[214, 39, 40]));
}
