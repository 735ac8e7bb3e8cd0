//! `--plot`: the training curves as an SVG or PNG file.
//!
//! (Skeleton: the hand-written SVG is still in `train.rs`.)
