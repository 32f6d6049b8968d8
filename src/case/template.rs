//! References inside case strings: `${e1}`, `${e1.unquoted}`, `${t1+1s}`, `${t1-1d}`, `${i}`.
//!
//! A case never reads the local clock: every date is a capture of the server's own
//! Last-Modified, shifted by a whole number of seconds, minutes, hours or days. This is what
//! makes time-based cases repeatable on an endpoint whose clock differs from ours (ceph/s3-tests
//! PR #111 is the cautionary tale).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer};

use crate::s3::{HttpDate, normalize_etag};

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text sent as written.
    Literal(String),
    /// `${name}` with an optional transformation.
    Ref(Reference),
}

/// `${name}`, `${name.unquoted}`, `${name+Ns}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The capture (or `i`, the racer index inside a `parallel:` block).
    pub name: String,
    /// What to do with the captured value.
    pub form: RefForm,
    /// The reference as written, between `${` and `}`.
    pub raw: String,
}

/// How a reference renders its capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefForm {
    /// As captured: an ETag verbatim (usually quoted), a date as an HTTP date.
    Verbatim,
    /// An ETag without quotes (and without a `W/` prefix).
    Unquoted,
    /// A date shifted by this many seconds.
    Offset(i64),
}

/// A string from a case with its `${...}` references parsed, and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The pieces, in order.
    pub parts: Vec<Part>,
    /// 1-based line of the value in its file (0 when unknown).
    pub line: u64,
    /// 1-based column of the value in its file (0 when unknown).
    pub column: u64,
}

/// A captured value a reference can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An ETag, verbatim as the server sent it.
    Etag(String),
    /// A Last-Modified date.
    Date(HttpDate),
    /// An UploadId, or any other opaque text.
    Text(String),
}

/// Why a template could not be parsed or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `${` without a closing `}`.
    #[error("unclosed `${{` in `{0}`")]
    Unclosed(String),
    /// `${}` or a name with characters other than letters, digits, `_` and `-`.
    #[error("bad reference `${{{0}}}`: a name is letters, digits, `_` or `-`")]
    BadName(String),
    /// A suffix that is neither `.unquoted` nor `+N<unit>` / `-N<unit>`.
    #[error(
        "bad reference `${{{0}}}`: after the name, only `.unquoted` or an offset such as `+1s`, `-1d` (units s, m, h, d)"
    )]
    BadSuffix(String),
    /// The name was never captured.
    #[error("`${{{0}}}` is not defined (no earlier step saves it)")]
    Undefined(String),
    /// `.unquoted` on a date or an offset on an ETag.
    #[error("`${{{name}}}` cannot be used as {wanted}: it holds {holds}")]
    WrongKind {
        /// The reference as written.
        name: String,
        /// What the use needs.
        wanted: &'static str,
        /// What the capture is.
        holds: &'static str,
    },
}

impl Template {
    /// Parses `${...}` references out of `s`.
    pub fn parse(s: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| TemplateError::Unclosed(s.to_owned()))?;
            parts.push(Part::Ref(Reference::parse(&after[..end])?));
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Template {
            parts,
            line: 0,
            column: 0,
        })
    }

    /// A template of plain text, with no references (for code-built steps).
    pub fn literal(s: &str) -> Template {
        Template {
            parts: vec![Part::Literal(s.to_owned())],
            line: 0,
            column: 0,
        }
    }

    /// Every reference in the template.
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.parts.iter().filter_map(|p| match p {
            Part::Ref(r) => Some(r),
            Part::Literal(_) => None,
        })
    }

    /// When the template is exactly one reference, that reference.
    pub fn single_reference(&self) -> Option<&Reference> {
        match self.parts.as_slice() {
            [Part::Ref(r)] => Some(r),
            _ => None,
        }
    }

    /// Renders the template, looking captures up with `lookup`.
    pub fn render(&self, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<String, TemplateError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Ref(r) => {
                    let v =
                        lookup(&r.name).ok_or_else(|| TemplateError::Undefined(r.name.clone()))?;
                    out.push_str(&r.render(&v)?);
                }
            }
        }
        Ok(out)
    }

    /// Renders the template and reads the result as an HTTP date.
    pub fn render_date(&self, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<HttpDate, String> {
        if let Some(r) = self.single_reference()
            && let Some(Value::Date(d)) = lookup(&r.name)
        {
            return match r.form {
                RefForm::Offset(secs) => Ok(d.offset(secs)),
                RefForm::Verbatim => Ok(d),
                RefForm::Unquoted => Err(r.render(&Value::Date(d)).unwrap_err().to_string()),
            };
        }
        let text = self.render(lookup).map_err(|e| e.to_string())?;
        HttpDate::parse(&text).ok_or_else(|| {
            format!("`{text}` is not an HTTP date (e.g. `Sun, 06 Nov 1994 08:49:37 GMT`)")
        })
    }
}

