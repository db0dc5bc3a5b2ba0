//! Configuration from flags and the environment.

use std::path::PathBuf;

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub addr: String,
    /// Fill an empty database with demo submissions.
    pub demo: bool,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Where `static/` is served from.
    pub static_dir: PathBuf,
    /// How often to look for submissions made by other instances or the command line.
    pub poll_seconds: f64,
    /// The address users reach the service at; session cookies are `Secure` when it is https.
    pub public_url: Option<String>,
    /// How long a request waits for the figures after a start before it is answered 503.
    pub load_wait_seconds: f64,
    /// Proxies (load balancers) whose `X-Forwarded-For` gives the client's address; none by
    /// default, when the connection's own address is the client's.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Whether `admin` and `board` users must sign in with a second factor (set up at their next
    /// sign-in): `EXEMPLAR_REQUIRE_MFA=1`.
    pub require_mfa: bool,
    /// The API's rate limit per token (or, without one, per client address): a burst of
    /// `api_burst` requests, refilled at one every `api_refill_ms` milliseconds.
    /// `EXEMPLAR_API_BURST` (120) and `EXEMPLAR_API_REFILL_MS` (100: ten a second).
    pub api_burst: u32,
    pub api_refill_ms: u64,
}

impl Config {
    pub fn new(database_url: String, addr: String, demo: bool) -> Self {
        let static_dir = std::env::var_os("EXEMPLAR_STATIC_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("static"));
        let max_body_bytes =
            std::env::var("EXEMPLAR_MAX_BODY_BYTES").ok().and_then(|v| v.parse().ok()).unwrap_or(50 * 1024 * 1024);
        let poll_seconds = std::env::var("EXEMPLAR_POLL_SECONDS")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(2.0);
        let public_url = std::env::var("EXEMPLAR_PUBLIC_URL").ok().filter(|u| !u.is_empty());
        let load_wait_seconds = 10.0;
        let trusted_proxies = std::env::var("EXEMPLAR_TRUSTED_PROXIES")
            .ok()
            .map(|v| trusted_proxies(&v).unwrap_or_else(|e| panic!("EXEMPLAR_TRUSTED_PROXIES: {e}")))
            .unwrap_or_default();
        let require_mfa =
            std::env::var("EXEMPLAR_REQUIRE_MFA").is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
        let number = |name: &str, default: u64| {
            std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok()).filter(|n| *n > 0).unwrap_or(default)
        };
        let api_burst = u32::try_from(number("EXEMPLAR_API_BURST", 120)).unwrap_or(u32::MAX);
        let api_refill_ms = number("EXEMPLAR_API_REFILL_MS", 100);
        Self {
            api_burst,
            api_refill_ms,
            require_mfa,
            database_url,
            addr,
            demo,
            max_body_bytes,
            static_dir,
            poll_seconds,
            public_url,
            load_wait_seconds,
            trusted_proxies,
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact(&self.database_url))
            .field("addr", &self.addr)
            .field("demo", &self.demo)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("static_dir", &self.static_dir)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("require_mfa", &self.require_mfa)
            .finish()
    }
}

/// A comma-separated list of IP addresses.
pub fn trusted_proxies(text: &str) -> Result<Vec<std::net::IpAddr>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().map_err(|_| format!("'{t}' is not an IP address")))
        .collect()
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
