//! Slugs: the names of folders and files that become URLs and identifiers.

/// Whether `s` is a valid slug: lowercase ASCII letters and digits in groups
/// joined by single dashes (`cafe-du-coin`), at most 80 characters.
pub fn is_valid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 80
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A valid slug close to `s`, to suggest as a fix (`Café du Coin` → `cafe-du-coin`).
pub fn suggest(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ÿ' => 'y',
            'œ' => {
                out.push('o');
                'e'
            }
            'æ' => {
                out.push('a');
                'e'
            }
            c if c.is_ascii_alphanumeric() => c,
            _ => '-',
        };
        if c != '-' || !out.ends_with('-') {
            out.push(c);
        }
    }
    let trimmed = out.trim_matches('-');
    trimmed
        .chars()
        .take(80)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity() {
        assert!(is_valid("cafe-du-coin"));
        assert!(is_valid("2026"));
        for bad in ["", "Café", "a--b", "-a", "a-", "a_b", "a b", "A"] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn suggestions_are_valid() {
        assert_eq!(suggest("Le Café du Coin !"), "le-cafe-du-coin");
        assert_eq!(suggest("Œuvres_d'art"), "oeuvres-d-art");
        assert!(is_valid(&suggest("Saint-Étienne")));
    }
}