impl Reference {
    fn parse(inner: &str) -> Result<Reference, TemplateError> {
        let name_end = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        let (name, suffix) = inner.split_at(name_end);
        if name.is_empty() {
            return Err(TemplateError::BadName(inner.to_owned()));
        }
        let form = match suffix {
            "" => RefForm::Verbatim,
            ".unquoted" => RefForm::Unquoted,
            s if s.starts_with('+') || s.starts_with('-') => {
                parse_offset(s).ok_or_else(|| TemplateError::BadSuffix(inner.to_owned()))?
            }
            _ => return Err(TemplateError::BadSuffix(inner.to_owned())),
        };
        Ok(Reference {
            name: name.to_owned(),
            form,
            raw: inner.to_owned(),
        })
    }

    /// Renders one captured value.
    pub fn render(&self, v: &Value) -> Result<String, TemplateError> {
        let wrong = |wanted, holds| TemplateError::WrongKind {
            name: self.to_string(),
            wanted,
            holds,
        };
        match (v, self.form) {
            (Value::Etag(e), RefForm::Verbatim) => Ok(e.clone()),
            (Value::Etag(e), RefForm::Unquoted) => Ok(normalize_etag(e).to_owned()),
            (Value::Etag(_), RefForm::Offset(_)) => Err(wrong("a date", "an ETag")),
            (Value::Date(d), RefForm::Verbatim) => Ok(d.to_string()),
            (Value::Date(d), RefForm::Offset(s)) => Ok(d.offset(s).to_string()),
            (Value::Date(_), RefForm::Unquoted) => Err(wrong("an ETag", "a date")),
            (Value::Text(t), RefForm::Verbatim) => Ok(t.clone()),
            (Value::Text(_), _) => Err(wrong("an ETag or a date", "text")),
        }
    }
}

impl fmt::Display for Reference {
    /// As written in the case.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.parts {
            match p {
                Part::Literal(s) => f.write_str(s)?,
                Part::Ref(r) => write!(f, "${{{r}}}")?,
            }
        }
        Ok(())
    }
}

/// `+1s`, `-2d`: a sign, digits and one unit.
fn parse_offset(s: &str) -> Option<RefForm> {
    let (sign, body) = match s.as_bytes().first()? {
        b'+' => (1i64, &s[1..]),
        b'-' => (-1i64, &s[1..]),
        _ => return None,
    };
    let unit_at = body.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = body.split_at(unit_at);
    let n: i64 = digits.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    Some(RefForm::Offset(sign * n.checked_mul(scale)?))
}

impl<'de> Deserialize<'de> for Template {
    /// Reads a string (or a number, written as-is) and parses its references; the error for a
    /// malformed reference carries the value's line and column.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<Scalar>::deserialize(d)?;
        let mut t = Template::parse(&spanned.value.0).map_err(de::Error::custom)?;
        t.line = spanned.referenced.line();
        t.column = spanned.referenced.column();
        Ok(t)
    }
}

/// A YAML scalar read as text: `200`, `true` and `abc` all become strings, so that a body or a
/// header value need not be quoted just because it looks like a number.
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<Value> {
        match name {
            "e1" => Some(Value::Etag("\"abc\"".into())),
            "t1" => Some(Value::Date(HttpDate::from_unix(784_111_777))),
            _ => None,
        }
    }

    #[test]
    fn references_render() {
        let t = Template::parse("W/${e1}, ${e1.unquoted}").unwrap();
        assert_eq!(t.render(&lookup).unwrap(), "W/\"abc\", abc");
        let d = Template::parse("${t1+1d}").unwrap();
        assert_eq!(
            d.render_date(&lookup).unwrap(),
            HttpDate::from_unix(784_111_777 + 86_400)
        );
        assert_eq!(
            Template::parse("${t1-1s}")
                .unwrap()
                .render(&lookup)
                .unwrap(),
            "Sun, 06 Nov 1994 08:49:36 GMT"
        );
    }

    #[test]
    fn bad_references_are_refused() {
        for bad in ["${", "${}", "${e1.quoted}", "${t1+1y}", "${t1+s}", "${a b}"] {
            assert!(Template::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let t = Template::parse("${e1+1s}").unwrap();
        assert!(matches!(
            t.render(&lookup),
            Err(TemplateError::WrongKind { .. })
        ));
        assert!(matches!(
            Template::parse("${nope}").unwrap().render(&lookup),
            Err(TemplateError::Undefined(_))
        ));
    }
}
