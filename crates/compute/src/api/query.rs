//! Query strings as Nova reads them: repeated keys keep their first value for scalar filters,
//! `limit`/`marker` paging capped at Nova's `max_limit`, and (from 2.75 on for most
//! resources) unknown parameters refused.

use monostack_common::ApiError;

/// Nova's `[api] max_limit`: the most items one page returns.
pub const MAX_LIMIT: usize = 1000;

/// The parsed query string of a request.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

/// A requested page: `limit` is already capped at [`MAX_LIMIT`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub marker: Option<String>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        Query { pairs }
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Refuses parameters outside `allowed` (Nova's `additionalProperties: false` on query
    /// schemas).
    pub fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            Some((k, _)) => Err(ApiError::bad_request(format!("Additional properties are not allowed ('{k}' was unexpected)"))),
            None => Ok(()),
        }
    }

    /// A non-negative integer parameter (Nova's `non_negative_integer` query type).
    pub fn non_negative(&self, key: &str) -> Result<Option<usize>, ApiError> {
        let Some(v) = self.get(key) else { return Ok(None) };
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::bad_request(format!(
                "Invalid input for query parameters {key}. Value: {v}. '{v}' does not match '^[0-9]*$'"
            )));
        }
        // Digits only, so the only failure is overflow: treat it as "as many as allowed".
        Ok(Some(v.parse().unwrap_or(usize::MAX)))
    }

    /// `limit` (capped at [`MAX_LIMIT`]) and `marker`.
    pub fn page(&self) -> Result<Page, ApiError> {
        let limit = self.non_negative("limit")?.map_or(MAX_LIMIT, |l| l.min(MAX_LIMIT));
        Ok(Page { limit, marker: self.get("marker").map(str::to_string) })
    }

    /// The query with `marker` set to `marker`, keys sorted as Nova renders its next links.
    pub fn with_marker(&self, marker: &str) -> String {
        let mut pairs: Vec<(&str, &str)> = self.pairs.iter().filter(|(k, _)| k != "marker").map(|(k, v)| (k.as_str(), v.as_str())).collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        pairs.dedup_by(|a, b| a.0 == b.0);
        pairs.push(("marker", marker));
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    }
}

impl Page {
    /// Cuts `items` (already in order) to this page: the items after the one whose id is the
    /// marker, at most `limit` of them. An unknown marker is Nova's 400.
    pub fn apply<T>(&self, items: Vec<T>, id_of: impl Fn(&T) -> &str) -> Result<Vec<T>, ApiError> {
        let start = match &self.marker {
            Some(m) => items.iter().position(|i| id_of(i) == m).map(|p| p + 1).ok_or_else(|| marker_not_found(m))?,
            None => 0,
        };
        Ok(items.into_iter().skip(start).take(self.limit).collect())
    }
}

pub fn marker_not_found(marker: &str) -> ApiError {
    ApiError::bad_request(format!("marker [{marker}] not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_is_capped_and_checked() {
        let q = Query::parse(Some("limit=5000&marker=b"));
        assert_eq!(q.page().ok(), Some(Page { limit: MAX_LIMIT, marker: Some("b".into()) }));
        assert!(Query::parse(Some("limit=-1")).page().is_err());
        assert!(Query::parse(Some("limit=abc")).page().is_err());
        let page = Page { limit: 2, marker: Some("a".into()) };
        assert_eq!(page.apply(vec!["a", "b", "c", "d"], |s| s).ok(), Some(vec!["b", "c"]));
        assert!(page.apply(vec!["x"], |s| s).is_err());
    }

    #[test]
    fn next_link_query_is_sorted_with_new_marker() {
        let q = Query::parse(Some("sort_key=name&limit=2&marker=old"));
        assert_eq!(q.with_marker("new"), "limit=2&sort_key=name&marker=new");
    }

    #[test]
    fn unknown_parameters_are_named() {
        let q = Query::parse(Some("limit=1&bogus=2"));
        assert!(q.only(&["limit"]).err().is_some_and(|e| e.message.contains("'bogus'")));
        assert!(q.only(&["limit", "bogus"]).is_ok());
    }
}
