#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| milk_fuzz::requests(data));
