#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| milk_fuzz::genesis(data));
