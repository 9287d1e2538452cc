//! How a request body is encoded: form-urlencoded or JSON, by its
//! Content-Type, or sniffed when there is none. One reading, used by the
//! parameter parser and by the signature check alike.

/// A Content-Type that is neither form nor JSON (its media type, for the error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsupportedType(pub String);

/// How a body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Form,
    Json,
}

impl BodyKind {
    /// The encoding a Content-Type names (parameters such as `charset`
    /// ignored), or the sniffed one without a Content-Type; 415 for any
    /// other type.
    pub fn of(content_type: Option<&str>, body: &[u8]) -> Result<BodyKind, UnsupportedType> {
        let Some(raw) = content_type.map(str::trim).filter(|c| !c.is_empty()) else {
            let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
            return Ok(if looks_json { BodyKind::Json } else { BodyKind::Form });
        };
        let media_type = raw.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match media_type.as_str() {
            "application/x-www-form-urlencoded" => Ok(BodyKind::Form),
            "application/json" => Ok(BodyKind::Json),
            t if t.starts_with("application/") && t.ends_with("+json") => Ok(BodyKind::Json),
            _ => Err(UnsupportedType(media_type.chars().filter(|c| !c.is_control()).take(64).collect())),
        }
    }
}
