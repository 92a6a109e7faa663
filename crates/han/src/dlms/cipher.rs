//! DLMS security suite 0/1 (AES-128-GCM) for general-glo/ded-ciphering.
//!
//! IV = system title (8) ‖ invocation counter (4). With authentication the
//! 12-byte tag covers SC ‖ AK (‖ plaintext when not encrypted). Without
//! authentication (SC 0x20: Austria, Poland) GCM is plain counter mode
//! starting at counter 2, and the only check of the key is that the result
//! is a valid APDU. The same holds for an authenticated frame (SC 0x30)
//! when the utility gave the customer only the encryption key (Switzerland,
//! Austria): its ciphertext is decrypted in counter mode and its tag left
//! unchecked, which the caller reports.

use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
use aes_gcm::AesGcm;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::aead::consts::U12;

use crate::error::Error;

type Gcm = AesGcm<Aes128, U12, U12>;

/// Authentication key that every Luxembourg Smarty meter uses (published in
/// the Smarty P1 specification), tried when the user gave none.
pub(crate) const SMARTY_AUTH_KEY: [u8; 16] =
    [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF];

const TAG_LEN: usize = 12;

/// The user's keys.
#[derive(Clone, Copy, Default)]
pub(crate) struct Keys {
    pub key: Option<[u8; 16]>,
    pub auth_key: Option<[u8; 16]>,
}

impl std::fmt::Debug for Keys {
    // Keys never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys {{ key: {}, auth_key: {} }}", self.key.is_some(), self.auth_key.is_some())
    }
}

fn iv(system_title: &[u8; 8], ic: u32) -> [u8; 12] {
    let mut iv = [0u8; 12];
    let (st, c) = iv.split_at_mut(8);
    st.copy_from_slice(system_title);
    c.copy_from_slice(&ic.to_be_bytes());
    iv
}

/// GCM's counter mode without the tag: keystream blocks E(K, IV ‖ n), n ≥ 2.
fn ctr(key: &[u8; 16], iv: &[u8; 12], data: &mut [u8]) {
    let aes = Aes128::new(GenericArray::from_slice(key));
    for (i, chunk) in data.chunks_mut(16).enumerate() {
        let mut block = [0u8; 16];
        let (head, ctr) = block.split_at_mut(12);
        head.copy_from_slice(iv);
        let n = u32::try_from(i).unwrap_or(u32::MAX).wrapping_add(2);
        ctr.copy_from_slice(&n.to_be_bytes());
        let mut ga = GenericArray::from(block);
        aes.encrypt_block(&mut ga);
        for (d, k) in chunk.iter_mut().zip(ga.iter()) {
            *d ^= k;
        }
    }
}

/// How far a plaintext from [`open`] is vouched for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Nothing was encrypted or authenticated (security control 0x00).
    Plain,
    /// The GCM tag verified: the key and the bytes are right.
    Tag,
    /// Decrypted, and the frame carries no tag (security control 0x20):
    /// only a valid APDU can tell that the key was right.
    NoTag,
    /// The frame carries a tag but no authentication key was given (and
    /// the Smarty key did not fit): decrypted without checking it. Only a
    /// valid APDU can tell that the key was right; nothing tells that the
    /// bytes are the meter's.
    Unchecked,
}

/// Decrypts and/or authenticates the content of a ciphered APDU
/// (`content` = everything after SC and IC). Returns the plaintext APDU and
/// how far it is vouched for.
pub(crate) fn open(
    system_title: &[u8; 8],
    sc: u8,
    ic: u32,
    content: &[u8],
    keys: &Keys,
) -> Result<(Vec<u8>, Check), Error> {
    if sc & 0x80 != 0 {
        return Err(Error::UnsupportedSecurity("compressed APDUs"));
    }
    if sc & 0x0F > 1 {
        return Err(Error::UnsupportedSecurity("security suite other than 0 or 1 (AES-128-GCM)"));
    }
    let (auth, enc) = (sc & 0x10 != 0, sc & 0x20 != 0);
    let iv = iv(system_title, ic);
    if !auth {
        let mut out = content.to_vec();
        if !enc {
            return Ok((out, Check::Plain));
        }
        let key = keys.key.ok_or(Error::MissingKey(sc))?;
        ctr(&key, &iv, &mut out);
        return Ok((out, Check::NoTag));
    }
    let split = content.len().checked_sub(TAG_LEN).ok_or(Error::AuthFailed)?;
    let (body, tag) = content.split_at(split);
    let key = if enc { keys.key.ok_or(Error::MissingKey(sc))? } else { keys.key.unwrap_or([0; 16]) };
    if !enc && keys.key.is_none() {
        return Err(Error::MissingKey(sc));
    }
    let try_with = |ak: &[u8; 16]| -> Option<Vec<u8>> {
        let gcm = Gcm::new(GenericArray::from_slice(&key));
        let mut aad = Vec::with_capacity(17 + if enc { 0 } else { body.len() });
        aad.push(sc);
        aad.extend_from_slice(ak);
        let mut buf = body.to_vec();
        if !enc {
            aad.extend_from_slice(body);
            buf.clear();
        }
        gcm.decrypt_in_place_detached(GenericArray::from_slice(&iv), &aad, &mut buf, GenericArray::from_slice(tag))
            .ok()?;
        Some(if enc { buf } else { body.to_vec() })
    };
    match keys.auth_key {
        Some(ak) => try_with(&ak).map(|p| (p, Check::Tag)).ok_or(Error::AuthFailed),
        None => match try_with(&SMARTY_AUTH_KEY) {
            Some(p) => Ok((p, Check::Tag)),
            // Only the encryption key: GCM's ciphertext is counter mode,
            // the tag left unchecked.
            None => {
                let mut out = body.to_vec();
                if enc {
                    ctr(&key, &iv, &mut out);
                }
                Ok((out, Check::Unchecked))
            }
        },
    }
}

