//! The CSV reader: arbitrary text parses to an `Err` (with a line within the text) or to a
//! rectangular table of finite numbers; a parsed table makes a dataset or a clear `Err`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use npoa::data::Table;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Table::parse(text, "fuzz.csv") {
        Err(e) => assert!(e.line <= text.lines().count(), "{e}"),
        Ok(t) => {
            assert!(!t.header.is_empty());
            assert_eq!(t.values.len() % t.header.len(), 0, "rectangular");
            assert!(t.values.iter().all(|v| v.is_finite()));
            if let Ok(d) = t.dataset(None) {
                assert_eq!(d.len(), t.rows());
                assert_eq!(d.features() + 1, t.header.len());
            }
        }
    }
});
