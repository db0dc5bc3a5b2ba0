//! The person (or program) acting: who, through which channel, from which address, and, for a
//! trust's submitter, the one trust they may act for. One type for the audit log, submissions
//! and every write.

/// How an action reached the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Web,
    Api,
    Cli,
    Demo,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Api => "api",
            Channel::Cli => "cli",
            Channel::Demo => "demo",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    /// The client's address, when it came over the network.
    pub origin: Option<String>,
    pub channel: Channel,
    /// A trust submitter's own ODS code: rows for other organisations are refused.
    pub own_org: Option<String>,
    /// May send results for a system (a standard's assessor, an administrator, the operator):
    /// they change the conformance of every trust that runs it, so a trust may not.
    pub assesses_systems: bool,
}

impl Actor {
    /// Someone acting on the command line (or in a test), for no trust in particular.
    pub fn new(name: impl Into<String>, origin: Option<String>) -> Self {
        Self { name: name.into(), origin, channel: Channel::Cli, own_org: None, assesses_systems: true }
    }

    /// The operator of the command line.
    pub fn operator() -> Self {
        Self::new("cli-operator", None)
    }

    /// The demo loader.
    pub fn demo() -> Self {
        Self { channel: Channel::Demo, ..Self::new("demo", None) }
    }

    pub fn via(self, channel: Channel) -> Self {
        Self { channel, ..self }
    }

    /// Acting for one trust only (and so for no system).
    pub fn for_org(self, own_org: Option<String>) -> Self {
        let assesses_systems = self.assesses_systems && own_org.is_none();
        Self { own_org, assesses_systems, ..self }
    }
}

/// What an API token may do: `read` (datasets, exports and its submissions' state) and
/// `submit` (send submissions). A token has at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenScopes {
    pub read: bool,
    pub submit: bool,
}

impl Default for TokenScopes {
    fn default() -> Self {
        Self::ALL
    }
}

impl TokenScopes {
    pub const ALL: TokenScopes = TokenScopes { read: true, submit: true };

    /// `read`, `submit`, or both separated by spaces or commas.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut scopes = TokenScopes { read: false, submit: false };
        for word in text.split([' ', ',']).map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "read" => scopes.read = true,
                "submit" => scopes.submit = true,
                other => return Err(format!("'{other}' is not a scope: read or submit")),
            }
        }
        if scopes.read || scopes.submit {
            Ok(scopes)
        } else {
            Err("a token needs a scope: read, submit or both".into())
        }
    }

    pub fn text(&self) -> String {
        match (self.read, self.submit) {
            (true, true) => "read submit",
            (true, false) => "read",
            _ => "submit",
        }
        .to_string()
    }

    /// Whether the scopes allow a request with `method`: reading needs `read`, anything else
    /// (sending a submission) `submit`.
    pub fn allow(&self, method: &str) -> bool {
        if matches!(method, "GET" | "HEAD") { self.read } else { self.submit }
    }
}
