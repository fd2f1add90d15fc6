//! `postmark` adapter: arbitrary bytes as an authenticated delivery (see `lintas_fuzz::parse`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lintas_fuzz::parse("postmark", data));
