//! The answers: what a capture says, computed from the same per-snapshot figures
//! ([`crate::heap::Snapshot::figures`]) that the frames show.
//!
//! Each analysis takes a parsed [`crate::Capture`] (or the capture's index, for those that must
//! run in bounded memory on captures of any length) and gives a value that the binary prints as
//! text or JSON, or an image it writes: [`info`] (what is in the file), [`stats`] (a table of
//! figures per snapshot, peaks and a leak estimate), [`diff`] (two snapshots side by side),
//! [`plot`] (usage over time as PNG or SVG) and [`why`] (each MemoryError explained from the dump
//! before it). None of them prints anything.

pub mod diff;
pub mod info;
pub mod plot;
pub mod stats;
pub mod why;
