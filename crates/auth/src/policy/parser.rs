//! Recursive-descent parser for rule expressions.
//!
//! Grammar (keywords case-insensitive):
//! ```text
//! rule    := or_expr | <empty>
//! or_expr := and_expr ("or" and_expr)*
//! and_expr:= not_expr ("and" not_expr)*
//! not_expr:= "not" not_expr | "(" or_expr ")" | check
//! ```

use super::check::Check;
use super::error::PolicyError;
use super::leaf::parse_leaf;
use super::lexer::{tokenize, Token};

/// Compiles rule `src`, reporting errors against rule `name`.
pub(crate) fn parse_rule(name: &str, src: &str) -> Result<Check, PolicyError> {
    compile(src).map_err(|message| PolicyError::Syntax {
        rule: name.to_owned(),
        message,
    })
}

fn compile(src: &str) -> Result<Check, String> {
    let tokens = tokenize(src)?;
    if tokens.is_empty() {
        return Ok(Check::Allow);
    }
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
    };
    let check = parser.or_expr()?;
    match parser.next() {
        None => Ok(check),
        Some(extra) => Err(format!("unexpected {extra} after the end of the rule")),
    }
}

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
}

impl<'t> Parser<'t> {
    fn next(&mut self) -> Option<&'t Token> {
        let token = self.tokens.get(self.pos)?;
        self.pos += 1;
        Some(token)
    }

    /// Consumes the next token if it equals `expected`.
    fn eat(&mut self, expected: &Token) -> bool {
        let hit = self.tokens.get(self.pos) == Some(expected);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn or_expr(&mut self) -> Result<Check, String> {
        let mut items = vec![self.and_expr()?];
        while self.eat(&Token::Or) {
            items.push(self.and_expr()?);
        }
        Ok(Check::any(items))
    }

    fn and_expr(&mut self) -> Result<Check, String> {
        let mut items = vec![self.not_expr()?];
        while self.eat(&Token::And) {
            items.push(self.not_expr()?);
        }
        Ok(Check::all(items))
    }

    fn not_expr(&mut self) -> Result<Check, String> {
        match self.next() {
            Some(Token::Not) => Ok(Check::Not(Box::new(self.not_expr()?))),
            Some(Token::Open) => self.group(),
            Some(Token::Check(word)) => parse_leaf(word),
            Some(other) => Err(format!("unexpected {other}")),
            None => Err("unexpected end of rule".to_owned()),
        }
    }

    /// The rest of a parenthesised group, after its `(`.
    fn group(&mut self) -> Result<Check, String> {
        let inner = self.or_expr()?;
        if self.eat(&Token::Close) {
            Ok(inner)
        } else {
            Err("missing ')'".to_owned())
        }
    }
}
