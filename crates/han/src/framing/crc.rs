//! The two CRCs meters use: CRC-16/X-25 (HDLC HCS/FCS) and CRC-16/ARC (DSMR).
//!
//! Both are reflected 16-bit CRCs, so one slice-by-16 engine serves both; the
//! tables are built at compile time. Slicing matters: a DSMR 5 telegram is
//! ~1 KiB and is checked once a second on a Pi Zero, and the benches decode
//! millions of HDLC frames a second.

// Every index is a u8 (or a loop counter below 256/8) into 256-entry tables.
#![allow(clippy::indexing_slicing)]

/// A reflected CRC-16 with its slice-by-16 tables.
struct Crc16 {
    tables: [[u16; 256]; 16],
    init: u16,
    xorout: u16,
}

const fn make_tables(poly_reflected: u16) -> [[u16; 256]; 16] {
    let mut t = [[0u16; 256]; 16];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ poly_reflected } else { crc >> 1 };
            bit += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 16 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

impl Crc16 {
    #[inline]
    fn checksum(&self, data: &[u8]) -> u16 {
        let t = &self.tables;
        let mut crc = self.init;
        let mut chunks = data.chunks_exact(16);
        for c in &mut chunks {
            let Ok(c) = <&[u8; 16]>::try_from(c) else { break };
            let lo = u16::from_le_bytes([c[0], c[1]]) ^ crc;
            crc = t[15][usize::from(lo as u8)]
                ^ t[14][usize::from(lo >> 8)]
                ^ t[13][usize::from(c[2])]
                ^ t[12][usize::from(c[3])]
                ^ t[11][usize::from(c[4])]
                ^ t[10][usize::from(c[5])]
                ^ t[9][usize::from(c[6])]
                ^ t[8][usize::from(c[7])]
                ^ t[7][usize::from(c[8])]
                ^ t[6][usize::from(c[9])]
                ^ t[5][usize::from(c[10])]
                ^ t[4][usize::from(c[11])]
                ^ t[3][usize::from(c[12])]
                ^ t[2][usize::from(c[13])]
                ^ t[1][usize::from(c[14])]
                ^ t[0][usize::from(c[15])];
        }
        for &b in chunks.remainder() {
            crc = (crc >> 8) ^ t[0][usize::from((crc as u8) ^ b)];
        }
        crc ^ self.xorout
    }
}

static X25: Crc16 = Crc16 { tables: make_tables(0x8408), init: 0xFFFF, xorout: 0xFFFF };
static ARC: Crc16 = Crc16 { tables: make_tables(0xA001), init: 0x0000, xorout: 0x0000 };

/// CRC-16/X-25 (= CRC-16/IBM-SDLC), the HDLC frame check sequence.
pub fn x25(data: &[u8]) -> u16 {
    X25.checksum(data)
}

/// CRC-16/ARC, the DSMR 4+ telegram CRC (from `/` to `!` inclusive).
pub fn arc(data: &[u8]) -> u16 {
    ARC.checksum(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitwise(data: &[u8], poly: u16, init: u16, xorout: u16) -> u16 {
        let mut crc = init;
        for &b in data {
            crc ^= u16::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ poly } else { crc >> 1 };
            }
        }
        crc ^ xorout
    }

    #[test]
    fn check_values() {
        // The catalogue check values for "123456789".
        assert_eq!(x25(b"123456789"), 0x906E);
        assert_eq!(arc(b"123456789"), 0xBB3D);
    }

    proptest::proptest! {
        #[test]
        fn sliced_equals_bitwise(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            proptest::prop_assert_eq!(x25(&data), bitwise(&data, 0x8408, 0xFFFF, 0xFFFF));
            proptest::prop_assert_eq!(arc(&data), bitwise(&data, 0xA001, 0, 0));
        }
    }
}
