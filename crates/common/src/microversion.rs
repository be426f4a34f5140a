//! API microversions as Nova, Cinder and Placement negotiate them: the client asks with
//! `OpenStack-API-Version: <service> X.Y` (or a service's legacy header), `latest` means the
//! newest, no header means the oldest; an unsupported version is a 406 and a malformed one a
//! 400. The answer carries the version it was served at.

use crate::ApiError;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

/// A `major.minor` API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u16,
    pub minor: u16,
}

impl Version {
    pub const fn new(major: u16, minor: u16) -> Self {
        Version { major, minor }
    }

    /// Parses `X.Y` (no leading zeros beyond a lone `0`, as the services require).
    pub fn parse(text: &str) -> Option<Version> {
        let (major, minor) = text.trim().split_once('.')?;
        let number = |s: &str| -> Option<u16> {
            if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        Some(Version::new(number(major)?, number(minor)?))
    }

    /// Whether this version is at least `major.minor`.
    pub fn at_least(self, major: u16, minor: u16) -> bool {
        self >= Version::new(major, minor)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What one service speaks and how it is asked.
#[derive(Debug, Clone, Copy)]
pub struct VersionPolicy {
    /// The service name in `OpenStack-API-Version` (`compute`, `volume`, `placement`).
    pub service: &'static str,
    /// The service's legacy header, if it has one (`X-OpenStack-Nova-API-Version`).
    pub legacy_header: Option<&'static str>,
    pub min: Version,
    pub max: Version,
}

const STANDARD_HEADER: &str = "openstack-api-version";

impl VersionPolicy {
    /// The version a request asks for, within [min, max].
    pub fn negotiate(&self, headers: &HeaderMap) -> Result<Version, ApiError> {
        let Some(requested) = self.requested(headers) else {
            return Ok(self.min);
        };
        if requested.eq_ignore_ascii_case("latest") {
            return Ok(self.max);
        }
        let version = Version::parse(&requested)
            .ok_or_else(|| ApiError::bad_request(format!("API Version String {requested} is of invalid format. Must be of format MajorNum.MinorNum.")))?;
        if version < self.min || version > self.max {
            return Err(ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                format!("Version {version} is not supported by the API. Minimum is {} and maximum is {}.", self.min, self.max),
            ));
        }
        Ok(version)
    }

    /// The requested version text: the standard header's entry for this service wins over the
    /// legacy header. The standard header may list several services, comma separated.
    fn requested(&self, headers: &HeaderMap) -> Option<String> {
        for value in headers.get_all(STANDARD_HEADER) {
            let Ok(text) = value.to_str() else { continue };
            for entry in text.split(',') {
                let mut words = entry.split_whitespace();
                if words.next().is_some_and(|s| s.eq_ignore_ascii_case(self.service)) {
                    if let Some(v) = words.next() {
                        return Some(v.to_string());
                    }
                }
            }
        }
        let legacy = self.legacy_header?;
        headers.get(legacy).and_then(|v| v.to_str().ok()).map(|s| s.trim().to_string())
    }

    /// Adds the headers that tell the client which version answered, and `Vary` on them.
    pub fn stamp(&self, version: Version, headers: &mut HeaderMap) {
        let standard = format!("{} {version}", self.service);
        if let Ok(v) = HeaderValue::from_str(&standard) {
            headers.insert(HeaderName::from_static(STANDARD_HEADER), v);
        }
        let mut vary = String::from("OpenStack-API-Version");
        if let Some(legacy) = self.legacy_header {
            if let (Ok(name), Ok(v)) = (HeaderName::from_bytes(legacy.as_bytes()), HeaderValue::from_str(&version.to_string())) {
                headers.insert(name, v);
            }
            vary.push_str(", ");
            vary.push_str(legacy);
        }
        if let Ok(v) = HeaderValue::from_str(&vary) {
            headers.append(axum::http::header::VARY, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOVA: VersionPolicy = VersionPolicy {
        service: "compute",
        legacy_header: Some("X-OpenStack-Nova-API-Version"),
        min: Version::new(2, 1),
        max: Version::new(2, 96),
    };

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn no_header_is_the_minimum_and_latest_the_maximum() {
        assert_eq!(NOVA.negotiate(&HeaderMap::new()).ok(), Some(Version::new(2, 1)));
        assert_eq!(NOVA.negotiate(&headers(&[("openstack-api-version", "compute latest")])).ok(), Some(Version::new(2, 96)));
    }

    #[test]
    fn standard_header_wins_and_may_name_other_services() {
        let h = headers(&[("openstack-api-version", "volume 3.5, compute 2.53"), ("x-openstack-nova-api-version", "2.10")]);
        assert_eq!(NOVA.negotiate(&h).ok(), Some(Version::new(2, 53)));
        let legacy = headers(&[("x-openstack-nova-api-version", "2.10")]);
        assert_eq!(NOVA.negotiate(&legacy).ok(), Some(Version::new(2, 10)));
    }

    #[test]
    fn out_of_range_is_406_and_malformed_is_400() {
        let too_new = NOVA.negotiate(&headers(&[("openstack-api-version", "compute 2.200")]));
        assert_eq!(too_new.err().map(|e| e.status), Some(StatusCode::NOT_ACCEPTABLE));
        let too_old = NOVA.negotiate(&headers(&[("openstack-api-version", "compute 1.9")]));
        assert_eq!(too_old.err().map(|e| e.status), Some(StatusCode::NOT_ACCEPTABLE));
        for bad in ["compute 2", "compute 2.x", "compute 02.1", "compute 2.01"] {
            let h = headers(&[("openstack-api-version", bad)]);
            assert_eq!(NOVA.negotiate(&h).err().map(|e| e.status), Some(StatusCode::BAD_REQUEST), "{bad}");
        }
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(Version::new(2, 10) > Version::new(2, 9));
        assert!(Version::new(2, 53).at_least(2, 53));
        assert!(!Version::new(2, 52).at_least(2, 53));
    }

    #[test]
    fn stamped_headers_name_the_version() {
        let mut h = HeaderMap::new();
        NOVA.stamp(Version::new(2, 53), &mut h);
        assert_eq!(h["openstack-api-version"], "compute 2.53");
        assert_eq!(h["x-openstack-nova-api-version"], "2.53");
        assert!(h["vary"].to_str().is_ok_and(|v| v.contains("OpenStack-API-Version")));
    }
}
