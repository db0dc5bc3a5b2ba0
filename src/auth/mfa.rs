//! The second factor for privileged roles (NCSC CAF B2): a time-based one-time password
//! (RFC 6238: SHA-1, six digits, 30-second steps, one step either side, each step accepted once)
//! from an authenticator app, enrolled with a QR code drawn on the server, and ten one-time
//! recovery codes.

use crate::domain::Role;
use anyhow::Result;

pub const ISSUER: &str = "Exemplar";
pub const RECOVERY_CODES: usize = 10;

/// The roles that must have a second factor when the setting requires it.
pub fn required_for(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Board)
}

/// A new secret: 160 random bits, as RFC 4226 recommends, hex-encoded for storing.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

fn totp(secret_hex: &str, email: &str) -> Result<totp_rs::Totp> {
    let secret = hex::decode(secret_hex)?;
    Ok(totp_rs::Builder::new().with_secret(secret).with_account_name(email).with_issuer(Some(ISSUER)).build()?)
}

/// What the user's app needs: the `otpauth://` address, the QR code of it (SVG), and the secret
/// in base32 for typing in by hand.
pub struct Enrolment {
    pub url: String,
    pub qr_svg: String,
    pub secret_base32: String,
}

pub fn enrolment(secret_hex: &str, email: &str) -> Result<Enrolment> {
    let totp = totp(secret_hex, email)?;
    let url = totp.to_url()?;
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)?;
    let qr_svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    // Only the <svg> element, to put in the page (with its own title for screen readers).
    let qr_svg = qr_svg.find("<svg").map_or(qr_svg.clone(), |i| qr_svg[i..].to_string());
    Ok(Enrolment { url, qr_svg, secret_base32: totp.secret().to_base32() })
}

/// The time step a six-digit `code` matches now (this step or one either side), if any.
pub fn matching_step(secret_hex: &str, email: &str, code: &str, unix_time: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = totp(secret_hex, email).ok()?.check(&code, unix_time)?;
    i64::try_from(step).ok()
}

/// The code for `unix_time` (what an authenticator app would show), for tests and checks.
pub fn code_at(secret_hex: &str, email: &str, unix_time: u64) -> Result<String> {
    Ok(totp(secret_hex, email)?.generate(unix_time).to_string())
}

/// New recovery codes, as the user is shown them once: ten groups of 4-4 characters from an
/// alphabet without look-alikes (about 50 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            getrandom::fill(&mut bytes).expect("the operating system's random source");
            let chars: String = bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// What is stored of a recovery code: the hash of its letters in lower case, without the dash.
pub fn recovery_hash(code: &str) -> String {
    let normal: String = code.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    super::hash_secret(&normal)
}

pub fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_step_and_one_either_side_only() {
        let secret = new_secret();
        let t = 1_800_000_000;
        let code = code_at(&secret, "a@x", t).unwrap();
        assert_eq!(matching_step(&secret, "a@x", &code, t), Some((t / 30) as i64));
        assert!(matching_step(&secret, "a@x", &code, t + 30).is_some(), "one step later");
        assert!(matching_step(&secret, "a@x", &code, t + 90).is_none(), "three steps later");
        assert!(matching_step(&secret, "a@x", "12345", t).is_none());
        assert!(matching_step(&new_secret(), "a@x", &code, t).is_none(), "another secret");
    }

    #[test]
    fn the_rfc_6238_test_vector_gives_its_code() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890", T = 59 s: 94287082 (8 digits);
        // six digits are its last six.
        let secret = hex::encode(b"12345678901234567890");
        assert_eq!(code_at(&secret, "a@x", 59).unwrap(), "287082");
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_the_same_however_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), RECOVERY_CODES);
        assert_eq!(recovery_hash(&codes[0]), recovery_hash(&codes[0].to_uppercase().replace('-', " ")));
    }

    #[test]
    fn the_enrolment_has_a_qr_code_of_the_otpauth_address() {
        let e = enrolment(&new_secret(), "lead@board.example").unwrap();
        assert!(e.url.starts_with("otpauth://totp/Exemplar:lead%40board.example?secret="), "{}", e.url);
        assert!(e.qr_svg.starts_with("<svg") && e.qr_svg.contains("<path"));
        assert_eq!(e.secret_base32.len(), 32);
    }
}
