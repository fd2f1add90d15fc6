//! Errors on one line with their causes, for logs and command-line messages.

/// `error` and every error below it, outermost first, each said once: the top message of
/// reqwest or the `clickhouse` client only says that a request failed, the cause ("Connection
/// refused (os error 111)", "Database lintas doesn't exist", a TLS failure) is further down,
/// and some layers repeat their inner error in their own message.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !chain.contains(&text) {
            chain.push_str(": ");
            chain.push_str(&text);
        }
        source = cause.source();
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|layer| layer as _)
        }
    }

    #[test]
    fn every_level_is_named_once_outermost_first() {
        let refused = Layer("Connection refused (os error 111)", None);
        let repeated = Layer("client error (Connect)", Some(Box::new(refused)));
        let outer = Layer(
            "network error: client error (Connect)",
            Some(Box::new(repeated)),
        );
        assert_eq!(
            error_chain(&outer),
            "network error: client error (Connect): Connection refused (os error 111)"
        );
        assert_eq!(error_chain(&Layer("alone", None)), "alone");
    }
}