/// Encrypts a plaintext APDU the way a meter does (for tests and han-sim):
/// returns `ciphertext [‖ tag]`.
pub(crate) fn seal(
    system_title: &[u8; 8],
    sc: u8,
    ic: u32,
    plain: &[u8],
    key: &[u8; 16],
    auth_key: &[u8; 16],
) -> Vec<u8> {
    let iv = iv(system_title, ic);
    let mut out = plain.to_vec();
    if sc & 0x10 == 0 {
        ctr(key, &iv, &mut out);
        return out;
    }
    let gcm = Gcm::new(GenericArray::from_slice(key));
    let mut aad = vec![sc];
    aad.extend_from_slice(auth_key);
    match gcm.encrypt_in_place_detached(GenericArray::from_slice(&iv), &aad, &mut out) {
        Ok(tag) => out.extend_from_slice(&tag),
        Err(_) => out.clear(),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctr_matches_gcm_keystream() {
        let (st, key, ak) = (*b"KFM\x10\x20\x02\x98\x02", [7u8; 16], [9u8; 16]);
        let plain = b"\x0F\x00\x00\x00\x01\x00\x02\x00 some longer plaintext spanning blocks";
        let sealed = seal(&st, 0x30, 42, plain, &key, &ak);
        let keys = Keys { key: Some(key), auth_key: Some(ak) };
        assert_eq!(open(&st, 0x30, 42, &sealed, &keys).unwrap(), (plain.to_vec(), Check::Tag));
        // The ciphertext part of GCM is the same counter mode.
        let enc_only = seal(&st, 0x20, 42, plain, &key, &ak);
        assert_eq!(&sealed[..plain.len()], &enc_only[..]);
        assert_eq!(open(&st, 0x20, 42, &enc_only, &keys).unwrap(), (plain.to_vec(), Check::NoTag));
        // Wrong AK, missing key, damaged byte.
        let wrong = Keys { key: Some(key), auth_key: Some([1; 16]) };
        assert_eq!(open(&st, 0x30, 42, &sealed, &wrong), Err(Error::AuthFailed));
        assert_eq!(open(&st, 0x30, 42, &sealed, &Keys::default()), Err(Error::MissingKey(0x30)));
        let mut damaged = sealed.clone();
        damaged[3] ^= 1;
        assert_eq!(open(&st, 0x30, 42, &damaged, &keys), Err(Error::AuthFailed));
        // The encryption key alone: decrypted, the tag unchecked (a damaged
        // byte goes unnoticed, which is why the caller says so).
        let no_ak = Keys { key: Some(key), auth_key: None };
        assert_eq!(open(&st, 0x30, 42, &sealed, &no_ak).unwrap(), (plain.to_vec(), Check::Unchecked));
        let (got, check) = open(&st, 0x30, 42, &damaged, &no_ak).unwrap();
        assert_eq!((got[3], check), (plain[3] ^ 1, Check::Unchecked));
        // A wrong encryption key alone decrypts to noise (the caller's
        // APDU check calls it a wrong key).
        let wrong_ek = Keys { key: Some([8; 16]), auth_key: None };
        assert_ne!(open(&st, 0x30, 42, &sealed, &wrong_ek).unwrap().0, plain);
        // Authentication only (SC 0x10) with the encryption key alone: the
        // plaintext as sent, unchecked.
        let signed = {
            let gcm = Gcm::new(GenericArray::from_slice(&key));
            let mut aad = vec![0x10];
            aad.extend_from_slice(&ak);
            aad.extend_from_slice(plain);
            let iv = iv(&st, 42);
            let tag = gcm.encrypt_in_place_detached(GenericArray::from_slice(&iv), &aad, &mut []).unwrap();
            [&plain[..], &tag[..]].concat()
        };
        assert_eq!(open(&st, 0x10, 42, &signed, &keys).unwrap(), (plain.to_vec(), Check::Tag));
        assert_eq!(open(&st, 0x10, 42, &signed, &no_ak).unwrap(), (plain.to_vec(), Check::Unchecked));
    }
}
