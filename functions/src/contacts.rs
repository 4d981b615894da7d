//! The private contacts of the people who answer offers of help: each
//! project's holder and each territory's editors. Never in the public
//! content (anyone may read it): an operator writes them in a private
//! file (`contacts.yaml`, README "Offers of help"), loaded into the store
//! (`Store::set_contacts`), where the API reads them for each offer.
//!
//! ```yaml
//! projects:
//!   cafe-du-coin: [alexis@example.org, clement@example.org]
//! territories:
//!   saint-etienne: [participation@saint-etienne.example]
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who is told of an offer of help, by project and by territory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    /// The holder's addresses, by project slug.
    #[serde(default)]
    pub projects: BTreeMap<String, Vec<String>>,
    /// The editors' addresses, by territory slug.
    #[serde(default)]
    pub territories: BTreeMap<String, Vec<String>>,
}

/// The most addresses told of one offer (a typo in the file must not
/// mail a city's whole staff).
pub const MAX_RECIPIENTS: usize = 10;

impl Contacts {
    /// Who is told of an offer to `project` of `territory`: the holder's
    /// addresses, then the editors', each once (compared case-insensitively).
    pub fn recipients(&self, project: &str, territory: &str) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        self.projects
            .get(project)
            .into_iter()
            .chain(self.territories.get(territory))
            .flatten()
            .map(|a| a.trim().to_string())
            .filter(|a| seen.insert(a.to_lowercase()))
            .take(MAX_RECIPIENTS)
            .collect()
    }

    /// What is wrong with the file: each address that is not one, named by
    /// where it is (`projects.cafe-du-coin[1]`).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (kind, map) in [
            ("projects", &self.projects),
            ("territories", &self.territories),
        ] {
            for (slug, addresses) in map {
                for (i, address) in addresses.iter().enumerate() {
                    if !crate::pledge::is_email(address.trim()) {
                        problems.push(format!(
                            "{kind}.{slug}[{i}]: {address:?} is not an email address"
                        ));
                    }
                }
                if addresses.len() > MAX_RECIPIENTS {
                    problems.push(format!(
                        "{kind}.{slug}: {} addresses, at most {MAX_RECIPIENTS}",
                        addresses.len()
                    ));
                }
            }
        }
        problems
    }

    pub fn addresses(&self) -> usize {
        self.projects
            .values()
            .chain(self.territories.values())
            .map(Vec::len)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contacts() -> Contacts {
        Contacts {
            projects: [(
                "cafe".to_string(),
                vec!["alexis@example.org".into(), " Edith@Ville.example ".into()],
            )]
            .into(),
            territories: [(
                "se".to_string(),
                vec!["edith@ville.example".into(), "ed@ville.example".into()],
            )]
            .into(),
        }
    }

    #[test]
    fn the_holder_then_the_editors_each_once() {
        assert_eq!(
            contacts().recipients("cafe", "se"),
            [
                "alexis@example.org",
                "Edith@Ville.example",
                "ed@ville.example"
            ]
        );
        assert_eq!(
            contacts().recipients("other", "se"),
            ["edith@ville.example", "ed@ville.example"]
        );
        assert!(contacts().recipients("other", "nowhere").is_empty());
    }

    #[test]
    fn a_bad_address_is_named_where_it_is() {
        let mut c = contacts();
        c.projects
            .get_mut("cafe")
            .unwrap()
            .push("alexis at example".into());
        assert_eq!(
            c.problems(),
            ["projects.cafe[2]: \"alexis at example\" is not an email address"]
        );
        assert!(contacts().problems().is_empty());
    }
}
