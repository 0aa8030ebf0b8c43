//! A tiny library for the build-system tests: something to unit-test under pyemu.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

pub fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        let r = a % b;
        a = b;
        b = r;
    }
    a
}

#[repr(C)]
struct UtsName {
    sysname: [c_char; 65],
    nodename: [c_char; 65],
    release: [c_char; 65],
    version: [c_char; 65],
    machine: [c_char; 65],
    domainname: [c_char; 65],
}

extern "C" {
    fn uname(buf: *mut UtsName) -> c_int;
}

/// uname's machine as the running program sees it (armv7l or aarch64 under an emulator).
pub fn machine() -> String {
    let mut u: UtsName = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { uname(&mut u) }, 0);
    unsafe { CStr::from_ptr(u.machine.as_ptr()) }.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcd_works() {
        assert_eq!(gcd(12, 18), 6);
        assert_eq!(gcd(17, 5), 1);
    }

    #[test]
    #[should_panic(expected = "left == right")]
    fn wrong_expectation_panics() {
        assert_eq!(gcd(12, 18), 7);
    }

    #[test]
    fn runs_on_the_target() {
        let emulator = std::env::var("BUILDSYS_EMULATOR").unwrap_or_else(|_| "(none)".into());
        println!("machine={} emulator={} pointer-bits={}", machine(), emulator,
                 8 * std::mem::size_of::<usize>());
        assert!(["armv7l", "aarch64"].contains(&machine().as_str()));
    }

    #[test]
    #[ignore]
    fn deliberate_failure() {
        assert_eq!(gcd(12, 18), 7);
    }
}
