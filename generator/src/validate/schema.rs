//! Which fields each place of each file kind accepts, for "did you mean".
//! The lists come from the model's serde derives (see `yaml::fields_of`).

use std::any::TypeId;

use crate::content::yaml::{Seg, fields_of};
use crate::model::*;

/// The fields accepted by the mapping that holds `path`'s last key, in a file parsed as `T`.
pub fn expected_fields<T: 'static>(path: &[Seg]) -> &'static [&'static str] {
    let parent: Vec<&str> = path[..path.len().saturating_sub(1)]
        .iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .collect();
    let root = TypeId::of::<T>();
    if root == TypeId::of::<ProjectMeta>() {
        match parent.as_slice() {
            [] => fields_of::<ProjectMeta>(),
            ["holder"] => fields_of::<Holder>(),
            ["campaign"] => fields_of::<Campaign>(),
            ["rewards"] => fields_of::<Reward>(),
            ["needs"] => fields_of::<Need>(),
            ["support"] => fields_of::<Support>(),
            ["location"] => fields_of::<Location>(),
            ["cover"] => fields_of::<Cover>(),
            _ => &[],
        }
    } else if root == TypeId::of::<SponsorMeta>() {
        match parent.as_slice() {
            [] => fields_of::<SponsorMeta>(),
            ["pools"] => fields_of::<Pool>(),
            ["pools", "scope"] => fields_of::<Scope>(),
            _ => &[],
        }
    } else if root == TypeId::of::<TerritoryMeta>() {
        match parent.as_slice() {
            [] => fields_of::<TerritoryMeta>(),
            ["campaign"] => fields_of::<CampaignRules>(),
            ["branding"] => fields_of::<Branding>(),
            _ => &[],
        }
    } else if root == TypeId::of::<SiteConfig>() {
        match parent.as_slice() {
            [] => fields_of::<SiteConfig>(),
            ["pledge"] => fields_of::<PledgeBounds>(),
            _ => &[],
        }
    } else if root == TypeId::of::<ThemesFile>() {
        match parent.as_slice() {
            [] => fields_of::<ThemesFile>(),
            ["themes"] => fields_of::<Theme>(),
            ["themes", "name"] => fields_of::<Names>(),
            _ => &[],
        }
    } else if root == TypeId::of::<CallMeta>() {
        fields_of::<CallMeta>()
    } else if root == TypeId::of::<NewsMeta>() {
        fields_of::<NewsMeta>()
    } else {
        &[]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path;

    #[test]
    fn nested_places_have_their_own_fields() {
        let f = expected_fields::<ProjectMeta>(&path!["rewards", 2, "titel"]);
        assert!(f.contains(&"title") && f.contains(&"limit"));
        let f = expected_fields::<SponsorMeta>(&path!["pools", 0, "scope", "teritories"]);
        assert!(f.contains(&"territories"));
    }
}
