//! `limit`/`marker` paging and the `links` that point at the next page.

use crate::fault::ApiError;

/// A requested page: at most `limit` items after the item whose id is `marker`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Option<usize>,
    pub marker: Option<String>,
}

impl PageRequest {
    /// Reads `limit` and `marker` from query pairs; a non-numeric or negative limit is a 400.
    pub fn from_query<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Result<Self, ApiError> {
        let mut page = PageRequest::default();
        for (k, v) in pairs {
            match k {
                "limit" => {
                    let n: usize = v.parse().map_err(|_| {
                        ApiError::bad_request(format!("limit must be a non-negative integer, got '{v}'"))
                    })?;
                    page.limit = Some(n);
                }
                "marker" => page.marker = Some(v.to_string()),
                _ => {}
            }
        }
        Ok(page)
    }

    /// Cuts `items` (already sorted) to the page; `id_of` gives an item's marker id.
    /// Returns the page and whether more items follow. An unknown marker is a 400, as in Nova.
    pub fn apply<T>(&self, items: Vec<T>, id_of: impl Fn(&T) -> &str) -> Result<(Vec<T>, bool), ApiError> {
        let start = match &self.marker {
            Some(m) => {
                let pos = items.iter().position(|i| id_of(i) == m).ok_or_else(|| {
                    ApiError::bad_request(format!("marker [{m}] not found"))
                })?;
                pos + 1
            }
            None => 0,
        };
        let mut rest: Vec<T> = items.into_iter().skip(start).collect();
        let more = match self.limit {
            Some(limit) if rest.len() > limit => {
                rest.truncate(limit);
                true
            }
            _ => false,
        };
        Ok((rest, more))
    }
}

/// The `next` link for a page: the same URL with `marker` set to the last item.
pub fn next_link(base_url: &str, query: &str, last_id: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "marker")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.push(("marker".into(), last_id.into()));
    let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{base_url}?{q}")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn pages() {
        let p = PageRequest { limit: Some(2), marker: Some("a".into()) };
        let (items, more) = p.apply(vec!["a", "b", "c", "d"], |s| s).unwrap();
        assert_eq!(items, vec!["b", "c"]);
        assert!(more);
        assert!(PageRequest { limit: None, marker: Some("z".into()) }.apply(vec!["a"], |s| s).is_err());
        assert!(PageRequest::from_query([("limit", "-1")].into_iter()).is_err());
        assert_eq!(next_link("http://x/v2/images", "limit=2&marker=a", "c"), "http://x/v2/images?limit=2&marker=c");
    }
}
