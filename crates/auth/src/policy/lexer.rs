//! Splits a rule string into parentheses, keywords and check words.
//!
//! Whitespace separates tokens, except inside quotes and `%(...)`
//! interpolations, which may contain spaces or parentheses.

use std::fmt;
use std::iter::Peekable;
use std::str::Chars;

/// One lexical element of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    /// A single check such as `role:admin`, `@` or `'x':%(y)s`.
    Check(String),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Open => f.write_str("'('"),
            Token::Close => f.write_str("')'"),
            Token::And => f.write_str("'and'"),
            Token::Or => f.write_str("'or'"),
            Token::Not => f.write_str("'not'"),
            Token::Check(word) => write!(f, "{word:?}"),
        }
    }
}

/// Tokenizes `src`; the error message explains what is malformed.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, String> {
    let mut lexer = Lexer::default();
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        lexer.step(c, &mut chars)?;
    }
    lexer.flush();
    Ok(lexer.tokens)
}

#[derive(Default)]
struct Lexer {
    tokens: Vec<Token>,
    word: String,
}

impl Lexer {
    fn step(&mut self, c: char, rest: &mut Peekable<Chars<'_>>) -> Result<(), String> {
        match c {
            c if c.is_whitespace() => self.flush(),
            '(' if self.word.is_empty() => self.tokens.push(Token::Open),
            ')' => {
                self.flush();
                self.tokens.push(Token::Close);
            }
            '\'' | '"' if self.word.is_empty() || self.word.ends_with(':') => {
                self.quoted(c, rest)?;
            }
            '%' if rest.peek() == Some(&'%') => {
                rest.next();
                self.word.push_str("%%");
            }
            '%' if rest.peek() == Some(&'(') => self.interpolation(rest)?,
            c => self.word.push(c),
        }
        Ok(())
    }

    /// Copies a quoted string verbatim (quotes included) into the word.
    fn quoted(&mut self, quote: char, rest: &mut Peekable<Chars<'_>>) -> Result<(), String> {
        self.word.push(quote);
        for c in rest.by_ref() {
            self.word.push(c);
            if c == quote {
                return Ok(());
            }
        }
        Err(format!("unterminated {quote} quote"))
    }

    /// Copies a `%(name)` interpolation verbatim so its `)` is not a token.
    fn interpolation(&mut self, rest: &mut Peekable<Chars<'_>>) -> Result<(), String> {
        self.word.push('%');
        for c in rest.by_ref() {
            self.word.push(c);
            if c == ')' {
                return Ok(());
            }
        }
        Err("unterminated %( interpolation".to_owned())
    }

    fn flush(&mut self) {
        if self.word.is_empty() {
            return;
        }
        let word = std::mem::take(&mut self.word);
        let token = match word.to_ascii_lowercase().as_str() {
            "and" => Token::And,
            "or" => Token::Or,
            "not" => Token::Not,
            _ => Token::Check(word),
        };
        self.tokens.push(token);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn check(s: &str) -> Token {
        Token::Check(s.to_owned())
    }

    #[test]
    fn splits_parens_and_keywords() {
        let tokens = tokenize("(role:a AND not role:b) Or @").unwrap();
        assert_eq!(
            tokens,
            vec![
                Token::Open,
                check("role:a"),
                Token::And,
                Token::Not,
                check("role:b"),
                Token::Close,
                Token::Or,
                check("@"),
            ]
        );
    }

    #[test]
    fn keeps_interpolation_parens_inside_words() {
        let tokens = tokenize("(project_id:%(project_id)s)").unwrap();
        assert_eq!(
            tokens,
            vec![
                Token::Open,
                check("project_id:%(project_id)s"),
                Token::Close
            ]
        );
    }

    #[test]
    fn keeps_quoted_spaces() {
        let tokens = tokenize("name:'a b (c)' or 'x y':%(n)s").unwrap();
        assert_eq!(
            tokens,
            vec![check("name:'a b (c)'"), Token::Or, check("'x y':%(n)s")]
        );
    }

    #[test]
    fn rejects_unterminated_quote_and_interpolation() {
        assert!(tokenize("name:'abc").is_err());
        assert!(tokenize("id:%(abc").is_err());
    }

    #[test]
    fn empty_rule_has_no_tokens() {
        assert!(tokenize("  ").unwrap().is_empty());
    }
}
