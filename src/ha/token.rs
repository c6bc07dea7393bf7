//! The worker token: read from EVA's configuration.json and formatted for the master script,
//! without jq.
//!
//! The guide's start.sh passes `--token=$(jq .workerToken < configuration.json)`. Without
//! `-r`, jq prints the JSON form of the string, quotes and escapes included, and that is the
//! form EVA's start-master-rhel.sh was verified with; [`TokenFormat::Json`] reproduces jq's
//! bytes exactly ([`jq_string`]), [`TokenFormat::Raw`] passes the bare string. Where the
//! sample passed `--token=null` for a missing key, or split a token with spaces into several
//! arguments, we refuse the file or pass one argument. The token never reaches a log: it is
//! only reachable through [`Token::argument`] and masked by [`Token::secrets`].

use std::fmt;
use std::io::Read;
use std::path::Path;

use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{failed, not_configured, not_installed};

/// The key in configuration.json.
pub const KEY: &str = "workerToken";
/// A worker configuration larger than this is not EVA's.
const MAX_FILE: u64 = 16 * 1024 * 1024;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TokenFormat {
    /// Exactly what `jq .workerToken` prints: the JSON string, quotes included.
    #[default]
    Json,
    /// The bare string.
    Raw,
}

impl fmt::Display for TokenFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenFormat::Json => "json",
            TokenFormat::Raw => "raw",
        })
    }
}

/// The worker token. Its `Debug` shows `***`, and it has no `Display`.
#[derive(Clone)]
pub struct Token {
    value: String,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl Token {
    /// Reads `path` and takes its `workerToken`: it must be a non-empty string.
    pub fn read(path: &Path) -> anyhow::Result<Token> {
        let shown = path.display();
        let file = std::fs::File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                not_installed(format!("worker config {shown} does not exist (is the shared disk mounted?)"))
            }
            _ => failed(format!("cannot read worker config {shown}: {e}")),
        })?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE + 1).read_to_end(&mut bytes).map_err(|e| failed(format!("cannot read worker config {shown}: {e}")))?;
        if bytes.len() as u64 > MAX_FILE {
            return Err(not_configured(format!("worker config {shown} is larger than {MAX_FILE} bytes")));
        }
        Token::from_json(&bytes).map_err(|problem| not_configured(format!("worker config {shown}: {problem}")))
    }

    /// Takes the token from the text of a configuration.json; the error says what is wrong
    /// without quoting the file.
    pub fn from_json(bytes: &[u8]) -> Result<Token, String> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
        let Value::Object(map) = doc else {
            return Err(format!("the top level is {}, expected an object", kind(&doc)));
        };
        match map.get(KEY) {
            None => Err(format!("key {KEY} is missing")),
            Some(Value::String(s)) if s.is_empty() => Err(format!("key {KEY} is an empty string")),
            Some(Value::String(s)) => Ok(Token { value: s.clone() }),
            Some(other) => Err(format!("key {KEY} is {}, expected a string", kind(other))),
        }
    }

    /// The token as the master script receives it.
    pub fn formatted(&self, format: TokenFormat) -> anyhow::Result<String> {
        match format {
            TokenFormat::Json => Ok(jq_string(&self.value)),
            TokenFormat::Raw if self.value.contains('\0') => Err(not_configured(format!(
                "key {KEY} contains a NUL character, which cannot be passed as an argument; use token_format = \"json\""
            ))),
            TokenFormat::Raw => Ok(self.value.clone()),
        }
    }

    /// Every form in which the token could show up in output, for masking.
    pub fn secrets(&self) -> [String; 2] {
        [jq_string(&self.value), self.value.clone()]
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string as jq (1.5 to 1.7) prints it without `-r` and `-a`: in double quotes; `"` and `\`
/// escaped; `\b \f \n \r \t` for those controls; other code points below U+0020 and DEL as
/// `\u00xx` in lower-case hex; everything else, non-ASCII included, as UTF-8.
pub fn jq_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors made by scripts/gen-jq-vectors.sh with the real jq: each is the text of a
    /// configuration.json and the bytes `jq .workerToken` printed for it.
    #[derive(Deserialize)]
    struct Vector {
        name: String,
        config: String,
        jq: String,
    }

    #[test]
    fn json_format_matches_real_jq_vectors() {
        let text = include_str!("../../tests/data/jq-vectors.json");
        let vectors: Vec<Vector> = serde_json::from_str(text).unwrap();
        assert!(vectors.len() >= 20, "too few vectors: {}", vectors.len());
        for v in vectors {
            let token = Token::from_json(v.config.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", v.name));
            assert_eq!(token.formatted(TokenFormat::Json).unwrap(), v.jq, "vector {}", v.name);
        }
    }

    #[test]
    fn raw_format_is_the_bare_string() {
        let t = Token::from_json(br#"{"workerToken":"a \"b\" \\ c"}"#).unwrap();
        assert_eq!(t.formatted(TokenFormat::Raw).unwrap(), r#"a "b" \ c"#);
        assert_eq!(t.formatted(TokenFormat::Json).unwrap(), r#""a \"b\" \\ c""#);
    }

    #[test]
    fn raw_format_refuses_nul() {
        let t = Token::from_json(br#"{"workerToken":"a\u0000b"}"#).unwrap();
        assert!(t.formatted(TokenFormat::Raw).is_err());
        assert_eq!(t.formatted(TokenFormat::Json).unwrap(), r#""a\u0000b""#);
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let cases: &[(&[u8], &str)] = &[
            (b"{}", "key workerToken is missing"),
            (br#"{"workerToken":null}"#, "key workerToken is null, expected a string"),
            (br#"{"workerToken":42}"#, "key workerToken is a number, expected a string"),
            (br#"{"workerToken":["a"]}"#, "key workerToken is an array, expected a string"),
            (br#"{"workerToken":""}"#, "key workerToken is an empty string"),
            (br#"["workerToken"]"#, "the top level is an array, expected an object"),
            (b"{\"workerToken\": \"abc", "invalid JSON: EOF while parsing a string at line 1 column 20"),
            (b"{\"workerToken\": \"\xff\"}", "invalid JSON: invalid unicode code point at line 1 column 18"),
        ];
        for (input, want) in cases {
            assert_eq!(Token::from_json(input).unwrap_err(), *want, "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn errors_never_quote_the_token() {
        let e = Token::from_json(b"{\"workerToken\": \"SECRET\" \"x\": 1}").unwrap_err();
        assert!(!e.contains("SECRET"), "{e}");
    }

    #[test]
    fn debug_hides_the_token() {
        let t = Token::from_json(br#"{"workerToken":"SECRET"}"#).unwrap();
        assert_eq!(format!("{t:?}"), "Token(***)");
    }
}
